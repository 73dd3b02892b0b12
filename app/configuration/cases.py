"""Running the test cases a pack carries: for rules (through the rules engine), products
(pricing), fee agreements, message templates and statement mappings. Pure: no database.

A pack whose cases fail is not installed; `flask pack test` prints what failed and why."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import rules
from app.configuration.reading import SourceDocument

RULE_KINDS = ("decision_table", "rule_set")
VAT = Decimal("1.06")


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


def cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def rules_library(documents: list[dict]) -> rules.Library:
    return rules.Library(d for d in documents if d["kind"] in RULE_KINDS)


def run_product(product: dict, form: dict, library: rules.Library) -> dict:
    """A product's pricing: form values → premium and the amounts collected with it."""
    body = product["body"]
    env = {f["name"]: f.get("default") for f in body.get("form", [])}
    env.update(form)

    def call(ref: dict) -> dict:
        compiled = library.get(ref["rule_set"], ref.get("version"))
        inputs = {}
        for declared in compiled.declared_inputs():
            name = declared["name"]
            expression = ref.get("inputs", {}).get(name)
            inputs[name] = (
                env.get(name) if expression is None else rules.evaluate_expression(expression, env)
            )
        return compiled.evaluate(inputs)

    outputs = call(body["pricing"])
    result = dict(outputs)
    result["premium"] = outputs[body["pricing"]["premium"]]
    for collected in body.get("collected_with", []):
        result[collected["code"]] = call(collected)[collected["amount"]]
    return result


def run_fee_agreement(agreement: dict, line: dict) -> dict[str, Decimal]:
    """One policy line → {fee type: amount}, each fee line rounded half-up to the cent."""
    fees: dict[str, Decimal] = {}
    premium = Decimal(str(line["premium"]))
    for term in agreement["body"]["lines"]:
        rate = term["rates"].get(line["business_type"])
        if term["product"] != line["product"] or rate is None:
            continue
        names = {k: Decimal(v) if isinstance(v, int) else v for k, v in line.items()}
        if "when" in term and not rules.evaluate_expression(term["when"], names):
            continue
        if "amount" in rate:
            amount = cents(rate["amount"])
        else:
            basis = premium if term["base"] == "premium_incl_tax" else cents(premium / VAT)
            amount = cents(basis * Decimal(str(rate["ratio"])))
        fees[term["fee_type"]] = fees.get(term["fee_type"], Decimal(0)) + amount
    return fees


PLACEHOLDER = re.compile(r"\{\{\s*([a-z][a-z0-9_.]*)\s*\}\}")


def render_template(template: dict, values: dict) -> str:
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template["body"]["text"])


def map_statement_row(mapping: dict, row: dict) -> dict:
    """One carrier statement row (header → text) → platform fields."""
    body, record = mapping["body"], {}
    for column in body["columns"]:
        headers = [column["header"], *column.get("aliases", [])]
        header = next((name for name in headers if name in row), None)
        if header is None or column["field"] == "ignore":
            continue
        raw, transform = str(row[header]).strip(), column.get("transform", {"type": "text"})
        if transform["type"] == "decimal" and raw:
            value = str(Decimal(raw.replace(",", "")))
        elif transform["type"] == "percent" and raw:
            value = str(Decimal(raw.rstrip("%")) / 100)
        elif transform["type"] == "map":
            value = transform["values"].get(raw, raw)
        else:
            value = raw
        record[column["field"]] = value
    if "fee_type" not in record and "default_fee_type" in body:
        record["fee_type"] = body["default_fee_type"]
    return record


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
        if data["kind"] in RULE_KINDS:
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


def _run_envelope_case(data: dict, case: dict, library: rules.Library) -> Any:
    kind, given = data["kind"], case.get("input", {})
    if kind == "product":
        return run_product(data, given, library)
    if kind == "fee_agreement":
        return run_fee_agreement(data, given)
    if kind == "message_template":
        return render_template(data, given)
    if kind == "statement_mapping":
        return map_statement_row(data, given)
    if kind in RULE_KINDS:
        return library.get(data["key"], data["version"]).evaluate(given)
    raise ValueError(f"no runner for test cases of kind {kind}")
