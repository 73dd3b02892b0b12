"""How a fee agreement reads on its document page: the brochure's grid (figure 10) — one row
per product and fee type, its basis (含税 / 不含税), and per business type the ratio or the
amount — under the agreement's header (name, code, carriers, dates)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import has_app_context

from app.configuration.presenting import Presentation, enum_label, text_of
from app.configuration.reading import load_schema

BUSINESS_TYPES = ("new", "renewal", "transfer", "combined_first", "combined_other")


def _labels(prop: str) -> dict[str, dict[str, str]]:
    """The labels of an enumerated property of the fee agreement's schema."""
    return load_schema("fee_agreement")["properties"][prop].get("x-labels", {})


def percent(ratio: Any) -> str:
    """0.04 → "4%", 0.275 → "27.5%" (exact: ratios are decimals)."""
    value = (Decimal(str(ratio)) * 100).normalize()
    return f"{value:f}%"


def money(amount: Any) -> str:
    return f"{Decimal(str(amount)).quantize(Decimal('0.01')):,}"


def rate_cell(rate: Mapping[str, Any] | None) -> dict[str, str]:
    if not rate:
        return {"how": "", "value": ""}
    if "ratio" in rate:
        return {"how": "ratio", "value": percent(rate["ratio"])}
    return {"how": "amount", "value": money(rate["amount"])}


def document_names(kind: str, keys: list[str], lang: str = "zh") -> dict[str, str]:
    """Names of the documents of `kind` the user's scope sees, by key: a product by its
    category path as the brochure writes it (车险 → 交强险), a carrier by its title; {}
    outside a request."""
    if not keys or not has_app_context():
        return {}
    from sqlalchemy import select

    from app.configuration.models import Document
    from app.extensions import db

    found = db.session.scalars(
        select(Document).where(Document.kind == kind, Document.key.in_(set(keys)))
    ).all()
    names = {}
    for document in found:
        version = document.current_version
        if version is None:
            continue
        body = version.data.get("body") or {}
        path = " → ".join(body.get("category") or [])
        names[document.key] = path or text_of(body.get("name"), lang) or version.title
    return names


def present_fee_agreement(data: Mapping[str, Any], lang: str = "zh") -> Presentation:
    body = data["body"]
    names = document_names("product", [line["product"] for line in body["lines"]], lang)
    carriers = document_names("carrier", list(body.get("carriers", [])), lang)
    lines = []
    for line in body["lines"]:
        rates = line["rates"]
        lines.append(
            {
                "product": line["product"],
                "product_label": names.get(line["product"])
                or enum_label("product_line", line["product"], lang),
                "fee_type": enum_label("fee_type", line["fee_type"], lang),
                "base": enum_label("fee_base", line["base"], lang),
                "tax_inclusive": line["base"] == "premium_incl_tax",
                "rates": [rate_cell(rates.get(kind)) for kind in BUSINESS_TYPES],
                "when": line.get("when", ""),
                "note": line.get("note", ""),
            }
        )
    header = {
        "name": text_of(body.get("name"), lang) or data.get("title", ""),
        "code": body.get("agreement_code", ""),
        "external_no": body.get("external_no", ""),
        "broker": body.get("broker", ""),
        "carriers": [carriers.get(key, key) for key in body.get("carriers", [])],
        "valid_from": body.get("valid_from", ""),
        "valid_to": body.get("valid_to", ""),
        "payer": text_of(_labels("payer").get(body.get("payer", "carrier")), lang),
        "payee": text_of(_labels("payee").get(body.get("payee", "intermediary")), lang),
        "date_basis": text_of(
            _labels("date_basis").get(body.get("date_basis", "issue_date")), lang
        ),
        "rounding": text_of(_labels("rounding").get(body.get("rounding", "half_up")), lang),
    }
    caps = [
        {
            "line": enum_label("product_line", cap["line"], lang),
            "max_ratio": percent(cap["max_ratio"]),
            "base": enum_label("fee_base", cap.get("base", "premium_excl_tax"), lang),
        }
        for cap in body.get("caps", [])
    ]
    return Presentation(
        "configuration/document_part_fee_agreement.html",
        {
            "agreement": header,
            "lines": lines,
            "caps": caps,
            "business_types": [enum_label("business_type", k, lang) for k in BUSINESS_TYPES],
        },
    )
