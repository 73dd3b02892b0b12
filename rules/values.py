"""Value types of the rules engine and the coercion of raw input values into them.

Inside the engine every number is a ``Decimal`` (integers too), dates are ``datetime.date``,
texts are ``str`` and booleans ``bool``. Raw values from forms, JSON or Python code are
converted once, at the door, so that expressions never meet a float.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rules.errors import InputError

# One context for all engine arithmetic: 28 significant digits is far beyond money needs, and
# overflow, invalid operations and division by zero raise instead of giving Infinity/NaN.
DECIMAL_CONTEXT = decimal.Context(
    prec=28,
    rounding=decimal.ROUND_HALF_UP,
    Emax=999_999,
    Emin=-999_999,
    traps=[decimal.Overflow, decimal.InvalidOperation, decimal.DivisionByZero],
)

TYPES = ("string", "enum", "decimal", "integer", "date", "boolean")
NUMERIC_TYPES = ("decimal", "integer")
ORDERED_TYPES = ("decimal", "integer", "date")

MAX_INPUT_TEXT = 10_000  # a text input longer than this is a mistake or an attack
TRUE_TEXTS = {"true", "1", "yes", "y", "是", "真"}
FALSE_TEXTS = {"false", "0", "no", "n", "否", "假"}


def to_decimal(value: Any) -> Decimal | None:
    """``value`` as a finite Decimal, or None when it is not a number.

    Floats are read through their shortest text (0.1 -> Decimal("0.1")), the form a JSON
    parser or a spreadsheet meant; bools are not numbers here.
    """
    if type(value) is Decimal:
        return value if value.is_finite() else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if not text or len(text) > 60:
            return None
        try:
            number = Decimal(text)
        except decimal.InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def to_date(value: Any) -> dt.date | None:
    """``value`` as a date (a date, or an ISO text "2024-03-01"), or None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) <= 32:
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def to_boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE_TEXTS:
            return True
        if text in FALSE_TEXTS:
            return False
    return None


def make_coercer(
    name: str,
    type_name: str,
    allowed: tuple | None = None,
    where: str = "",
    minimum: Any = None,
    maximum: Any = None,
) -> Callable[[Any], Any]:
    """A function turning a raw value of input ``name`` into its engine value.

    It raises InputError naming the input when the value is missing or does not fit, so a bad
    value can never fall silently into a catch-all row.
    """

    def refuse(value: Any, code: str = "input_bad_type") -> InputError:
        return InputError(
            code, where, input=name, type=type_name, value=_short(value), allowed=allowed
        )

    def out_of_range(value: Any) -> InputError:
        return InputError(
            "input_out_of_range", where, input=name, value=_short(value), min=minimum, max=maximum
        )

    if type_name == "enum":
        allowed_set = frozenset(allowed or ())

        def coerce_enum(value: Any) -> Any:
            if value is None:
                raise refuse(value, "input_missing")
            if isinstance(value, str) and value in allowed_set:
                return value
            raise refuse(value, "input_not_allowed")

        return coerce_enum
    if type_name == "string":

        def coerce_string(value: Any) -> Any:
            if value is None:
                raise refuse(value, "input_missing")
            if isinstance(value, str):
                if len(value) > MAX_INPUT_TEXT:
                    raise refuse(value, "input_too_long")
                return value
            raise refuse(value)

        return coerce_string
    if type_name in NUMERIC_TYPES:
        integral = type_name == "integer"

        def coerce_number(value: Any) -> Any:
            if value is None:
                raise refuse(value, "input_missing")
            number = to_decimal(value)
            if number is None or (integral and number != number.to_integral_value()):
                raise refuse(value)
            if (minimum is not None and number < minimum) or (
                maximum is not None and number > maximum
            ):
                raise out_of_range(value)
            return number

        return coerce_number
    if type_name == "date":

        def coerce_date(value: Any) -> Any:
            if value is None:
                raise refuse(value, "input_missing")
            day = to_date(value)
            if day is None:
                raise refuse(value)
            if (minimum is not None and day < minimum) or (maximum is not None and day > maximum):
                raise out_of_range(value)
            return day

        return coerce_date
    if type_name == "boolean":

        def coerce_boolean(value: Any) -> Any:
            if value is None:
                raise refuse(value, "input_missing")
            flag = to_boolean(value)
            if flag is None:
                raise refuse(value)
            return flag

        return coerce_boolean
    raise ValueError(f"unknown type {type_name!r}")


def coerce_output(value: Any, type_name: str | None) -> Any:
    """Normalise a literal output value of a declared type (None when it does not fit)."""
    if value is None or type_name is None:
        return value
    if type_name in NUMERIC_TYPES:
        return to_decimal(value)
    if type_name == "date":
        return to_date(value)
    if type_name == "boolean":
        return to_boolean(value)
    return value if isinstance(value, str) else None


def value_type(value: Any) -> str:
    """The engine type name of an engine value, for messages and checks."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal):
        return "decimal"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "record"
    return type(value).__name__


def fits_type(value: Any, type_name: str, allowed: tuple | None = None) -> bool:
    """Whether an engine value fits a declared type (used by load-time analysis)."""
    kind = value_type(value)
    if type_name == "enum":
        return kind == "string" and (not allowed or value in allowed)
    if type_name == "integer":
        return kind == "decimal" and value == value.to_integral_value()
    return kind == type_name


def to_jsonable(value: Any) -> Any:
    """An engine value as plain JSON data: Decimals as text (exact), dates as ISO text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    return value


def format_value(value: Any) -> str:
    """A value as a business user reads it: 0.04, "新保", 2024-03-01, true."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Decimal):
        return format(value, "f") if abs(value.adjusted()) < 30 else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
