"""docs/rules.md stays true: every YAML document in it loads and passes its own test cases."""

import re
from pathlib import Path

import pytest

from rules import Library, run_test_cases

yaml = pytest.importorskip("yaml")
DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def documents_in_the_docs():
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [yaml.safe_load(block) for block in blocks if block.startswith("kind:")]


def test_docs_examples_load_and_pass_their_cases():
    documents = documents_in_the_docs()
    assert {d["key"] for d in documents} >= {
        "fee_agreement_picc_2026",
        "fee_of_policy_line",
        "jqx_region_scheme",
        "jqx_floating_rate",
        "jqx_base_premium",
        "jqx_premium",
    }
    library = Library(documents)
    problems = [f for f in library.check_all() if f.severity != "info"]
    assert problems == [], [p.message("en") for p in problems]
    for document in documents:
        report = run_test_cases(library.get(document["key"]))
        assert report.results and report.passed, report.render("en")


def test_the_analysis_claim_of_the_docs():
    documents = {d["key"]: d for d in documents_in_the_docs()}
    rates = documents["jqx_floating_rate"]
    rules = list(rates["body"]["rules"])
    rules[10] = {"when": ["D", "A3"], "then": ["-0.25"]}
    broken = {**rates, "body": {**rates["body"], "rules": rules, "tests": []}}
    findings = Library([broken]).get("jqx_floating_rate").findings
    assert [(f.code, f.row, f.params.get("other")) for f in findings][:1] == [
        ("overlap_conflict", 12, 11)
    ]
    gaps = [f.params["example"] for f in findings if f.code == "gap"]
    assert gaps == ['地区方案="D", 浮动因素="A2"']
