"""The platform's reference tariff handed to carriers in a QuoteRequest (contract.Tariff).

`platform_tariff(session, tenant_id, on)` reads, once, the product documents and the rules library
in force on the start date (app.configuration.lookup) and compiles every rule set the products
use, so carrier threads only read it. `price` runs app.quoting.pricing.price_product with the
trace on, after turning the coverages asked for into the product's coverage form fields
(`coverage_inputs`), and gives each coverage its premium from the product's
`pricing.coverage_premiums`.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

import rules
from app.carriers.contract import CoverageRequest, cents


@dataclass(frozen=True)
class TariffPrice:
    """A product priced by the platform (satisfies contract.PricedProduct)."""

    product_key: str
    product_version: str
    premium: Decimal
    collected: Mapping[str, Decimal] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)
    explain: Mapping[str, Any] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)
    trace: Mapping[str, Any] | None = None
    coverage_premiums: Mapping[str, Decimal] = field(default_factory=dict)


def coverage_inputs(
    product_body: Mapping[str, Any], coverages: Sequence[CoverageRequest]
) -> dict[str, Any]:
    """The form values that say which coverages are taken, by the products' convention: coverage
    `C` is taken when the boolean field `C` is true, and its amount is in the field `C_limit` or
    `C_sum_insured` (0 when not taken). No coverages asked → no values (the form decides)."""
    if not coverages:
        return {}
    fields = {spec["name"]: spec for spec in product_body.get("form", [])}
    asked = {coverage.code: coverage for coverage in coverages}
    values: dict[str, Any] = {}
    for offered in product_body.get("coverages", []):
        code = offered["code"]
        taken = code in asked
        spec = fields.get(code)
        if spec is not None and spec.get("type") == "boolean":
            values[code] = taken
        for name in (f"{code}_limit", f"{code}_sum_insured"):
            spec = fields.get(name)
            if spec is None:
                continue
            amount = asked[code].sum_insured if taken else Decimal(0)
            if taken and amount is None:
                continue  # taken with the form's own (default) amount
            values[name] = _field_value(spec, amount)
    return values


def _field_value(spec: Mapping[str, Any], amount: Decimal) -> Any:
    """An amount as the field wants it: an enum's matching choice value, else the number."""
    if spec.get("type") != "enum":
        return amount
    for choice in spec.get("choices", []):
        try:
            if Decimal(choice["value"]) == amount:
                return choice["value"]
        except InvalidOperation:
            continue
    return str(amount.normalize()) if amount else "0"


class PlatformTariff:
    """Products and rules in force on one date for one tenant (contract.Tariff)."""

    def __init__(self, products: Mapping[str, Mapping], library: rules.Library) -> None:
        self.products = dict(products)
        self.library = library
        for product in self.products.values():
            self._compile(product)

    def _compile(self, product: Mapping) -> None:
        body = product["body"]
        for ref in (body["pricing"], *body.get("collected_with", [])):
            try:
                self.library.get(ref["rule_set"], ref.get("version"))
            except rules.RuleError:
                continue  # a product that cannot price is refused when it is asked for

    def product(self, product_key: str) -> Mapping[str, Any]:
        product = self.products.get(product_key)
        if product is None:
            raise KeyError(f"no product {product_key!r} in force")
        return product["body"]

    def price(
        self,
        product_key: str,
        inputs: Mapping[str, Any],
        coverages: Sequence[CoverageRequest] = (),
    ) -> TariffPrice:
        from app.quoting.pricing import price_product

        product = self.products.get(product_key)
        if product is None:
            raise KeyError(f"no product {product_key!r} in force")
        form = dict(inputs)
        form.update(coverage_inputs(product["body"], coverages))
        priced = price_product(product, form, self.library, trace=True)
        mapping = product["body"]["pricing"].get("coverage_premiums", {})
        coverage_premiums = {
            code: cents(priced.outputs[output])
            for code, output in mapping.items()
            if priced.outputs.get(output) is not None
        }
        trace = {name: item.to_dict() for name, item in (priced.trace or {}).items()}
        return TariffPrice(
            product_key=priced.product_key,
            product_version=priced.product_version,
            premium=cents(priced.premium),
            collected={code: cents(value) for code, value in priced.collected.items()},
            outputs=dict(priced.outputs),
            explain=dict(priced.explain),
            versions=dict(priced.versions),
            trace=trace,
            coverage_premiums=coverage_premiums,
        )


def platform_tariff(session: Session, tenant_id: int | None, on: datetime.date) -> PlatformTariff:
    """The reference tariff a tenant prices with on `on` (its own documents over the platform's)."""
    from app.configuration.lookup import documents_in_force, rules_library_in_force

    products = {
        version.document.key: version.data
        for version in documents_in_force(session, "product", tenant_id, on)
    }
    return PlatformTariff(products, rules_library_in_force(session, tenant_id, on))
