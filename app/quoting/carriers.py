"""What quoting needs of the carriers and the policy book: the tenant's enabled carriers that sell
the products asked for (with their clients, timeouts and locked answers), the reference tariff
in force, and the vehicle's history (its last carrier and last year's premium)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.carriers.contract import CarrierClient
from app.customers.models import Vehicle
from app.errors import ValidationFailed
from app.policies.labels import PolicyStatus
from app.policies.models import Policy

DEFAULT_TIMEOUT = 10.0
DEFAULT_VALID_MINUTES = 120


@dataclass(frozen=True)
class CarrierBinding:
    key: str
    name: str
    client: CarrierClient
    products: frozenset[str]
    timeout: float = DEFAULT_TIMEOUT
    valid_minutes: int = DEFAULT_VALID_MINUTES
    locked_answers: Mapping[str, Any] = field(default_factory=dict)
    default_answers: Mapping[str, Any] = field(default_factory=dict)


def carriers_for(
    session: Session,
    tenant_id: int,
    product_keys: Sequence[str],
    asked: Any,
    on: datetime.date,
) -> list[CarrierBinding]:
    """The carriers to ask: those the tenant has enabled that sell every product asked for, or
    the ones named (each must be such a carrier)."""
    from app.carriers.services import enabled_carriers

    enabled = {b.key: b for b in enabled_carriers(session, tenant_id, on)}
    selling = {k: b for k, b in enabled.items() if set(product_keys) <= b.products}
    if asked in (None, [], ""):
        chosen = list(selling.values())
    else:
        if not isinstance(asked, list) or not all(isinstance(k, str) for k in asked):
            raise ValidationFailed(
                "carriers must be a list of carrier keys", "保险公司格式有误", field="carriers"
            )
        unknown = [k for k in asked if k not in selling]
        if unknown:
            raise ValidationFailed(
                f"carriers: {unknown[0]} is not enabled or does not sell what was asked",
                f"保险公司 {unknown[0]} 未开通或不承保所选险种",
                field="carriers",
            )
        chosen = [selling[k] for k in dict.fromkeys(asked)]
    if not chosen:
        raise ValidationFailed(
            "carriers: no enabled carrier sells all the products asked for",
            "没有已开通的保险公司同时承保所选险种",
            field="carriers",
        )
    return chosen


def tariff_for(session: Session, tenant_id: int, on: datetime.date):
    """The reference tariff in force on the start date, with every rule set the products use
    compiled now, so that the carriers' threads only read it."""
    from app.carriers.tariff import platform_tariff

    return platform_tariff(session, tenant_id, on)


def previous_carrier(session: Session, vehicle: Vehicle | None) -> str | None:
    latest = _latest_policies(session, vehicle)
    return latest[0].carrier_key if latest else None


def last_year_total(
    session: Session, vehicle: Vehicle | None, lines: Sequence[str]
) -> Decimal | None:
    """Premium plus 车船税 of the vehicle's latest policy of each line asked, for the "against
    last year" comparison; None when it has no history."""
    latest = {}
    for policy in _latest_policies(session, vehicle):
        latest.setdefault(str(policy.line), policy)
    chosen = [latest[line] for line in lines if line in latest]
    if not chosen:
        return None
    return sum((p.premium_incl_tax + (p.vehicle_tax or 0) for p in chosen), Decimal("0.00"))


def _latest_policies(session: Session, vehicle: Vehicle | None) -> list[Policy]:
    if vehicle is None:
        return []
    return list(
        session.scalars(
            select(Policy)
            .where(
                Policy.vehicle_id == vehicle.id,
                Policy.status.in_(
                    [PolicyStatus.IN_FORCE, PolicyStatus.PENDING_CONFIRMATION, PolicyStatus.EXPIRED]
                ),
            )
            .order_by(Policy.end_date.desc(), Policy.id.desc())
            .limit(10)
        )
    )


def binding_for(session: Session, tenant_id: int, key: str, on: datetime.date) -> CarrierBinding:
    """One enabled carrier by key (for bind, issue, endorse and cancel)."""
    return carriers_for(session, tenant_id, [], [key], on)[0]
