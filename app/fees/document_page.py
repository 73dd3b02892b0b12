"""How a fee agreement reads on its document page: the brochure's grid (figure 10) — one row
per product and fee type, its basis (含税 / 不含税), and per business type the ratio or the
amount — under the agreement's header (name, code, carriers, dates)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from app.configuration.presenting import Presentation, enum_label, text_of

BUSINESS_TYPES = ("new", "renewal", "transfer", "combined_first", "combined_other")
PARTIES = {
    "carrier": {"zh": "保险公司", "en": "Carrier"},
    "intermediary": {"zh": "中介机构", "en": "Intermediary"},
    "dealer": {"zh": "经销商", "en": "Dealer"},
    "salesperson": {"zh": "业务人员", "en": "Salesperson"},
}
DATE_BASES = {
    "issue_date": {"zh": "签单日", "en": "Issue date"},
    "start_date": {"zh": "起保日", "en": "Start date"},
}
ROUNDINGS = {
    "half_up": {"zh": "四舍五入到分", "en": "Half up to the cent"},
    "half_even": {"zh": "银行家舍入到分", "en": "Half even to the cent"},
    "down": {"zh": "舍去分以下", "en": "Down to the cent"},
}


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


def present_fee_agreement(data: Mapping[str, Any], lang: str = "zh") -> Presentation:
    body = data["body"]
    lines = []
    for line in body["lines"]:
        rates = line["rates"]
        lines.append(
            {
                "product": line["product"],
                "product_label": enum_label("product_line", line["product"], lang),
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
        "carriers": list(body.get("carriers", [])),
        "valid_from": body.get("valid_from", ""),
        "valid_to": body.get("valid_to", ""),
        "payer": text_of(PARTIES.get(body.get("payer", "carrier")), lang),
        "payee": text_of(PARTIES.get(body.get("payee", "intermediary")), lang),
        "date_basis": text_of(DATE_BASES.get(body.get("date_basis", "issue_date")), lang),
        "rounding": text_of(ROUNDINGS.get(body.get("rounding", "half_up")), lang),
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
