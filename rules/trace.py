"""Traces: why an evaluation gave its answer, readable by a business user.

A trace is plain data (dataclasses of dicts, lists and engine values) so it can be stored next to
the figure it explains (``to_dict``) and replayed later. ``render_trace`` writes it as text in
Chinese or English. Traces are only built by ``explain``; ``evaluate`` never touches them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rules.values import format_value, to_jsonable

POLICY_NAMES = {
    "unique": ("唯一命中", "unique"),
    "any": ("任一命中", "any"),
    "first": ("首行命中", "first"),
    "priority": ("优先级命中", "priority"),
    "rule_order": ("按行顺序收集", "rule order"),
    "output_order": ("按输出优先级收集", "output order"),
    "collect": ("收集", "collect"),
    "collect_sum": ("收集并求和", "collect sum"),
    "collect_min": ("收集取最小", "collect min"),
    "collect_max": ("收集取最大", "collect max"),
    "collect_count": ("收集计数", "collect count"),
}


@dataclass
class RowHit:
    row: int  # 1-based, as the business user counts rows
    row_id: str
    description: str
    conditions: list[tuple[str, str]]  # (input label, cell text) of cells that are not "-"
    outputs: dict[str, Any]


@dataclass
class TableTrace:
    key: str
    version: Any
    title: str
    hit_policy: str
    inputs: dict[str, Any]
    labels: dict[str, str]
    matched: list[RowHit]
    selected: list[int]  # rows (1-based) that made the result
    result: Any
    kind: str = "decision_table"

    def versions(self) -> list[tuple[str, str, Any]]:
        return [(self.kind, self.key, self.version)]

    def to_dict(self) -> dict:
        return to_jsonable(
            {
                "kind": self.kind,
                "key": self.key,
                "version": self.version,
                "title": self.title,
                "hit_policy": self.hit_policy,
                "inputs": self.inputs,
                "matched": [hit.__dict__ for hit in self.matched],
                "selected": self.selected,
                "result": self.result,
            }
        )


@dataclass
class StepTrace:
    name: str
    label: str
    value: Any
    expression: str = ""
    table: TableTrace | RuleSetTrace | None = None
    skipped: bool = False


@dataclass
class RuleSetTrace:
    key: str
    version: Any
    title: str
    inputs: dict[str, Any]
    steps: list[StepTrace] = field(default_factory=list)
    result: Any = None
    labels: dict[str, str] = field(default_factory=dict)
    kind: str = "rule_set"

    def versions(self) -> list[tuple[str, str, Any]]:
        found = [(self.kind, self.key, self.version)]
        for step in self.steps:
            if step.table is not None:
                found.extend(item for item in step.table.versions() if item not in found)
        return found

    def to_dict(self) -> dict:
        return to_jsonable(
            {
                "kind": self.kind,
                "key": self.key,
                "version": self.version,
                "title": self.title,
                "inputs": self.inputs,
                "steps": [
                    {
                        "name": step.name,
                        "value": step.value,
                        "expression": step.expression,
                        "skipped": step.skipped,
                        "table": step.table.to_dict() if step.table else None,
                    }
                    for step in self.steps
                ],
                "result": self.result,
                "versions": [list(item) for item in self.versions()],
            }
        )


Trace = TableTrace | RuleSetTrace


def render_trace(trace: Trace, lang: str = "zh") -> str:
    """The trace as indented text lines, in Chinese ("zh") or English ("en")."""
    zh = lang.startswith("zh")
    lines: list[str] = []
    if isinstance(trace, RuleSetTrace):
        _render_rule_set(trace, zh, lines, "")
    else:
        _render_table(trace, zh, lines, "")
    return "\n".join(lines)


def _render_inputs(inputs: dict, labels: dict, zh: bool, lines: list, indent: str) -> None:
    shown = "，".join if zh else ", ".join
    parts = [f"{labels.get(name, name)} = {format_value(value)}" for name, value in inputs.items()]
    lines.append(indent + ("输入：" if zh else "Inputs: ") + shown(parts))


def _render_table(trace: TableTrace, zh: bool, lines: list, indent: str) -> None:
    policy = POLICY_NAMES.get(trace.hit_policy, (trace.hit_policy, trace.hit_policy))
    title = trace.title or trace.key
    if zh:
        lines.append(f"{indent}决策表「{title}」（{trace.key} 版本 {trace.version}，{policy[0]}）")
    else:
        lines.append(
            f"{indent}Decision table '{title}' ({trace.key} version {trace.version}, {policy[1]})"
        )
    _render_inputs(trace.inputs, trace.labels, zh, lines, indent + "  ")
    if not trace.matched:
        lines.append(indent + ("  没有命中任何行" if zh else "  No row matched"))
    for hit in trace.matched:
        lines.append(indent + "  " + _row_line(hit, hit.row in trace.selected, trace.labels, zh))
    lines.append(
        indent + ("  结果：" if zh else "  Result: ") + _result(trace.result, trace.labels, zh)
    )


def _result(result: Any, labels: dict, zh: bool) -> str:
    separator = "，" if zh else ", "
    if isinstance(result, dict):
        return separator.join(f"{labels.get(k, k)} = {format_value(v)}" for k, v in result.items())
    if isinstance(result, list):
        return "；".join(_result(item, labels, zh) for item in result) if result else "[]"
    if result is None:
        return "无（没有命中）" if zh else "none (no match)"
    return format_value(result)


def _row_line(hit: RowHit, selected: bool, labels: dict, zh: bool) -> str:
    separator = "，" if zh else ", "
    conditions = separator.join(f"{label} {text}" for label, text in hit.conditions)
    if not conditions:
        conditions = "任意输入" if zh else "any input"
    outputs = separator.join(
        f"{labels.get(name, name)} = {format_value(value)}" for name, value in hit.outputs.items()
    )
    note = f"（{hit.description}）" if zh and hit.description else ""
    if not zh and hit.description:
        note = f" ({hit.description})"
    if zh:
        state = "命中并采用" if selected else "命中但未采用"
        return f"第 {hit.row} 行{note}{state}：{conditions} → {outputs}"
    state = "matched and used" if selected else "matched, not used"
    return f"row {hit.row}{note} {state}: {conditions} -> {outputs}"


def _render_rule_set(trace: RuleSetTrace, zh: bool, lines: list, indent: str) -> None:
    title = trace.title or trace.key
    if zh:
        lines.append(f"{indent}规则集「{title}」（{trace.key} 版本 {trace.version}）")
    else:
        lines.append(f"{indent}Rule set '{title}' ({trace.key} version {trace.version})")
    _render_inputs(trace.inputs, trace.labels, zh, lines, indent + "  ")
    for number, step in enumerate(trace.steps, 1):
        label = step.label or step.name
        colon = "：" if zh else ": "
        if step.skipped:
            skipped = "条件不满足，跳过" if zh else "condition false, skipped"
            lines.append(f"{indent}  {number}. {label}{colon}{skipped}")
            continue
        how = f" = {step.expression}" if step.expression else ""
        lines.append(f"{indent}  {number}. {label}{how}{colon}{format_value(step.value)}")
        if isinstance(step.table, RuleSetTrace):
            _render_rule_set(step.table, zh, lines, indent + "     ")
        elif step.table is not None:
            _render_table(step.table, zh, lines, indent + "     ")
    lines.append(
        indent + ("  结果：" if zh else "  Result: ") + _result(trace.result, trace.labels, zh)
    )
    used = ", ".join(f"{key}@{version}" for _, key, version in trace.versions())
    lines.append(indent + ("  使用的文档版本：" if zh else "  Document versions: ") + used)
