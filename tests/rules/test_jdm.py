import json
from decimal import Decimal

import pytest
from examples import fee_agreement_table, floating_rate_table, region_scheme_table

from rules import DecisionTable, JdmRefused, export_jdm, import_jdm, load_document

zen = pytest.importorskip("zen")


def zen_engine(graph):
    return zen.ZenEngine({"loader": {"type": "static", "content": {"t": graph}}})


def test_exported_table_gives_the_same_answers_in_zen():
    table = load_document(fee_agreement_table())
    engine = zen_engine(export_jdm(table))
    for product in ("交强险", "商业险", "驾乘意外"):
        for kind in ("新保", "续保", "转保", "联单第一联"):
            for age in (0, 2, 3, 9):
                inputs = {"product": product, "business_type": kind, "vehicle_age": age}
                ours = table.evaluate(inputs)
                theirs = engine.evaluate("t", inputs)["result"]
                assert Decimal(str(theirs["rate"])) == ours["rate"]
                assert theirs["fee_type"] == ours["fee_type"]


def test_round_trip_keeps_meaning():
    table = load_document(region_scheme_table())
    document = import_jdm(json.loads(json.dumps(export_jdm(table))), key="back")
    again = load_document(document)
    for province in ("北京", "海南", "上海", "新疆"):
        assert again.evaluate({"province": province}) == table.evaluate({"province": province})


def test_import_with_declared_types():
    graph = export_jdm(load_document(fee_agreement_table()))
    types = {
        "product": {"type": "enum", "values": ["交强险", "商业险", "驾乘意外"]},
        "business_type": {"type": "string"},
        "vehicle_age": {"type": "integer"},
        "rate": {"type": "decimal"},
    }
    document = import_jdm(graph, key="fees", types=types)
    inputs = document["body"]["inputs"]
    assert inputs[0] == {"name": "product", **types["product"]}
    table = load_document(document)
    row = {"product": "商业险", "business_type": "转保", "vehicle_age": 3}
    assert table.evaluate(row)["rate"] == Decimal("0.12")


def test_export_refuses_what_jdm_cannot_say():
    with pytest.raises(JdmRefused) as error:
        export_jdm(load_document(floating_rate_table()))  # hit policy unique
    assert "unique" in error.value.message("en")
    computed = DecisionTable(
        "c",
        1,
        {
            "inputs": [{"name": "p", "type": "decimal"}],
            "outputs": [{"name": "fee", "type": "decimal"}],
            "rules": [{"when": ["-"], "then": ["round_half_up(p * 0.04, 2)"]}],
        },
    )
    with pytest.raises(JdmRefused) as error:
        export_jdm(computed)
    assert "computed output" in error.value.message("en")


@pytest.mark.parametrize(
    "change, reason",
    [
        (
            lambda g: g["nodes"].append({"id": "f", "type": "functionNode", "name": "js"}),
            "functionNode",
        ),
        (lambda g: g["nodes"][1]["content"].update(hitPolicy="unique"), "hit policy"),
        (lambda g: g["nodes"][1]["content"]["inputs"][0].update(field="a.b"), "flat name"),
        (lambda g: g["nodes"][1]["content"]["rules"][0].update(in_product="$ > 1"), "'$'"),
        (lambda g: g["nodes"].pop(1), "0 decision tables"),
        (lambda g: g["nodes"][1]["content"]["rules"][0].update(in_product="[1..2"), "cannot"),
    ],
)
def test_import_refuses_with_the_reason(change, reason):
    graph = json.loads(json.dumps(export_jdm(load_document(fee_agreement_table()))))
    change(graph)
    with pytest.raises(JdmRefused) as error:
        import_jdm(graph, key="x")
    assert reason in error.value.message("en")
