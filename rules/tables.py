"""Decision tables: typed inputs and outputs, rows of cells, every DMN hit policy.

A table is compiled once from the ``body`` of a ``decision_table`` document. Evaluation
coerces each declared input (an error names a missing or bad input), narrows the candidate
rows with per-column indexes (a dict for unordered columns, a sorted list of breakpoints for
ordered ones; each gives a bitmask of rows), checks the few cells that read other inputs, and
applies the hit policy. ``evaluate`` returns the answer; ``explain`` also returns a trace.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from rules import functions as fn
from rules.cells import Cell, Column, parse_cell
from rules.errors import DocumentError, EvaluationError, ExpressionError, NoMatchError, RuleError
from rules.expressions import CompiledExpression, LookupResolver, compile_expression
from rules.findings import ERROR, Finding
from rules.limits import DEFAULT_LIMITS, Limits
from rules.sets import IntervalSet, ValueSet, ordered_key
from rules.trace import RowHit, TableTrace
from rules.values import (
    NUMERIC_TYPES,
    ORDERED_TYPES,
    TYPES,
    coerce_output,
    fits_type,
    format_value,
    make_coercer,
    to_jsonable,
    value_type,
)

SINGLE_HIT = ("unique", "any", "first", "priority")
MULTI_HIT = ("rule_order", "output_order", "collect")
AGGREGATES = ("collect_sum", "collect_min", "collect_max", "collect_count")
HIT_POLICIES = SINGLE_HIT + MULTI_HIT + AGGREGATES


@dataclass(frozen=True)
class Declaration:
    """A declared input or output: what a form needs to ask for it."""

    name: str
    type: str
    label: str = ""
    values: tuple | None = None  # enum values, or priority order of an output
    description: str = ""
    default: Any = None
    minimum: Any = None  # ordered inputs: values below are refused, analysis starts here
    maximum: Any = None

    def to_form_field(self) -> dict:
        field_ = {"name": self.name, "type": self.type, "label": self.label or self.name}
        if self.values is not None:
            field_["values"] = list(self.values)
        if self.description:
            field_["description"] = self.description
        if self.minimum is not None:
            field_["min"] = to_jsonable(self.minimum)
        if self.maximum is not None:
            field_["max"] = to_jsonable(self.maximum)
        field_["required"] = True
        return field_


@dataclass
class Row:
    number: int  # 1-based
    row_id: str
    description: str
    cells: list[Cell]
    outputs: dict[str, CompiledExpression]
    output: Callable[[dict], dict] = field(repr=False, default=None)  # type: ignore[assignment]
    dynamic_tests: list[tuple[str, Callable]] = field(default_factory=list, repr=False)
    priority: tuple = ()


class DecisionTable:
    """A compiled decision table. Build it with :func:`rules.load_document` or ``compile``."""

    kind = "decision_table"

    def __init__(
        self,
        key: str,
        version: Any,
        body: Mapping,
        *,
        resolver: LookupResolver | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.key, self.version, self.limits = key, version, limits
        self.body = body
        self.problems: list[Finding] = []
        self.findings: list[Finding] = []
        _require_mapping(body, key)
        self.title = str(body.get("title", ""))
        self.hit_policy = str(body.get("hit_policy", "first"))
        if self.hit_policy not in HIT_POLICIES:
            self._problem(
                "bad_document", detail=f"hit_policy {self.hit_policy!r} not in {list(HIT_POLICIES)}"
            )
        self.inputs = self._declarations(body.get("inputs"), "inputs")
        self.outputs = self._declarations(body.get("outputs"), "outputs")
        self.input_names = [item.name for item in self.inputs]
        self.output_names = [item.name for item in self.outputs]
        self.labels = {item.name: item.label or item.name for item in self.inputs + self.outputs}
        self.tests = list(body.get("tests") or [])
        self._check_policy_outputs()
        self.rows = self._rows(body.get("rules"), resolver)
        if self.problems:
            raise DocumentError("document_invalid", key, problems=self.problems, key=key)
        self._build_index()
        from rules.analysis import analyse_table

        self.findings = analyse_table(self)

    # --- loading ------------------------------------------------------------------------------

    def _problem(self, code: str, row: int | None = None, column: str | None = None, **params):
        self.problems.append(Finding(ERROR, code, self.key, row, column, params))

    def _declarations(self, raw: Any, section: str) -> list[Declaration]:
        if not isinstance(raw, list) or not raw:
            self._problem("bad_document", detail=f"{section} must be a non-empty list")
            return []
        found: list[Declaration] = []
        for position, item in enumerate(raw, 1):
            declaration = self._declaration(item, section, position)
            if declaration is None:
                continue
            if any(other.name == declaration.name for other in found):
                self._problem("duplicate_name", column=declaration.name, name=declaration.name)
            found.append(declaration)
        if len(found) > self.limits.max_columns:
            self._problem("bad_document", detail=f"more than {self.limits.max_columns} {section}")
        return found

    def _declaration(self, item: Any, section: str, position: int) -> Declaration | None:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            self._problem("bad_document", detail=f"{section}[{position}] needs a name")
            return None
        name, type_name = item["name"], item.get("type", "string" if section == "inputs" else None)
        if not name.isidentifier() or name.startswith("_") or name in fn.FUNCTIONS:
            self._problem("bad_document", column=name, detail=f"{name!r} is not a usable name")
            return None
        if type_name is not None and type_name not in TYPES:
            self._problem(
                "bad_document", column=name, detail=f"type {type_name!r} not in {list(TYPES)}"
            )
            return None
        values = item.get("values")
        if values is not None:
            values = tuple(
                coerce_output(value, type_name if type_name != "enum" else None) for value in values
            )
        if type_name == "enum" and not values:
            self._problem("bad_document", column=name, detail="an enum needs its values")
            return None
        default = (
            coerce_output(item.get("default"), type_name)
            if item.get("default") is not None
            else None
        )
        return Declaration(
            name,
            type_name or "",
            str(item.get("label", "")),
            values,
            str(item.get("description", "")),
            default,
            coerce_output(item.get("min"), type_name),
            coerce_output(item.get("max"), type_name),
        )

    def _check_policy_outputs(self) -> None:
        policy = self.hit_policy
        if policy in AGGREGATES and len(self.outputs) != 1:
            self._problem("aggregate_needs_one_output", policy=policy)
        elif policy in ("collect_sum", "collect_min", "collect_max"):
            kind = self.outputs[0].type
            allowed = NUMERIC_TYPES if policy == "collect_sum" else ORDERED_TYPES
            if kind and kind not in allowed:
                self._problem("aggregate_needs_number", column=self.outputs[0].name, policy=policy)
        if policy in ("priority", "output_order") and not any(o.values for o in self.outputs):
            self._problem("priority_needs_values", policy=policy)

    def _rows(self, raw: Any, resolver: LookupResolver | None) -> list[Row]:
        if not isinstance(raw, list):
            self._problem("bad_document", detail="rules must be a list")
            return []
        if len(raw) > self.limits.max_rows:
            self._problem("bad_document", detail=f"more than {self.limits.max_rows} rules")
            return []
        names = frozenset(self.input_names)
        columns = [Column(d.name, d.type, d.values, names) for d in self.inputs]
        return [self._row(number, item, columns, resolver) for number, item in enumerate(raw, 1)]

    def _row(self, number: int, item: Any, columns: list[Column], resolver) -> Row:
        if not isinstance(item, Mapping):
            self._problem(
                "bad_document", row=number, detail="a rule must be a mapping with when/then"
            )
            item = {}
        when = _by_name(item.get("when"), self.input_names)
        then = _by_name(item.get("then"), self.output_names)
        for name in when:
            if name not in self.input_names:
                self._problem("unknown_input", row=number, column=name, name=name)
        for name in then:
            if name not in self.output_names:
                self._problem("unknown_output", row=number, column=name, name=name)
        cells = [self._cell(number, when.get(column.name), column) for column in columns]
        outputs = {
            output.name: self._output_cell(number, then.get(output.name), output, resolver)
            for output in self.outputs
        }
        row = Row(
            number, str(item.get("id", number)), str(item.get("description", "")), cells, outputs
        )
        row.dynamic_tests = [
            (column.name, cell.test)
            for column, cell in zip(columns, cells, strict=False)
            if cell.dynamic
        ]
        row.output = _row_output(row, self.outputs)
        row.priority = self._priority(row)
        return row

    def _cell(self, number: int, raw: Any, column: Column) -> Cell:
        try:
            return parse_cell(raw, column, limits=self.limits)
        except ExpressionError as error:
            self._problem(error.code, row=number, column=column.name, **error.params)
            return Cell("-", is_any=True, static=None, test=lambda value, env: True)

    def _output_cell(
        self, number: int, raw: Any, output: Declaration, resolver
    ) -> CompiledExpression:
        text = _output_text(raw, output)
        try:
            compiled = compile_expression(
                text, self.input_names, limits=self.limits, resolver=resolver
            )
        except ExpressionError as error:
            self._problem(error.code, row=number, column=output.name, **error.params)
            return compile_expression("null")
        if compiled.constant:
            compiled.value = _typed_constant(compiled.value, output)
            if not _fits_output(compiled.value, output):
                self._problem(
                    "output_type_mismatch",
                    row=number,
                    column=output.name,
                    value=format_value(compiled.value),
                    type=output.type,
                )
        return compiled

    def _priority(self, row: Row) -> tuple:
        ranks = []
        for output in self.outputs:
            if not output.values:
                continue
            compiled = row.outputs[output.name]
            if not compiled.constant or compiled.value not in output.values:
                if self.hit_policy in ("priority", "output_order"):
                    self._problem(
                        "cell_not_allowed",
                        row=row.number,
                        column=output.name,
                        value=compiled.text,
                        allowed=list(output.values),
                    )
                ranks.append(len(output.values))
            else:
                ranks.append(output.values.index(compiled.value))
        return tuple(ranks)

    # --- index ----------------------------------------------------------------------------------

    def _build_index(self) -> None:
        self.all_rows = (1 << len(self.rows)) - 1
        self.dynamic_rows = 0
        for row in self.rows:
            if row.dynamic_tests:
                self.dynamic_rows |= 1 << (row.number - 1)
        self.plan: list[tuple[str, dict, Callable]] = []
        for position, declaration in enumerate(self.inputs):
            coerce = make_coercer(
                declaration.name,
                declaration.type,
                declaration.values,
                self.key,
                declaration.minimum,
                declaration.maximum,
            )
            cells = [row.cells[position] for row in self.rows]
            lookup = _column_index(cells, declaration.type)
            memos: dict[type, dict] = {kind: {} for kind in MEMO_TYPES}
            self.plan.append((declaration.name, memos, _resolver(coerce, lookup, memos)))
        self._pick = getattr(self, "_pick_" + self.hit_policy)

    # --- evaluation -----------------------------------------------------------------------------

    def evaluate(self, inputs: Mapping[str, Any]) -> Any:
        """The table's answer for ``inputs`` (a mapping of input name to raw value).

        Single-hit policies give a dict of outputs (None, or the declared defaults, when no row
        matches); rule order / output order / collect give a list of dicts; collect with an
        aggregate gives {output: aggregate}.
        """
        env: dict[str, Any] = {}
        mask = self.all_rows
        for name, memos, resolve in self.plan:
            raw = inputs.get(name)
            memo = memos.get(type(raw))
            known = memo.get(raw) if memo is not None else None
            value, rows = known if known is not None else resolve(raw)
            env[name] = value
            mask &= rows
        if mask & self.dynamic_rows:
            mask = self._check_dynamic(mask, env)
        return self._pick(mask, env)

    def explain(self, inputs: Mapping[str, Any]) -> tuple[Any, TableTrace]:
        """Like ``evaluate``, and also the trace: inputs, every matched row, the rows used."""
        env: dict[str, Any] = {}
        mask = self.all_rows
        for name, memos, resolve in self.plan:
            raw = inputs.get(name)
            memo = memos.get(type(raw))
            known = memo.get(raw) if memo is not None else None
            value, rows = known if known is not None else resolve(raw)
            env[name] = value
            mask &= rows
        if mask & self.dynamic_rows:
            mask = self._check_dynamic(mask, env)
        matched = [self.rows[index] for index in _bits(mask)]
        trace = TableTrace(
            self.key,
            self.version,
            self.title,
            self.hit_policy,
            dict(env),
            self.labels,
            [self._hit(row, env) for row in matched],
            [],
            None,
        )
        result = self._pick(mask, env)
        trace.selected = self._selected(mask, matched)
        trace.result = result
        return result, trace

    def _check_dynamic(self, mask: int, env: dict) -> int:
        for index in _bits(mask & self.dynamic_rows):
            row = self.rows[index]
            for name, test in row.dynamic_tests:
                if not test(env[name], env):
                    mask &= ~(1 << index)
                    break
        return mask

    def _no_match(self) -> Any:
        if any(output.default is not None for output in self.outputs):
            return {output.name: output.default for output in self.outputs}
        return None

    def _pick_first(self, mask: int, env: dict) -> Any:
        if not mask:
            return self._no_match()
        return self.rows[(mask & -mask).bit_length() - 1].output(env)

    def _pick_unique(self, mask: int, env: dict) -> Any:
        if not mask:
            return self._no_match()
        if mask & (mask - 1):
            rows = [index + 1 for index in _bits(mask)]
            raise NoMatchError("not_unique", self.key, rows=rows)
        return self.rows[mask.bit_length() - 1].output(env)

    def _pick_any(self, mask: int, env: dict) -> Any:
        if not mask:
            return self._no_match()
        results = [(index, self.rows[index].output(env)) for index in _bits(mask)]
        first = results[0][1]
        if any(not _same_outputs(first, other) for _, other in results[1:]):
            raise NoMatchError("any_conflict", self.key, rows=[index + 1 for index, _ in results])
        return first

    def _winner(self, mask: int) -> Row:
        return min((self.rows[index] for index in _bits(mask)), key=lambda row: row.priority)

    def _pick_priority(self, mask: int, env: dict) -> Any:
        if not mask:
            return self._no_match()
        return self._winner(mask).output(env)

    def _pick_rule_order(self, mask: int, env: dict) -> list:
        return [self.rows[index].output(env) for index in _bits(mask)]

    _pick_collect = _pick_rule_order

    def _pick_output_order(self, mask: int, env: dict) -> list:
        rows = sorted((self.rows[index] for index in _bits(mask)), key=lambda row: row.priority)
        return [row.output(env) for row in rows]

    def _collected(self, mask: int, env: dict) -> list:
        name = self.output_names[0]
        values = [self.rows[index].output(env)[name] for index in _bits(mask)]
        return [value for value in values if value is not None]

    def _pick_collect_sum(self, mask: int, env: dict) -> dict:
        return {self.output_names[0]: fn.sum_(self._collected(mask, env))}

    def _pick_collect_min(self, mask: int, env: dict) -> dict:
        values = self._collected(mask, env)
        return {self.output_names[0]: fn.min_(values) if values else None}

    def _pick_collect_max(self, mask: int, env: dict) -> dict:
        values = self._collected(mask, env)
        return {self.output_names[0]: fn.max_(values) if values else None}

    def _pick_collect_count(self, mask: int, env: dict) -> dict:
        return {self.output_names[0]: Decimal(bin(mask).count("1"))}

    def _selected(self, mask: int, matched: list[Row]) -> list[int]:
        if not matched:
            return []
        if self.hit_policy == "first":
            return [matched[0].number]
        if self.hit_policy == "priority":
            return [self._winner(mask).number]
        return [row.number for row in matched]

    def _hit(self, row: Row, env: dict) -> RowHit:
        conditions = [
            (self.labels[name], cell.text)
            for name, cell in zip(self.input_names, row.cells, strict=False)
            if not cell.is_any
        ]
        try:
            outputs = row.output(env)
        except RuleError as error:
            outputs = {"error": error.message("zh")}
        return RowHit(row.number, row.row_id, row.description, conditions, outputs)

    # --- for forms and tools ----------------------------------------------------------------------

    def declared_inputs(self) -> list[dict]:
        """The inputs as form fields: name, label, type, allowed values, required."""
        return [declaration.to_form_field() for declaration in self.inputs]

    def declared_outputs(self) -> list[dict]:
        return [declaration.to_form_field() for declaration in self.outputs]


# --- helpers -------------------------------------------------------------------------------------


def _require_mapping(body: Any, key: str) -> None:
    if not isinstance(body, Mapping):
        raise DocumentError("bad_document", key, detail="the body must be a mapping")


def _by_name(raw: Any, names: list[str]) -> dict:
    """Cells given as a mapping by name, or as a list in declaration order."""
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, list):
        return dict(zip(names, raw, strict=False)) if len(raw) <= len(names) else {"?": raw}
    return {names[0]: raw} if len(names) == 1 else {"?": raw}


def _output_text(raw: Any, output: Declaration) -> str:
    if raw is None or (isinstance(raw, str) and raw.strip() in ("", "-")):
        return "null"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return repr(raw)
    text = str(raw).strip()
    if output.values and text in output.values and output.type in ("enum", "string", ""):
        return _quoted(text)  # bare enum value, as a business user types it
    return text


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _typed_constant(value: Any, output: Declaration) -> Any:
    if output.type == "date" and isinstance(value, str):
        return coerce_output(value, "date") or value
    return value


def _fits_output(value: Any, output: Declaration) -> bool:
    if value is None or not output.type:
        return True
    return fits_type(value, output.type, output.values if output.type == "enum" else None)


def _row_output(row: Row, outputs: list[Declaration]) -> Callable[[dict], dict]:
    if all(compiled.constant for compiled in row.outputs.values()):
        constant = {name: compiled.value for name, compiled in row.outputs.items()}

        def constant_output(env: dict) -> dict:
            return constant.copy()

        return constant_output
    parts = [(o.name, o.type, row.outputs[o.name].evaluate) for o in outputs]

    def computed_output(env: dict) -> dict:
        result = {}
        for name, type_name, evaluate in parts:
            value = evaluate(env)
            if value is not None and type_name and not _fits_type_loose(value, type_name):
                raise EvaluationError(
                    "output_type_mismatch", name, value=format_value(value), type=type_name
                )
            result[name] = value
        return result

    return computed_output


def _fits_type_loose(value: Any, type_name: str) -> bool:
    if type_name == "enum":
        return isinstance(value, str)
    if type_name == "integer":
        return value_type(value) == "decimal"
    return value_type(value) == type_name


def _same_outputs(a: Any, b: Any) -> bool:
    return a.keys() == b.keys() and all(fn.op_eq(a[key], b[key]) for key in a)


def _bits(mask: int):
    """Row indexes (0-based) of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


