"""Differences between two versions of a document, as structure rather than text.

* `diff_values(old, new)`: every change of two JSON-like values by path ("$.body.lines[2].rate"),
  mappings compared key by key, lists aligned (items with a `name`/`code`/`key`/`id`/`field`
  are matched by it, others by sequence alignment) so that an inserted item is one addition,
  not a change of every item after it.
* `table_diff(old_body, new_body)`: two decision tables row by row and cell by cell, over the
  union of their columns.
* `side_by_side(old_text, new_text)`: two texts as aligned line pairs with the changed ones
  marked, for the kinds shown as YAML.

Pure functions; the version comparison page renders their results.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

IDENTITY_KEYS = ("name", "code", "key", "id", "field")
ADDED, REMOVED, CHANGED, SAME = "added", "removed", "changed", "same"


@dataclass(frozen=True)
class Change:
    parts: tuple  # the path as keys and 0-based indexes
    status: str  # added, removed, changed
    old: Any = None
    new: Any = None

    @property
    def path(self) -> str:
        text = "$"
        for part in self.parts:
            text += f"[{part}]" if isinstance(part, int) else f".{part}"
        return text


def diff_values(old: Any, new: Any, parts: tuple = ()) -> list[Change]:
    """Every difference between `old` and `new`, in document order."""
    if _same(old, new):
        return []
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        changes: list[Change] = []
        for key in list(old) + [k for k in new if k not in old]:
            where = (*parts, key)
            if key not in new:
                changes.append(Change(where, REMOVED, old[key], None))
            elif key not in old:
                changes.append(Change(where, ADDED, None, new[key]))
            else:
                changes += diff_values(old[key], new[key], where)
        return changes
    if _is_list(old) and _is_list(new):
        return _diff_lists(list(old), list(new), parts)
    return [Change(parts, CHANGED, old, new)]


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _same(a: Any, b: Any) -> bool:
    return _canonical(a) == _canonical(b)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _identity(item: Any) -> Any:
    if isinstance(item, Mapping):
        for key in IDENTITY_KEYS:
            if isinstance(item.get(key), str | int) and not isinstance(item.get(key), bool):
                return (key, item[key])
    return None


def _diff_lists(old: list, new: list, path: tuple) -> list[Change]:
    old_ids, new_ids = [_identity(i) for i in old], [_identity(i) for i in new]
    keyed = (
        None not in old_ids
        and None not in new_ids
        and len(set(old_ids)) == len(old_ids)
        and len(set(new_ids)) == len(new_ids)
    )
    if keyed:
        changes: list[Change] = []
        where_new = {ident: index for index, ident in enumerate(new_ids)}
        for index, ident in enumerate(old_ids):
            if ident not in where_new:
                changes.append(Change((*path, index), REMOVED, old[index], None))
            else:
                target = where_new[ident]
                changes += diff_values(old[index], new[target], (*path, target))
        old_set = set(old_ids)
        changes += [
            Change((*path, index), ADDED, None, new[index])
            for index, ident in enumerate(new_ids)
            if ident not in old_set
        ]
        return changes
    return _aligned(old, new, path)


def _aligned(old: list, new: list, path: tuple) -> list[Change]:
    matcher = difflib.SequenceMatcher(
        a=[_canonical(i) for i in old], b=[_canonical(i) for i in new], autojunk=False
    )
    changes: list[Change] = []
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(a2 - a1, b2 - b1) if tag == "replace" else 0
        for offset in range(paired):
            changes += diff_values(old[a1 + offset], new[b1 + offset], (*path, b1 + offset))
        changes += [Change((*path, i), REMOVED, old[i], None) for i in range(a1 + paired, a2)]
        changes += [Change((*path, i), ADDED, None, new[i]) for i in range(b1 + paired, b2)]
    return changes


# --- decision tables -------------------------------------------------------------------------


@dataclass
class RowDiff:
    status: str  # same, added, removed, changed
    old_number: int | None  # 1-based row number in the old version
    new_number: int | None
    cells: list[tuple[str, str]]  # (old text, new text) per column of TableDiff.columns
    changed: list[bool] = field(default_factory=list)  # per column


@dataclass
class TableDiff:
    columns: list[dict]  # {"name", "label", "side": "input"|"output", "status"}
    rows: list[RowDiff]
    settings: list[Change]  # title, hit policy, declarations, tests

    @property
    def counts(self) -> dict[str, int]:
        counts = {ADDED: 0, REMOVED: 0, CHANGED: 0, SAME: 0}
        for row in self.rows:
            counts[row.status] += 1
        return counts


def cell_text(value: Any) -> str:
    """A cell as the grid shows it: empty and None are "-", numbers and booleans as written."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text or "-"


