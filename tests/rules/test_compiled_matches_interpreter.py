"""Property: the compiled closures and the hardened simpleeval interpreter always agree."""

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import DecisionTable, ExpressionError, RuleError, compile_expression, interpret

ENV = {
    "x": Decimal("2.5"),
    "y": Decimal("-3"),
    "z": Decimal("0"),
    "s": "新保",
    "d": dt.date(2024, 1, 31),
    "b": True,
}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

numbers = st.sampled_from(["0", "1", "2", "0.5", "3.25", "10", "100", "1e3", "0.04"])
texts = st.sampled_from(["'a'", "'新保'", "''", "'续保'"])
leaves = st.one_of(
    numbers,
    texts,
    st.sampled_from(["x", "y", "z", "s", "d", "b", "true", "false", "null"]),
)


def combine(children):
    two = st.tuples(children, children)
    three = st.tuples(children, children, children)
    binary = st.sampled_from(["+", "-", "*", "/", "//", "%", "**"])
    compare = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
    return st.one_of(
        st.builds(lambda p, op: f"({p[0]}) {op} ({p[1]})", two, binary),
        st.builds(lambda p, op: f"({p[0]}) {op} ({p[1]})", two, compare),
        st.builds(lambda a: f"-({a})", children),
        st.builds(lambda a: f"not ({a})", children),
        st.builds(lambda p: f"({p[0]}) and ({p[1]})", two),
        st.builds(lambda p: f"({p[0]}) or ({p[1]})", two),
        st.builds(lambda p: f"({p[0]}) if ({p[1]}) else ({p[2]})", three),
        st.builds(lambda p: f"({p[0]}) in [{p[1]}, {p[2]}]", three),
        st.builds(lambda a, n: f"round_half_up({a}, {n})", children, st.sampled_from("0123")),
        st.builds(lambda a: f"abs({a})", children),
        st.builds(lambda p: f"min({p[0]}, {p[1]})", two),
        st.builds(lambda p: f"max({p[0]}, {p[1]})", two),
        st.builds(lambda a: f"len({a})", children),
        st.builds(lambda a: f"upper({a})", children),
        st.builds(lambda p: f"concat({p[0]}, {p[1]})", two),
        st.builds(lambda a: f"add_days(d, {a})", children),
        st.builds(lambda a: f"add_months({a}, 1)", children),
        st.builds(lambda a: f"days_between(d, {a})", children),
        st.builds(lambda a: f"if_null({a}, 1)", children),
    )


expressions = st.recursive(leaves, combine, max_leaves=12)


def outcome_compiled(text):
    try:
        return ("value", compile_expression(text, ENV).evaluate(ENV))
    except ExpressionError as error:
        if error.code == "constant_fails":
            return ("error", error.params["cause"])
        return ("refused", error.code)
    except RuleError as error:
        return ("error", error.code)


def outcome_interpreted(text):
    try:
        return ("value", interpret(text, ENV))
    except ExpressionError as error:
        return ("refused", error.code)
    except RuleError as error:
        return ("error", error.code)


def same(a, b):
    if a[0] != b[0]:
        return False
    if a[0] != "value":
        return a[1] == b[1]
    return type(a[1]) is type(b[1]) and a[1] == b[1]


@SETTINGS
@given(expressions)
def test_compiled_and_interpreted_expressions_agree(text):
    compiled, reference = outcome_compiled(text), outcome_interpreted(text)
    assert same(compiled, reference), (text, compiled, reference)


# --- tables: the indexed, memoised evaluator against a row-by-row interpreted reference -------

CELLS = ["-", "1", "1, 3", "[0..3)", "(1..4]", ">= 2", "< 2", "!= 2", "not([1..2])", "n + 1 == 3"]
KIND_CELLS = ["-", '"a"', '"a","b"', "b", "not(a)", "c"]


