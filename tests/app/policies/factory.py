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


def add_policy_rows(world) -> None:
    """A policy in each store of the world, with a coverage change, a cancellation on the first
    and a stored 电子保单, so every model of the book has rows on both sides of each wall."""
    from app.policies.documents import store_policy_pdf
    from app.policies.models import Policy
    from app.policies.services import EndorsementChange, endorse

    for store in (world.store_a, world.store_b):
        policy_id = make_policy(store)
        with use_scope(system_scope("tests")):
            policy = db.session.get(Policy, policy_id)
            endorse(
                db.session,
                policy,
                EndorsementChange(
                    kind="change_coverage",
                    effective_date=datetime.date(2026, 6, 1),
                    coverages=commercial_coverages(own_damage="3300.00"),
                ),
            )
            store_policy_pdf(db.session, policy)
            db.session.commit()