def row_cells(rule: Any, inputs: list[str], outputs: list[str]) -> dict[str, str]:
    """One rule's cells by column name ("in:x" / "out:y"), from `when`/`then` written as
    mappings or as lists in declaration order."""
    rule = rule if isinstance(rule, Mapping) else {}
    cells = {}
    for side, names, raw in (("in", inputs, rule.get("when")), ("out", outputs, rule.get("then"))):
        if _is_list(raw):
            by_name = dict(zip(names, raw, strict=False))
        else:
            by_name = dict(raw) if isinstance(raw, Mapping) else {}
        for name in names:
            cells[f"{side}:{name}"] = cell_text(by_name.get(name))
    return cells


def _declared(body: Mapping, section: str) -> list[dict]:
    items = body.get(section) if isinstance(body, Mapping) else None
    return [d for d in items or [] if isinstance(d, Mapping) and isinstance(d.get("name"), str)]


def _columns(old: Mapping, new: Mapping) -> list[dict]:
    columns = []
    for section, side in (("inputs", "input"), ("outputs", "output")):
        old_decl = {d["name"]: d for d in _declared(old, section)}
        new_decl = {d["name"]: d for d in _declared(new, section)}
        names = list(old_decl) + [n for n in new_decl if n not in old_decl]
        for name in names:
            mine = new_decl.get(name) or old_decl[name]
            if name not in new_decl:
                status = REMOVED
            elif name not in old_decl:
                status = ADDED
            else:
                status = SAME if _same(old_decl[name], new_decl[name]) else CHANGED
            columns.append(
                {
                    "name": name,
                    "key": f"{'in' if side == 'input' else 'out'}:{name}",
                    "label": str(mine.get("label") or name),
                    "side": side,
                    "status": status,
                }
            )
    return columns


def table_diff(old: Mapping, new: Mapping) -> TableDiff:
    """Two decision table bodies compared row by row and cell by cell.

    Rows are aligned on their cells (rows with an `id` on it first), so a row inserted in the
    middle shows as one added row; a row whose cells partly changed shows as changed with the
    changed cells marked."""
    columns = _columns(old, new)
    keys = [c["key"] for c in columns]
    old_in, old_out = (
        [d["name"] for d in _declared(old, "inputs")],
        [d["name"] for d in _declared(old, "outputs")],
    )
    new_in, new_out = (
        [d["name"] for d in _declared(new, "inputs")],
        [d["name"] for d in _declared(new, "outputs")],
    )
    old_rules = [r for r in (old.get("rules") or [])] if isinstance(old, Mapping) else []
    new_rules = [r for r in (new.get("rules") or [])] if isinstance(new, Mapping) else []
    old_rows = [_full(row_cells(r, old_in, old_out), keys) for r in old_rules]
    new_rows = [_full(row_cells(r, new_in, new_out), keys) for r in new_rules]
    matcher = difflib.SequenceMatcher(
        a=[_row_key(r, c) for r, c in zip(old_rules, old_rows, strict=True)],
        b=[_row_key(r, c) for r, c in zip(new_rules, new_rows, strict=True)],
        autojunk=False,
    )
    rows: list[RowDiff] = []
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(a2 - a1):
                cells = new_rows[b1 + offset]
                rows.append(
                    RowDiff(
                        SAME,
                        a1 + offset + 1,
                        b1 + offset + 1,
                        [(cells[k], cells[k]) for k in keys],
                        [False] * len(keys),
                    )
                )
            continue
        paired = min(a2 - a1, b2 - b1) if tag == "replace" else 0
        for offset in range(paired):
            before, after = old_rows[a1 + offset], new_rows[b1 + offset]
            pairs = [(before[k], after[k]) for k in keys]
            rows.append(
                RowDiff(
                    CHANGED,
                    a1 + offset + 1,
                    b1 + offset + 1,
                    pairs,
                    [a != b for a, b in pairs],
                )
            )
        for index in range(a1 + paired, a2):
            cells = old_rows[index]
            rows.append(
                RowDiff(
                    REMOVED, index + 1, None, [(cells[k], "") for k in keys], [True] * len(keys)
                )
            )
        for index in range(b1 + paired, b2):
            cells = new_rows[index]
            rows.append(
                RowDiff(ADDED, None, index + 1, [("", cells[k]) for k in keys], [True] * len(keys))
            )
    settings = [
        change
        for change in diff_values(
            {k: v for k, v in (old or {}).items() if k != "rules"},
            {k: v for k, v in (new or {}).items() if k != "rules"},
        )
    ]
    return TableDiff(columns, rows, settings)


