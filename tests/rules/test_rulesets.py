from decimal import Decimal

import pytest
from examples import all_documents, fee_rule_set, jqx_premium_rule_set

from rules import (
    DocumentError,
    EvaluationError,
    InputError,
    Library,
    declared_inputs,
    evaluate,
    render_trace,
    run_test_cases,
)

D = Decimal
BEIJING = {"province": "北京", "record": "A2", "vehicle_class": "家庭自用汽车", "seats": 5}


@pytest.fixture(scope="module")
def library():
    return Library(all_documents())


def test_jqx_premium_chains_three_tables_and_an_expression(library):
    premium = library.get("jqx_premium")
    assert premium.evaluate(BEIJING) == {
        "scheme": "D",
        "floating_rate": D("-0.25"),
        "premium": D("712.50"),
    }
    hainan = {**BEIJING, "province": "海南", "record": "A6", "seats": 7}
    assert premium.evaluate(hainan)["premium"] == D("1430.00")


@pytest.mark.parametrize(
    "province, scheme",
    [("内蒙古", "A"), ("云南", "B"), ("新疆", "C"), ("宁夏", "D"), ("上海", "E"), ("深圳", "E")],
)
def test_region_schemes(library, province, scheme):
    assert library.get("jqx_region_scheme").evaluate({"province": province}) == {"scheme": scheme}


def test_fee_of_a_policy_line(library):
    fees = library.get("fee_of_policy_line")
    jqx = {"product": "交强险", "business_type": "新保", "vehicle_age": 0, "premium": "950.00"}
    assert fees.evaluate(jqx)["fee"] == D("38.00")
    commercial = {"product": "商业险", "business_type": "续保", "vehicle_age": 4}
    result = fees.evaluate({**commercial, "premium": "22770.41"})
    assert result["premium_excl_tax"] == D("21481.52")
    assert result["fee"] == D("2148.15")


def test_trace_reads_in_chinese_and_names_every_version(library):
    value, trace = evaluate(library.get("jqx_premium"), BEIJING, trace=True)
    text = render_trace(trace, "zh")
    assert "规则集「交强险保费」" in text
    assert "第 4 行命中并采用" in text
    assert "交强险保费 = round_half_up(base_premium * (1 + floating_rate), 2)：712.50" in text
    assert "jqx_premium@2" in text and "jqx_floating_rate@1" in text
    assert trace.versions() == [
        ("rule_set", "jqx_premium", 2),
        ("decision_table", "jqx_region_scheme", 1),
        ("decision_table", "jqx_base_premium", 1),
        ("decision_table", "jqx_floating_rate", 1),
    ]
    english = render_trace(trace, "en")
    assert "row 4 matched and used" in english
    assert trace.to_dict()["result"]["premium"] == "712.50"


def test_step_failures_name_the_step(library):
    with pytest.raises(EvaluationError) as error:
        library.get("jqx_premium").evaluate({**BEIJING, "seats": 200})
    assert error.value.code == "input_out_of_range"
    documents = all_documents() + [
        {
            "kind": "rule_set",
            "key": "broken",
            "version": 1,
            "body": {
                "inputs": [{"name": "x", "type": "decimal"}],
                "steps": [{"name": "y", "label": "倒数", "expression": "1 / x"}],
            },
        }
    ]
    with pytest.raises(EvaluationError) as error:
        Library(documents).get("broken").evaluate({"x": 0})
    assert error.value.code == "step_failed"
    assert "倒数" in error.value.message("zh") and "除数为零" in error.value.message("zh")


def test_conditional_steps_and_pinned_versions():
    documents = all_documents()
    newer = dict(documents[0], version=2)
    newer["body"] = dict(newer["body"], rules=newer["body"]["rules"][:])
    newer["body"]["rules"][19] = {"when": ["D", "A2"], "then": ["-0.30"]}
    pinned = jqx_premium_rule_set()
    pinned["body"]["steps"][2] = {
        "name": "floating_rate",
        "table": "jqx_floating_rate",
        "version": 1,
        "when": "record != 'A4'",
    }
    pinned["body"]["steps"][3]["expression"] = (
        "round_half_up(base_premium * (1 + if_null(floating_rate, 0)), 2)"
    )
    library = Library(documents + [newer, pinned])
    assert library.get("jqx_floating_rate").version == 2
    premium = library.get("jqx_premium")
    assert premium.evaluate(BEIJING)["premium"] == D("712.50")
    value, trace = premium.explain({**BEIJING, "record": "A4"})
    assert value["floating_rate"] is None
    assert trace.steps[2].skipped
    assert "条件不满足，跳过" in render_trace(trace)


def test_unknown_names_and_tables_refuse_loading():
    broken = jqx_premium_rule_set()
    broken["body"]["steps"].append({"name": "total", "expression": "premium + tax"})
    broken["body"]["steps"].append({"name": "other", "table": "no_such_table"})
    library = Library(all_documents()[:3] + [broken])
    with pytest.raises(DocumentError) as error:
        library.get("jqx_premium")
    found = [(p.code, p.row) for p in error.value.problems]
    assert found == [("unknown_name", 5), ("unknown_table", 6)]


def test_declared_inputs_of_a_rule_set(library):
    fields = declared_inputs(library.get("fee_of_policy_line"))
    assert [f["name"] for f in fields] == ["product", "business_type", "vehicle_age", "premium"]
    assert fields[2]["min"] == "0"


def test_rule_set_inputs_are_checked(library):
    with pytest.raises(InputError) as error:
        library.get("jqx_premium").evaluate({**BEIJING, "record": "A9"})
    assert error.value.params["input"] == "record"


def test_lookup_in_expressions():
    documents = all_documents() + [
        {
            "kind": "rule_set",
            "key": "quick",
            "version": 1,
            "body": {
                "inputs": [{"name": "scheme", "type": "enum", "values": list("ABCDE")}],
                "steps": [
                    {
                        "name": "rate",
                        "expression": "lookup('jqx_floating_rate', scheme, 'A1') * 100",
                    }
                ],
            },
        }
    ]
    assert Library(documents).get("quick").evaluate({"scheme": "A"}) == {"rate": D("-30.00")}


def test_dependency_cycles_are_refused():
    cycle = [
        {
            "kind": "rule_set",
            "key": key,
            "version": 1,
            "body": {"steps": [{"name": "x", "table": other}]},
        }
        for key, other in (("a", "b"), ("b", "a"))
    ]
    with pytest.raises(DocumentError) as error:
        Library(cycle).get("a")
    assert "a -> b -> a" in error.value.message("en")


def test_documents_pass_their_own_cases(library):
    for key in (
        "jqx_floating_rate",
        "jqx_premium",
        "fee_agreement_picc_2026",
        "fee_of_policy_line",
    ):
        report = run_test_cases(library.get(key))
        assert report.passed, report.render("en")
    assert fee_rule_set()["body"]["tests"]
