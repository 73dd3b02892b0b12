"""What a quoted line would earn under the fee agreements in force, before it is issued: the
figure a store manager weighs beside the premium when choosing a carrier. The same arithmetic
as the fee runs (`fees_for_line`); only the agreements and business types are given here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from app.fees.arithmetic import fees_for_line

FEE_TYPE_LABELS = {
    "commission": "手续费",
    "issuing_fee": "出单费",
    "service_fee": "服务费",
    "labour_fee": "工时费",
    "other": "其他费用",
}


def agreements_for(agreements: Iterable[Mapping], carrier_key: str) -> list[Mapping]:
    """The agreements (documents in force) that name this carrier."""
    return [a for a in agreements if carrier_key in (a["body"].get("carriers") or [])]


def estimate_fees(
    agreements: Iterable[Mapping],
    lines: Iterable[Mapping[str, Any]],
    business_types: Mapping[str, str],
    facts: Mapping[str, Any],
) -> dict[str, Decimal]:
    """{fee type: amount} for the quoted `lines` (each with product_key, line, premium), each
    line under its business type; `facts` are the values a term's `when` may read."""
    totals: dict[str, Decimal] = {}
    for line in lines:
        business_type = business_types.get(line["line"])
        if business_type is None:
            continue
        policy_line = {
            **facts,
            "product": line["product_key"],
            "business_type": business_type,
            "premium": line["premium"],
        }
        for agreement in agreements:
            for fee_type, amount in fees_for_line(agreement, policy_line).items():
                totals[fee_type] = totals.get(fee_type, Decimal(0)) + amount
    return totals
