"""What the console's simulator page needs, as plain JSON-ready data.

The page is built in the app; this module gives it: the form (declared inputs), one evaluation
with its trace in the user's language, and "save as test case". Errors come back as data with
the input they concern, so the page can mark the right field instead of showing a stack trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.errors import InputError, RuleError
from rules.testcases import add_test_case
from rules.trace import render_trace
from rules.values import to_jsonable


def form(compiled: Any) -> dict:
    """Title, inputs (name, label, type, values, min, max, required) and outputs of a document."""
    outputs = getattr(compiled, "declared_outputs", None)
    return {
        "kind": compiled.kind,
        "key": compiled.key,
        "version": compiled.version,
        "title": compiled.title,
        "inputs": compiled.declared_inputs(),
        "outputs": outputs() if outputs else [{"name": name} for name in compiled.output_names],
    }


def simulate(compiled: Any, inputs: Mapping[str, Any], lang: str = "zh") -> dict:
    """Evaluate with tracing on; never raises for bad input or a failing rule.

    Returns ``{"ok", "result", "trace", "trace_text", "versions"}`` or, on failure,
    ``{"ok": False, "error", "code", "input"}`` where ``input`` names the offending field.
    """
    if not isinstance(inputs, Mapping):
        return {
            "ok": False,
            "error": "inputs must be a mapping",
            "code": "bad_inputs",
            "input": None,
        }
    try:
        value, trace = compiled.explain(inputs)
    except RuleError as error:
        cause = error.__cause__ if isinstance(error.__cause__, InputError) else error
        return {
            "ok": False,
            "error": error.message(lang),
            "code": error.code,
            "input": cause.params.get("input") if isinstance(cause, InputError) else None,
        }
    return {
        "ok": True,
        "result": to_jsonable(value),
        "trace": trace.to_dict(),
        "trace_text": render_trace(trace, lang),
        "versions": [list(item) for item in trace.versions()],
    }


def save_case(
    document: Mapping, compiled: Any, inputs: Mapping[str, Any], name: str | None = None
) -> dict:
    """A copy of ``document`` with the simulated inputs and today's answer as a test case."""
    return add_test_case(document, inputs, name=name, compiled=compiled)
