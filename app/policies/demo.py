"""A living demo book: about 13 months of policies across the demo stores and every carrier the
demo tenant has enabled, priced through the real pricing path — the platform tariff over the
product documents in force on each start date (app.carriers.tariff, which runs
app.quoting.pricing.price_product), with each carrier's own pricing factor from its carrier
document — then issued through `issue_policy`, with renewals a year later, endorsements and
cancellations. Idempotent: a tenant that already has policies is left alone."""

from __future__ import annotations

import datetime
import itertools
import random
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.carriers.contract import CoverageRequest
from app.customers.models import Customer, FuelType, Vehicle
from app.organisation.models import OrgNode
from app.policies.labels import PolicyLine, PolicyStatus
from app.policies.models import Policy
from app.policies.services import (
    CoverageDraft,
    EndorsementChange,
    PolicyDraft,
    cancel,
    combined_types,
    confirm,
    endorse,
    expire_due,
    issue_policy,
)

MONTHS = 13
NEW_PER_STORE_MONTH = 3
THIRD_PARTY_LIMITS = ("1000000", "1500000", "2000000", "3000000")
RECORDS = ("A1", "A2", "A3", "A4")


def load_policy_book(
    session: Session, stores: Sequence[OrgNode], today: datetime.date | None = None
) -> int:
    """Create the demo book for the stores' tenant; returns the number of policies made."""
    if not stores:
        return 0
    tenant_id = stores[0].tenant_id
    exists = session.scalar(select(func.count(Policy.id)).where(Policy.tenant_id == tenant_id))
    if exists:
        return 0
    today = today or datetime.date.today()
    session.flush()
    carriers = _carriers(session, tenant_id, today)
    if not carriers:
        return 0
    book = _Book(session, tenant_id, carriers, random.Random(20261202), today)
    first = _month_start(today, MONTHS - 1)
    for month in range(MONTHS):
        day0 = _month_start(today, MONTHS - 1 - month)
        for store in stores:
            for _ in range(NEW_PER_STORE_MONTH):
                vehicle = book.new_vehicle(store, day0)
                start = day0 + datetime.timedelta(days=book.rng.randrange(0, 27))
                if start <= today:
                    book.sell(store, vehicle, start)
        # a year on, last year's cars come back: renewals and transfers
        for store, vehicle, start, carrier in list(book.due_renewal(day0, first)):
            book.sell(store, vehicle, start, previous=carrier)
    expire_due(session, today)
    book.adjust()
    session.flush()
    return book.count


