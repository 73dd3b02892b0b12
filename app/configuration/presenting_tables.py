"""Presenters of the configuration engine's own kinds: a decision table as a table (inputs and
outputs as columns, rules as rows, gaps and overlaps marked) and a list view as its columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

import rules
from app.configuration.diffing import row_cells
from app.configuration.presenting import Presentation, text_of
from rules.limits import DEFAULT_LIMITS, Limits
from rules.messages import render_message

HIT_POLICY_LABELS = {
    "unique": _l("Unique: at most one row may match"),
    "any": _l("Any: several rows may match if their outputs agree"),
    "first": _l("First: the first matching row in order"),
    "priority": _l("Priority: the row whose output comes first"),
    "rule_order": _l("Rule order: every matching row, in row order"),
    "output_order": _l("Output order: every matching row, by output priority"),
    "collect": _l("Collect: every matching row"),
    "collect_sum": _l("Collect and sum"),
    "collect_min": _l("Collect the smallest"),
    "collect_max": _l("Collect the largest"),
    "collect_count": _l("Collect and count"),
}
TYPE_LABELS = {
    "string": _l("Text"),
    "enum": _l("Choice"),
    "decimal": _l("Number"),
    "integer": _l("Whole number"),
    "date": _l("Date"),
    "boolean": _l("Yes/no"),
    "": _l("Any"),
}
ROW_MARKS = {"overlap", "overlap_conflict", "unreachable", "unreachable_priority"}


# Gap and reachability analysis costs about the square of the rows (1,000 rows: ~5 s on a
# loaded machine). Above these sizes a page or a check while typing is answered at once, the
# analysis marked incomplete; publishing still analyses the whole table.
ANALYSED_ROWS = {"page": 1000, "live": 300}
QUICK = Limits(max_analysis_boxes=1)


def table_view(data: Mapping[str, Any], lang: str = "zh", use: str = "page") -> dict[str, Any]:
    """Everything the table page and the grid editor show of a decision table document: its
    columns, rows with their findings, the gaps (as the rows that would fill them) and, when
    it does not load, the errors by row and column. `use` "live" is the grid's check while
    typing (a smaller table is analysed in full)."""
    body = data.get("body") or {}
    inputs = [d for d in body.get("inputs") or [] if isinstance(d, Mapping)]
    outputs = [d for d in body.get("outputs") or [] if isinstance(d, Mapping)]
    input_names = [str(d.get("name")) for d in inputs]
    output_names = [str(d.get("name")) for d in outputs]
    columns = [_column(d, "input") for d in inputs] + [_column(d, "output") for d in outputs]
    rules_count = len(body.get("rules") or [])
    findings, errors = _findings(data, QUICK if rules_count > ANALYSED_ROWS[use] else None)
    by_row: dict[int, list[dict]] = {}
    for finding in findings + errors:
        if finding.row is not None:
            by_row.setdefault(finding.row, []).append(_finding(finding, lang))
    rows = []
    for number, rule in enumerate(body.get("rules") or [], 1):
        cells = row_cells(rule, input_names, output_names)
        marks = by_row.get(number, [])
        bad_columns = {m["column"] for m in marks if m["severity"] == "error" and m["column"]}
        rows.append(
            {
                "number": number,
                "id": rule.get("id") if isinstance(rule, Mapping) else None,
                "description": (rule.get("description") or "") if isinstance(rule, Mapping) else "",
                "cells": [
                    {
                        "column": c["name"],
                        "side": c["side"],
                        "text": cells[c["key"]],
                        "error": c["name"] in bad_columns,
                    }
                    for c in columns
                ],
                "marks": marks,
                "warn": any(m["code"] in ROW_MARKS for m in marks),
            }
        )
    gaps = [
        {
            "cells": list(f.params.get("cells") or []),
            "example": f.params.get("example", ""),
            "message": render_message("gap", lang, f.params),  # the table is the one shown
        }
        for f in findings
        if f.code == "gap"
    ]
    others = [
        _finding(f, lang)
        for f in findings + errors
        if f.row is None and f.code != "gap"  # table-wide notes (analysis incomplete…)
    ]
    return {
        "title": body.get("title") or data.get("title") or data.get("key"),
        "description": body.get("description") or "",
        "hit_policy": body.get("hit_policy", "first"),
        "hit_policy_label": HIT_POLICY_LABELS.get(body.get("hit_policy", "first"), ""),
        "columns": columns,
        "inputs": inputs,
        "outputs": outputs,
        "rows": rows,
        "gaps": gaps,
        "notes": others,
        "errors": [_finding(f, lang) for f in errors],
        "overlaps": sum(1 for f in findings if f.code.startswith("overlap")),
        "unreachable": sum(1 for f in findings if f.code.startswith("unreachable")),
        "tests": len(body.get("tests") or data.get("tests") or []),
    }


def _column(declaration: Mapping, side: str) -> dict[str, Any]:
    name = str(declaration.get("name"))
    described = []
    if declaration.get("values"):
        described.append("、".join(str(v) for v in declaration["values"]))
    if declaration.get("min") is not None or declaration.get("max") is not None:
        low = declaration.get("min", "")
        high = declaration.get("max", "")
        described.append(f"{low} ~ {high}")
    return {
        "name": name,
        "key": f"{'in' if side == 'input' else 'out'}:{name}",
        "label": str(declaration.get("label") or name),
        "side": side,
        "type": str(declaration.get("type") or ""),
        "type_label": TYPE_LABELS.get(str(declaration.get("type") or ""), ""),
        "values": list(declaration.get("values") or []),
        "range": "；".join(described),
        "default": declaration.get("default"),
    }


def _findings(data: Mapping[str, Any], limits: Limits | None = None) -> tuple[list, list]:
    """(analysis findings, load errors) of the table, compiled on its own: analysis needs no
    other document (a lookup to another table is only checked when it is published)."""
    document = {**data, "kind": "decision_table"}
    try:
        compiled = rules.load_document(document, limits=limits or DEFAULT_LIMITS)
    except rules.DocumentError as error:
        return [], list(error.problems) or [
            rules.Finding("error", error.code, str(data.get("key")))
        ]
    return list(compiled.findings), []


def _finding(finding, lang: str) -> dict[str, Any]:
    return {
        "severity": finding.severity,
        "code": finding.code,
        "row": finding.row,
        "column": finding.column,
        "message": finding.message(lang),
        "other": finding.params.get("other"),
    }


def present_decision_table(data: Mapping[str, Any], lang: str = "zh") -> Presentation:
    return Presentation(
        "configuration/document_part_decision_table.html", {"table": table_view(data, lang)}
    )


FORMAT_LABELS = {
    "text": _l("Text"),
    "enum": _l("Choice label"),
    "boolean": _l("Yes/no"),
    "money": _l("Money"),
    "date": _l("Date"),
    "datetime": _l("Date and time"),
    "masked": _l("Masked"),
    "decimal": _l("Number"),
    "integer": _l("Whole number"),
    "percent": _l("Percent"),
}


# Fields a list filters on without showing them as a column.
CORE_FIELDS = {"org_node": _l("Org node")}


def present_list_view(data: Mapping[str, Any], lang: str = "zh") -> Presentation:
    body = data["body"]
    labels = {c["field"]: text_of(c.get("label"), lang) for c in body["columns"]}
    columns = [
        {
            "label": text_of(column.get("label"), lang) or column["field"],
            "field": column["field"],
            "format": FORMAT_LABELS.get(column.get("format", "text"), column.get("format", "")),
            "shown": column.get("shown", True) is not False,
            "exported": column.get("exported", True) is not False,
            "locked": bool(column.get("locked")),
        }
        for column in body["columns"]
    ]
    sort = [
        {"label": labels.get(s["field"], s["field"]), "descending": s.get("direction") == "desc"}
        for s in body.get("sort", [])
    ]
    filters = [
        labels.get(name) or str(CORE_FIELDS.get(name, name)) for name in body.get("filters", [])
    ]
    return Presentation(
        "configuration/document_part_list_view.html",
        {
            "view": {
                "title": text_of(body.get("title"), lang) or data.get("title"),
                "model": body.get("model", ""),
                "columns": columns,
                "sort": sort,
                "filters": filters,
                "page_size": body.get("page_size"),
                "user_layout": body.get("user_layout", False),
            }
        },
    )
