"""Checks for editing a decision table one cell at a time (the console's grid editor).

A cell is checked exactly as loading checks it: a one-row table with the same declared inputs
and outputs is compiled around the cell, and the problems of that cell are returned. Pure; no
evaluation happens.

    check_cell(inputs, outputs, "vehicle_age", "[0..3)")            -> []
    check_cell(inputs, outputs, "vehicle_age", "[5..1]")            -> [Finding(bad_range ...)]
    check_cell(inputs, outputs, "rate", "0.04", side="output")      -> []
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rules.errors import DocumentError
from rules.findings import Finding
from rules.tables import DecisionTable

CHECKED_POLICY = "rule_order"  # collects rows: no priority or aggregate rules to trip over


def check_cell(
    inputs: Sequence[Any],
    outputs: Sequence[Any],
    column: str,
    text: Any,
    side: str = "input",
) -> list[Finding]:
    """The problems of one cell of ``column`` (an input cell, or an output value when ``side``
    is "output"), given the table's declared ``inputs`` and ``outputs``. An empty list means
    the cell loads. A bad declaration is reported as such (the cell cannot be judged)."""
    if side not in ("input", "output"):
        raise ValueError("side must be 'input' or 'output'")
    names = [d.get("name") for d in (inputs if side == "input" else outputs) if isinstance(d, dict)]
    if column not in names:
        code = "unknown_input" if side == "input" else "unknown_output"
        return [Finding("error", code, "cell", 1, column, {"name": column})]
    rule = {"when": {column: text}} if side == "input" else {"then": {column: text}}
    body = {
        "hit_policy": CHECKED_POLICY,
        "inputs": list(inputs),
        "outputs": list(outputs),
        "rules": [rule],
    }
    try:
        DecisionTable("cell", 1, body)
    except DocumentError as error:
        declared = [p for p in error.problems if p.row is None]  # the columns themselves
        if declared:
            return declared
        mine = [p for p in error.problems if p.row == 1 and p.column == column]
        return mine or list(error.problems)
    return []
