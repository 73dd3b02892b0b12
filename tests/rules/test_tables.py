import datetime as dt
from decimal import Decimal

import pytest

from rules import DecisionTable, DocumentError, InputError, NoMatchError, load_document

D = Decimal


KINDS = ["新保", "续保", "转保"]
KIND = {"name": "kind", "label": "业务类型", "type": "enum", "values": KINDS}


def table(policy, rules, outputs=None, inputs=None, **extra):
    body = {
        "hit_policy": policy,
        "inputs": inputs
        or [
            {
                "name": "kind",
                "label": "业务类型",
                "type": "enum",
                "values": ["新保", "续保", "转保"],
            },
            {"name": "age", "label": "车龄", "type": "integer", "min": 0},
        ],
        "outputs": outputs or [{"name": "rate", "type": "decimal"}],
        "rules": rules,
        **extra,
    }
    return DecisionTable("t", 1, body)


ROWS = [
    {"when": ["新保", "[0..3)"], "then": ["0.04"]},
    {"when": ['"新保","续保"', ">= 1"], "then": ["0.05"]},
    {"when": ["-", "-"], "then": ["0.01"]},
]


def test_first_takes_the_first_matching_row():
    t = table("first", ROWS)
    assert t.evaluate({"kind": "新保", "age": 2}) == {"rate": D("0.04")}
    assert t.evaluate({"kind": "续保", "age": 2}) == {"rate": D("0.05")}
    assert t.evaluate({"kind": "转保", "age": 0}) == {"rate": D("0.01")}


def test_unique_refuses_two_matches_and_names_rows():
    t = table("unique", ROWS[:2])
    assert t.evaluate({"kind": "续保", "age": 5}) == {"rate": D("0.05")}
    with pytest.raises(NoMatchError) as error:
        t.evaluate({"kind": "新保", "age": 2})
    assert error.value.params["rows"] == [1, 2]
    assert t.evaluate({"kind": "转保", "age": 5}) is None


def test_any_accepts_agreeing_rows_only():
    rows = [{"when": ["新保", "-"], "then": ["0.04"]}, {"when": ["-", "[0..1)"], "then": ["0.04"]}]
    t = table("any", rows)
    assert t.evaluate({"kind": "新保", "age": 0}) == {"rate": D("0.04")}
    conflicting = table("any", rows[:1] + [{"when": ["-", "[0..1)"], "then": ["0.05"]}])
    with pytest.raises(NoMatchError):
        conflicting.evaluate({"kind": "新保", "age": 0})


PRIORITY_OUTPUTS = [{"name": "level", "type": "enum", "values": ["拒保", "人工", "通过"]}]
PRIORITY_ROWS = [
    {"when": ["-", "-"], "then": ["通过"]},
    {"when": ["转保", "-"], "then": ["人工"]},
    {"when": ["-", ">= 10"], "then": ["拒保"]},
]


def test_priority_picks_the_highest_output_value():
    t = table("priority", PRIORITY_ROWS, outputs=PRIORITY_OUTPUTS)
    assert t.evaluate({"kind": "新保", "age": 1}) == {"level": "通过"}
    assert t.evaluate({"kind": "转保", "age": 1}) == {"level": "人工"}
    assert t.evaluate({"kind": "转保", "age": 12}) == {"level": "拒保"}


def test_output_order_sorts_by_priority_and_rule_order_keeps_rows():
    t = table("output_order", PRIORITY_ROWS, outputs=PRIORITY_OUTPUTS)
    assert t.evaluate({"kind": "转保", "age": 12}) == [
        {"level": "拒保"},
        {"level": "人工"},
        {"level": "通过"},
    ]
    r = table("rule_order", PRIORITY_ROWS, outputs=PRIORITY_OUTPUTS)
    assert [item["level"] for item in r.evaluate({"kind": "转保", "age": 12})] == [
        "通过",
        "人工",
        "拒保",
    ]
    c = table("collect", PRIORITY_ROWS, outputs=PRIORITY_OUTPUTS)
    assert len(c.evaluate({"kind": "新保", "age": 1})) == 1


@pytest.mark.parametrize(
    "policy, expected",
    [
        ("collect_sum", D("0.10")),
        ("collect_min", D("0.01")),
        ("collect_max", D("0.05")),
        ("collect_count", D(3)),
    ],
)
def test_collect_aggregates(policy, expected):
    t = table(policy, ROWS)
    assert t.evaluate({"kind": "新保", "age": 2}) == {"rate": expected}


