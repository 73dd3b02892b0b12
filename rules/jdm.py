"""GoRules JDM (JSON Decision Model) import and export of decision tables.

The two models overlap on: a table of input columns bound to flat fields, rules whose cells are
unary tests (``"a", "b"``, ``[0..3)``, ``>= 5``, empty = any), outputs whose cells are literals,
and hit policies ``first`` and ``collect``. Everything else is refused with the reason rather
than translated approximately: a pricing rule that silently changes meaning is worse than none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rules.errors import DocumentError, RuleError
from rules.sets import ValueSet
from rules.tables import DecisionTable
from rules.values import format_value

JDM_POLICIES = {"first": "first", "collect": "collect", "rule_order": "collect"}
FIELD = re.compile(r"^[^\W\d]\w*$")


class JdmRefused(RuleError):
    """This table or graph cannot be carried across without changing its meaning."""


def _refuse(reason: str, export: bool = True) -> JdmRefused:
    return JdmRefused("jdm_refused" if export else "jdm_import_refused", reason=reason)


# --- export ----------------------------------------------------------------------------------


def export_jdm(table: DecisionTable) -> dict:
    """The table as a JDM graph: input node -> decision table node -> output node."""
    policy = JDM_POLICIES.get(table.hit_policy)
    if policy is None:
        raise _refuse(
            f"hit policy {table.hit_policy} has no JDM equivalent (JDM has first, collect)"
        )
    inputs = [
        {"id": f"in_{d.name}", "name": d.label or d.name, "field": d.name} for d in table.inputs
    ]
    outputs = [
        {"id": f"out_{d.name}", "name": d.label or d.name, "field": d.name} for d in table.outputs
    ]
    for declaration in table.inputs:
        if declaration.type == "date":
            raise _refuse(f"input {declaration.name}: date inputs compare differently in JDM")
    rules = [_export_row(table, row) for row in table.rows]
    content = {"hitPolicy": policy, "inputs": inputs, "outputs": outputs, "rules": rules}
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
            {
                "id": "table",
                "type": "decisionTableNode",
                "name": table.title or table.key,
                "position": {"x": 300, "y": 0},
                "content": content,
            },
            {
                "id": "response",
                "type": "outputNode",
                "name": "Response",
                "position": {"x": 600, "y": 0},
            },
        ],
        "edges": [
            {"id": "e1", "sourceId": "request", "targetId": "table", "type": "edge"},
            {"id": "e2", "sourceId": "table", "targetId": "response", "type": "edge"},
        ],
    }


def _export_row(table: DecisionTable, row) -> dict:
    rule: dict[str, Any] = {"_id": str(row.row_id)}
    if row.description:
        rule["_description"] = row.description
    for declaration, cell in zip(table.inputs, row.cells, strict=True):
        if cell.dynamic:
            raise _refuse(
                f"row {row.number}, {declaration.name}: a cell reading other inputs ({cell.text})"
            )
        rule[f"in_{declaration.name}"] = (
            "" if cell.is_any else _unary_text(cell.static, declaration)
        )
    for name, compiled in row.outputs.items():
        if not compiled.constant:
            raise _refuse(f"row {row.number}, {name}: a computed output ({compiled.text})")
        rule[f"out_{name}"] = _literal(compiled.value)
    return rule


def _unary_text(members: Any, declaration) -> str:
    if isinstance(members, ValueSet):
        values = sorted(members.values, key=repr)
        if members.negated:
            return " and ".join(f"$ != {_literal(value)}" for value in values) or ""
        if declaration.type == "enum" and set(values) == set(declaration.values or ()):
            return ""
        return ", ".join(_literal(value) for value in values)
    pieces = [_interval_text(start, end, members.discrete) for start, end in members.intervals]
    return ", ".join(pieces)


def _interval_text(start: tuple, end: tuple, discrete: bool) -> str:
    low, high = start[0], end[0]
    low_closed, high_closed = start[1] == 0, end[1] == 1
    if not low.is_finite() and not high.is_finite():
        return ""
    if not low.is_finite():
        return f"{'<=' if high_closed else '<'} {_number(high)}"
    if not high.is_finite():
        return f"{'>=' if low_closed else '>'} {_number(low)}"
    if low == high:
        return _number(low)
    return (
        f"{'[' if low_closed else '('}{_number(low)}..{_number(high)}{']' if high_closed else ')'}"
    )


def _number(value: Decimal) -> str:
    return format(value, "f")


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, str):
        return format_value(value)
    raise _refuse(f"value {value!r} has no JDM literal")


# --- import ----------------------------------------------------------------------------------


def import_jdm(
    graph: Mapping, key: str, version: Any = 1, types: Mapping[str, Mapping] | None = None
) -> dict:
    """A ``decision_table`` document from a JDM graph holding one decision table.

    ``types`` may declare input/output types by field (``{"age": {"type": "integer"}}``);
    undeclared ones are inferred from the cells (quoted text -> string, numbers -> decimal,
    true/false -> boolean). The result is loaded once to prove it means what it says.
    """
    node = _the_table_node(graph)
    content = node.get("content") or {}
    policy = content.get("hitPolicy", "first")
    if policy not in ("first", "collect"):
        raise _refuse(f"unknown hit policy {policy!r}", export=False)
    inputs = [_column(item, "input") for item in content.get("inputs") or []]
    outputs = [_column(item, "output") for item in content.get("outputs") or []]
    rows = [
        _import_row(rule, inputs, outputs, number)
        for number, rule in enumerate(content.get("rules") or [], 1)
    ]
    declared = dict(types or {})
    body = {
        "title": str(node.get("name") or key),
        "hit_policy": policy,
        "inputs": [_declare(field, rows, "when", declared) for field, _ in inputs],
        "outputs": [_declare(field, rows, "then", declared) for field, _ in outputs],
        "rules": rows,
    }
    document = {"kind": "decision_table", "key": key, "version": version, "body": body}
    try:
        DecisionTable(key, version, body)
    except DocumentError as error:
        raise _refuse(error.message("en"), export=False) from None
    return document


def _the_table_node(graph: Mapping) -> Mapping:
    if not isinstance(graph, Mapping) or not isinstance(graph.get("nodes"), list):
        raise _refuse("not a JDM graph (no nodes list)", export=False)
    tables = []
    for node in graph["nodes"]:
        kind = node.get("type") if isinstance(node, Mapping) else None
        if kind == "decisionTableNode":
            tables.append(node)
        elif kind not in ("inputNode", "outputNode"):
            raise _refuse(
                f"node {node.get('name') if isinstance(node, Mapping) else node!r} of type {kind} "
                "(only one decision table between input and output can be imported)",
                export=False,
            )
    if len(tables) != 1:
        raise _refuse(
            f"{len(tables)} decision tables in the graph, expected exactly one", export=False
        )
    return tables[0]


def _column(item: Mapping, what: str) -> tuple[str, str]:
    field = item.get("field") or item.get("inputField") or item.get("outputField")
    if not isinstance(field, str) or not FIELD.match(field):
        raise _refuse(
            f"{what} column {item.get('name')!r}: field {field!r} is not a flat name", export=False
        )
    return field, str(item.get("id"))


def _import_row(rule: Mapping, inputs: list, outputs: list, number: int) -> dict:
    when, then = {}, {}
    for field, column_id in inputs:
        text = str(rule.get(column_id) or "").strip()
        if "$" in text:
            raise _refuse(f"rule {number}, {field}: '$' expressions ({text})", export=False)
        when[field] = text or "-"
    for field, column_id in outputs:
        then[field] = str(rule.get(column_id) or "").strip() or "null"
    row = {"when": when, "then": then}
    if rule.get("_description"):
        row["description"] = str(rule["_description"])
    if rule.get("_id"):
        row["id"] = str(rule["_id"])
    return row


def _declare(field: str, rows: list, side: str, declared: Mapping) -> dict:
    if field in declared:
        return {"name": field, **dict(declared[field])}
    texts = [row[side][field] for row in rows if row[side][field] not in ("-", "null")]
    return {"name": field, "type": _infer_type(texts)}


def _infer_type(texts: list[str]) -> str:
    if texts and all(text in ("true", "false") for text in texts):
        return "boolean"
    if any('"' in text or "'" in text for text in texts):
        return "string"
    return "decimal"
