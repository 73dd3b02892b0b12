"""What quoting needs of the carriers and the policy book: the tenant's enabled carriers that sell
the products asked for (with their clients, timeouts and locked answers), the reference tariff
in force, and the vehicle's history (its last carrier and last year's premium)."""

from __future__ import annotations

import datetime
import threading
import time
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
# A tenant's carriers and tariff are rebuilt when a publish moves the metadata epoch (read at
# most once a second) and at least every CACHE_SECONDS, so a rotated credential is picked up.
CACHE_SECONDS = 30.0
EPOCH_CHECK_SECONDS = 1.0


class _PerTenantCache:
    """What every quote of a tenant on a day would otherwise rebuild from the database: the
    enabled carriers with their clients (a dozen queries each) and the reference tariff."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple, tuple[int | None, float, Any]] = {}
        self._building: dict[tuple, threading.Lock] = {}  # one lock per key, kept with the keys
        self._epoch: int | None = None
        self._epoch_read_at = 0.0

    def epoch(self, session: Session) -> int | None:
        from app.configuration.models import MetadataEpoch
        from app.tenancy.scope import system_scope, use_scope

        now = time.monotonic()
        if now - self._epoch_read_at >= EPOCH_CHECK_SECONDS:
            with use_scope(system_scope()):
                self._epoch = session.scalar(
                    select(MetadataEpoch.epoch).where(MetadataEpoch.id == 1)
                )
            self._epoch_read_at = now
        return self._epoch

    def get(self, session: Session, key: tuple, build) -> Any:
        """The value for `key`, built by `build()` when missing, built for an older metadata
        epoch, or older than CACHE_SECONDS. One thread builds a key at a time: the others wait
        for its value, or, when the old one is only past its age (same epoch), keep using it
        meanwhile, so 20 desks quoting as an entry ages pay for one rebuild, not twenty."""
        epoch = self.epoch(session)
        with self._lock:
            entry = self._entries.get(key)
            building = self._building.setdefault(key, threading.Lock())
        if entry is not None and entry[0] == epoch:
            if time.monotonic() - entry[1] < CACHE_SECONDS:
                return entry[2]
            if not building.acquire(blocking=False):
                return entry[2]  # another thread is rebuilding it
        else:
            building.acquire()
        try:
            with self._lock:
                entry = self._entries.get(key)
            if (
                entry is not None
                and entry[0] == epoch
                and time.monotonic() - entry[1] < CACHE_SECONDS
            ):
                return entry[2]  # built while this thread waited
            value = build()
            with self._lock:
                if len(self._entries) > 256:
                    self._entries.clear()
                    self._building = {key: building}
                self._entries[key] = (epoch, time.monotonic(), value)
            return value
        finally:
            building.release()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
        self._epoch_read_at = 0.0


CACHE = _PerTenantCache()


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

    found = CACHE.get(
        session, ("carriers", tenant_id, on), lambda: enabled_carriers(session, tenant_id, on)
    )
    enabled = {b.key: b for b in found}
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


def tariff_for(session: Session, tenant_id: int, on: datetime.date, trace: bool = False):
    """The reference tariff in force on the start date, with every rule set the products use
    compiled now, so that the carriers' threads only read it. Quotes price without the rules
    engine's trace (a fourth of the time); binding prices again with it, and that trace is the
    policy's lineage."""
    from app.carriers.tariff import platform_tariff

    tariff = CACHE.get(
        session, ("tariff", tenant_id, on), lambda: platform_tariff(session, tenant_id, on)
    )
    return tariff.tracing(trace)


def last_year_total(latest_first: Sequence[Policy], lines: Sequence[str]) -> Decimal | None:
    """Premium plus 车船税 of the vehicle's latest policy of each line asked, for the "against
    last year" comparison; None when it has no history."""
    latest = {}
    for policy in latest_first:
        latest.setdefault(str(policy.line), policy)
    chosen = [latest[line] for line in lines if line in latest]
    if not chosen:
        return None
    return sum((p.premium_incl_tax + (p.vehicle_tax or 0) for p in chosen), Decimal("0.00"))


def latest_policies(session: Session, vehicle: Vehicle | None) -> list[Policy]:
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
