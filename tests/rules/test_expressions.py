import datetime as dt
from decimal import Decimal

import pytest

from rules import (
    EvaluationError,
    ExpressionError,
    compile_expression,
    evaluate_expression,
    interpret,
)

D = Decimal


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0.1 + 0.2", D("0.3")),
        ("1 / 3 * 3", D("0.9999999999999999999999999999")),
        ("round_half_up(2.345, 2)", D("2.35")),
        ("round_half_up(-2.345, 2)", D("-2.35")),
        ("round_half_up(2.5)", D("3")),
        ("round_half_even(2.5)", D("2")),
        ("round_down(2.349, 2)", D("2.34")),
        ("round_up(2.341, 2)", D("2.35")),
        ("round_half_up(22770.41 / 1.06, 2)", D("21481.52")),
        ("950.00 * 0.04", D("38.0000")),
        ("7 // 2", D("3")),
        ("-7 // 2", D("-4")),
        ("7 % 3", D("1")),
        ("2 ** 10", D("1024")),
        ("abs(-3)", D("3")),
        ("min(3, 1, 2)", D("1")),
        ("max([3, 1, 2])", D("3")),
        ("sum([1, 2, 3.5])", D("6.5")),
        ("floor(2.7) + ceil(2.1)", D("5")),
        ("decimal('0.04') * 100", D("4.00")),
        ("1_000 + 1", D("1001")),
        ("1e3", D("1E+3")),
    ],
)
def test_arithmetic_is_decimal_and_exact(text, expected):
    value = compile_expression(text).evaluate({})
    assert type(value) is Decimal
    assert value == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("'新' + '保'", "新保"),
        ("upper('abc')", "ABC"),
        ("trim('  x ')", "x"),
        ("substr('沪A12345', 1, 2)", "沪A"),
        ("concat('a', 'b', 'c')", "abc"),
        ("len('交强险')", D(3)),
        ("contains('交强险', '强')", True),
        ("starts_with('沪A', '沪')", True),
        ("'续保' in ['新保', '续保']", True),
        ("'转保' not in ('新保', '续保')", True),
        ("1 < 2 <= 2 < 3", True),
        ("1 < 2 > 3", False),
        ("true and not false", True),
        ("null == None", True),
        ("1 == '1'", False),
        ("'a' if 1 > 2 else 'b'", "b"),
        ("if_null(null, 5)", D(5)),
    ],
)
def test_text_logic_and_literals(text, expected):
    assert compile_expression(text).evaluate({}) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("date('2024-01-31')", dt.date(2024, 1, 31)),
        ("date(2024, 2, 29)", dt.date(2024, 2, 29)),
        ("add_days(date('2024-02-28'), 2)", dt.date(2024, 3, 1)),
        ("add_months(date('2024-01-31'), 1)", dt.date(2024, 2, 29)),
        ("add_months(date('2024-03-31'), -1)", dt.date(2024, 2, 29)),
        ("add_years(date('2024-02-29'), 1)", dt.date(2025, 2, 28)),
        ("days_between(date('2024-01-01'), date('2025-01-01'))", D(366)),
        ("months_between(date('2024-01-31'), date('2024-02-29'))", D(1)),
        ("months_between(date('2024-01-15'), date('2024-03-14'))", D(1)),
        ("years_between(date('2020-06-01'), date('2026-05-31'))", D(5)),
        ("years_between(date('2020-06-01'), date('2026-06-01'))", D(6)),
        ("year(date('2026-11-25')) * 100 + month(date('2026-11-25'))", D(202611)),
        ("date('2024-01-01') < date('2024-01-02')", True),
    ],
)
def test_dates(text, expected):
    assert compile_expression(text).evaluate({}) == expected


def test_names_come_from_the_environment():
    compiled = compile_expression("round_half_up(premium * rate, 2)", ["premium", "rate"])
    assert compiled.names == {"premium", "rate"}
    assert compiled.evaluate({"premium": D("950"), "rate": D("0.04")}) == D("38.00")


def test_unknown_name_is_refused_at_compile_time_with_position():
    with pytest.raises(ExpressionError) as error:
        compile_expression("premium * ratee", ["premium", "rate"])
    assert error.value.code == "unknown_name"
    assert "ratee" in error.value.message("zh")


@pytest.mark.parametrize(
    "text, code",
    [
        ("1 / x", "division_by_zero"),
        ("x + 'a'", "type_error"),
        ("x if x else 1", "type_error"),
        ("x and true", "type_error"),
        ("round_half_up(x, 50)", "argument_out_of_range"),
        ("add_days(x, 1)", "type_error"),
        ("x ** 1000", "exponent_too_large"),
    ],
)
def test_runtime_errors_have_codes(text, code):
    compiled = compile_expression(text, ["x"])
    with pytest.raises(EvaluationError) as error:
        compiled.evaluate({"x": D(0)})
    assert error.value.code == code
    with pytest.raises(EvaluationError) as reference:
        interpret(text, {"x": D(0)})
    assert reference.value.code == code


def test_constant_errors_are_refused_at_load():
    with pytest.raises(ExpressionError) as error:
        compile_expression("1 / 0")
    assert error.value.code == "constant_fails"
    assert "除数为零" in error.value.message("zh")


def test_constant_folding_keeps_value():
    compiled = compile_expression("round_half_up(1100 * (1 - 0.10), 2)")
    assert compiled.constant and compiled.value == D("990.00")


def test_evaluate_expression_helper():
    assert evaluate_expression("a * 2", {"a": D("1.5")}) == D("3.0")


def test_no_float_reaches_a_result():
    assert type(evaluate_expression("0.1 * 3")) is Decimal
    assert evaluate_expression("0.1 * 3") == D("0.3")