def _full(cells: dict[str, str], keys: list[str]) -> dict[str, str]:
    return {key: cells.get(key, "") for key in keys}


def _row_key(rule: Any, cells: dict[str, str]) -> str:
    ident = rule.get("id") if isinstance(rule, Mapping) else None
    return _canonical({"id": ident, "cells": cells})


# --- text ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinePair:
    status: str  # same, changed, added, removed
    old_number: int | None
    old: str
    new_number: int | None
    new: str


def side_by_side(old_text: str, new_text: str) -> list[LinePair]:
    """The two texts as aligned line pairs: equal lines side by side, a changed block paired
    line by line, extra lines of either side against an empty one."""
    old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    pairs: list[LinePair] = []
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            pairs += [
                LinePair(SAME, a1 + i + 1, old_lines[a1 + i], b1 + i + 1, new_lines[b1 + i])
                for i in range(a2 - a1)
            ]
            continue
        paired = min(a2 - a1, b2 - b1) if tag == "replace" else 0
        pairs += [
            LinePair(CHANGED, a1 + i + 1, old_lines[a1 + i], b1 + i + 1, new_lines[b1 + i])
            for i in range(paired)
        ]
        pairs += [LinePair(REMOVED, i + 1, old_lines[i], None, "") for i in range(a1 + paired, a2)]
        pairs += [LinePair(ADDED, None, "", i + 1, new_lines[i]) for i in range(b1 + paired, b2)]
    return pairs


# --- a version comparison --------------------------------------------------------------------


def compare_versions(kind: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict:
    """What the comparison page shows of two versions' data: every change by field (named in
    the user's words), the two texts side by side, and for a decision table its rows and cells.
    """
    from app.configuration.presenting import as_yaml
    from app.configuration.schema_words import field_words

    table = None
    found = diff_values(old, new)
    if kind == "decision_table":
        table = table_diff(old.get("body") or {}, new.get("body") or {})
        table.rows = folded(table.rows, CONTEXT_ROWS)
        # the rows are compared in the table; the list tells the rest
        found = [c for c in found if c.parts[:2] != ("body", "rules")]
    changes = [
        {
            "change": change,
            "place": field_words(new if change.status != REMOVED else old, list(change.parts)),
            "old": _short(change.old),
            "new": _short(change.new),
        }
        for change in found
    ]
    return {
        "changes": changes,
        "lines": folded(side_by_side(as_yaml(old), as_yaml(new)), CONTEXT_LINES),
        "table": table,
    }


def _short(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:197] + "…"


CONTEXT_LINES, CONTEXT_ROWS = 3, 2
SKIPPED = "skipped"


@dataclass(frozen=True)
class Skipped:
    """Unchanged rows or lines left out of a comparison: how many."""

    count: int
    status: str = SKIPPED


def folded(items: list, context: int) -> list:
    """`items` (line pairs or table rows) with each run of unchanged ones longer than twice
    `context` cut to `context` on either side of a change and a `Skipped` in between, so a
    5,000-row table with one changed row is a short page."""
    result: list = []
    run: list = []

    def flush(last: bool) -> None:
        first = not result
        keep_head = 0 if first else context
        keep_tail = 0 if last else context
        if len(run) > keep_head + keep_tail + 1:
            result.extend(run[:keep_head])
            result.append(Skipped(len(run) - keep_head - keep_tail))
            result.extend(run[len(run) - keep_tail :] if keep_tail else [])
        else:
            result.extend(run)
        run.clear()

    for item in items:
        if item.status == SAME:
            run.append(item)
            continue
        flush(last=False)
        result.append(item)
    if run:
        flush(last=True)
    return result
