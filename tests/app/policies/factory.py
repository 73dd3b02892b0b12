"""Policies for the tests, made through the real services."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from sqlalchemy import select

from app.customers.models import Vehicle
from app.extensions import db
from app.policies.services import CoverageDraft, PolicyDraft, issue_policy
from app.tenancy.scope import system_scope, use_scope

_numbers = itertools.count(1)


def next_policy_no(prefix: str = "PDAA") -> str:
    return f"{prefix}2026{next(_numbers):012d}"


def commercial_coverages(own_damage="3000.00", third_party="1200.00") -> list[CoverageDraft]:
    return [
        CoverageDraft("own_damage", "机动车损失保险", Decimal(own_damage), Decimal("150000")),
        CoverageDraft(
            "third_party", "机动车第三者责任保险", Decimal(third_party), Decimal("2000000")
        ),
    ]


def store_vehicle(store_id: int) -> Vehicle:
    return db.session.scalars(
        select(Vehicle).where(Vehicle.org_node_id == store_id).order_by(Vehicle.id)
    ).first()


def make_policy(store_id: int, **overrides):
    """A commercial motor policy on the store's first vehicle, issued in the system scope."""
    with use_scope(system_scope("tests")):
        vehicle = store_vehicle(store_id)
        values = dict(
            org_node_id=store_id,
            policy_no=next_policy_no(),
            carrier_key="pingan",
            carrier_name="中国平安",
            line="commercial_motor",
            start_date=datetime.date(2026, 3, 1),
            coverages=commercial_coverages(),
            vehicle_id=vehicle.id,
            customer_id=vehicle.customer_id,
        )
        values.update(overrides)
        policy = issue_policy(db.session, PolicyDraft(**values))
        db.session.commit()
        return policy.id
