"""DealerCover rules engine: safe expressions, decision tables, rule sets, traces.

Pure Python (standard library + simpleeval); usable from a plain script::

    from rules import load_document, render_trace
    table = load_document({"kind": "decision_table", "key": "fee", "version": 1, "body": {...}})
    table.findings                      # load-time analysis
    value = table.evaluate({"business_type": "新保", "vehicle_age": 2})
    value, trace = table.explain({...})
    print(render_trace(trace, "zh"))

See docs/rules.md for the language, cell syntax and hit policies.
"""

from rules.errors import (
    DocumentError,
    EvaluationError,
    ExpressionError,
    InputError,
    NoMatchError,
    RuleError,
)
from rules.expressions import (
    CompiledExpression,
    ReferenceInterpreter,
    check_expression,
    compile_expression,
    evaluate_expression,
    interpret,
)
from rules.findings import Finding
from rules.jdm import JdmRefused, export_jdm, import_jdm
from rules.library import Library, clear_cache, fingerprint, load_document
from rules.limits import DEFAULT_LIMITS, Limits
from rules.rulesets import RuleSet
from rules.simulator import form, save_case, simulate
from rules.tables import HIT_POLICIES, DecisionTable
from rules.testcases import CaseResult, TestReport, add_test_case, run_test_cases
from rules.trace import RuleSetTrace, TableTrace, render_trace
from rules.values import to_jsonable


def declared_inputs(compiled: DecisionTable | RuleSet) -> list[dict]:
    """The inputs of a table or rule set as form fields (name, label, type, values, required)."""
    return compiled.declared_inputs()


def evaluate(compiled: DecisionTable | RuleSet, inputs: dict, trace: bool = False):
    """``compiled.evaluate(inputs)``, or ``(value, trace)`` from ``explain`` when ``trace``."""
    return compiled.explain(inputs) if trace else compiled.evaluate(inputs)


__all__ = [
    "DEFAULT_LIMITS",
    "HIT_POLICIES",
    "CaseResult",
    "CompiledExpression",
    "DecisionTable",
    "DocumentError",
    "EvaluationError",
    "ExpressionError",
    "Finding",
    "InputError",
    "JdmRefused",
    "Library",
    "Limits",
    "NoMatchError",
    "ReferenceInterpreter",
    "RuleError",
    "RuleSet",
    "RuleSetTrace",
    "TableTrace",
    "TestReport",
    "add_test_case",
    "check_expression",
    "clear_cache",
    "compile_expression",
    "declared_inputs",
    "evaluate",
    "evaluate_expression",
    "export_jdm",
    "fingerprint",
    "form",
    "import_jdm",
    "interpret",
    "load_document",
    "render_trace",
    "run_test_cases",
    "save_case",
    "simulate",
    "to_jsonable",
]