def test_collect_aggregates_of_nothing():
    rows = [{"when": ["新保", "-"], "then": ["0.04"]}]
    assert table("collect_sum", rows).evaluate({"kind": "续保", "age": 1}) == {"rate": D(0)}
    assert table("collect_count", rows).evaluate({"kind": "续保", "age": 1}) == {"rate": D(0)}
    assert table("collect_max", rows).evaluate({"kind": "续保", "age": 1}) == {"rate": None}


def test_defaults_answer_when_nothing_matches():
    outputs = [{"name": "rate", "type": "decimal", "default": "0"}]
    t = table("first", ROWS[:1], outputs=outputs)
    assert t.evaluate({"kind": "续保", "age": 9}) == {"rate": D(0)}


@pytest.mark.parametrize(
    "raw, error_code",
    [
        ({"age": 1}, "input_missing"),
        ({"kind": "新保"}, "input_missing"),
        ({"kind": "续保 ", "age": 1}, "input_not_allowed"),
        ({"kind": 1, "age": 1}, "input_not_allowed"),
        ({"kind": "新保", "age": "old"}, "input_bad_type"),
        ({"kind": "新保", "age": 1.5}, "input_bad_type"),
        ({"kind": "新保", "age": True}, "input_bad_type"),
        ({"kind": "新保", "age": -1}, "input_out_of_range"),
        ({"kind": "新保", "age": float("nan")}, "input_bad_type"),
    ],
)
def test_bad_or_missing_input_is_an_error_naming_the_input(raw, error_code):
    t = table("first", ROWS)  # the last row is a catch-all: it must not swallow bad input
    with pytest.raises(InputError) as error:
        t.evaluate(raw)
    assert error.value.code == error_code
    assert error.value.params["input"] in ("kind", "age")
    with pytest.raises(InputError):
        t.explain(raw)


def test_huge_text_input_is_refused():
    t = table("first", [{"when": ['"x"'], "then": ["1"]}], inputs=[{"name": "s", "type": "string"}])
    with pytest.raises(InputError) as error:
        t.evaluate({"s": "x" * 20_000})
    assert error.value.code == "input_too_long"


def test_inputs_accept_text_from_forms():
    t = table("first", ROWS)
    assert t.evaluate({"kind": "新保", "age": "2"}) == {"rate": D("0.04")}
    assert t.evaluate({"kind": "新保", "age": D("2")}) == {"rate": D("0.04")}


def test_memo_never_confuses_true_with_one():
    inputs = [{"name": "n", "type": "integer"}]
    t = table("first", [{"when": ["1"], "then": ["0.5"]}], inputs=inputs)
    assert t.evaluate({"n": 1}) == {"rate": D("0.5")}
    with pytest.raises(InputError):
        t.evaluate({"n": True})
    assert t.evaluate({"n": 1.0}) == {"rate": D("0.5")}


CELL_CASES = [
    ("[0..3)", [0, 2], [3, -1]),
    ("(0..3]", [1, 3], [0, 4]),
    ("]0..3[", [1, 2], [0, 3]),
    (">= 5", [5, 9], [4]),
    ("> 5", [6], [5]),
    ("< 5", [4], [5]),
    ("<= 5", [5], [6]),
    ("= 5", [5], [4]),
    ("== 5", [5], [4]),
    ("!= 5", [4, 6], [5]),
    ("1, 3, [7..9]", [1, 3, 8], [2, 6, 10]),
    ("not([0..3))", [3, -2], [0, 2]),
    ("not(1, 2)", [0, 3], [1, 2]),
    ("not(1), 1", [0, 1, 3], []),
    ("not([0..5]), 3", [3, 6, -1], [0, 4]),
    ("-", [0, 99], []),
    ("", [0, 99], []),
    ("2 + 1", [3], [2]),
    ("n % 2 == 0", [2, 4], [3]),
    ("[m..m + 2]", [5, 7], [4, 8]),
    (">= m", [5, 6], [4]),
    ("m", [5], [4, 6]),
]


@pytest.mark.parametrize("cell, accepted, refused", CELL_CASES)
def test_cell_syntax(cell, accepted, refused):
    inputs = [{"name": "n", "type": "integer"}, {"name": "m", "type": "integer"}]
    t = table("first", [{"when": {"n": cell}, "then": ["1"]}], inputs=inputs)
    for value in accepted:
        assert t.evaluate({"n": value, "m": 5}) == {"rate": D(1)}, value
    for value in refused:
        assert t.evaluate({"n": value, "m": 5}) is None, value


