"""Pricing a product document through the rules engine: form values → the premium, the amounts
collected with it (车船税), the named intermediate values and the document versions used.

Pure (no database, no Flask): a product's pack test cases, the sandbox carriers' reference
tariff and the desk all call `price_product`, so they compute the same numbers. Which documents
are in force on a date is the caller's business (app.configuration.lookup); the carriers'
reference tariff (app.carriers.tariff) packages products and a rules library found that way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import rules


@dataclass(frozen=True)
class PricedProduct:
    """A product priced for one set of form values.

    `versions` maps "kind:key" of every document used (the product, its rule sets and their
    tables) to its version, for lineage. `trace` is the rules engine's trace of each evaluation,
    by "premium" and by collected code, when pricing was asked to trace; None otherwise."""

    product_key: str
    product_version: str
    premium: Decimal
    collected: Mapping[str, Decimal] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)
    explain: Mapping[str, Any] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)
    trace: Mapping[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The flat view a product's test cases compare with: the rule set's outputs, `premium`
        and each collected code."""
        return {**self.outputs, "premium": self.premium, **self.collected}

    def render_trace(self, lang: str = "zh") -> str:
        """The traces as text ("why this number?"); empty when pricing did not trace."""
        if not self.trace:
            return ""
        return "\n".join(rules.render_trace(item, lang) for item in self.trace.values())


def price_product(
    product: Mapping, form: Mapping[str, Any], library: rules.Library, trace: bool = False
) -> PricedProduct:
    """Price `product` (a product document) for the form values given; fields not given take
    their declared defaults. Raises rules.RuleError (and KeyError for a missing output) when the
    documents cannot price these values."""
    body = product["body"]
    env = {spec["name"]: spec.get("default") for spec in body.get("form", [])}
    env.update(form)
    versions = {f"product:{product['key']}": str(product["version"])}
    traces: dict[str, Any] = {}

    pricing = body["pricing"]
    outputs = _evaluate(pricing, env, library, versions, traces, "premium" if trace else None)
    collected = {}
    for item in body.get("collected_with", []):
        result = _evaluate(item, env, library, versions, traces, item["code"] if trace else None)
        collected[item["code"]] = result[item["amount"]]
    return PricedProduct(
        product_key=product["key"],
        product_version=str(product["version"]),
        premium=outputs[pricing["premium"]],
        collected=collected,
        outputs=dict(outputs),
        explain={name: outputs.get(name) for name in pricing.get("explain", [])},
        versions=versions,
        trace=traces if trace else None,
    )


def _evaluate(
    ref: Mapping,
    env: Mapping[str, Any],
    library: rules.Library,
    versions: dict[str, str],
    traces: dict[str, Any],
    trace_as: str | None,
) -> dict:
    """Evaluate the rule set a product refers to, its inputs taken from the form values or the
    ref's own input expressions over them."""
    compiled = library.get(ref["rule_set"], ref.get("version"))
    expressions = ref.get("inputs", {})
    inputs = {}
    for declared in compiled.declared_inputs():
        name = declared["name"]
        expression = expressions.get(name)
        inputs[name] = (
            env.get(name) if expression is None else rules.evaluate_expression(expression, env)
        )
    _record_versions(compiled, versions)
    if trace_as is None:
        return compiled.evaluate(inputs)
    result, traces[trace_as] = compiled.explain(inputs)
    return result


def _record_versions(compiled: Any, versions: dict[str, str], depth: int = 0) -> None:
    kind = "rule_set" if isinstance(compiled, rules.RuleSet) else "decision_table"
    versions.setdefault(f"{kind}:{compiled.key}", str(compiled.version))
    if depth > 8:  # rule sets nest a few levels at most; a loop is refused when they compile
        return
    for step in getattr(compiled, "steps", ()):
        if step.target is not None:
            _record_versions(step.target, versions, depth + 1)
