from rules import DecisionTable

INPUTS = [
    {"name": "kind", "label": "业务类型", "type": "enum", "values": ["新保", "续保", "转保"]},
    {"name": "age", "label": "车龄", "type": "integer", "min": 0},
]


def analyse(policy, rules, inputs=INPUTS, outputs=None):
    body = {
        "hit_policy": policy,
        "inputs": inputs,
        "outputs": outputs or [{"name": "rate", "type": "decimal"}],
        "rules": rules,
    }
    return DecisionTable("fees", 1, body).findings


def codes(findings):
    return [(f.code, f.row) for f in findings]


def test_overlaps_under_unique_name_both_rows_and_an_example():
    findings = analyse(
        "unique",
        [
            {"when": ["新保", "[0..3)"], "then": ["0.04"]},
            {"when": ['"新保","续保"', "[2..5]"], "then": ["0.05"]},
            {"when": ["-", "-"], "then": ["0.01"]},
        ],
    )
    overlaps = [f for f in findings if f.code.startswith("overlap")]
    assert [(f.row, f.params["other"]) for f in overlaps] == [(2, 1), (3, 1), (3, 2)]
    assert '业务类型="新保"' in overlaps[0].params["example"]
    assert "车龄=2" in overlaps[0].params["example"]
    assert "第 2 行" in overlaps[0].message("zh") and "第 1 行" in overlaps[0].message("zh")


def test_any_only_reports_overlaps_with_different_outputs():
    findings = analyse(
        "any",
        [
            {"when": ["新保", "-"], "then": ["0.04"]},
            {"when": ["-", "[0..1)"], "then": ["0.04"]},
            {"when": ["-", "[0..2)"], "then": ["0.05"]},
        ],
    )
    assert sorted(codes(f for f in findings if f.code.startswith("overlap"))) == [
        ("overlap_conflict", 3),
        ("overlap_conflict", 3),
    ]


def test_unreachable_rows_under_first():
    findings = analyse(
        "first",
        [
            {"when": ["新保", "<= 2"], "then": ["0.04"]},
            {"when": ["新保", ">= 3"], "then": ["0.05"]},
            {"when": ["新保", "[1..4]"], "then": ["0.06"]},
            {"when": ["-", "-"], "then": ["0.01"]},
            {"when": ["转保", "-"], "then": ["0.02"]},
        ],
    )
    assert codes(findings) == [("unreachable", 3), ("unreachable", 5)]


def test_gaps_give_an_example_input():
    findings = analyse(
        "first",
        [
            {"when": ["新保", "[0..3)"], "then": ["0.04"]},
            {"when": ['"新保","续保"', ">= 3"], "then": ["0.05"]},
        ],
    )
    gaps = [f for f in findings if f.code == "gap"]
    examples = sorted(f.params["example"] for f in gaps)
    assert examples == ['业务类型="续保", 车龄=0', '业务类型="转保", 车龄=0']
    assert "例如" in gaps[0].message("zh")


def test_no_gap_for_integer_bands_that_touch():
    findings = analyse(
        "unique",
        [
            {"when": ["-", "<= 2"], "then": ["0.04"]},
            {"when": ["-", ">= 3"], "then": ["0.05"]},
        ],
    )
    assert findings == []


def test_decimal_bands_with_a_hole_are_a_gap():
    inputs = [{"name": "ncd", "label": "NCD", "type": "decimal", "min": "0.5", "max": "2"}]
    findings = analyse(
        "unique",
        [{"when": ["< 1"], "then": ["1"]}, {"when": ["> 1"], "then": ["2"]}],
        inputs=inputs,
    )
    assert codes(findings) == [("gap", None)]
    assert findings[0].params["example"] == "NCD=1"


def test_unreachable_under_priority():
    outputs = [{"name": "level", "type": "enum", "values": ["拒保", "人工", "通过"]}]
    findings = analyse(
        "priority",
        [
            {"when": ["-", "-"], "then": ["人工"]},
            {"when": ["转保", "-"], "then": ["通过"]},
            {"when": ["转保", "-"], "then": ["拒保"]},
        ],
        outputs=outputs,
    )
    assert codes(findings) == [("unreachable_priority", 2)]


def test_rows_with_expression_cells_are_reported_and_left_out():
    inputs = INPUTS + [{"name": "limit", "type": "integer"}]
    findings = analyse(
        "first",
        [
            {"when": ["-", "age < limit", "-"], "then": ["1"]},
            {"when": ["-", "-", "-"], "then": ["2"]},
        ],
        inputs=inputs,
    )
    assert codes(findings) == [("dynamic_cells", 1)]


def test_clean_table_has_no_findings():
    findings = analyse(
        "unique",
        [
            {"when": ["新保", "-"], "then": ["0.04"]},
            {"when": ["not(新保)", "-"], "then": ["0.05"]},
        ],
    )
    assert findings == []


def test_findings_serialise_for_the_console():
    finding = analyse("first", [{"when": ["新保", "-"], "then": ["1"]}])[0]
    data = finding.to_dict()
    assert data["severity"] == "warning" and data["document"] == "fees"
    assert data["message_zh"].startswith("「fees」")