def test_cells_on_strings_booleans_and_dates():
    inputs = [
        {"name": "s", "type": "string"},
        {"name": "b", "type": "boolean"},
        {"name": "d", "type": "date"},
    ]
    rows = [
        {"when": ['"沪","苏"', "true", '[date("2024-01-01")..date("2025-01-01"))'], "then": ["1"]},
        {"when": ['not("沪")', "-", '>= "2025-01-01"'], "then": ["2"]},
    ]
    t = table("first", rows, inputs=inputs)
    assert t.evaluate({"s": "沪", "b": True, "d": "2024-06-01"}) == {"rate": D(1)}
    assert t.evaluate({"s": "沪", "b": "false", "d": "2024-06-01"}) is None
    assert t.evaluate({"s": "京", "b": False, "d": dt.date(2025, 1, 1)}) == {"rate": D(2)}
    assert t.evaluate({"s": "沪", "b": False, "d": dt.date(2025, 1, 1)}) is None


def test_outputs_can_compute_from_inputs():
    inputs = [{"name": "premium", "type": "decimal"}]
    outputs = [{"name": "fee", "type": "decimal"}, {"name": "note", "type": "string"}]
    rows = [{"when": ["-"], "then": ["round_half_up(premium * 0.04, 2)", '"4%"']}]
    t = table("first", rows, outputs=outputs, inputs=inputs)
    assert t.evaluate({"premium": "950"}) == {"fee": D("38.00"), "note": "4%"}


def test_results_are_fresh_copies():
    t = table("first", ROWS)
    first = t.evaluate({"kind": "新保", "age": 2})
    first["rate"] = "changed"
    assert t.evaluate({"kind": "新保", "age": 2}) == {"rate": D("0.04")}


def test_explain_lists_matched_rows_and_the_one_used():
    t = table("first", ROWS)
    value, trace = t.explain({"kind": "新保", "age": 2})
    assert value == {"rate": D("0.04")}
    assert [hit.row for hit in trace.matched] == [1, 2, 3]
    assert trace.selected == [1]
    assert trace.versions() == [("decision_table", "t", 1)]
    assert trace.to_dict()["result"] == {"rate": "0.04"}


def test_declared_inputs_make_a_form():
    t = table("first", ROWS)
    assert t.declared_inputs() == [
        {
            "name": "kind",
            "type": "enum",
            "label": "业务类型",
            "values": ["新保", "续保", "转保"],
            "required": True,
        },
        {"name": "age", "type": "integer", "label": "车龄", "min": "0", "required": True},
    ]


def test_load_document_caches_by_key_version_and_content():
    document = {
        "kind": "decision_table",
        "key": "c",
        "version": 1,
        "body": table("first", ROWS).body,
    }
    assert load_document(document) is load_document(dict(document))
    changed = {**document, "body": {**document["body"], "hit_policy": "collect"}}
    assert load_document(changed) is not load_document(document)


@pytest.mark.parametrize(
    "rules, code, row, column",
    [
        ([{"when": ["新保", '"x"'], "then": ["1"]}], "cell_type_mismatch", 1, "age"),
        ([{"when": ['"旧保"', "-"], "then": ["1"]}], "cell_not_allowed", 1, "kind"),
        ([{"when": ["[1..2]", "-"], "then": ["1"]}], "range_on_unordered", 1, "kind"),
        ([{"when": ["-", "-"], "then": ['"high"']}], "output_type_mismatch", 1, "rate"),
        ([{"when": {"colour": "red"}, "then": ["1"]}], "unknown_input", 1, "colour"),
        ([{"when": ["-", "age > speed"], "then": ["1"]}], "unknown_name", 1, "age"),
        ([{"when": ["-", "-"], "then": {"fee": "1"}}], "unknown_output", 1, "fee"),
        ([{"when": ["-", "[5..1]"], "then": ["1"]}], "bad_range", 1, "age"),
        ([{"when": ["-", "-"], "then": ["1 +"]}], "syntax_error", 1, "rate"),
    ],
)
def test_type_mismatches_and_unknown_names_refuse_loading_with_place(rules, code, row, column):
    with pytest.raises(DocumentError) as error:
        table("first", rules)
    problem = error.value.problems[0]
    assert (problem.code, problem.row, problem.column) == (code, row, column)
    assert f"第 {row} 行" in problem.message("zh") and column in problem.message("zh")
    assert f"row {row}" in problem.message("en")


def test_policy_constraints():
    with pytest.raises(DocumentError) as error:
        table("priority", ROWS)
    assert error.value.problems[0].code == "priority_needs_values"
    with pytest.raises(DocumentError) as error:
        table("collect_sum", ROWS, outputs=[{"name": "a", "type": "string"}])
    assert error.value.problems[0].code == "aggregate_needs_number"
