"""How a product reads on its document page: its coverages (main and add-on, default ticks,
how the sum insured is chosen, what an add-on depends on) and the quote form it asks."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from app.configuration.presenting import Presentation, enum_label, text_of

SUM_INSURED_MODES = {
    "choice": {"zh": "从列表选择", "en": "Chosen from a list"},
    "vehicle_value": {"zh": "按车辆实际价值", "en": "Actual value of the car"},
    "per_seat": {"zh": "每座保额", "en": "Per seat"},
    "entered": {"zh": "手工录入", "en": "Typed in"},
}


def _amount(value: Any) -> str:
    try:
        return f"{Decimal(str(value)).quantize(Decimal('0.01')):,}"
    except ArithmeticError:
        return str(value)


def _sum_insured(coverage: Mapping[str, Any], lang: str) -> str:
    if coverage.get("limit") is not None:
        text = _amount(coverage["limit"])
        if coverage.get("limit_not_at_fault") is not None:
            word = "无责" if lang == "zh" else "not at fault"
            text += f"（{word} {_amount(coverage['limit_not_at_fault'])}）"
        return text
    rule = coverage.get("sum_insured")
    if not rule:
        return ""
    parts = [text_of(SUM_INSURED_MODES.get(rule["mode"]), lang)]
    if rule.get("choices"):
        parts.append(" / ".join(_amount(c) for c in rule["choices"]))
    if rule.get("min") is not None or rule.get("max") is not None:
        parts.append(
            f"{_amount(rule.get('min', 0))} ~ {_amount(rule.get('max', ''))}"
            if rule.get("max") is not None
            else _amount(rule.get("min"))
        )
    if rule.get("default") is not None:
        parts.append(("默认 " if lang == "zh" else "default ") + _amount(rule["default"]))
    return "；".join(p for p in parts if p)


def present_product(data: Mapping[str, Any], lang: str = "zh") -> Presentation:
    body = data["body"]
    names = {c["code"]: text_of(c["name"], lang) for c in body.get("coverages", [])}
    coverages = [
        {
            "code": c["code"],
            "name": text_of(c["name"], lang),
            "addon": c.get("kind", "main") == "addon",
            "required": bool(c.get("required")),
            "selected": bool(c.get("selected")),
            "sum_insured": _sum_insured(c, lang),
            "requires": [names.get(code, code) for code in c.get("requires", [])],
        }
        for c in body.get("coverages", [])
    ]
    fields = []
    for spec in body.get("form", []):
        choices = [text_of(choice["label"], lang) for choice in spec.get("choices", [])]
        default = spec.get("default")
        if spec.get("choices") and default is not None:
            default = next(
                (
                    text_of(ch["label"], lang)
                    for ch in spec["choices"]
                    if ch["value"] == str(default)
                ),
                default,
            )
        fields.append(
            {
                "name": spec["name"],
                "label": text_of(spec["label"], lang),
                "type": enum_label("field_type", spec["type"], lang),
                "required": bool(spec.get("required")),
                "default": default,
                "choices": choices,
                "source": spec.get("source", ""),
                "help": text_of(spec.get("help"), lang),
            }
        )
    pricing = body.get("pricing") or {}
    return Presentation(
        "configuration/document_part_product.html",
        {
            "product": {
                "name": text_of(body.get("name"), lang) or data.get("title", ""),
                "line": enum_label("product_line", body.get("line"), lang),
                "category": " → ".join(body.get("category", [])),
                "business_types": [
                    enum_label("business_type", b, lang) for b in body.get("business_types", [])
                ],
                "term_months": body.get("term_months"),
                "vat_rate": body.get("vat_rate"),
                "carriers": body.get("carriers", []),
                "pricing": pricing.get("rule_set", ""),
                "collected_with": [
                    text_of(c["label"], lang) for c in body.get("collected_with", [])
                ],
            },
            "coverages": coverages,
            "fields": fields,
        },
    )
