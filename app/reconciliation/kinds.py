"""The document kinds reconciliation owns: `statement_mapping` (how a carrier's fee statement
columns read as platform fields). Its test cases map one statement row."""

from __future__ import annotations

from collections.abc import Mapping

import rules
from app.configuration.kinds import KindSpec, register_kind
from app.reconciliation.mapping import map_statement_row


def run_mapping_case(mapping: Mapping, row: Mapping, library: rules.Library) -> dict[str, str]:
    return map_statement_row(mapping, row)


register_kind(
    KindSpec(
        "statement_mapping",
        "statement_mappings",
        run_case=run_mapping_case,
        owner="app.reconciliation",
    )
)
