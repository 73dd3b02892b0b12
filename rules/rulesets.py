"""Rule sets: named steps that chain decision tables and expressions.

Body of a ``rule_set`` document::

    inputs:  [{name, type, label, values}]        # as decision-table inputs
    steps:
      - name: base_premium                        # the intermediate value this step names
        table: jqx_base_premium                   # a decision table or rule set key ...
        version: 3                                # ... optionally pinned
        with: {seats: "seat_count"}               # table input -> expression (default: same name)
        bind: {premium: base_premium}             # table output -> name (default, see below)
      - name: premium
        expression: "round_half_up(base_premium * (1 + floating_rate), 2)"
        when: "business_type != '转保'"            # optional; when false the step gives null
    outputs: [premium]                            # names returned (default: every step)
    tests:   [{name, input, expected}]

A table step with one output binds its value to the step name; with several outputs each output
is bound under its own name unless ``bind`` says otherwise; collect policies bind the list.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rules.errors import DocumentError, EvaluationError, ExpressionError, RuleError
from rules.expressions import CompiledExpression, LookupResolver, compile_expression
from rules.findings import ERROR, Finding
from rules.limits import DEFAULT_LIMITS, Limits
from rules.tables import AGGREGATES, MULTI_HIT, Declaration
from rules.trace import RuleSetTrace, StepTrace
from rules.values import TYPES, coerce_output, make_coercer

# Resolves a (key, version) reference of a step to a compiled table or rule set.
DocumentResolver = Callable[[str, Any], Any]


@dataclass
class Step:
    number: int
    name: str
    label: str
    when: CompiledExpression | None
    expression: CompiledExpression | None = None
    target: Any = None  # DecisionTable or RuleSet
    arguments: list[tuple[str, CompiledExpression]] | None = None
    binds: list[tuple[str | None, str]] | None = None  # (output or None for "whole value", name)


class RuleSet:
    """A compiled rule set: ``evaluate(inputs)`` gives its outputs, ``explain`` with a trace."""

    kind = "rule_set"

    def __init__(
        self,
        key: str,
        version: Any,
        body: Mapping,
        *,
        documents: DocumentResolver | None = None,
        resolver: LookupResolver | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.key, self.version, self.body, self.limits = key, version, body, limits
        self.problems: list[Finding] = []
        self.findings: list[Finding] = []
        if not isinstance(body, Mapping):
            raise DocumentError("bad_document", key, detail="the body must be a mapping")
        self.title = str(body.get("title", ""))
        self.inputs = self._inputs(body.get("inputs") or [])
        self.input_names = [item.name for item in self.inputs]
        self.tests = list(body.get("tests") or [])
        known = set(self.input_names)
        self.steps = [
            self._step(number, raw, known, documents, resolver)
            for number, raw in enumerate(body.get("steps") or [], 1)
        ]
        if not self.steps:
            self._problem("bad_document", detail="steps must be a non-empty list")
        self.output_names = self._outputs(body.get("outputs"), known)
        self.labels = {d.name: d.label or d.name for d in self.inputs}
        self.labels.update((step.name, step.label) for step in self.steps if step.label)
        if self.problems:
            raise DocumentError("document_invalid", key, problems=self.problems, key=key)
        self.coercers = [
            (d.name, make_coercer(d.name, d.type, d.values, key, d.minimum, d.maximum))
            for d in self.inputs
        ]

    # --- loading ------------------------------------------------------------------------------

    def _problem(self, code: str, row: int | None = None, column: str | None = None, **params):
        self.problems.append(Finding(ERROR, code, self.key, row, column, params))

    def _inputs(self, raw: Any) -> list[Declaration]:
        found = []
        for item in raw if isinstance(raw, list) else []:
            name, type_name = item.get("name"), item.get("type", "string")
            if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
                self._problem("bad_document", detail=f"input name {name!r} is not usable")
                continue
            if type_name not in TYPES or (type_name == "enum" and not item.get("values")):
                self._problem("bad_document", column=name, detail=f"bad type {type_name!r}")
                continue
            values = item.get("values")
            found.append(
                Declaration(
                    name,
                    type_name,
                    str(item.get("label", "")),
                    tuple(values) if values else None,
                    str(item.get("description", "")),
                    minimum=coerce_output(item.get("min"), type_name),
                    maximum=coerce_output(item.get("max"), type_name),
                )
            )
        return found

    def _compile(
        self, text: Any, known: set, number: int, column: str, resolver
    ) -> CompiledExpression | None:
        try:
            return compile_expression(str(text), known, limits=self.limits, resolver=resolver)
        except ExpressionError as error:
            self._problem(error.code, row=number, column=column, **error.params)
            return None

    def _step(self, number: int, raw: Any, known: set, documents, resolver) -> Step:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
            self._problem("bad_document", row=number, detail="a step needs a name")
            return Step(number, f"step{number}", "", None)
        name = raw["name"]
        if not name.isidentifier() or name.startswith("_"):
            self._problem("bad_document", row=number, detail=f"{name!r} is not a usable name")
        if name in known:
            self._problem("duplicate_name", row=number, column=name, name=name)
        when = None
        if raw.get("when") is not None:
            when = self._compile(raw["when"], known, number, "when", resolver)
        step = Step(number, name, str(raw.get("label", "")), when)
        if "expression" in raw:
            step.expression = self._compile(raw["expression"], known, number, name, resolver)
            known.add(name)
        elif "table" in raw:
            self._table_step(step, raw, known, documents, resolver)
        else:
            self._problem(
                "bad_document", row=number, detail="a step needs an expression or a table"
            )
        return step

    def _table_step(self, step: Step, raw: Mapping, known: set, documents, resolver) -> None:
        key = str(raw["table"])
        target = None
        if documents is not None:
            try:
                target = documents(key, raw.get("version"))
            except DocumentError as error:
                # Keep the real cause (a cycle, a bad cell in the table) rather than "cannot load".
                if error.problems:
                    self.problems.extend(error.problems)
                else:
                    self._problem(error.code, row=step.number, column=key, **error.params)
                return
        if target is None:
            self._problem("unknown_table", row=step.number, column=key, key=key)
            return
        step.target = target
        given = dict(raw.get("with") or {})
        for name in given:
            if name not in target.input_names:
                self._problem("unknown_input", row=step.number, column=name, name=name)
        step.arguments = []
        for name in target.input_names:
            compiled = self._compile(given.get(name, name), known, step.number, name, resolver)
            if compiled is not None:
                step.arguments.append((name, compiled))
        step.binds = self._binds(step, raw.get("bind"), target)
        known.update(bound for _, bound in step.binds)

    def _binds(self, step: Step, raw: Any, target: Any) -> list[tuple[str | None, str]]:
        outputs = list(target.output_names)
        collects = getattr(target, "hit_policy", "") in MULTI_HIT
        if raw:
            for output in raw:
                if output not in outputs:
                    self._problem("unknown_output", row=step.number, column=output, name=output)
            return [(output, str(name)) for output, name in dict(raw).items()]
        if collects or len(outputs) == 1 or getattr(target, "hit_policy", "") in AGGREGATES:
            return [(None, step.name)]
        return [(output, output) for output in outputs]

    def _outputs(self, raw: Any, known: set) -> list[str]:
        if raw is None:
            names = []
            for step in self.steps:
                names.extend(name for _, name in (step.binds or [(None, step.name)]))
            return names
        names = [item["name"] if isinstance(item, Mapping) else str(item) for item in raw]
        for name in names:
            if name not in known:
                self._problem("unknown_name", column=name, name=name)
        return names

    # --- evaluation -----------------------------------------------------------------------------

    def evaluate(self, inputs: Mapping[str, Any]) -> dict:
        """The declared outputs for ``inputs``."""
        env = self._coerce(inputs)
        deadline = time.monotonic() + self.limits.max_eval_seconds
        for step in self.steps:
            self._run(step, env, None)
            if time.monotonic() > deadline:
                raise EvaluationError("too_slow", self.key, limit=self.limits.max_eval_seconds)
        return {name: env.get(name) for name in self.output_names}

    def explain(self, inputs: Mapping[str, Any]) -> tuple[dict, RuleSetTrace]:
        """Like ``evaluate``, and the trace of every step and table used."""
        env = self._coerce(inputs)
        trace = RuleSetTrace(self.key, self.version, self.title, dict(env), labels=self.labels)
        for step in self.steps:
            self._run(step, env, trace)
        result = {name: env.get(name) for name in self.output_names}
        trace.result = result
        return result, trace

    def _coerce(self, inputs: Mapping[str, Any]) -> dict:
        return {name: coerce(inputs.get(name)) for name, coerce in self.coercers}

    def _run(self, step: Step, env: dict, trace: RuleSetTrace | None) -> None:
        if step.when is not None and not _as_condition(step.when.evaluate(env)):
            for _, name in step.binds or [(None, step.name)]:
                env[name] = None
            if trace is not None:
                trace.steps.append(StepTrace(step.name, step.label, None, skipped=True))
            return
        try:
            if step.expression is not None:
                value = env[step.name] = step.expression.evaluate(env)
                if trace is not None:
                    trace.steps.append(
                        StepTrace(step.name, step.label, value, step.expression.text)
                    )
                return
            arguments = {name: compiled.evaluate(env) for name, compiled in step.arguments}
            if trace is None:
                value = step.target.evaluate(arguments)
            else:
                value, table_trace = step.target.explain(arguments)
            self._bind(step, value, env)
            if trace is not None:
                trace.steps.append(StepTrace(step.name, step.label, value, table=table_trace))
        except RuleError as error:
            if error.code == "step_failed":
                raise
            raise EvaluationError(
                "step_failed", self.key, step=step.label or step.name, reason=error.message("zh")
            ) from error

    def _bind(self, step: Step, value: Any, env: dict) -> None:
        for output, name in step.binds:
            if output is not None:
                env[name] = None if value is None else value.get(output)
            elif isinstance(value, dict) and len(value) == 1:
                env[name] = next(iter(value.values()))
            elif isinstance(value, list) and len(step.target.output_names) == 1:
                only = step.target.output_names[0]
                env[name] = [item[only] for item in value]
            else:
                env[name] = value

    def declared_inputs(self) -> list[dict]:
        return [declaration.to_form_field() for declaration in self.inputs]


def _as_condition(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise EvaluationError(
        "type_error", operation="when", expected="boolean", got=type(value).__name__
    )


__all__ = ["RuleSet", "coerce_output"]