def cell_condition(cell, name):
    """The cell as a boolean expression for the reference interpreter."""
    if cell == "-":
        return "true"
    if cell.startswith("not("):
        return f"not ({cell_condition(cell[4:-1], name)})"
    if "==" in cell:
        return cell
    parts = []
    for item in [part.strip() for part in cell.split(",")] if "[" not in cell else [cell]:
        if item[0] in "[(":
            low, high = item[1:-1].split("..")
            low_op = ">=" if item[0] == "[" else ">"
            high_op = "<=" if item[-1] == "]" else "<"
            parts.append(f"({name} {low_op} {low} and {name} {high_op} {high})")
        elif item[0] in "<>!":
            parts.append(f"{name} {item}")
        else:
            value = item if item[0] in "\"'0123456789" else f"'{item}'"
            parts.append(f"{name} == {value}")
    return " or ".join(parts)


def reference_evaluate(policy, rows, inputs):
    matched = [
        rate
        for cells, rate in rows
        if all(
            interpret(cell_condition(cell, name), inputs)
            for cell, name in zip(cells, ("n", "kind"), strict=True)
        )
    ]
    if policy == "first":
        return {"rate": Decimal(matched[0])} if matched else None
    if policy == "rule_order":
        return [{"rate": Decimal(rate)} for rate in matched]
    if policy == "collect_sum":
        return {"rate": sum((Decimal(rate) for rate in matched), Decimal(0))}
    return {"rate": Decimal(len(matched))}


rows_strategy = st.lists(
    st.tuples(
        st.tuples(st.sampled_from(CELLS), st.sampled_from(KIND_CELLS)),
        st.sampled_from(["0.01", "0.04", "0.5", "2"]),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=120, deadline=None)
@given(
    st.sampled_from(["first", "rule_order", "collect_sum", "collect_count"]),
    rows_strategy,
    st.lists(st.tuples(st.integers(-1, 5), st.sampled_from("abc")), min_size=1, max_size=6),
)
def test_compiled_tables_agree_with_interpreted_rows(policy, rows, cases):
    body = {
        "hit_policy": policy,
        "inputs": [
            {"name": "n", "type": "integer"},
            {"name": "kind", "type": "enum", "values": ["a", "b", "c"]},
        ],
        "outputs": [{"name": "rate", "type": "decimal"}],
        "rules": [{"when": list(cells), "then": [rate]} for cells, rate in rows],
    }
    table = DecisionTable("p", 1, body)
    for n, kind in cases:
        inputs = {"n": Decimal(n), "kind": kind}
        expected = reference_evaluate(policy, rows, inputs)
        assert table.evaluate({"n": n, "kind": kind}) == expected
        assert table.explain({"n": n, "kind": kind})[0] == expected


# Numeric expressions only: most of them give a value, so arithmetic itself is compared.
numeric_leaves = st.one_of(numbers, st.sampled_from(["x", "y", "z"]))


def numeric_combine(children):
    two = st.tuples(children, children)
    return st.one_of(
        st.builds(lambda p, op: f"({p[0]}) {op} ({p[1]})", two, st.sampled_from(["+", "-", "*"])),
        st.builds(lambda p, op: f"({p[0]}) {op} ({p[1]})", two, st.sampled_from(["/", "//", "%"])),
        st.builds(lambda a: f"-({a})", children),
        st.builds(lambda a, n: f"round_half_up({a}, {n})", children, st.sampled_from("0123")),
        st.builds(lambda a: f"abs({a})", children),
        st.builds(lambda p: f"min({p[0]}, {p[1]})", two),
        st.builds(lambda p: f"({p[0]}) if ({p[0]}) > ({p[1]}) else ({p[1]})", two),
        st.builds(lambda a: f"({a}) ** 2", children),
    )


@SETTINGS
@given(st.recursive(numeric_leaves, numeric_combine, max_leaves=10))
def test_compiled_and_interpreted_arithmetic_agree(text):
    compiled, reference = outcome_compiled(text), outcome_interpreted(text)
    assert same(compiled, reference), (text, compiled, reference)
