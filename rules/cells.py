"""Input cells of decision tables: parse once into a set (static) or a test (dynamic).

Cell syntax (one cell may list several items separated by commas, any item may match):

* ``-`` or empty: any value
* ``"新保"``, ``5``, ``true``: equal to this value (for enum inputs the quotes may be left out)
* ``[0..3)``, ``(1..2]``: a range, square bracket = bound included, round = excluded
* ``< 3``, ``<= 3``, ``> 3``, ``>= 3``, ``= 3``, ``!= 3``: a comparison
* ``not(...)``: anything the inner cell does not accept (``not(1, 2), 5`` is fine too)
* any other expression: the input must equal its value; if the expression names the column's own
  input (``vehicle_age * 12 < months``) it is a condition that must be true.

Items whose values are constants become a :mod:`rules.sets` set, used by indexes and analysis.
Items that read other inputs are "dynamic": they are checked by a compiled test at evaluation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rules import functions as fn
from rules.errors import ExpressionError
from rules.expressions import compile_expression
from rules.limits import DEFAULT_LIMITS, Limits
from rules.sets import IntervalSet, ValueSet, interval, ordered_key, universe
from rules.values import ORDERED_TYPES, coerce_output, fits_type, format_value

CellTest = Callable[[Any, dict], bool]

RANGE = re.compile(r"^([\[\(\]])(.*?)\.\.(.*?)([\]\)\[])$", re.S)
COMPARISON = re.compile(r"^(<=|>=|!=|==|<|>|=)(?!=)(.*)$", re.S)
NEGATION = re.compile(r"^not\s*\((.*)\)$", re.S)


@dataclass(frozen=True)
class Column:
    """What a cell needs to know about its input."""

    name: str
    type: str
    allowed: tuple | None = None
    names: frozenset[str] = frozenset()  # every name a cell expression may read

    @property
    def ordered(self) -> bool:
        return self.type in ORDERED_TYPES


@dataclass
class Cell:
    text: str
    is_any: bool = False
    static: ValueSet | IntervalSet | None = None  # None when the cell is dynamic
    test: CellTest | None = None  # only for dynamic cells
    names: frozenset[str] = field(default_factory=frozenset)

    @property
    def dynamic(self) -> bool:
        return self.static is None


# Cells repeat a lot within and across tables ("-", "新保", ">= 3"); a parsed Cell is never
# changed afterwards, so equal texts of equal columns share one.
_PARSED: dict[tuple, Cell] = {}
_PARSED_LIMIT = 8192


def parse_cell(raw: Any, column: Column, where: str = "", limits: Limits = DEFAULT_LIMITS) -> Cell:
    """Parse one input cell of ``column``; raise ExpressionError naming ``where`` if it is bad."""
    text = _cell_text(raw)
    key = (text, column, limits, where)
    cell = _PARSED.get(key)
    if cell is None:
        cell = _parse_cell_text(text, column, where, limits)
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        _PARSED[key] = cell
    return cell


def clear_cell_cache() -> None:
    _PARSED.clear()


def _parse_cell_text(text: str, column: Column, where: str, limits: Limits) -> Cell:
    full = universe(column.type, column.allowed)
    if text in ("", "-"):
        return Cell(text or "-", is_any=True, static=full)
    if len(text) > limits.max_expression_length:
        raise ExpressionError(
            "too_long", where, length=len(text), limit=limits.max_expression_length
        )
    items = [_parse_item(part, column, where, limits) for part in split_items(text, where)]
    return _union(text, items)


def _cell_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return repr(raw)
    return str(raw).strip()


def split_items(text: str, where: str = "") -> list[str]:
    """Split a cell at top-level commas (not inside quotes or brackets)."""
    items, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
            continue
        if char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth <= 0:
            items.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    items.append("".join(current).strip())
    if any(not item for item in items):
        raise ExpressionError("bad_cell", where, text=text[:60])
    return items


@dataclass
class _Item:
    static: Any  # ValueSet / IntervalSet, or None when dynamic
    test: CellTest | None
    names: frozenset[str]


def _parse_item(text: str, column: Column, where: str, limits: Limits) -> _Item:
    if column.type == "enum" and column.allowed and text in column.allowed:
        return _Item(ValueSet(frozenset([text])), None, frozenset())
    negated = NEGATION.match(text)
    if negated:
        inner = parse_cell(negated.group(1), column, where, limits)
        if inner.is_any:
            raise ExpressionError("bad_cell", where, text=text[:60])
        cell = _negate(text, inner, universe(column.type, column.allowed))
        return _Item(cell.static, cell.test, cell.names)
    ranged = RANGE.match(text)
    if ranged:
        return _range_item(text, ranged, column, where, limits)
    compared = COMPARISON.match(text)
    if compared:
        return _comparison_item(compared.group(1), compared.group(2), column, where, limits)
    return _expression_item(text, column, where, limits)


def _compile(text: str, column: Column, where: str, limits: Limits):
    return compile_expression(text.strip(), column.names, where=where, limits=limits)


def _constant(value: Any, column: Column, where: str) -> Any:
    """A literal of the cell, converted to the column's type, or a refusal naming the problem."""
    if column.type == "date" and isinstance(value, str):
        converted = coerce_output(value, "date")
        value = converted if converted is not None else value
    if not fits_type(value, column.type, column.allowed):
        if column.type == "enum" and isinstance(value, str):
            raise ExpressionError(
                "cell_not_allowed", where, value=format_value(value), allowed=list(column.allowed)
            )
        if column.type == "integer" and fits_type(value, "decimal"):
            return value  # 2.5 in an integer column is legal, if useless; analysis snaps it
        raise ExpressionError(
            "cell_type_mismatch", where, value=format_value(value), type=column.type
        )
    return value


