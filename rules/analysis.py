"""Load-time analysis of decision tables: overlaps, unreachable rows and gaps.

Each row with only static cells is a "box": one value set per input column. Analysis is set
arithmetic on boxes, never evaluation:

* unique / any: two rows whose boxes intersect overlap (for any, only if their outputs differ);
* first: a row is unreachable when the union of earlier rows covers its box;
* priority: a row never wins when rows of strictly higher priority cover its box;
* gaps (single-hit policies without defaults): the universe of inputs minus every row, each
  remaining box reported with an example input.

Rows with expression cells are left out of these checks (reported as such): their coverage
depends on other inputs, so any claim about them could be wrong.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from rules.findings import WARNING, Finding
from rules.sets import IntervalSet, ordered_key, universe
from rules.values import format_value

if TYPE_CHECKING:
    from rules.tables import DecisionTable, Row

INFO = "info"
MAX_GAPS_REPORTED = 5


class _TooComplex(Exception):
    pass


def analyse_table(table: DecisionTable) -> list[Finding]:
    """Every analysis finding of ``table`` (severity warning or info), in row order."""
    findings: list[Finding] = []
    boxes = {row.number: _box(row) for row in table.rows}
    for row in table.rows:
        if boxes[row.number] is None:
            findings.append(Finding(INFO, "dynamic_cells", table.key, row.number))
    budget = [table.limits.max_analysis_boxes]
    try:
        if table.hit_policy in ("unique", "any"):
            findings += _overlaps(table, boxes)
        elif table.hit_policy == "first":
            findings += _unreachable(
                table, boxes, budget, lambda row, other: other.number < row.number
            )
        elif table.hit_policy == "priority":
            findings += _unreachable(
                table, boxes, budget, lambda row, other: other.priority < row.priority
            )
        if table.hit_policy in ("unique", "any", "first", "priority") and not _has_defaults(table):
            findings += _gaps(table, boxes, budget)
    except _TooComplex as stop:
        findings.append(Finding(INFO, "analysis_incomplete", table.key, params={"what": str(stop)}))
    return findings


def _box(row: Row) -> tuple | None:
    if any(cell.static is None for cell in row.cells):
        return None
    return tuple(cell.static for cell in row.cells)


def _has_defaults(table: DecisionTable) -> bool:
    return any(output.default is not None for output in table.outputs)


def _meets(a: tuple, b: tuple) -> bool:
    """Whether two boxes share an input — the answer of `_intersection(a, b) is not None`
    without building the common box (sets are already snapped, so comparing ends is exact)."""
    for mine, theirs in zip(a, b, strict=True):
        if isinstance(mine, IntervalSet):
            if not any(
                max(start, other_start) < min(end, other_end)
                for start, end in mine.intervals
                for other_start, other_end in theirs.intervals
            ):
                return False
        elif not mine.negated and not theirs.negated:
            if mine.values.isdisjoint(theirs.values):
                return False
        elif not mine.negated:
            if mine.values <= theirs.values:
                return False
        elif not theirs.negated and theirs.values <= mine.values:
            return False
    return True


def _intersection(a: tuple, b: tuple) -> tuple | None:
    parts = []
    for mine, theirs in zip(a, b, strict=True):
        common = mine.intersect(theirs)
        if common.is_empty():
            return None
        parts.append(common)
    return tuple(parts)


def _example(table: DecisionTable, box: tuple) -> str:
    pairs = [
        f"{table.labels[name]}={format_value(members.sample())}"
        for name, members in zip(table.input_names, box, strict=True)
    ]
    return ", ".join(pairs)


def _overlaps(table: DecisionTable, boxes: dict) -> list[Finding]:
    findings = []
    rows = [row for row in table.rows if boxes[row.number] is not None]
    for position, row in enumerate(rows):
        for other in rows[:position]:
            if not _meets(boxes[row.number], boxes[other.number]):
                continue
            common = _intersection(boxes[row.number], boxes[other.number])
            if common is None:
                continue
            differs = not _same_constant_outputs(row, other)
            if table.hit_policy == "any" and not differs:
                continue
            code = "overlap_conflict" if differs else "overlap"
            params = {"other": other.number, "row": row.number, "example": _example(table, common)}
            findings.append(Finding(WARNING, code, table.key, row.number, None, params))
    return findings


def _same_constant_outputs(a: Row, b: Row) -> bool:
    for name, compiled in a.outputs.items():
        theirs = b.outputs[name]
        if not (compiled.constant and theirs.constant):
            return False
        if compiled.value != theirs.value or type(compiled.value) is not type(theirs.value):
            return False
    return True


def _unreachable(table: DecisionTable, boxes: dict, budget: list, beats) -> list[Finding]:
    findings = []
    code = "unreachable" if table.hit_policy == "first" else "unreachable_priority"
    for row in table.rows:
        box = boxes[row.number]
        if box is None:
            continue
        cutters = [
            boxes[other.number]
            for other in table.rows
            if other is not row and boxes[other.number] is not None and beats(row, other)
        ]
        if cutters and not _point_escapes(box, cutters) and not _remainder([box], cutters, budget):
            findings.append(
                Finding(WARNING, code, table.key, row.number, None, {"row": row.number})
            )
    return findings


def _gaps(table: DecisionTable, boxes: dict, budget: list) -> list[Finding]:
    everything = tuple(universe(d.type, d.values, d.minimum, d.maximum) for d in table.inputs)
    if any(members.is_empty() for members in everything):
        return []
    cutters = [box for box in boxes.values() if box is not None]
    left = _remainder([everything], cutters, budget)
    return [
        Finding(
            WARNING,
            "gap",
            table.key,
            params={
                "example": _example(table, box),
                "cells": [
                    "-" if members == whole else as_cell(members)
                    for members, whole in zip(box, everything, strict=True)
                ],
            },
        )
        for box in left[:MAX_GAPS_REPORTED]
    ]


def as_cell(members: Any) -> str:
    """A value set written back in cell syntax (docs/rules.md), so that a gap reads like the
    row that would fill it: ``-``, ``"新保", "续保"``, ``not("新保")``, ``[0..3)``, ``>= 5``."""
    if isinstance(members, IntervalSet):
        if _is_whole(members):
            return "-"
        return ", ".join(
            _interval_cell(start, end, members.dates) for start, end in members.intervals
        )
    if members.negated:
        if not members.values:
            return "-"
        return "not(" + _listed(members.values) + ")"
    return _listed(members.values)


def _listed(values) -> str:
    return ", ".join(format_value(value) for value in sorted(values, key=repr))


def _interval_cell(start: tuple, end: tuple, dates: bool) -> str:
    low, high = _bound(start[0], dates), _bound(end[0], dates)
    low_closed, high_closed = start[1] == 0, end[1] == 1
    if low is None and high is None:
        return "-"
    if low is None:
        return ("<= " if high_closed else "< ") + high
    if high is None:
        return (">= " if low_closed else "> ") + low
    if low == high and low_closed and high_closed:
        return "= " + low
    return f"{'[' if low_closed else '('}{low}..{high}{']' if high_closed else ')'}"


def _bound(value: Any, dates: bool) -> str | None:
    """A bound as cell text; None for an open end (and for the calendar's own first and last
    day, which no one writes)."""
    if not value.is_finite():
        return None
    if dates:
        if value <= 1 or value >= dt.date.max.toordinal():
            return None
        return format_value(dt.date.fromordinal(int(value)).isoformat())
    return format_value(value)


def _point_escapes(box: tuple, cutters: list) -> bool:
    """Cheap early answer: one example input of ``box`` that no cutter holds proves it reachable."""
    point = [members.sample() for members in box]
    return not any(_holds(cutter, point) for cutter in cutters)


def _holds(box: tuple, point: list) -> bool:
    for members, value in zip(box, point, strict=True):
        key = ordered_key(value) if isinstance(members, IntervalSet) else value
        if not members.contains(key):
            return False
    return True


def _remainder(region: list, cutters: list, budget: list) -> list:
    """The part of ``region`` (a list of boxes) that no cutter box covers.

    The union does not depend on the order of cutters, so the broadest go first: a catch-all
    row empties the region at once instead of after fragmenting it into thousands of boxes.
    """
    if len(region) == 1:  # cutters that miss the box cannot change it; skip them early
        cutters = [cutter for cutter in cutters if _meets(region[0], cutter)]
    for cutter in sorted(cutters, key=_narrowness):
        pieces: list = []
        for box in region:
            pieces.extend(_subtract(box, cutter))
        budget[0] -= len(pieces) + 1
        if budget[0] < 0:
            raise _TooComplex("boxes")
        region = pieces
        if not region:
            return []
    return region


def _narrowness(box: tuple) -> int:
    return sum(1 for members in box if not _is_whole(members))


def _is_whole(members: Any) -> bool:
    if isinstance(members, IntervalSet):
        return (
            len(members.intervals) == 1
            and not members.intervals[0][0][0].is_finite()
            and (not members.intervals[0][1][0].is_finite())
        )
    return members.negated and not members.values


def _subtract(box: tuple, cutter: tuple) -> list[Any]:
    """``box`` minus ``cutter`` as disjoint boxes (at most one per column)."""
    if not _meets(box, cutter):
        return [box]
    common = _intersection(box, cutter)
    if common is None:
        return [box]
    pieces = []
    current = list(box)
    for position, members in enumerate(box):
        rest = members.subtract(cutter[position])
        if not rest.is_empty():
            pieces.append(tuple(current[:position] + [rest] + current[position + 1 :]))
        current[position] = common[position]
    return pieces