# Raw value types whose coerced value and row mask are remembered per column. Kept apart by type
# so that True never reuses the entry of 1, nor 1.0 that of 1.
MEMO_TYPES = (str, int, float, Decimal, date)
MEMO_LIMIT = 4096


def _resolver(coerce: Callable, lookup: Callable | None, memos: dict) -> Callable:
    """raw value -> (engine value, bitmask of rows accepting it), remembering common values.

    Input values repeat a lot (a few business types, carriers, ages): the memo turns coercion
    and the index look-up into one dict hit. Refused values raise and are never remembered.
    """

    def resolve(raw: Any) -> tuple[Any, int]:
        value = coerce(raw)
        found = (value, lookup(value) if lookup is not None else -1)
        memo = memos.get(type(raw))
        if memo is not None and len(memo) < MEMO_LIMIT and (type(raw) is not str or len(raw) <= 64):
            memo[raw] = found
        return found

    return resolve


def _column_index(cells: list[Cell], type_name: str) -> Callable[[Any], int] | None:
    """A function value -> bitmask of the rows whose cell in this column accepts the value.

    Dynamic cells are treated as "any" here; their rows are checked afterwards. A column where
    every cell is "-" needs no index at all.
    """
    if all(cell.is_any or cell.dynamic for cell in cells):
        return None
    if type_name in ORDERED_TYPES:
        return _ordered_index(cells, type_name == "date")
    return _value_index(cells)


