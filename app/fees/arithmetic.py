"""The money arithmetic of fees, shared by every capability: cents rounded half-up, premiums
without VAT, and the fees one policy line earns under a fee agreement. Pure (no database), so a
fee agreement's pack test cases and the live fee runs compute the same numbers."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import rules

CENT = Decimal("0.01")
VAT_RATE = Decimal("0.06")  # 增值税 on premiums, the rate of the brochure's figures
PREMIUM_BASES = ("premium_incl_tax", "premium_excl_tax")


def cents(value: Any) -> Decimal:
    """`value` as money: a Decimal rounded half-up to the cent (never through a float)."""
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def excl_vat(amount: Any, rate: Any = VAT_RATE) -> Decimal:
    """An amount including VAT without it: 22,770.41 at 6% → 21,481.52 (不含税)."""
    return cents(Decimal(str(amount)) / (1 + Decimal(str(rate))))


def vat_of(amount: Any, rate: Any = VAT_RATE) -> Decimal:
    """The VAT inside an amount that includes it, so that excl_vat + vat_of == amount."""
    return cents(amount) - excl_vat(amount, rate)


def fees_for_line(agreement: Mapping, line: Mapping) -> dict[str, Decimal]:
    """One policy line → {fee type: amount} under a fee agreement document (or its body).

    `line` names the product, the business type and the premium including VAT, and any other
    value a term's `when` condition reads. Each term's amount is rounded half-up to the cent
    before terms of the same fee type are added up."""
    body = agreement.get("body", agreement)
    premium = Decimal(str(line["premium"]))
    names = {k: Decimal(v) if isinstance(v, int) else v for k, v in line.items()}
    fees: dict[str, Decimal] = {}
    for term in body["lines"]:
        rate = term["rates"].get(line["business_type"])
        if term["product"] != line["product"] or rate is None:
            continue
        if "when" in term and not rules.evaluate_expression(term["when"], names):
            continue
        fees[term["fee_type"]] = fees.get(term["fee_type"], Decimal(0)) + _term_amount(
            term, rate, premium
        )
    return fees


def _term_amount(term: Mapping, rate: Mapping, premium: Decimal) -> Decimal:
    if "amount" in rate:
        return cents(rate["amount"])
    basis = premium if term["base"] == "premium_incl_tax" else excl_vat(premium)
    return cents(basis * Decimal(str(rate["ratio"])))
