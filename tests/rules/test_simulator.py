from examples import all_documents, fee_agreement_table

from rules import Library, form, load_document, run_test_cases, save_case, simulate


def test_form_lists_inputs_with_types_and_values():
    table = load_document(fee_agreement_table())
    page = form(table)
    assert page["title"] == "人保 2026 手续费协议"
    assert page["inputs"][0]["values"] == ["交强险", "商业险", "驾乘意外"]
    assert page["inputs"][2] == {
        "name": "vehicle_age",
        "type": "integer",
        "label": "车龄",
        "min": "0",
        "max": "50",
        "required": True,
    }
    assert [o["name"] for o in page["outputs"]] == ["fee_type", "tax_inclusive", "rate"]


def test_simulate_with_form_strings_gives_json_and_chinese_trace():
    library = Library(all_documents())
    answer = simulate(
        library.get("fee_of_policy_line"),
        {"product": "交强险", "business_type": "新保", "vehicle_age": "0", "premium": "950.00"},
    )
    assert answer["ok"] and answer["result"]["fee"] == "38.00"
    assert "手续费金额" in answer["trace_text"]
    assert answer["versions"][1] == ["decision_table", "fee_agreement_picc_2026", 3]


def test_simulate_reports_the_offending_input():
    library = Library(all_documents())
    answer = simulate(library.get("jqx_premium"), {"province": "北京", "record": "A9"})
    assert not answer["ok"] and answer["input"] == "record"
    assert "A9" in answer["error"]
    assert simulate(library.get("jqx_premium"), ["not", "a", "mapping"])["ok"] is False


def test_save_case_then_the_case_passes():
    document = fee_agreement_table()
    table = load_document(document)
    saved = save_case(
        document,
        table,
        {"product": "商业险", "business_type": "新保", "vehicle_age": "1"},
        name="模拟器保存",
    )
    assert saved["body"]["tests"][-1]["expected"]["rate"] == "0.15"
    assert run_test_cases(load_document(saved)).passed
