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
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

import rules
from app.carriers.contract import CoverageRequest, cents, coverage_inputs

REMEMBERED = 4096  # prices kept per tariff (a tariff lives until a publish, or 30 s)


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


class PlatformTariff:
    """Products and rules in force on one date for one tenant (contract.Tariff)."""

    def __init__(
        self,
        products: Mapping[str, Mapping],
        library: rules.Library,
        trace: bool = True,
        remember: bool = True,
    ) -> None:
        self.products = dict(products)
        self.library = library
        self.trace = trace
        # Prices without trace by product, inputs and coverages: pricing is a pure function of
        # the documents this tariff holds, and one quote asks 14 carriers the same 交强险 (the
        # same facts; only 商业险 has each carrier's own coefficient).
        self._remembered: dict[tuple, TariffPrice] | None = {} if remember else None
        for product in self.products.values():
            self._compile(product)

    def tracing(self, trace: bool) -> PlatformTariff:
        """The same documents, pricing with or without the rules engine's trace (a quote needs
        none; the trace kept as a policy's lineage is made when it is bound)."""
        if trace == self.trace:
            return self
        other = object.__new__(PlatformTariff)
        other.products, other.library, other.trace = self.products, self.library, trace
        other._remembered = self._remembered
        return other

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
        key = None if self.trace or self._remembered is None else _key(inputs, coverages)
        if key is not None:
            key = (product_key, *key)
            found = self._remembered.get(key)
            if found is not None:
                return found
        priced = self._price(product_key, inputs, coverages)
        if key is not None:
            if len(self._remembered) >= REMEMBERED:
                self._remembered.clear()
            self._remembered[key] = priced
        return priced

    def _price(
        self,
        product_key: str,
        inputs: Mapping[str, Any],
        coverages: Sequence[CoverageRequest],
    ) -> TariffPrice:
        from app.quoting.pricing import price_product

        product = self.products.get(product_key)
        if product is None:
            raise KeyError(f"no product {product_key!r} in force")
        form = dict(inputs)
        form.update(coverage_inputs(product["body"], coverages))
        priced = price_product(product, form, self.library, trace=self.trace)
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


def _key(inputs: Mapping[str, Any], coverages: Sequence[CoverageRequest]) -> tuple:
    """The pricing inputs as a key that tells apart what compares equal but may price or show
    differently (1 and True, Decimal 1.6 and 1.60): each value by its type and repr."""
    return (
        tuple(sorted((k, type(v), repr(v)) for k, v in inputs.items())),
        tuple((c.code, repr(c.sum_insured), repr(sorted(c.options.items()))) for c in coverages),
    )


def platform_tariff(session: Session, tenant_id: int | None, on: datetime.date) -> PlatformTariff:
    """The reference tariff a tenant prices with on `on` (its own documents over the platform's)."""
    from app.configuration.lookup import documents_in_force, rules_library_in_force

    products = {
        version.document.key: version.data
        for version in documents_in_force(session, "product", tenant_id, on)
    }
    return PlatformTariff(products, rules_library_in_force(session, tenant_id, on))
