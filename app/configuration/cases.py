"""Running the test cases a pack carries. Rule documents run their own cases through the rules
engine; every other kind runs each case through the runner its capability registered
(app.configuration.kinds): pricing for products (app.quoting.pricing), fee arithmetic for fee
agreements (app.fees.arithmetic), rendering for message templates (app.messaging.templates),
row mapping for statement mappings (app.reconciliation.mapping) — the same code the live screens
run. Pure: no database.

A pack whose cases fail is not installed; `flask pack test` prints what failed and why."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import rules
from app.configuration.kinds import UnknownKind, kind_spec, rule_kinds
from app.configuration.reading import SourceDocument


@dataclass(frozen=True)
class CaseResult:
    file: str
    kind: str
    key: str
    case: str
    passed: bool
    detail: str = ""

    def __str__(self) -> str:
        mark = "ok  " if self.passed else "FAIL"
        text = f"{mark} {self.kind} {self.key}: {self.case}"
        return text + (f"\n     {self.detail}" if self.detail and not self.passed else "")


def rules_library(documents: list[dict]) -> rules.Library:
    kinds = rule_kinds()
    return rules.Library(d for d in documents if d["kind"] in kinds)


def same(expected: Any, actual: Any) -> bool:
    """Expected values compare as numbers where they are numbers, and dicts by their keys."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and same(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, bool) or expected is None:
        return expected == actual
    try:
        return Decimal(str(expected)) == Decimal(str(actual))
    except ArithmeticError:
        return str(expected) == str(actual)


def run_cases(sources: list[SourceDocument], extra: list[dict] | None = None) -> list[CaseResult]:
    """Run every case of the documents. `extra` are documents of required packs that rules may
    refer to (they are not tested again)."""
    documents = [s.data for s in sources]
    library = rules_library([*(extra or []), *documents])
    results: list[CaseResult] = []
    for source in sources:
        data = source.data
        if _is_rules_document(data["kind"]):
            results += _rule_cases(source, library)
        for case in data.get("tests", []):
            results.append(_envelope_case(source, case, library))
    return results


def _rule_cases(source: SourceDocument, library: rules.Library) -> list[CaseResult]:
    data = source.data
    try:
        compiled = library.get(data["key"], data["version"])
    except rules.RuleError as exc:
        return [CaseResult(source.file, data["kind"], data["key"], "load", False, exc.message())]
    errors = [f for f in compiled.findings if f.severity == "error"]
    results = [
        CaseResult(source.file, data["kind"], data["key"], "analysis", False, f.message("en"))
        for f in errors
    ]
    report = rules.run_test_cases(compiled)
    for result in report.results:
        results.append(
            CaseResult(
                source.file,
                data["kind"],
                data["key"],
                result.name,
                result.passed,
                "" if result.passed else report.render("en"),
            )
        )
    return results


def _envelope_case(source: SourceDocument, case: dict, library: rules.Library) -> CaseResult:
    data, name = source.data, case.get("name", "")
    try:
        actual = _run_envelope_case(data, case, library)
    except (rules.RuleError, KeyError, ArithmeticError, ValueError, TypeError) as exc:
        message = exc.message() if isinstance(exc, rules.RuleError) else repr(exc)
        return CaseResult(source.file, data["kind"], data["key"], name, False, message)
    passed = same(case.get("expected"), actual)
    detail = "" if passed else f"expected {case.get('expected')!r}, got {actual!r}"
    return CaseResult(source.file, data["kind"], data["key"], name, passed, detail)


def _is_rules_document(kind: str) -> bool:
    try:
        return kind_spec(kind).rules_document
    except UnknownKind:
        return False


def _run_envelope_case(data: dict, case: dict, library: rules.Library) -> Any:
    try:
        runner = kind_spec(data["kind"]).run_case
    except UnknownKind as exc:
        raise ValueError(str(exc)) from None
    if runner is None:
        raise ValueError(f"no runner for test cases of kind {data['kind']}")
    return runner(data, case.get("input", {}), library)
