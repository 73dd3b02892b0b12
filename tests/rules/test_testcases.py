from decimal import Decimal

from examples import fee_agreement_table

from rules import add_test_case, load_document, run_test_cases


def test_failures_carry_the_trace_in_chinese():
    table = load_document(fee_agreement_table())
    report = run_test_cases(
        table,
        [
            {
                "name": "ok",
                "input": {"product": "交强险", "business_type": "新保", "vehicle_age": 1},
                "expected": {"rate": 0.04},
            },
            {
                "name": "错的期望",
                "input": {"product": "商业险", "business_type": "新保", "vehicle_age": 1},
                "expected": {"rate": "0.12"},
            },
            {
                "name": "坏输入",
                "input": {"product": "寿险", "business_type": "新保", "vehicle_age": 1},
                "expected": {"rate": "0.12"},
            },
            {"name": "expected error", "input": {"product": "寿险"}, "error": "input_not_allowed"},
        ],
    )
    assert not report.passed
    assert [result.name for result in report.failures] == ["错的期望", "坏输入"]
    text = report.render("zh")
    assert "4 个用例，失败 2 个" in text
    assert '期望 {rate: "0.12"}' in text and "实际" in text
    assert "第 2 行命中并采用" in text  # the trace of the failing case
    assert "不在允许值" in text


def test_saving_a_case_appends_to_a_copy_of_the_document():
    document = fee_agreement_table()
    inputs = {"product": "驾乘意外", "business_type": "续保", "vehicle_age": 2}
    saved = add_test_case(document, inputs, name="驾乘意外 服务费")
    assert len(saved["body"]["tests"]) == len(document["body"]["tests"]) + 1
    case = saved["body"]["tests"][-1]
    assert case == {
        "name": "驾乘意外 服务费",
        "input": inputs,
        "expected": {"fee_type": "服务费", "tax_inclusive": True, "rate": "0.30"},
    }
    assert run_test_cases(load_document(saved)).passed
    explicit = add_test_case(document, inputs, expected={"rate": Decimal("0.5")})
    assert explicit["body"]["tests"][-1]["expected"] == {"rate": "0.5"}
    assert not run_test_cases(load_document(explicit)).passed
