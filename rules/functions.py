"""The operators and whitelisted functions an expression may use.

Both the compiled path and the reference interpreter call exactly these helpers, so they agree
by construction on every value and every error. Each helper checks its operand types and the
size of what it builds: nothing here can loop, allocate without bound or reach a float.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rules.errors import EvaluationError
from rules.limits import DEFAULT_LIMITS
from rules.values import DECIMAL_CONTEXT, value_type

CTX = DECIMAL_CONTEXT
MAX_STRING = DEFAULT_LIMITS.max_string_length
MAX_LIST = DEFAULT_LIMITS.max_list_length
MAX_EXPONENT = DEFAULT_LIMITS.max_exponent
ZERO = Decimal(0)


def _fail(code: str, **params: Any) -> EvaluationError:
    return EvaluationError(code, **params)


def _need_number(value: Any, what: str) -> Decimal:
    if type(value) is not Decimal:
        raise _fail("type_error", operation=what, expected="decimal", got=value_type(value))
    # A literal such as 91e999999 is a valid Decimal the context cannot hold: refuse it before
    # a unary operation overflows on it.
    if value.is_finite() and value and not CTX.Etiny() <= value.adjusted() <= CTX.Emax:
        raise _fail("number_too_large", operation=what)
    return value


def _need_text(value: Any, what: str) -> str:
    if type(value) is not str:
        raise _fail("type_error", operation=what, expected="string", got=value_type(value))
    return value


def _need_date(value: Any, what: str) -> dt.date:
    if type(value) is not dt.date:
        raise _fail("type_error", operation=what, expected="date", got=value_type(value))
    return value


def _need_int(value: Any, what: str, low: int, high: int) -> int:
    number = _need_number(value, what)
    if number != number.to_integral_value() or not low <= number <= high:
        raise _fail("argument_out_of_range", operation=what, low=low, high=high)
    return int(number)


def _decimal_op(func: Callable[[Decimal, Decimal], Decimal], a: Decimal, b: Decimal, name: str):
    try:
        return func(a, b)
    except decimal.DivisionByZero:
        raise _fail("division_by_zero") from None
    except decimal.Overflow:
        raise _fail("number_too_large", operation=name) from None
    except decimal.InvalidOperation:
        if not b and name in ("/", "//", "%"):
            raise _fail("division_by_zero") from None
        raise _fail("invalid_operation", operation=name) from None


def _check_text(text: str) -> str:
    if len(text) > MAX_STRING:
        raise _fail("string_too_long", limit=MAX_STRING)
    return text


# --- operators -------------------------------------------------------------------------------


def op_add(a: Any, b: Any) -> Any:
    if type(a) is Decimal and type(b) is Decimal:
        return _decimal_op(CTX.add, a, b, "+")
    if type(a) is str and type(b) is str:
        return _check_text(a + b)
    raise _fail("type_error", operation="+", expected="decimal", got=_pair(a, b))


def op_sub(a: Any, b: Any) -> Any:
    if type(a) is Decimal and type(b) is Decimal:
        return _decimal_op(CTX.subtract, a, b, "-")
    raise _fail("type_error", operation="-", expected="decimal", got=_pair(a, b))


def op_mul(a: Any, b: Any) -> Any:
    if type(a) is Decimal and type(b) is Decimal:
        return _decimal_op(CTX.multiply, a, b, "*")
    raise _fail("type_error", operation="*", expected="decimal", got=_pair(a, b))


def op_div(a: Any, b: Any) -> Any:
    if type(a) is Decimal and type(b) is Decimal:
        return _decimal_op(CTX.divide, a, b, "/")
    raise _fail("type_error", operation="/", expected="decimal", got=_pair(a, b))


def op_floordiv(a: Any, b: Any) -> Any:
    if type(a) is Decimal and type(b) is Decimal:
        quotient = _decimal_op(CTX.divide, a, b, "//")
        return quotient.to_integral_value(rounding=decimal.ROUND_FLOOR, context=CTX)
    raise _fail("type_error", operation="//", expected="decimal", got=_pair(a, b))


def op_mod(a: Any, b: Any) -> Any:
    # Decimal only: "%" on a string would be printf formatting, a known memory trick.
    if type(a) is Decimal and type(b) is Decimal:
        return _decimal_op(CTX.remainder, a, b, "%")
    raise _fail("type_error", operation="%", expected="decimal", got=_pair(a, b))


def op_pow(a: Any, b: Any) -> Any:
    if type(a) is not Decimal or type(b) is not Decimal:
        raise _fail("type_error", operation="**", expected="decimal", got=_pair(a, b))
    # copy_abs is exact and context-free: abs() could itself overflow on a huge literal.
    if b.copy_abs() > MAX_EXPONENT:
        raise _fail("exponent_too_large", limit=MAX_EXPONENT)
    return _decimal_op(CTX.power, a, b, "**")


def op_neg(a: Any) -> Any:
    return CTX.minus(_need_number(a, "-"))


def op_pos(a: Any) -> Any:
    return CTX.plus(_need_number(a, "+"))


def op_not(a: Any) -> bool:
    return not as_bool(a, "not")


def as_bool(value: Any, what: str = "if") -> bool:
    """Conditions must be true/false: 0 or "" are not silently false for a business rule."""
    if value is True or value is False:
        return value
    raise _fail("type_error", operation=what, expected="boolean", got=value_type(value))


def _comparable(a: Any, b: Any, name: str) -> None:
    kind_a, kind_b = value_type(a), value_type(b)
    if kind_a != kind_b or kind_a not in ("decimal", "string", "date"):
        raise _fail("type_error", operation=name, expected=kind_a, got=_pair(a, b))


def op_eq(a: Any, b: Any) -> bool:
    return value_type(a) == value_type(b) and a == b


def op_ne(a: Any, b: Any) -> bool:
    return not op_eq(a, b)


def op_lt(a: Any, b: Any) -> bool:
    _comparable(a, b, "<")
    return a < b


def op_le(a: Any, b: Any) -> bool:
    _comparable(a, b, "<=")
    return a <= b


def op_gt(a: Any, b: Any) -> bool:
    _comparable(a, b, ">")
    return a > b


def op_ge(a: Any, b: Any) -> bool:
    _comparable(a, b, ">=")
    return a >= b


def op_in(a: Any, b: Any) -> bool:
    if type(b) is list:
        return any(op_eq(a, item) for item in b)
    if type(b) is str and type(a) is str:
        return a in b
    raise _fail("type_error", operation="in", expected="list", got=value_type(b))


def op_not_in(a: Any, b: Any) -> bool:
    return not op_in(a, b)


def make_list(items: list) -> list:
    if len(items) > MAX_LIST:
        raise _fail("list_too_long", limit=MAX_LIST)
    return items


def _pair(a: Any, b: Any) -> str:
    return f"{value_type(a)}, {value_type(b)}"


# --- functions -------------------------------------------------------------------------------


def _quantum(places: Any, what: str) -> Decimal:
    digits = _need_int(places, what, -12, 12)
    return Decimal(1).scaleb(-digits)


def _rounded(x: Any, places: Any, rounding: str, name: str) -> Decimal:
    number = _need_number(x, name)
    try:
        return number.quantize(_quantum(places, name), rounding, CTX)
    except decimal.InvalidOperation:
        raise _fail("number_too_large", operation=name) from None


def round_half_up(x: Any, places: Any = ZERO) -> Decimal:
    """Commercial rounding: 2.345 -> 2.35, -2.345 -> -2.35."""
    return _rounded(x, places, decimal.ROUND_HALF_UP, "round_half_up")


def round_half_even(x: Any, places: Any = ZERO) -> Decimal:
    return _rounded(x, places, decimal.ROUND_HALF_EVEN, "round_half_even")


def round_down(x: Any, places: Any = ZERO) -> Decimal:
    return _rounded(x, places, decimal.ROUND_DOWN, "round_down")


def round_up(x: Any, places: Any = ZERO) -> Decimal:
    return _rounded(x, places, decimal.ROUND_UP, "round_up")


def floor_(x: Any) -> Decimal:
    return _need_number(x, "floor").to_integral_value(decimal.ROUND_FLOOR, CTX)


def ceil_(x: Any) -> Decimal:
    return _need_number(x, "ceil").to_integral_value(decimal.ROUND_CEILING, CTX)


def abs_(x: Any) -> Decimal:
    return CTX.abs(_need_number(x, "abs"))


def _ordered_args(args: tuple, name: str) -> list:
    values = list(args[0]) if len(args) == 1 and type(args[0]) is list else list(args)
    if not values:
        raise _fail("argument_count", function=name, expected="1+", got=0)
    for value in values[1:]:
        _comparable(values[0], value, name)
    if value_type(values[0]) not in ("decimal", "string", "date"):
        _comparable(values[0], values[0], name)
    return values


def min_(*args: Any) -> Any:
    return min(_ordered_args(args, "min"))


def max_(*args: Any) -> Any:
    return max(_ordered_args(args, "max"))


def sum_(items: Any) -> Decimal:
    if type(items) is not list:
        raise _fail("type_error", operation="sum", expected="list", got=value_type(items))
    total = ZERO
    for item in items:
        total = op_add(total, _need_number(item, "sum"))
    return total


def decimal_(x: Any) -> Decimal:
    """Text or number to a decimal number ("0.04" -> 0.04)."""
    if type(x) is Decimal:
        return x
    text = _need_text(x, "decimal").strip()
    if len(text) > 60:
        raise _fail("string_too_long", limit=60)
    try:
        number = Decimal(text)
    except decimal.InvalidOperation:
        raise _fail("invalid_operation", operation="decimal") from None
    if not number.is_finite():
        raise _fail("invalid_operation", operation="decimal")
    return number


def len_(x: Any) -> Decimal:
    if type(x) in (str, list):
        return Decimal(len(x))
    raise _fail("type_error", operation="len", expected="string", got=value_type(x))


def upper(x: Any) -> str:
    return _check_text(_need_text(x, "upper").upper())


def lower(x: Any) -> str:
    return _check_text(_need_text(x, "lower").lower())


def trim(x: Any) -> str:
    return _need_text(x, "trim").strip()


def contains(text: Any, part: Any) -> bool:
    return _need_text(part, "contains") in _need_text(text, "contains")


def starts_with(text: Any, prefix: Any) -> bool:
    return _need_text(text, "starts_with").startswith(_need_text(prefix, "starts_with"))


def ends_with(text: Any, suffix: Any) -> bool:
    return _need_text(text, "ends_with").endswith(_need_text(suffix, "ends_with"))


def substr(text: Any, start: Any, length: Any = None) -> str:
    """Characters from position ``start`` (1-based, as in spreadsheets), ``length`` of them."""
    value = _need_text(text, "substr")
    begin = _need_int(start, "substr", 1, MAX_STRING) - 1
    if length is None:
        return value[begin:]
    return value[begin : begin + _need_int(length, "substr", 0, MAX_STRING)]


def concat(*parts: Any) -> str:
    texts = [_need_text(part, "concat") for part in parts]
    if sum(len(text) for text in texts) > MAX_STRING:
        raise _fail("string_too_long", limit=MAX_STRING)
    return "".join(texts)


def date_(*args: Any) -> dt.date:
    """date("2024-03-01") or date(2024, 3, 1)."""
    if len(args) == 1:
        if type(args[0]) is dt.date:
            return args[0]
        text = _need_text(args[0], "date")
        try:
            return dt.date.fromisoformat(text[:32])
        except ValueError:
            raise _fail("invalid_date", value=text[:32]) from None
    if len(args) == 3:
        year = _need_int(args[0], "date", 1, 9999)
        month = _need_int(args[1], "date", 1, 12)
        day = _need_int(args[2], "date", 1, 31)
        try:
            return dt.date(year, month, day)
        except ValueError:
            raise _fail("invalid_date", value=f"{year}-{month}-{day}") from None
    raise _fail("argument_count", function="date", expected="1 or 3", got=len(args))


def add_days(day: Any, count: Any) -> dt.date:
    start = _need_date(day, "add_days")
    try:
        return start + dt.timedelta(days=_need_int(count, "add_days", -3_650_000, 3_650_000))
    except OverflowError:
        raise _fail("invalid_date", value="out of range") from None


def add_months(day: Any, count: Any) -> dt.date:
    """Calendar months; the 31st plus one month is the last day of a shorter month."""
    start = _need_date(day, "add_months")
    months = start.year * 12 + start.month - 1 + _need_int(count, "add_months", -120_000, 120_000)
    year, month = divmod(months, 12)
    if not 1 <= year <= 9999:
        raise _fail("invalid_date", value="out of range")
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(start.day, last))


def add_years(day: Any, count: Any) -> dt.date:
    return add_months(day, Decimal(_need_int(count, "add_years", -9999, 9999) * 12))


def days_between(start: Any, end: Any) -> Decimal:
    return Decimal((_need_date(end, "days_between") - _need_date(start, "days_between")).days)


def months_between(start: Any, end: Any) -> Decimal:
    """Whole calendar months from ``start`` to ``end`` (negative when end is earlier)."""
    first, last = _need_date(start, "months_between"), _need_date(end, "months_between")
    sign = 1
    if last < first:
        first, last, sign = last, first, -1
    months = (last.year - first.year) * 12 + last.month - first.month
    if last.day < first.day and not _is_month_end_catch_up(first, last):
        months -= 1
    return Decimal(sign * months)


def _is_month_end_catch_up(first: dt.date, last: dt.date) -> bool:
    # 31 Jan -> 28 Feb counts as one whole month: the later month has no 31st.
    return last.day == calendar.monthrange(last.year, last.month)[1]


def years_between(start: Any, end: Any) -> Decimal:
    """Whole years from ``start`` to ``end``: a vehicle's or a driver's age."""
    months = months_between(start, end)
    return Decimal(int(months / 12))


def year(day: Any) -> Decimal:
    return Decimal(_need_date(day, "year").year)


def month(day: Any) -> Decimal:
    return Decimal(_need_date(day, "month").month)


def day_(day: Any) -> Decimal:
    return Decimal(_need_date(day, "day").day)


def if_null(value: Any, fallback: Any) -> Any:
    return fallback if value is None else value


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "round_half_up": round_half_up,
    "round_half_even": round_half_even,
    "round_down": round_down,
    "round_up": round_up,
    "floor": floor_,
    "ceil": ceil_,
    "abs": abs_,
    "min": min_,
    "max": max_,
    "sum": sum_,
    "decimal": decimal_,
    "len": len_,
    "upper": upper,
    "lower": lower,
    "trim": trim,
    "contains": contains,
    "starts_with": starts_with,
    "ends_with": ends_with,
    "substr": substr,
    "concat": concat,
    "date": date_,
    "add_days": add_days,
    "add_months": add_months,
    "add_years": add_years,
    "days_between": days_between,
    "months_between": months_between,
    "years_between": years_between,
    "year": year,
    "month": month,
    "day": day_,
    "if_null": if_null,
}

# Names that table look-ups use; resolved at compile time against a library of documents.
LOOKUP_FUNCTIONS = ("lookup",)
