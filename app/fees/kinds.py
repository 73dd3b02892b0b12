"""The document kinds fees own: `fee_agreement` (what a carrier pays the dealer, per product and
business type). Its test cases compute the fees of one policy line."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import rules
from app.configuration.kinds import KindSpec, register_kind
from app.fees.arithmetic import fees_for_line
from app.fees.document_page import present_fee_agreement


def run_fee_case(agreement: Mapping, line: Mapping, library: rules.Library) -> dict[str, Decimal]:
    return fees_for_line(agreement, line)


register_kind(
    KindSpec(
        "fee_agreement",
        "fee_agreements",
        run_case=run_fee_case,
        owner="app.fees",
        present=present_fee_agreement,
    )
)
