"""Employees, licences and training (issue 17) as a new user would meet them: the HR pack
installed like any other, the hand-over of a leaver's customers and policies, the licence gate
on issuing, and the licence-expiry reminders — with the bad input and the walls."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditRecord
from app.customers.models import Customer
from app.extensions import db
from app.handover.models import HandoverRecord
from app.policies.models import Policy
from app.security import roles as r
from app.security.models import DealerUser
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import api_token, build_world
from tests.app.policies.factory import make_policy

PACKS = Path(__file__).resolve().parents[2] / "metadata" / "packs"
TODAY = datetime.date.today()


def user_id(username: str) -> int:
    with use_scope(system_scope()):
        return db.session.scalar(select(DealerUser.id).where(DealerUser.username == username))


def bearer(client, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(client, username)}"}


def assign_customers(store_id: int, owner: int) -> list[int]:
    with use_scope(system_scope("tests")):
        customers = db.session.scalars(
            select(Customer).where(Customer.org_node_id == store_id)
        ).all()
        for customer in customers:
            customer.owner_id = owner
        db.session.commit()
        return [c.id for c in customers]


def owners(ids: list[int]) -> set[int | None]:
    with use_scope(system_scope()):
        return set(db.session.scalars(select(Customer.owner_id).where(Customer.id.in_(ids))))


# --- hand-over ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def office(app):
    return build_world(
        app,
        {
            "hr": (r.HR, "hq"),
            "leaver": (r.INSURANCE_DESK, "store_a"),
            "heir": (r.INSURANCE_DESK, "store_a"),
            "manager_b": (r.STORE_MANAGER, "store_b"),
            "desk_b": (r.INSURANCE_DESK, "store_b"),
        },
    )


def test_a_leaver_with_records_and_no_successor_is_refused_naming_the_field(app, client, office):
    leaver = user_id(office.users["leaver"])
    customers = assign_customers(office.store_a, leaver)
    headers = bearer(client, office.users["hr"])
    refused = client.post("/api/v1/handover/leave", json={"leaver_id": leaver}, headers=headers)
    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert refused.get_json()["field"] == "successor_id"
    zh = client.post(
        "/api/v1/handover/leave",
        json={"leaver_id": leaver},
        headers={**headers, "Accept-Language": "zh"},
    ).get_json()
    assert "客户 2 条" in zh["message"] and "交接人" in zh["message"]
    assert owners(customers) == {leaver}  # nothing moved
    with use_scope(system_scope()):
        assert db.session.get(DealerUser, leaver).active  # and the login still works


def test_hand_over_moves_customers_and_open_policies_and_stops_the_login(app, client, office):
    leaver, heir = user_id(office.users["leaver"]), user_id(office.users["heir"])
    customers = assign_customers(office.store_a, leaver)
    open_policy = make_policy(office.store_a, salesperson_id=leaver, salesperson_name="leaver")
    closed = make_policy(
        office.store_a, salesperson_id=leaver, salesperson_name="leaver", status="expired"
    )
    leaver_token = bearer(client, office.users["leaver"])
    assert client.get("/api/v1/customer/", headers=leaver_token).status_code == 200
    headers = bearer(client, office.users["hr"])
    held = client.get(f"/api/v1/handover/holdings/{leaver}", headers=headers).get_json()
    counts = {a["key"]: a["count"] for a in held["assignments"]}
    assert counts == {"customer.owner": 2, "policy.salesperson": 1}
    done = client.post(
        "/api/v1/handover/leave",
        json={"leaver_id": leaver, "successor_id": heir, "note": "离职"},
        headers=headers,
    )
    assert done.status_code == 201, done.get_data(as_text=True)
    assert done.get_json()["moved"] == {"customer.owner": 2, "policy.salesperson": 1}
    assert owners(customers) == {heir}
    with use_scope(system_scope()):
        policy = db.session.get(Policy, open_policy)
        assert (policy.salesperson_id, policy.salesperson_name) == (heir, office.users["heir"])
        assert db.session.get(Policy, closed).salesperson_id == leaver  # a fact of the sale
        user = db.session.get(DealerUser, leaver)
        assert not user.active
        record = db.session.scalars(
            select(HandoverRecord).where(HandoverRecord.leaver_id == leaver)
        ).one()
        assert record.login_stopped and record.successor_id == heir
        audited = db.session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.entity == "customer", AuditRecord.record_id.in_(map(str, customers)))
            .where(AuditRecord.after.contains(f'"owner_id": {heir}'))
        )
        assert audited == 2
        assert db.session.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "handover")
        )
    # the leaver's existing token died with the hand-over
    assert client.get("/api/v1/customer/", headers=leaver_token).status_code == 401


def test_hand_over_stays_inside_the_callers_walls(app, client, office):
    other = build_world(app, {"hr": (r.HR, "hq"), "desk": (r.INSURANCE_DESK, "store_a")})
    heir = user_id(office.users["heir"])
    foreign = user_id(other.users["desk"])
    headers = bearer(client, office.users["hr"])
    # another tenant's user is not found, whether as leaver or as successor
    for body in ({"leaver_id": foreign, "successor_id": heir}, {"leaver_id": heir}):
        if "successor_id" not in body:
            body["successor_id"] = foreign
        answer = client.post("/api/v1/handover/", json=body, headers=headers)
        assert answer.status_code == 404, answer.get_data(as_text=True)
    assert client.get(f"/api/v1/handover/holdings/{foreign}", headers=headers).status_code == 404
    # a sibling store's manager does not see store A's people
    manager_b = bearer(client, office.users["manager_b"])
    answer = client.post("/api/v1/handover/", json={"leaver_id": heir}, headers=manager_b)
    assert answer.status_code == 404
    # a manager who sees the leaver but not all their records is refused, nothing moves
    desk_b = user_id(office.users["desk_b"])
    customers = assign_customers(office.store_a, desk_b)
    answer = client.post(
        "/api/v1/handover/",
        json={"leaver_id": desk_b, "successor_id": desk_b},
        headers=manager_b,
    )
    assert answer.status_code == 422 and answer.get_json()["field"] == "successor_id"
    heir_b = build_user(app, office, "heir_b", r.INSURANCE_DESK, office.store_b)
    answer = client.post(
        "/api/v1/handover/",
        json={"leaver_id": desk_b, "successor_id": heir_b},
        headers=manager_b,
    )
    assert answer.status_code == 403, answer.get_data(as_text=True)
    assert owners(customers) == {desk_b}
    # a desk may not hand over at all
    desk = bearer(client, office.users["heir"])
    assert client.post("/api/v1/handover/", json={"leaver_id": heir}, headers=desk).status_code in (
        401,
        403,
    )


def build_user(app, world, suffix: str, role: str, node_id: int) -> int:
    from werkzeug.security import generate_password_hash

    from tests.app.conftest import PASSWORD

    sm = app.appbuilder.sm
    with use_scope(system_scope("tests")):
        username = f"{world.code.lower()}.{suffix}"
        user = sm.user_model(
            username=username,
            first_name=suffix,
            last_name=world.code,
            email=f"{username}@test.local",
            active=True,
            roles=[sm.find_role(role)],
            tenant_id=world.tenant_id,
            org_node_id=node_id,
        )
        user.password = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        db.session.add(user)
        db.session.commit()
        world.users[suffix] = username
        return user.id