def _value_index(cells: list[Cell]) -> Callable[[Any], int]:
    keys: set = set()
    for cell in cells:
        if isinstance(cell.static, ValueSet):
            keys |= cell.static.values
    masks = dict.fromkeys(keys, 0)
    other = 0  # rows accepting a value no cell mentions
    for index, cell in enumerate(cells):
        bit = 1 << index
        members = cell.static
        if members is None or members.negated:
            other |= bit
        for key in keys:
            if members is None or members.contains(key):
                masks[key] |= bit
    get = masks.get

    def lookup(value: Any) -> int:
        return get(value, other)

    return lookup


def _ordered_index(cells: list[Cell], dates: bool) -> Callable[[Any], int]:
    points = sorted(
        {point for cell in cells if cell.static is not None for point in cell.static.endpoints()}
    )
    # Segment 2i is the open stretch before points[i]; segment 2i+1 is the point itself.
    masks = []
    bounds = [Decimal("-Infinity")] + points + [Decimal("Infinity")]
    for position in range(len(points) + 1):
        masks.append(_segment_mask(cells, (bounds[position], 1), (bounds[position + 1], 0)))
        if position < len(points):
            point = points[position]
            masks.append(_segment_mask(cells, (point, 0), (point, 1)))
    count = len(points)

    def lookup(value: Any) -> int:
        key = value.toordinal() if dates else value
        position = bisect_left(points, key)
        if position < count and points[position] == key:
            return masks[2 * position + 1]
        return masks[2 * position]

    return lookup


def _segment_mask(cells: list[Cell], start: tuple, end: tuple) -> int:
    mask = 0
    for index, cell in enumerate(cells):
        members = cell.static
        if members is None or (isinstance(members, IntervalSet) and members.covers(start, end)):
            mask |= 1 << index
    return mask


__all__ = ["DecisionTable", "Declaration", "HIT_POLICIES", "ordered_key"]