def _month_start(today: datetime.date, months_back: int) -> datetime.date:
    month = today.year * 12 + today.month - 1 - months_back
    return datetime.date(month // 12, month % 12 + 1, 1)


def _carriers(session: Session, tenant_id: int, on: datetime.date) -> list[dict[str, Any]]:
    from app.configuration.lookup import documents_in_force

    found = []
    for version in documents_in_force(session, "carrier", tenant_id, on):
        body = version.data["body"]
        config = body.get("config") or {}
        if body.get("plugin") != "sandbox" or not body.get("enabled", True):
            continue
        found.append(
            {
                "key": version.data["key"],
                "name": body.get("name", {}).get("zh") or version.data["key"],
                "factor": Decimal(
                    str((config.get("pricing_factors") or {}).get("commercial_motor", "1.0"))
                ),
                "branch": str(config.get("branch_code", "310000")),
                "prefixes": (config.get("policy_number") or {}).get("prefixes") or {},
                "max_age": (config.get("underwriting") or {}).get("max_vehicle_age_years"),
            }
        )
    return found


class _Book:
    def __init__(self, session, tenant_id, carriers, rng, today) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.carriers = carriers
        self.rng = rng
        self.today = today
        self.count = 0
        self.numbers = itertools.count(1)
        self.sold: list[tuple[OrgNode, Vehicle, datetime.date, str]] = []
        self.tariffs: dict[datetime.date, Any] = {}
        self.issued: list[Policy] = []

    # -- vehicles -------------------------------------------------------------------------

    def new_vehicle(self, store: OrgNode, day: datetime.date) -> Vehicle:
        from app.demo.loader import (
            AREA_CODES,
            GIVEN,
            SURNAMES,
            WMI,
            make_plate,
            make_resident_id,
            make_vin,
        )

        rng = self.rng
        province, city = store.city.province, store.city.name
        is_new = rng.random() < 0.45
        register = (
            day if is_new else datetime.date(rng.randrange(2016, 2025), rng.randrange(1, 13), 1)
        )
        birth = datetime.date(rng.randrange(1965, 2002), rng.randrange(1, 13), rng.randrange(1, 28))
        customer = Customer(
            tenant_id=store.tenant_id,
            org_node_id=store.id,
            name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN]),
            id_number=make_resident_id(rng, AREA_CODES[province], birth, rng.random() < 0.6),
            mobile=f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
        )
        electric = store.brand.code == "BYD"
        for _ in range(20):  # plates and VINs are unique per tenant
            plate = make_plate(rng, province, city, electric)
            vin = make_vin(rng, WMI.get(store.brand.code, "LVS"), "R")
            taken = self.session.scalar(
                select(Vehicle.id).where(
                    Vehicle.tenant_id == store.tenant_id,
                    (Vehicle.plate == plate) | (Vehicle.vin == vin),
                )
            )
            if taken is None:
                break
        vehicle = Vehicle(
            tenant_id=store.tenant_id,
            org_node_id=store.id,
            customer=customer,
            plate=plate,
            vin=vin,
            brand=store.brand,
            model_name=rng.choice(["紧凑型轿车", "中型SUV", "MPV", "中大型轿车"]),
            register_date=register,
            seats=rng.choice([5, 5, 5, 7]),
            displacement=None if electric else Decimal(rng.choice(["1.40", "1.50", "2.00"])),
            fuel=FuelType.ELECTRIC if electric else FuelType.PETROL,
            purchase_price=Decimal(rng.randrange(100_000, 420_000)),
            is_new=is_new,
        )
        self.session.add_all([customer, vehicle])
        self.session.flush()
        return vehicle

    def due_renewal(self, day0: datetime.date, first: datetime.date):
        """Policies sold twelve months before `day0`'s month come up for renewal now."""
        if day0 < _month_start(first, -12):
            return
        for store, vehicle, start, carrier in list(self.sold):
            if (start.year + 1, start.month) == (day0.year, day0.month) and self.rng.random() < 0.7:
                renewal = (
                    start.replace(year=start.year + 1)
                    if start.month != 2 or start.day < 29
                    else start
                )
                if renewal <= self.today:
                    yield store, vehicle, renewal, carrier

    # -- pricing and issuing ------------------------------------------------------------

    def tariff(self, on: datetime.date):
        from app.carriers.tariff import platform_tariff

        if on not in self.tariffs:
            self.tariffs[on] = platform_tariff(self.session, self.tenant_id, on)
        return self.tariffs[on]

    def sell(self, store, vehicle, start, previous: str | None = None) -> None:
        rng = self.rng
        if previous is not None and rng.random() < 0.75:
            carrier = next(c for c in self.carriers if c["key"] == previous)
        else:
            carrier = rng.choice(self.carriers)
        if vehicle.is_new and previous is not None:
            vehicle.is_new = False
        tariff = self.tariff(start)
        record = "A4" if vehicle.is_new or previous is None else rng.choice(RECORDS)
        lines: list[tuple[PolicyLine, Any, list[CoverageDraft], Decimal]] = []
        jqx = tariff.price(
            "compulsory_motor",
            {
                "province": store.city.province,
                "vehicle_class": vehicle.vehicle_class,
                "seats": vehicle.seats,
                "record": record,
                "displacement_l": vehicle.displacement or Decimal("0"),
                "fuel": vehicle.fuel.value,
            },
        )
        lines.append(
            (
                PolicyLine.COMPULSORY_MOTOR,
                jqx,
                [CoverageDraft("compulsory_motor", "交强险", jqx.premium, Decimal("200000"))],
                jqx.collected.get("vehicle_tax", Decimal("0.00")),
            )
        )
        compulsory_only = rng.random() < 0.12
        if not compulsory_only and "commercial_motor" in tariff.products:
            lines.append(self._commercial(tariff, store, vehicle, start, carrier, previous))
        types = combined_types([line for line, *_ in lines])
        for line, priced, coverages, tax in lines:
            self._issue(
                store, vehicle, start, carrier, line, priced, coverages, tax, types, compulsory_only
            )
        self.sold.append((store, vehicle, start, carrier["key"]))

    def _commercial(self, tariff, store, vehicle, start, carrier, previous):
        rng = self.rng
        age = (
            0
            if vehicle.is_new or vehicle.register_date is None
            else max((start - vehicle.register_date).days // 365, 0)
        )
        asked = [
            CoverageRequest("own_damage", None, {}),
            CoverageRequest("third_party", Decimal(rng.choice(THIRD_PARTY_LIMITS)), {}),
        ]
        if rng.random() < 0.5:
            asked.append(CoverageRequest("driver", Decimal("10000"), {}))
        if rng.random() < 0.3:
            asked.append(CoverageRequest("roadside_rescue", None, {}))
        priced = tariff.price(
            "commercial_motor",
            {
                "province": store.city.province,
                "purchase_price": vehicle.purchase_price,
                "vehicle_age": age,
                "claims_last_year": 0 if previous is None else rng.choice([0, 0, 0, 1]),
                "claim_free_years": 0 if previous is None else rng.choice([1, 2, 3, 4]),
                "pricing_factor": carrier["factor"],
            },
            asked,
        )
        names = {
            c["code"]: c["name"]["zh"] for c in tariff.product("commercial_motor")["coverages"]
        }
        coverages = [
            CoverageDraft(code, names.get(code, code), premium, _sum_insured(asked, code))
            for code, premium in priced.coverage_premiums.items()
            if premium > 0
        ]
        if sum((c.premium_incl_tax for c in coverages), Decimal("0")) != priced.premium:
            coverages = [CoverageDraft("commercial_motor", "商业车险", priced.premium)]
        return PolicyLine.COMMERCIAL_MOTOR, priced, coverages, Decimal("0.00")

    def _issue(
        self, store, vehicle, start, carrier, line, priced, coverages, tax, types, compulsory_only
    ) -> None:
        number = self._number(carrier, line, start)
        issued_at = datetime.datetime.combine(
            start - datetime.timedelta(days=self.rng.randrange(0, 5)), datetime.time(2, 0)
        ) + datetime.timedelta(minutes=self.rng.randrange(0, 480))
        policy = issue_policy(
            self.session,
            PolicyDraft(
                org_node_id=store.id,
                policy_no=number,
                carrier_key=carrier["key"],
                carrier_name=carrier["name"],
                line=line,
                start_date=start,
                coverages=coverages,
                vehicle_tax=tax,
                product_key=priced.product_key,
                product_version=priced.product_version,
                business_type=types.get(line),
                compulsory_only=compulsory_only and line == PolicyLine.COMPULSORY_MOTOR,
                issuing_terminal=self.rng.choice(["pc", "pc", "phone"]),
                customer_id=vehicle.customer_id,
                vehicle_id=vehicle.id,
                salesperson_name=self.rng.choice(["李娜", "王强", "张敏", "陈杰"]),
                practitioner_no=f"0200013100008000{self.rng.randrange(10**10):010d}",
                lineage={
                    "documents": [
                        {"key": key, "version": version} for key, version in priced.versions.items()
                    ],
                    "explain": {k: str(v) for k, v in priced.explain.items()},
                    "trace": _trace_summary(priced.trace),
                    "pricing_factor": str(carrier["factor"]),
                },
                issued_at=issued_at,
                created_by="demo",
            ),
        )
        if (self.today - start).days > 3:
            confirm(self.session, policy, issued_at + datetime.timedelta(hours=2))
        self.issued.append(policy)
        self.count += 1

    def _number(self, carrier, line: PolicyLine, start: datetime.date) -> str:
        code = "motor_non_motor" if line == PolicyLine.DRIVER_PASSENGER_ACCIDENT else line.value
        prefix = str(carrier["prefixes"].get(code, "10"))
        return f"{prefix}{carrier['branch']}{start:%y}{next(self.numbers):010d}"

    # -- endorsements and cancellations ---------------------------------------------------

    def adjust(self) -> None:
        rng = self.rng
        for policy in self.issued:
            if policy.status not in (PolicyStatus.IN_FORCE, PolicyStatus.PENDING_CONFIRMATION):
                continue
            latest = min(self.today, policy.end_date)
            if (latest - policy.start_date).days < 30:
                continue
            effective = policy.start_date + datetime.timedelta(
                days=rng.randrange(20, (latest - policy.start_date).days)
            )
            roll = rng.random()
            if roll < 0.03:
                cancel(
                    self.session,
                    policy,
                    effective,
                    rng.choice(["车辆转卖", "重复投保", "车辆报废"]),
                    ask_carrier=False,  # history the carrier already has
                )
            elif roll < 0.07 and policy.line == PolicyLine.COMMERCIAL_MOTOR and policy.coverages:
                raised = [
                    CoverageDraft(
                        c.code,
                        c.name,
                        (c.premium_incl_tax * Decimal("1.1")).quantize(Decimal("0.01")),
                        c.sum_insured,
                    )
                    for c in policy.coverages
                ]
                endorse(
                    self.session,
                    policy,
                    EndorsementChange(
                        kind="change_coverage",
                        effective_date=effective,
                        coverages=raised,
                        reason="提高保额",
                    ),
                    ask_carrier=False,
                )


def _sum_insured(asked: Sequence[CoverageRequest], code: str) -> Decimal | None:
    return next((c.sum_insured for c in asked if c.code == code), None)


def _trace_summary(trace: Any) -> list[dict[str, Any]]:
    """The first steps of the rules engine's trace, as short texts (the whole trace stays
    reproducible from the document versions)."""
    steps = []
    for name, item in (trace or {}).items():
        text = str(item)
        steps.append({"step": name, "detail": text[:300]})
        if len(steps) >= 20:
            break
    return steps
