"""Hostile and broken input is refused with a clear error, fast, without large memory."""

import tracemalloc
from decimal import Decimal

import pytest

from rules import (
    DecisionTable,
    EvaluationError,
    ExpressionError,
    Limits,
    RuleError,
    compile_expression,
    interpret,
)

HOSTILE = [
    ("().__class__.__bases__[0].__subclasses__()", "attribute_access"),
    ("x.__class__", "attribute_access"),
    ("__import__('os')", "forbidden_name"),
    ("_secret", "forbidden_name"),
    ("open('/etc/passwd')", "unknown_function"),
    ("eval('1')", "unknown_function"),
    ("exec('1')", "unknown_function"),
    ("getattr(x, 'y')", "unknown_function"),
    ("import os", "statement"),
    ("x = 1", "statement"),
    ("def f(): pass", "statement"),
    ("lambda: 1", "lambda"),
    ("[a for a in [1,2]]", "comprehension"),
    ("{a: 1 for a in [1]}", "comprehension"),
    ("(a for a in [1])", "comprehension"),
    ("(y := 1)", "assignment"),
    ("f'{x}'", "format_string"),
    ("x[0]", "subscript"),
    ("{'a': 1}", "not_allowed"),
    ("{1, 2}", "not_allowed"),
    ("b'bytes'", "not_allowed"),
    ("1j", "not_allowed"),
    ("...", "not_allowed"),
    ("round_half_up", "function_as_value"),
    ("min(*[1, 2])", "starred"),
    ("round_half_up(x=1)", "keyword_arguments"),
    ("round_half_up(1, 2, 3)", "argument_count"),
    ("10 ** 100000", "constant_fails"),
    ("9 ** 9 ** 9 ** 9", "constant_fails"),
    ("'a' * 1000000000", "constant_fails"),
    ("'%999999999s' % 1", "constant_fails"),
    ("'{:>999999999}'.format(1)", "attribute_access"),
    ("1 / 0", "constant_fails"),
    ("1e999999 * 1e999999", "constant_fails"),
    ("x\x00", "nul_byte"),
    ("", "empty"),
    ("   ", "empty"),
    ("1 +", "syntax_error"),
    ("(" * 100 + "1" + ")" * 100, "too_deep"),
    ("-" * 500 + "1", "too_deep"),
    ("not " * 300 + "true", "too_deep"),
    ("1" + "+1" * 999, "too_deep"),
    ("min(" + ",".join(["1"] * 450) + ")", "too_complex"),
    ("'" + "a" * 10_001 + "'", "too_long"),
    ("x" * 2001, "too_long"),
]


@pytest.mark.parametrize("text, code", HOSTILE, ids=[code for _, code in HOSTILE])
def test_hostile_expressions_are_refused_before_running(text, code, hang_guard):
    tracemalloc.start()
    try:
        with pytest.raises(ExpressionError) as error:
            compile_expression(text, ["x"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.value.code == code
    assert error.value.message("zh") and error.value.message("en")
    assert peak < 20_000_000  # no large allocation happened on the way to the refusal


def test_literal_limits_apply_under_a_larger_length_limit():
    roomy = Limits(max_expression_length=50_000, max_nodes=5000)
    with pytest.raises(ExpressionError) as error:
        compile_expression("'" + "a" * 10_001 + "'", limits=roomy)
    assert error.value.code == "string_too_long"
    with pytest.raises(ExpressionError) as error:
        compile_expression("[" + ",".join(["1"] * 1001) + "]", limits=roomy)
    assert error.value.code == "list_too_long"


@pytest.mark.parametrize(
    "text, values, code",
    [
        ("x ** y", {"x": Decimal(10), "y": Decimal(100000)}, "exponent_too_large"),
        ("x * x", {"x": Decimal("1e600000")}, "number_too_large"),
        ("x + x", {"x": "a" * 6000}, "string_too_long"),
        ("concat(x, x)", {"x": "a" * 6000}, "string_too_long"),
        ("x % y", {"x": "%s", "y": Decimal(1)}, "type_error"),
        ("x / y", {"x": Decimal(1), "y": Decimal(0)}, "division_by_zero"),
        ("x // y", {"x": Decimal(1), "y": Decimal(0)}, "division_by_zero"),
        ("x % y", {"x": Decimal(1), "y": Decimal(0)}, "division_by_zero"),
        ("x ** 0.5", {"x": Decimal(-1), "y": Decimal(0)}, "invalid_operation"),
        ("round_half_up(x, 2)", {"x": Decimal("1e50")}, "number_too_large"),
        ("add_days(date('9999-12-31'), y)", {"x": 0, "y": Decimal(1)}, "invalid_date"),
    ],
)
def test_hostile_values_are_refused_at_run_time(text, values, code, hang_guard):
    compiled = compile_expression(text, ["x", "y"])
    with pytest.raises(EvaluationError) as error:
        compiled.evaluate(values)
    assert error.value.code == code
    with pytest.raises(EvaluationError):
        interpret(text, values)


def test_refusals_do_not_run_any_code(tmp_path, hang_guard):
    marker = tmp_path / "ran"
    for text in (
        f"open('{marker}', 'w')",
        f"__import__('pathlib').Path('{marker}').touch()",
        f"().__class__.__mro__[1].__subclasses__() or open('{marker}','w')",
    ):
        with pytest.raises(RuleError):
            compile_expression(text)
    assert not marker.exists()


ONE_IN = [{"name": "a"}]
ONE_OUT = [{"name": "x"}]


def rules_of(rules, inputs=ONE_IN):
    return {"inputs": inputs, "outputs": ONE_OUT, "rules": rules}


HOSTILE_TABLES = [
    {"inputs": "nope", "outputs": [], "rules": []},
    {"inputs": [{"name": "__class__"}], "outputs": [{"name": "x"}], "rules": []},
    {"inputs": [{"name": "a", "type": "float"}], "outputs": [{"name": "x"}], "rules": []},
    {"inputs": [{"name": "a"}], "outputs": [{"name": "x"}], "rules": [{"when": ["a.__class__"]}]},
    {
        "inputs": [{"name": "a"}],
        "outputs": [{"name": "x"}],
        "rules": [{"then": ["10 ** 10 ** 10"]}],
    },
    {"inputs": [{"name": "a"}], "outputs": [{"name": "x"}], "rules": "x" * 10},
    {"inputs": [{"name": "a"}], "outputs": [{"name": "x"}], "rules": [{"when": ["(" * 80]}]},
    {
        "inputs": [{"name": "a", "type": "integer"}],
        "outputs": [{"name": "x"}],
        "rules": [{"when": ["[5..1]"]}],
    },
    {"inputs": [{"name": "a"}], "outputs": [{"name": "x"}], "rules": [{"when": ["x\x00"]}]},
    {"inputs": [{"name": "a"}], "outputs": [{"name": "x"}], "rules": [{}] * 6000},
    {"hit_policy": "fastest", "inputs": [{"name": "a"}], "outputs": [{"name": "x"}], "rules": []},
    "not a mapping",
]


@pytest.mark.parametrize("body", HOSTILE_TABLES)
def test_hostile_tables_are_refused_with_a_reason(body, hang_guard):
    with pytest.raises(RuleError) as error:
        DecisionTable("hostile", 1, body)
    assert error.value.message("zh")
