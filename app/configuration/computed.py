"""Computed fields of entities: `compute: "birth_date_from_id(id_number)"` on a field makes it
read-only, its value recomputed from the record's other fields on every save.

The expression is a small, safe subset of Python syntax checked once when the document is read:
names of the entity's fields, literals, + - * /, and calls of the functions below and of the
rules language (rules.functions: round_half_up, concat, add_years, date, if_null…). Nothing
else is accepted: no attributes, no subscripts, no comprehensions. An empty input gives an empty
result, so a record without an ID number simply has no birth date.
"""

from __future__ import annotations

import ast
import datetime
import decimal
from collections.abc import Callable
from typing import Any

from app.identifiers import InvalidIdentifier, resident_id_birth_date, resident_id_is_male
from rules import functions as rule_functions
from rules.errors import RuleError

MAX_EXPRESSION = 500


class ComputeError(ValueError):
    """An expression that cannot be accepted; the message names what is wrong."""


def _today() -> datetime.date:
    return datetime.date.today()


def birth_date_from_id(number: Any) -> datetime.date:
    return resident_id_birth_date(str(number))


def sex_from_id(number: Any) -> str:
    return "male" if resident_id_is_male(str(number)) else "female"


def age(born: Any, on: Any = None) -> int:
    """Whole years from `born` to `on` (default today)."""
    day = on or _today()
    if not isinstance(born, datetime.date):
        born = datetime.date.fromisoformat(str(born))
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def total(rows: Any, name: Any) -> decimal.Decimal:
    """The sum of one column of a child table's rows (empty cells skipped)."""
    values = [row.get(str(name)) for row in rows or []]
    return sum((decimal.Decimal(str(v)) for v in values if v not in (None, "")), decimal.Decimal(0))


def count(rows: Any) -> int:
    return len(rows or [])


ENTITY_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "birth_date_from_id": birth_date_from_id,
    "sex_from_id": sex_from_id,
    "age": age,
    "today": _today,
    "total": total,
    "count": count,
}
# Functions that are given empty inputs as they are (the others answer empty for them).
TAKES_EMPTY = {"today", "total", "count", "if_null", "concat"}
OPERATORS = {
    ast.Add: rule_functions.op_add,
    ast.Sub: rule_functions.op_sub,
    ast.Mult: rule_functions.op_mul,
    ast.Div: rule_functions.op_div,
}


def _function(name: str) -> Callable[..., Any] | None:
    return ENTITY_FUNCTIONS.get(name) or rule_functions.FUNCTIONS.get(name)


def function_names() -> list[str]:
    return sorted({*ENTITY_FUNCTIONS, *rule_functions.FUNCTIONS})


class Computation:
    """One checked expression, evaluated against a record's values."""

    def __init__(self, text: str, known: set[str]):
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_EXPRESSION:
            raise ComputeError(f"an expression of 1 to {MAX_EXPRESSION} characters is needed")
        try:
            self.tree = ast.parse(text.strip(), mode="eval").body
        except SyntaxError as exc:
            raise ComputeError(f"not an expression: {exc.msg}") from None
        self.text = text
        self.names: set[str] = set()
        self._check(self.tree, known)

    def _check(self, node: ast.AST, known: set[str]) -> None:
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, str | int | float) or isinstance(node.value, bool):
                raise ComputeError(f"literal {node.value!r} is not allowed")
        elif isinstance(node, ast.Name):
            if node.id not in known:
                raise ComputeError(f"{node.id!r} is not a field of the entity")
            self.names.add(node.id)
        elif isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            self._check(node.left, known)
            self._check(node.right, known)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            self._check(node.operand, known)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if _function(node.func.id) is None:
                raise ComputeError(
                    f"unknown function {node.func.id!r} (known: {', '.join(function_names())})"
                )
            if node.keywords or len(node.args) > 5:
                raise ComputeError(f"{node.func.id}: give at most 5 arguments, no keywords")
            for arg in node.args:
                self._check(arg, known)
        else:
            raise ComputeError(f"{type(node).__name__} is not allowed in a computed field")

    def evaluate(self, values: dict[str, Any]) -> Any:
        return self._eval(self.tree, values)

    def _eval(self, node: ast.AST, values: dict[str, Any]) -> Any:
        if isinstance(node, ast.Constant):
            value = node.value
            return decimal.Decimal(str(value)) if isinstance(value, int | float) else value
        if isinstance(node, ast.Name):
            value = values.get(node.id)
            return decimal.Decimal(value) if isinstance(value, int) else value
        if isinstance(node, ast.BinOp):
            left, right = self._eval(node.left, values), self._eval(node.right, values)
            if left is None or right is None:
                return None
            return OPERATORS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp):
            operand = self._eval(node.operand, values)
            return None if operand is None else rule_functions.op_neg(operand)
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        args = [self._eval(arg, values) for arg in node.args]
        name = node.func.id
        if name not in TAKES_EMPTY and any(a is None or a == "" for a in args):
            return None
        return _function(name)(*args)


def computation(spec: dict, known: set[str]) -> Computation:
    return Computation(spec["compute"], known)


def compute_values(definition, values: dict[str, Any], rows: dict[str, list] | None = None):
    """Set every computed field of `values` (in the order of the fields, so one may use an
    earlier one). A value that cannot be computed (an ID number that fails its check) leaves
    the field empty: the ID field itself reports the error. Returns the computed names."""
    from app.configuration.entities import FieldError, coerce_value

    env = {**values, **(rows or {})}
    known = {f["name"] for f in definition.fields}
    done = []
    for spec in definition.fields:
        if not spec.get("compute"):
            continue
        try:
            result = computation(spec, known).evaluate(env)
        except (InvalidIdentifier, RuleError, ValueError, ArithmeticError, TypeError):
            result = None
        if isinstance(result, decimal.Decimal) and spec["type"] == "integer":
            result = int(result)
        try:
            value = (
                coerce_value({**spec, "required": False}, result) if result is not None else None
            )
        except FieldError:
            value = None
        values[spec["name"]] = env[spec["name"]] = value
        done.append(spec["name"])
    return done
