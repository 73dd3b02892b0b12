"""The `carrier` kind's checks beyond its schema: the plugin named must be loaded, in the version
range asked, and the document's `config` must pass the plugin's own JSON Schema and checks;
credentials must be references (the schema says so) and default answers must name a field of
one of the products the carrier sells."""

from __future__ import annotations

from app.configuration.kinds import CheckContext, extend_kind
from app.configuration.reading import Problem, SourceDocument


def validate_carrier(document: SourceDocument, context: CheckContext) -> list[Problem]:
    from app.carriers.services import config_problems

    body = document.data.get("body") or {}
    problems = [
        Problem(context.pack, document.file, message, document.line_of(path), path)
        for path, message in config_problems(body)
    ]
    problems += _default_problems(document, context, body)
    return problems


def _default_problems(document: SourceDocument, context: CheckContext, body) -> list[Problem]:
    """A default answer must be a form field of a product the carrier sells (when those
    products are known: in the same pack or already published)."""
    defaults = body.get("defaults") or {}
    if not defaults:
        return []
    fields: set[str] = set()
    known = False
    products = {d.key: d.data for d in context.documents if d.kind == "product"}
    for (kind, key), current in context.current.items():
        if kind == "product" and key not in products:
            # the published version: a mapping, or a DocumentVersion holding one
            products[key] = getattr(current, "data", current)
    for key in body.get("products", []):
        product = products.get(key)
        if product is not None:
            known = True
            fields |= {f["name"] for f in product.get("body", {}).get("form", [])}
    if not known:
        return []
    return [
        Problem(
            context.pack,
            document.file,
            f"默认答案 {name} 不是该保险公司所售产品的表单字段",
            document.line_of(f"$.body.defaults.{name}"),
            f"$.body.defaults.{name}",
        )
        for name in defaults
        if name not in fields
    ]


extend_kind("carrier", validate=validate_carrier)
