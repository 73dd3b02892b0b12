"""What the desk screen offers: the products in force with their coverages and form, and the
carriers the tenant has enabled (with the products each sells)."""

from __future__ import annotations

import datetime
from typing import Any

from flask import url_for
from sqlalchemy.orm import Session

from app.configuration.lookup import documents_in_force
from app.errors import ValidationFailed
from app.orders.models import ItemKind, ItemStatus, Order

# The order the desk lists products in: motor first, as a desk sells them.
LINE_ORDER = [
    "compulsory_motor",
    "commercial_motor",
    "motor_non_motor",
    "accident_health",
    "term_life",
]


def desk_catalogue(session: Session, tenant_id: int | None, on: datetime.date) -> dict[str, Any]:
    products = [
        _product(version.data) for version in documents_in_force(session, "product", tenant_id, on)
    ]
    products.sort(key=lambda p: (_rank(p["line"]), p["key"]))
    return {"products": products, "carriers": _carriers(session, tenant_id, on)}


def _rank(line: str) -> int:
    return LINE_ORDER.index(line) if line in LINE_ORDER else len(LINE_ORDER)


def _product(document: dict[str, Any]) -> dict[str, Any]:
    body = document["body"]
    return {
        "key": document["key"],
        "title": body["name"]["zh"],
        "line": body["line"],
        "coverages": [
            {
                "code": c["code"],
                "name": c["name"]["zh"],
                "kind": c.get("kind", "main"),
                "required": bool(c.get("required")),
                "selected": bool(c.get("selected")),
                "requires": c.get("requires", []),
                "sum_insured": c.get("sum_insured"),
            }
            for c in body.get("coverages", [])
        ],
        "form": [
            {
                "name": f["name"],
                "label": f.get("label", {}).get("zh", f["name"]),
                "type": f.get("type", "string"),
                "default": f.get("default"),
                "required": bool(f.get("required")),
                "sourced": bool(f.get("source")),
                "choices": [
                    {"value": c["value"], "label": c.get("label", {}).get("zh", c["value"])}
                    for c in f.get("choices", [])
                ],
                "help": (f.get("help") or {}).get("zh", ""),
            }
            for f in body.get("form", [])
        ],
    }


def _carriers(session: Session, tenant_id: int | None, on: datetime.date) -> list[dict[str, Any]]:
    from app.quoting.carriers import carriers_for

    try:
        bindings = carriers_for(session, tenant_id, [], None, on)
    except ValidationFailed:
        return []
    return [{"key": b.key, "name": b.name, "products": sorted(b.products)} for b in bindings]


def order_documents(order: Order) -> list[dict[str, str]]:
    """Links to what an issued order printed: each policy's page and 电子保单, each service
    contract's PDF."""
    links = []
    for item in order.items:
        if item.status != ItemStatus.ISSUED:
            continue
        if item.kind == ItemKind.INSURANCE and item.policy_id:
            links.append(
                {
                    "title": item.title,
                    "page": _url("PolicyView.show", pk=item.policy_id),
                    "pdf": _url("PolicyView.pdf", pk=item.policy_id),
                }
            )
        elif item.kind == ItemKind.SERVICE and item.service_contract_id:
            links.append(
                {
                    "title": item.title,
                    "page": "",
                    "pdf": _url("ServiceContractView.pdf", pk=item.service_contract_id),
                }
            )
    return links


def _url(endpoint: str, **values) -> str:
    try:
        return url_for(endpoint, **values)
    except Exception:  # noqa: BLE001 - a screen not registered (yet) has no link
        return ""
