"""Gaps written back as cells (the row that would fill them) and one cell checked on its own,
as the console's grid editor uses them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from rules import DecisionTable
from rules.analysis import as_cell
from rules.cells import Column, parse_cell
from rules.editing import check_cell
from rules.sets import IntervalSet, ValueSet, interval

INPUTS = [
    {"name": "kind", "label": "业务类型", "type": "enum", "values": ["新保", "续保", "转保"]},
    {"name": "age", "label": "车龄", "type": "integer", "min": 0},
    {"name": "since", "label": "起保", "type": "date"},
]
OUTPUTS = [
    {"name": "rate", "type": "decimal"},
    {"name": "kind_out", "type": "enum", "values": ["A", "B"]},
]


@pytest.mark.parametrize(
    ("cell", "type_name", "values"),
    [
        ("-", "integer", None),
        ("[0..3)", "integer", None),
        (">= 3", "integer", None),
        ("< 2.5", "decimal", None),
        ("(1..2]", "decimal", None),
        ("= 7", "integer", None),
        ("[0..3), [5..9]", "integer", None),
        ('"新保"', "enum", ("新保", "续保", "转保")),
        ('"新保", "续保"', "enum", ("新保", "续保", "转保")),
        ('not("新保")', "string", None),
        ('>= "2024-01-01"', "date", None),
        ('["2024-01-01".."2024-12-31"]', "date", None),
        ("true", "boolean", None),
    ],
)
def test_as_cell_reads_back_as_the_same_set(cell, type_name, values):
    column = Column("x", type_name, values)
    members = parse_cell(cell, column).static
    written = as_cell(members)
    assert parse_cell(written, column).static == members, written


def test_as_cell_writes_the_usual_forms():
    whole = IntervalSet.build([interval(None, False, None, False)], True)
    assert as_cell(whole) == "-"
    assert as_cell(IntervalSet.build([interval(Decimal(3), True, None, False)], True)) == ">= 3"
    band = IntervalSet.build([interval(Decimal(0), True, Decimal(3), False)])
    assert as_cell(band) == "[0..3)"
    assert as_cell(ValueSet(frozenset(["续保", "新保"]))) in ('"新保", "续保"', '"续保", "新保"')
    assert as_cell(ValueSet(frozenset(), True)) == "-"


def test_gaps_carry_the_cells_of_the_missing_row():
    body = {
        "hit_policy": "first",
        "inputs": INPUTS[:2],
        "outputs": OUTPUTS[:1],
        "rules": [
            {"when": ["新保", "-"], "then": ["0.04"]},
            {"when": ["续保", "<= 2"], "then": ["0.05"]},
        ],
    }
    gaps = [f for f in DecisionTable("t", 1, body).findings if f.code == "gap"]
    cells = sorted(tuple(f.params["cells"]) for f in gaps)
    # the declared min 0 makes "-" of the age column; whole numbers: <= 2 leaves >= 3
    assert cells == [('"续保"', ">= 3"), ('"转保"', "-")]
    filled = {
        **body,
        "rules": [*body["rules"], *({"when": list(c), "then": ["0.1"]} for c in cells)],
    }
    assert not [f for f in DecisionTable("t", 1, filled).findings if f.code == "gap"]


def test_a_date_gap_is_written_as_quoted_dates():
    body = {
        "hit_policy": "unique",
        "inputs": [INPUTS[2]],
        "outputs": OUTPUTS[:1],
        "rules": [{"when": ['< "2026-01-01"'], "then": ["1"]}],
    }
    gaps = [f for f in DecisionTable("t", 1, body).findings if f.code == "gap"]
    assert [f.params["cells"] for f in gaps] == [['>= "2026-01-01"']]
    assert dt.date(2026, 1, 1).isoformat() in gaps[0].params["example"]


def test_check_cell_accepts_good_cells_and_names_the_problem_of_bad_ones():
    assert check_cell(INPUTS, OUTPUTS, "age", "[0..3)") == []
    assert check_cell(INPUTS, OUTPUTS, "kind", "新保, 续保") == []
    assert check_cell(INPUTS, OUTPUTS, "rate", "round_half_up(age * 0.01, 2)", "output") == []
    assert check_cell(INPUTS, OUTPUTS, "kind_out", "A", "output") == []
    cases = [
        ("age", "[5..1]", "input", "bad_range"),
        ("kind", '"旧保"', "input", "cell_not_allowed"),
        ("kind", "[0..3)", "input", "range_on_unordered"),
        ("age", '"abc"', "input", "cell_type_mismatch"),
        ("age", "speed > 3", "input", "unknown_name"),
        ("rate", '"high"', "output", "output_type_mismatch"),
        ("rate", "__import__('os')", "output", None),
        ("nope", "1", "input", "unknown_input"),
        ("nope", "1", "output", "unknown_output"),
    ]
    for column, text, side, code in cases:
        found = check_cell(INPUTS, OUTPUTS, column, text, side)
        assert found, (column, text)
        assert all(f.severity == "error" for f in found)
        if code:
            assert found[0].code == code, (column, text, found)
        assert found[0].message("zh")


def test_check_cell_reports_a_bad_declaration_instead_of_judging_the_cell():
    broken = [{"name": "kind", "type": "enum"}]  # an enum without values
    found = check_cell(broken, OUTPUTS, "kind", "x")
    assert found and found[0].code == "bad_document"
    with pytest.raises(ValueError):
        check_cell(INPUTS, OUTPUTS, "age", "1", side="sideways")
