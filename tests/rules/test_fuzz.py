"""Fuzz: generated text and tables are answered or refused, never crash, hang or run code."""

import contextlib
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import DecisionTable, RuleError, compile_expression

FUZZ = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ENV = {"x": Decimal(3), "s": "新保"}

# Characters that make up expressions, dunders, formats, brackets, ranges and cells.
ALPHABET = st.sampled_from(
    list("0123456789xs_.()[]{},:+-*/%<>=!'\"\\ \t\nabcdefgijklmnoprtu") + ["**", "..", "新", "\x00"]
)
fragments = st.sampled_from(
    [
        "__class__",
        "__import__",
        "lambda",
        "for",
        "in",
        "not",
        "and",
        "or",
        "if",
        "else",
        "import",
        "9**9**9",
        "'%999999999s'",
        "f'",
        "{x}",
        "[0..3)",
        ">=",
        "round_half_up(",
        "min(",
        "date(",
        "x",
        "s",
        "1e999999",
        ":=",
        "yield",
        "await",
        "*",
        "**",
    ]
)
texts = st.lists(st.one_of(ALPHABET, fragments), max_size=40).map("".join)


@FUZZ
@given(texts)
def test_expressions_answer_or_refuse(hang_guard, text):
    try:
        compiled = compile_expression(text, ENV)
    except RuleError as error:
        assert error.message("zh") and error.message("en")
        return
    try:
        compiled.evaluate(ENV)
    except RuleError as error:
        assert error.message("zh")


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 5), texts, st.sampled_from(["-", "0.5"])),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.sampled_from(["a", "b"]), children)
    ),
    max_leaves=10,
)
cells = st.one_of(texts, st.sampled_from(["-", "[0..3)", ">= 2", '"a","b"', "not(1)"]))


@FUZZ
@given(
    st.sampled_from(["first", "unique", "any", "priority", "collect", "collect_sum", "bogus"]),
    st.sampled_from(["integer", "decimal", "string", "enum", "date", "boolean", "nope"]),
    st.lists(st.tuples(cells, st.one_of(texts, st.sampled_from(["1", "'a'", "a"]))), max_size=5),
    st.one_of(json_values, st.integers(-3, 9), texts),
)
def test_tables_answer_or_refuse(hang_guard, policy, kind, rows, value):
    body = {
        "hit_policy": policy,
        "inputs": [{"name": "a", "type": kind, "values": ["a", "b"]}],
        "outputs": [{"name": "o", "type": "enum", "values": ["a", "b"]}],
        "rules": [{"when": [cell], "then": [out]} for cell, out in rows],
    }
    try:
        table = DecisionTable("fuzz", 1, body)
    except RuleError as error:
        assert error.message("zh")
        return
    for method in (table.evaluate, table.explain):
        try:
            method({"a": value})
        except RuleError as error:
            assert error.message("zh")


@FUZZ
@given(json_values)
def test_arbitrary_bodies_are_refused_cleanly(hang_guard, body):
    with contextlib.suppress(RuleError):
        DecisionTable("junk", 1, body)
