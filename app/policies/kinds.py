"""The document kind the policy book owns: `policy_import_mapping` (how the columns of an
existing book in Excel or CSV map to policy fields). Its test cases convert one row with the
importer's own function, so a pack's cases and a live import read a row the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rules
from app.configuration.kinds import KindSpec, register_kind


def run_mapping_case(document: Mapping, row: Mapping, library: rules.Library) -> dict[str, Any]:
    from app.policies.importing import map_import_row

    return map_import_row(document, row)


register_kind(
    KindSpec(
        "policy_import_mapping",
        "policy_import_mappings",
        run_case=run_mapping_case,
        owner="app.policies",
    )
)

# `issue_check` (checks before a policy is issued, e.g. the salesperson's licence) lives with
# the code that runs it.
from app.policies import issue_checks  # noqa: E402, F401
