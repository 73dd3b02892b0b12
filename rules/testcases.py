"""Test cases carried by documents: input -> expected output, run before a pack is published.

A case is ``{"name": ..., "input": {...}, "expected": ...}`` in the body's ``tests`` list. The
expected value has the shape of the result (a dict of outputs, a list of them, or null for "no
row matches"); a dict only needs the outputs it names. Numbers compare as decimals
(``"0.04"``, ``0.04`` and ``Decimal("0.040")`` are equal), dates as ISO text.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rules.errors import RuleError
from rules.trace import Trace, render_trace
from rules.values import format_value, to_decimal, to_jsonable


@dataclass
class CaseResult:
    name: str
    passed: bool
    inputs: dict
    expected: Any
    actual: Any = None
    error: str = ""
    trace: Trace | None = field(default=None, repr=False)

    def message(self, lang: str = "zh") -> str:
        zh = lang.startswith("zh")
        if self.passed:
            return f"✓ {self.name}"
        if self.error:
            head = (
                f"✗ 用例 {self.name} 出错：{self.error}"
                if zh
                else f"✗ case {self.name} raised: {self.error}"
            )
        else:
            expected, actual = format_value(self.expected), format_value(self.actual)
            head = (
                f"✗ 用例 {self.name}：期望 {expected}，实际 {actual}"
                if zh
                else f"✗ case {self.name}: expected {expected}, got {actual}"
            )
        if self.trace is None:
            return head
        return head + "\n" + _indent(render_trace(self.trace, lang))


@dataclass
class TestReport:
    document: str
    results: list[CaseResult]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failures(self) -> list[CaseResult]:
        return [result for result in self.results if not result.passed]

    def render(self, lang: str = "zh") -> str:
        zh = lang.startswith("zh")
        count, failed = len(self.results), len(self.failures)
        head = (
            f"「{self.document}」{count} 个用例，失败 {failed} 个"
            if zh
            else f"'{self.document}': {count} cases, {failed} failed"
        )
        return "\n".join([head] + [result.message(lang) for result in self.failures])


def run_test_cases(compiled: Any, cases: list[Mapping] | None = None) -> TestReport:
    """Run ``cases`` (default: the document's own ``tests``); each failure carries its trace."""
    results = []
    for number, case in enumerate(compiled.tests if cases is None else cases, 1):
        results.append(_run_case(compiled, case, number))
    return TestReport(compiled.key, results)


def _run_case(compiled: Any, case: Mapping, number: int) -> CaseResult:
    name = str(case.get("name") or f"#{number}")
    inputs = dict(case.get("input") or {})
    expected = case.get("expected")
    try:
        actual, trace = compiled.explain(inputs)
    except RuleError as error:
        expected_error = case.get("error")
        if expected_error and expected_error in (
            error.code,
            error.message("en"),
            error.message("zh"),
        ):
            return CaseResult(name, True, inputs, expected_error, error.code)
        return CaseResult(name, False, inputs, expected, error=error.message("zh"))
    if case.get("error"):
        return CaseResult(name, False, inputs, case["error"], actual, trace=trace)
    passed = matches(expected, actual)
    return CaseResult(name, passed, inputs, expected, actual, trace=None if passed else trace)


def matches(expected: Any, actual: Any) -> bool:
    """Whether ``actual`` has what ``expected`` asks for (dicts: only the keys named)."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and matches(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(actual, bool) or isinstance(expected, bool):
        return expected is actual or str(expected).lower() == str(actual).lower()
    if isinstance(actual, Decimal):
        number = to_decimal(expected)
        return number is not None and number == actual
    if isinstance(actual, dt.date):
        return str(expected) == actual.isoformat()
    return expected == actual


def add_test_case(
    document: Mapping,
    inputs: Mapping[str, Any],
    expected: Any = None,
    name: str | None = None,
    compiled: Any = None,
) -> dict:
    """A copy of ``document`` with one more test case (the simulator's "save as test case").

    Without ``expected`` the current answer of ``compiled`` (or of the document itself) is
    recorded, which pins today's behaviour as a regression case.
    """
    from rules.library import load_document

    updated = copy.deepcopy(dict(document))
    body = dict(updated.get("body") or {})
    if expected is None:
        compiled = compiled or load_document(document)
        expected = compiled.evaluate(inputs)
    tests = list(body.get("tests") or [])
    tests.append(
        {
            "name": name or f"case {len(tests) + 1}",
            "input": to_jsonable(dict(inputs)),
            "expected": to_jsonable(expected),
        }
    )
    body["tests"] = tests
    updated["body"] = body
    return updated


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
