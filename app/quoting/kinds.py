"""The document kinds quoting owns: `product` (a line of business, its coverages, form and
pricing rule references). Its test cases price the form values given."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rules
from app.configuration.kinds import KindSpec, register_kind
from app.quoting.document_page import present_product
from app.quoting.pricing import price_product


def run_product_case(product: Mapping, given: Mapping, library: rules.Library) -> dict[str, Any]:
    return price_product(product, given, library).as_dict()


register_kind(
    KindSpec(
        "product",
        "products",
        run_case=run_product_case,
        owner="app.quoting",
        present=present_product,
    )
)
