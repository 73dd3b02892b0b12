"""Extension points of the policy page that other capabilities fill: the payments of a policy
(quoting and orders registers the source that knows them). Keeps the policy book free of
imports from the capabilities built on top of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

# A payment source returns rows {"paid_at", "amount", "method", "status", "reference"} for a
# policy; the page lists the rows of every source.
PaymentSource = Callable[[Session, Any], list[dict[str, Any]]]
_payment_sources: list[PaymentSource] = []


def register_payment_source(source: PaymentSource) -> PaymentSource:
    if source not in _payment_sources:
        _payment_sources.append(source)
    return source


def payments_of(session: Session, policy) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for source in _payment_sources:
        rows.extend(source(session, policy))
    return rows