def _range_item(text: str, match: re.Match, column: Column, where: str, limits: Limits) -> _Item:
    if not column.ordered:
        raise ExpressionError("range_on_unordered", where, type=column.type)
    opening, low_text, high_text, closing = match.groups()
    low_closed, high_closed = opening == "[", closing == "]"
    low = _compile(low_text, column, where, limits)
    high = _compile(high_text, column, where, limits)
    if low.constant and high.constant:
        low_value = ordered_key(_constant(low.value, column, where))
        high_value = ordered_key(_constant(high.value, column, where))
        if low_value > high_value:
            raise ExpressionError("bad_range", where, text=text)
        piece = interval(low_value, low_closed, high_value, high_closed)
        return _Item(_ordered_set([piece], column), None, frozenset())
    low_test = fn.op_ge if low_closed else fn.op_gt
    high_test = fn.op_le if high_closed else fn.op_lt
    low_eval, high_eval = low.evaluate, high.evaluate

    def in_range(value: Any, env: dict) -> bool:
        return low_test(value, low_eval(env)) and high_test(value, high_eval(env))

    return _Item(None, in_range, low.names | high.names)


COMPARISON_TESTS = {
    "<": fn.op_lt,
    "<=": fn.op_le,
    ">": fn.op_gt,
    ">=": fn.op_ge,
    "=": fn.op_eq,
    "==": fn.op_eq,
    "!=": fn.op_ne,
}


def _comparison_item(
    operator: str, operand_text: str, column: Column, where: str, limits: Limits
) -> _Item:
    operator = "=" if operator == "==" else operator
    if operator not in ("=", "!=") and not column.ordered:
        raise ExpressionError("range_on_unordered", where, type=column.type)
    operand = _compile(operand_text, column, where, limits)
    if operand.constant:
        value = _constant(operand.value, column, where)
        return _Item(_comparison_set(operator, value, column), None, frozenset())
    check, read = COMPARISON_TESTS[operator], operand.evaluate

    def compare(value: Any, env: dict) -> bool:
        return check(value, read(env))

    return _Item(None, compare, operand.names)


def _comparison_set(operator: str, value: Any, column: Column):
    if not column.ordered:
        values = ValueSet(frozenset([value]))
        return values if operator == "=" else ValueSet(values.values, True)
    point = ordered_key(value)
    pieces = {
        "<": [interval(None, False, point, False)],
        "<=": [interval(None, False, point, True)],
        ">": [interval(point, False, None, False)],
        ">=": [interval(point, True, None, False)],
        "=": [interval(point, True, point, True)],
        "!=": [interval(None, False, point, False), interval(point, False, None, False)],
    }[operator]
    return _ordered_set(pieces, column)


def _expression_item(text: str, column: Column, where: str, limits: Limits) -> _Item:
    expression = _compile(text, column, where, limits)
    if expression.constant:
        value = _constant(expression.value, column, where)
        return _Item(_comparison_set("=", value, column), None, frozenset())
    read = expression.evaluate
    if column.name in expression.names:
        # The expression mentions its own input: it is a condition, not a value to equal.
        def condition(value: Any, env: dict) -> bool:
            return fn.as_bool(read(env), "cell")

        return _Item(None, condition, expression.names)

    def equals(value: Any, env: dict) -> bool:
        return fn.op_eq(value, read(env))

    return _Item(None, equals, expression.names)


def _ordered_set(pieces: list, column: Column) -> IntervalSet:
    return IntervalSet.build(pieces, column.type in ("integer", "date"), column.type == "date")


def _union(text: str, items: list[_Item]) -> Cell:
    if all(item.static is not None for item in items):
        combined = items[0].static
        for item in items[1:]:
            combined = _set_union(combined, item.static)
        return Cell(text, static=combined)
    tests = [_item_test(item) for item in items]
    names = frozenset().union(*(item.names for item in items))

    def any_item(value: Any, env: dict) -> bool:
        return any(test(value, env) for test in tests)

    return Cell(text, test=tests[0] if len(tests) == 1 else any_item, names=names)


def _item_test(item: _Item) -> CellTest:
    if item.test is not None:
        return item.test
    members, ordered = item.static, isinstance(item.static, IntervalSet)

    def in_set(value: Any, env: dict) -> bool:
        return members.contains(ordered_key(value) if ordered else value)

    return in_set


def _set_union(a, b):
    if isinstance(a, IntervalSet):
        return IntervalSet.build(list(a.intervals) + list(b.intervals), a.discrete, a.dates)
    # a ∪ b = not(not a ∩ not b), which keeps "all except" sets exact.
    inverse = ValueSet(a.values, not a.negated).intersect(ValueSet(b.values, not b.negated))
    return ValueSet(inverse.values, not inverse.negated)


def _negate(text: str, inner: Cell, full) -> Cell:
    if inner.static is not None:
        return Cell(text, static=full.subtract(inner.static))
    test = inner.test

    def negated(value: Any, env: dict) -> bool:
        return not test(value, env)

    return Cell(text, test=negated, names=inner.names)
