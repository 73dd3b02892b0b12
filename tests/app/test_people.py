"""Employees, licences and training (issue 17) as a new user would meet them: the HR pack
installed like any other, the hand-over of a leaver's customers and policies, the licence gate
on issuing, and the licence-expiry reminders — with the bad input and the walls."""

from __future__ import annotations

import datetime
import os
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
from tests.app.conftest import api_token, build_world, login
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
    hr_id = user_id(office.users["hr"])
    for body, status, field in (
        ({"leaver_id": "abc"}, 422, "leaver_id"),
        ({"leaver_id": 2**40}, 404, "leaver_id"),
        ({"leaver_id": hr_id}, 422, "leaver_id"),  # nobody hands over their own records
        ({"leaver_id": leaver, "successor_id": leaver}, 422, "successor_id"),
        ({"leaver_id": leaver, "successor_id": "x"}, 422, "successor_id"),
        ({"leaver_id": leaver, "note": "长" * 256}, 422, "note"),
    ):
        answer = client.post("/api/v1/handover/", json=body, headers=headers)
        assert (answer.status_code, answer.get_json()["field"]) == (status, field), body
    assert client.post("/api/v1/handover/", data="[]", headers=headers).status_code == 400
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


# --- the HR pack: the story of issue 17 ---------------------------------------------------------


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 160), (40, 90, 160)).save(out, "PNG")
    return out.getvalue()


def _attendee_sheet(rows: list[list]) -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["员工姓名", "职业资格编号", "是否签到", "是否结束", "成绩"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _resident_id(seed: int, birth=datetime.date(1990, 3, 6), male=True) -> str:
    import random

    from app.demo.loader import make_resident_id

    return make_resident_id(random.Random(seed), "310115", birth, male)


def _luhn(body: str) -> str:
    from app.demo.people import _luhn as luhn

    return luhn(body)


@pytest.fixture(scope="module")
def hr(app):
    from tests.app.conftest import install_for
    from tests.app.quoting.helpers import install_core

    install_core(app)
    world = build_world(
        app,
        {
            "hr": (r.HR, "hq"),
            "admin": (r.TENANT_ADMIN, "hq"),
            "manager": (r.STORE_MANAGER, "store_a"),
            "desk": (r.INSURANCE_DESK, "store_a"),
            "heir": (r.INSURANCE_DESK, "store_a"),
        },
    )
    install_for(app, world, str(PACKS / "demo"))
    install_for(app, world, str(PACKS / "hr"))
    return world


def employee_body(world, suffix: str, number: str, **extra) -> dict:
    body = {
        "employee_no": number,
        "name": {"desk": "张三", "manager": "王店长", "heir": "李四"}.get(suffix, suffix),
        "department": "保险部",
        "position": "业务员",
        "id_number": _resident_id(len(number) * 7 + int(number[-2:])),
        "mobile": "13800000002",
        "bank_card": _luhn("622202100012345678"),
        "org_node_id": world.store_a,
        "user": world.users[suffix],
        "licence_no": f"02000131000080002026{number[-2:]}0001",
        "licence_type": "ancillary",
        "licence_issue_date": (TODAY - datetime.timedelta(days=700)).isoformat(),
        "licence_expiry": (TODAY + datetime.timedelta(days=365)).isoformat(),
        "registry_status": "registered",
    }
    body.update(extra)
    return body


def bind_order(app, client, world, who="desk"):
    from tests.app.quoting.helpers import first_vehicle, quote_body

    headers = bearer(client, world.users[who])
    vehicle = first_vehicle(app, world.store_a)
    quote = client.post(
        "/api/v1/quote/?wait=1", json=quote_body(vehicle, carriers=["picc"]), headers=headers
    ).get_json()
    chosen = next(a for a in quote["answers"] if a["status"] == "ok")
    return client.post(
        "/api/v1/order/",
        json={"quote_id": quote["id"], "items": [{"answer_id": chosen["id"]}]},
        headers=headers,
    )


def test_the_story_hr_adds_trains_and_the_licence_gate_and_the_leaving(app, client, hr):
    from tests.app.quoting.helpers import pay_in_sandbox, run_queued_jobs

    headers = bearer(client, hr.users["hr"])
    # HR adds the manager, then the desk with a licence, a photo and a superior
    manager = client.post(
        "/api/v1/staff/", json=employee_body(hr, "manager", "LH0001"), headers=headers
    )
    assert manager.status_code == 201, manager.get_data(as_text=True)
    body = employee_body(hr, "desk", "LH0002", superior=manager.get_json()["id"])
    created = client.post("/api/v1/staff/", json=body, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    desk = created.get_json()["result"]
    assert desk["birth_date"] == "1990-03-06" and desk["sex"] == "male"  # from the ID number
    photo = client.post(
        f"/api/v1/staff/{desk['id']}/files/photo",
        data={"file": (__import__("io").BytesIO(_png()), "zhang.png")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert photo.status_code in (200, 201), photo.get_data(as_text=True)
    # a month's pay
    month = (TODAY.replace(day=1) - datetime.timedelta(days=1)).strftime("%Y-%m")
    pay = client.put(
        f"/api/v1/staff/{desk['id']}",
        json={
            "pay_lines": [
                {"month": month, "item": "base", "amount": "6000"},
                {"month": month, "item": "commission", "amount": "1234.565"},
            ]
        },
        headers=headers,
    )
    assert pay.status_code == 200, pay.get_data(as_text=True)
    shown = client.get(f"/api/v1/staff/{desk['id']}", headers=headers).get_json()["result"]
    assert [line["amount"] for line in shown["pay_lines"]] == ["6000.00", "1234.57"]
    assert shown["photo"] and shown["photo"][0]["content_type"].startswith("image/")
    assert shown["id_number"] == body["id_number"]  # HR sees what HR keeps
    # the store manager reads the record with the ID number and bank card masked
    seen = client.get(
        f"/api/v1/staff/{desk['id']}", headers=bearer(client, hr.users["manager"])
    ).get_json()["result"]
    assert seen["id_number"] != body["id_number"] and "*" in seen["id_number"]
    assert seen["bank_card"] != body["bank_card"] and "*" in seen["bank_card"]
    assert seen["mobile"] == body["mobile"]  # a manager may call their staff

    # a course, 30 attendees from Excel, then the scores
    course = client.post(
        "/api/v1/training_course/",
        json={
            "course_type": "advanced",
            "name": "关于中介信息化办法培训",
            "start_date": "2026-11-11",
            "end_date": "2026-11-30",
            "hours": "60",
            "has_exam": True,
            "org_node_id": hr.store_a,
        },
        headers=headers,
    )
    assert course.status_code == 201, course.get_data(as_text=True)
    course_id = course.get_json()["id"]
    rows = [[f"学员{i:02d}", f"C1304104{i:02d}", "是", "否", None] for i in range(30)]
    login(client, hr.users["hr"])
    uploaded = client.post(
        f"/entities/training_course/{course_id}/rows/attendees/import",
        data={"file": (__import__("io").BytesIO(_attendee_sheet(rows)), "attendees.xlsx")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:2000]
    # HR's screens open: the forms of every entity of the pack, the employee and the course
    for path in (
        "/entities/staff/add",
        "/entities/employment_contract/add",
        "/entities/performance_review/add",
        "/entities/training_course/add",
        f"/entities/staff/{desk['id']}/",
        f"/entities/staff/{desk['id']}/edit",
        f"/entities/training_course/{course_id}/",
        "/handover/",
        "/reports/",
        "/notices/",
    ):
        screen = client.get(path)
        assert screen.status_code == 200, (path, screen.status_code)
    # the pack's entities (menu: 员工) are in the side menu's 员工 group, current on their pages
    listed = client.get("/entities/staff/").get_data(as_text=True)
    assert 'href="/entities/staff/" aria-current="page"' in listed
    crumbs = listed[listed.index("dc-breadcrumbs") :][:1500]
    assert crumbs.index("员工") < crumbs.index("员工档案")
    assert 'href="/entities/training_course/"' in listed
    shown = client.get(f"/entities/staff/{desk['id']}/").get_data(as_text=True)
    assert "执业证编号" in shown
    # the page is grouped as the form (图12's sections, in order), the photo at the top right
    headings = [
        shown.index(f">{t}</h4>")
        for t in ("基本信息", "薪酬明细", "证件资料", "执业资格", "关联用户")
    ]
    assert headings == sorted(headings)
    assert shown.index("dc-photo pull-right") < headings[0] < shown.index("执业证编号")
    assert headings[3] < shown.index("执业证编号") < headings[4]
    attendees = client.get(f"/api/v1/training_course/{course_id}", headers=headers).get_json()[
        "result"
    ]["attendees"]
    assert len(attendees) == 30 and attendees[0]["signed_in"] is True
    scored = [{**row, "completed": True, "score": str(60 + i)} for i, row in enumerate(attendees)]
    marked = client.put(
        f"/api/v1/training_course/{course_id}", json={"attendees": scored}, headers=headers
    )
    assert marked.status_code == 200, marked.get_data(as_text=True)
    again = client.get(f"/api/v1/training_course/{course_id}", headers=headers).get_json()
    assert [a["score"] for a in again["result"]["attendees"]][:3] == ["60.0", "61.0", "62.0"]

    # the desk, licensed, binds an order; with the licence expired, binding is refused
    assert bind_order(app, client, hr).status_code == 201
    paid_later = bind_order(app, client, hr).get_json()
    expired = (TODAY - datetime.timedelta(days=1)).isoformat()
    assert (
        client.put(
            f"/api/v1/staff/{desk['id']}", json={"licence_expiry": expired}, headers=headers
        ).status_code
        == 200
    )
    refused = bind_order(app, client, hr)
    assert refused.status_code == 409, refused.get_data(as_text=True)
    assert refused.get_json()["field"] == "salesperson_id"
    # an order bound before the licence expired is not issued either: 出单失败, with the reason
    desk_headers = bearer(client, hr.users["desk"])
    payment = client.post(f"/api/v1/order/{paid_later['id']}/pay", headers=desk_headers)
    pay_in_sandbox(app, client, payment.get_json(), paid_later["order_no"])
    run_queued_jobs(app)
    failed = client.get(f"/api/v1/order/{paid_later['id']}", headers=desk_headers).get_json()
    assert failed["status"] == "issue_failed" and "执业证已过期" in (failed["last_error"] or "")
    with use_scope(system_scope()):
        assert not db.session.scalar(
            select(func.count()).select_from(Policy).where(Policy.order_id == paid_later["id"])
        )
    # renewed, the same order issues
    renewed = (TODAY + datetime.timedelta(days=700)).isoformat()
    client.put(f"/api/v1/staff/{desk['id']}", json={"licence_expiry": renewed}, headers=headers)
    retried = client.post(f"/api/v1/order/{paid_later['id']}/issue", headers=desk_headers)
    assert retried.get_json()["status"] == "issued", retried.get_data(as_text=True)

    # the desk leaves: their customers and open policies go to the successor, the login stops
    desk_user, heir = user_id(hr.users["desk"]), user_id(hr.users["heir"])
    customers = assign_customers(hr.store_a, desk_user)
    with use_scope(system_scope()):
        sold = db.session.scalars(select(Policy.id).where(Policy.salesperson_id == desk_user)).all()
    assert sold
    # 离职 with no successor while the desk holds records: refused whole, naming the field
    refused = client.post(
        f"/api/v1/staff/{desk['id']}/_transition",
        json={"to": "left", "leave_date": TODAY.isoformat()},
        headers=headers,
    )
    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert refused.get_json()["field"] == "successor"
    staying = client.get(f"/api/v1/staff/{desk['id']}", headers=headers).get_json()["result"]
    assert staying["status"] == "active" and staying["leave_date"] is None
    # the same on the record page's 办理离职 button: the page says so, nothing changes
    dated = {"leave_date": TODAY.isoformat()}
    assert client.put(f"/api/v1/staff/{desk['id']}", json=dated, headers=headers).status_code == 200
    button = client.post(
        f"/entities/staff/{desk['id']}/transition", data={"to": "left"}, follow_redirects=True
    )
    assert button.status_code in (200, 422) and "请指定交接人" in button.get_data(as_text=True)
    with use_scope(system_scope()):
        assert db.session.get(DealerUser, desk_user).active and owners(customers) == {desk_user}
    # named (by user name, as people know it), the transition's hook `handover.leave` stops the
    # login and hands everything over in the same save
    left = client.post(
        f"/api/v1/staff/{desk['id']}/_transition",
        json={"to": "left", "leave_date": TODAY.isoformat(), "successor": hr.users["heir"]},
        headers=headers,
    )
    assert left.status_code == 200, left.get_data(as_text=True)
    assert left.get_json()["result"]["successor"] == heir
    assert owners(customers) == {heir}
    with use_scope(system_scope()):
        handed = db.session.scalars(
            select(HandoverRecord).where(HandoverRecord.leaver_id == desk_user)
        ).one()
        assert handed.reason == "leaving" and handed.login_stopped
        assert handed.successor_id == heir and handed.counts["customer.owner"] == len(customers)
        assert db.session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "handover", AuditRecord.username == hr.users["hr"]
            )
        ).all()
    with use_scope(system_scope()):
        assert set(
            db.session.scalars(select(Policy.salesperson_id).where(Policy.id.in_(sold)))
        ) == {heir}
        assert not db.session.get(DealerUser, desk_user).active
    assert client.get("/api/v1/customer/", headers=desk_headers).status_code == 401


def test_bad_id_number_bank_card_and_mobile_are_refused_naming_each_field(app, client, hr):
    headers = {**bearer(client, hr.users["hr"]), "Accept-Language": "zh"}
    good = employee_body(hr, "heir", "LH0101", user=None)
    wrong_check = good["id_number"][:-1] + ("0" if good["id_number"][-1] != "0" else "1")
    bad = {
        **good,
        "id_number": wrong_check,
        "bank_card": good["bank_card"][:-1] + str((int(good["bank_card"][-1]) + 1) % 10),
        "mobile": "12345678901",
    }
    refused = client.post("/api/v1/staff/", json=bad, headers=headers)
    assert refused.status_code == 422, refused.get_data(as_text=True)
    named = refused.get_json()
    text = str(named)
    for field in ("id_number", "bank_card", "mobile"):
        assert field in text, (field, named)
    with use_scope(system_scope()):
        from app.configuration.runtime import REGISTRY

        model = REGISTRY.get(db.session, "staff", hr.tenant_id).model
        assert not db.session.scalar(
            select(func.count()).select_from(model).where(model.employee_no == "LH0101")
        )
    # each alone is refused too, and the good record is accepted
    for field in ("id_number", "bank_card", "mobile"):
        alone = client.post("/api/v1/staff/", json={**good, field: bad[field]}, headers=headers)
        assert alone.status_code == 422 and field in str(alone.get_json()), field
    assert client.post("/api/v1/staff/", json=good, headers=headers).status_code == 201


def test_a_training_upload_with_bad_rows_names_each_row_and_column_and_keeps_nothing(
    app, client, hr
):

    headers = bearer(client, hr.users["hr"])
    course = client.post(
        "/api/v1/training_course/",
        json={
            "course_type": "induction",
            "name": "岗前培训",
            "start_date": "2026-10-08",
            "hours": "24",
            "org_node_id": hr.store_a,
        },
        headers=headers,
    ).get_json()["id"]
    rows = [
        ["赵一", "C100", "是", "是", "88"],
        [None, "C101", "是", "是", "90"],  # row 3: no name
        ["钱二", "C" * 41, "是", "是", "70"],  # row 4: a practitioner number too long
        ["孙三", "C103", "是", "是", "八十"],  # row 5: score not a number
    ]
    login(client, hr.users["hr"])
    answer = client.post(
        f"/entities/training_course/{course}/rows/attendees/import",
        data={"file": (__import__("io").BytesIO(_attendee_sheet(rows)), "bad.xlsx")},
        content_type="multipart/form-data",
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    for row, column in ((3, "员工姓名"), (4, "职业资格编号"), (5, "成绩")):
        assert f"<td>{row}</td><td>{column}" in page.replace("*", ""), (row, column)
    assert "<td>2</td>" not in page  # the good row is not named
    kept = client.get(f"/api/v1/training_course/{course}", headers=headers).get_json()
    assert kept["result"]["attendees"] == []  # nothing half-imported


def test_licences_expiring_within_30_days_remind_the_person_and_their_superior(app, client, hr):
    from app.notices.models import Notice
    from app.notices.tasks import daily_reminders

    headers = bearer(client, hr.users["hr"])
    boss = build_user(app, hr, "boss", r.STORE_MANAGER, hr.store_a)
    clerk = build_user(app, hr, "clerk", r.INSURANCE_DESK, hr.store_a)
    far = build_user(app, hr, "far", r.INSURANCE_DESK, hr.store_a)
    superior = client.post(
        "/api/v1/staff/", json=employee_body(hr, "boss", "LH0201"), headers=headers
    ).get_json()["id"]
    soon = (TODAY + datetime.timedelta(days=10)).isoformat()
    client.post(
        "/api/v1/staff/",
        json=employee_body(hr, "clerk", "LH0202", superior=superior, licence_expiry=soon),
        headers=headers,
    )
    later = (TODAY + datetime.timedelta(days=40)).isoformat()
    client.post(
        "/api/v1/staff/",
        json=employee_body(hr, "far", "LH0203", superior=superior, licence_expiry=later),
        headers=headers,
    )
    with use_scope(system_scope("tests")):
        first = daily_reminders(hr.tenant_id)
        db.session.commit()
        second = daily_reminders(hr.tenant_id)  # the next run: nobody is told twice
        db.session.commit()
        notices = db.session.scalars(
            select(Notice).where(Notice.tenant_id == hr.tenant_id).order_by(Notice.user_id)
        ).all()
    assert first["licence_expiry_notice"] >= 2 and second["licence_expiry_notice"] == 0
    told = {(n.user_id, n.due_date.isoformat()) for n in notices}
    assert {(clerk, soon), (boss, soon)} <= told
    assert not any(n.user_id == far for n in notices)
    links = {n.user_id: n.link for n in notices if n.due_date.isoformat() == soon}
    assert links[boss].startswith("/entities/staff/")  # a manager may open the record
    assert links[clerk] is None  # a desk may not read employee records
    assert all(
        "执业证" in n.body and soon in n.body for n in notices if n.due_date.isoformat() == soon
    )
    # the clerk reads it under 我的提醒; another user does not see it
    login(client, hr.users["clerk"])
    page = client.get("/notices/").get_data(as_text=True)
    assert "执业证即将到期" in page and soon in page
    client.get("/logout/")
    login(client, hr.users["far"])
    assert soon not in client.get("/notices/").get_data(as_text=True)


def test_a_tenant_in_warn_mode_issues_with_an_audited_warning(app, client):
    from app.configuration.install import publish_version, save_draft
    from app.configuration.models import Document
    from tests.app.conftest import install_for
    from tests.app.quoting.helpers import install_core

    install_core(app)
    world = build_world(app, {"desk": (r.INSURANCE_DESK, "store_a")})
    install_for(app, world, str(PACKS / "demo"))
    install_for(app, world, str(PACKS / "hr"))
    assert bind_order(app, client, world).status_code == 409  # no employee record: blocked
    with use_scope(system_scope("tests")):
        document = db.session.scalars(
            select(Document).where(
                Document.tenant_id == world.tenant_id,
                Document.kind == "issue_check",
                Document.key == "salesperson_licence",
            )
        ).one()
        data = dict(document.current_version.data)
        data["version"], data["body"] = "1.0.1", {**data["body"], "mode": "warn"}
        publish_version(db.session, save_draft(db.session, document, data, "tests"), "tests")
    bound = bind_order(app, client, world)
    assert bound.status_code == 201, bound.get_data(as_text=True)
    with use_scope(system_scope()):
        warning = db.session.scalars(
            select(AuditRecord).where(
                AuditRecord.tenant_id == world.tenant_id,
                AuditRecord.action == "issue_check_warning",
            )
        ).one()
    assert "no_record" in warning.detail and bound.get_json()["order_no"] in warning.detail


WIDEST = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 40))"""


def test_the_handover_screen_works_at_phone_width(app, browser, live_server, office, tmp_path):
    """At 390 px: pick the leaver, see what they hold, be told to name a successor, hand over."""
    from tests.app.conftest import browser_login

    leaver = build_user(app, office, "phone_leaver", r.INSURANCE_DESK, office.store_a)
    heir = user_id(office.users["heir"])
    assign_customers(office.store_b, leaver)
    shots = Path(os.environ.get("DC_SCREENSHOTS", tmp_path))
    for width in (1366, 390):
        page = browser_login(browser, live_server, office.users["hr"], width=width)
        page.goto(f"{live_server}/handover/?leaver_id={leaver}")
        assert page.locator("#dc-holdings").inner_text().count("客户") == 1
        page.click("#dc-handover-submit")
        page.wait_for_load_state()
        error = page.locator(".dc-field-error[data-field=successor_id]")
        assert "请指定交接人" in error.inner_text()
        page.screenshot(path=str(shots / f"handover-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (
            f"{width}px: the page scrolls sideways by {overflow}px: {page.evaluate(WIDEST)}"
        )
        if width == 390:
            page.select_option("#successor_id", str(heir))
            page.click("#dc-handover-submit")
            page.wait_for_load_state()
            assert "已交接" in page.content()
            page.screenshot(path=str(shots / "handover-done-390.png"), full_page=True)
        page.close()
    with use_scope(system_scope()):
        assert not db.session.get(DealerUser, leaver).active


def test_training_hours_per_employee_against_the_yearly_minimum(app, client):
    from tests.app.conftest import install_for
    from tests.app.quoting.helpers import install_core

    install_core(app)
    world = build_world(app, {"hr": (r.HR, "hq"), "manager_b": (r.STORE_MANAGER, "store_b")})
    install_for(app, world, str(PACKS / "hr"))
    headers = bearer(client, world.users["hr"])
    year = TODAY.year
    staff = {}
    for who, number in (("甲", "TH0001"), ("乙", "TH0002"), ("丙", "TH0003")):
        made = client.post(
            "/api/v1/staff/",
            json=employee_body(world, "hr", number, name=who, user=None),
            headers=headers,
        )
        assert made.status_code == 201, made.get_data(as_text=True)
        staff[who] = made.get_json()["id"]

    def course(name, hours, day, attendees, store, year=year):
        answer = client.post(
            "/api/v1/training_course/",
            json={
                "course_type": "continuing",
                "name": name,
                "start_date": f"{year}-{day}",
                "hours": hours,
                "org_node_id": store,
                "attendees": [
                    {
                        "employee": staff.get(who),
                        "employee_name": who,
                        "practitioner_no": f"P-{who}",
                        "signed_in": signed,
                        "completed": done,
                    }
                    for who, signed, done in attendees
                ],
            },
            headers=headers,
        )
        assert answer.status_code == 201, answer.get_data(as_text=True)

    course(
        "法规",
        "24",
        "03-01",
        [("甲", True, True), ("乙", True, True), ("丙", True, False)],
        world.store_a,
    )
    course("职业道德", "12.5", "06-01", [("甲", True, True), ("乙", False, True)], world.store_a)
    course("年初的课", "40", "01-01", [("乙", True, True)], world.store_a)
    course("闵行店", "8", "05-05", [("丁", True, True)], world.store_b)
    course("去年的课", "40", "09-09", [("丙", True, True)], world.store_a, year=year - 1)
    login(client, world.users["hr"])
    page = client.get("/reports/training_hours/").get_data(as_text=True)
    table = page.split('id="dc-report-table"', 1)[1]
    rows = {
        cells[0]: cells
        for cells in (
            [
                c.split(">", 1)[1].split("<", 1)[0].strip() if ">" in c else c
                for c in row.split("<td")[1:]
            ]
            for row in table.split("<tr>")[2:]
        )
        if cells
    }
    assert rows["甲"][2:4] == ["2", "36.5"]  # 24 + 12.5 hours, two courses
    assert rows["乙"][2:4] == [
        "2",
        "64",
    ]  # 24 + 40; the 12.5 h course without signing in not counted
    assert rows["丙"][2:4] == ["0", "0"]  # signed in, never completed; last year's not counted
    assert "label-success" in table.split("甲", 1)[1].split("</tr>", 1)[0]
    assert "label-danger" in table.split("丙", 1)[1].split("</tr>", 1)[0]
    assert rows["丁"][2:4] == ["1", "8"]
    # the same hours on each employee's record (the `totals:` of its 培训信息 section)
    for who, hours, met in (("甲", "36.5", True), ("乙", "64", True), ("丙", "0", False)):
        shown = client.get(f"/api/v1/staff/{staff[who]}", headers=headers).get_json()["result"]
        line = shown["_totals"]["training_course.attendees"][0]
        assert (line["label"]["zh"], line["value"], line["minimum"], line["met"]) == (
            "本年已完成培训学时",
            hours,
            36,
            met,
        )
    record_page = client.get(f"/entities/staff/{staff['丙']}/").get_data(as_text=True)
    total = record_page.split('class="dc-related-total"', 1)[1].split("</p>", 1)[0]
    assert "本年已完成培训学时：0" in total and "最低要求 36" in total and "未达标" in total
    # a sibling store's manager sees only their store's attendees
    client.get("/logout/")
    login(client, world.users["manager_b"])
    theirs = client.get("/reports/training_hours/").get_data(as_text=True)
    assert "丁" in theirs and "甲" not in theirs
    exported = client.get("/reports/training_hours/export?period=this_year")
    assert exported.status_code == 200 and exported.data[:2] == b"PK"
    with use_scope(system_scope()):
        assert db.session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.entity == "report:training_hours", AuditRecord.action == "export")
        )
    assert client.get("/reports/training_hours/?period=fortnight").status_code == 200
    assert "期间不正确" in client.get("/reports/training_hours/?period=fortnight").get_data(
        as_text=True
    )


def test_joining_creates_a_roleless_login_linked_on_the_record(app, client, hr):
    """HR adds an employee with 创建登录账号: a login of the record's tenant and store, with no
    roles (a tenant admin gives them), linked in 登录账号; its temporary password is told once
    and works; a taken login name is refused naming the field and nothing is saved."""
    headers = bearer(client, hr.users["hr"])
    login_name = f"{hr.code.lower()}.join"
    body = employee_body(hr, "desk", "LJ0001", create_login=True, login_name=login_name)
    body.pop("user")
    created = client.post("/api/v1/staff/", json=body, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    answer = created.get_json()
    notice = answer["_notices"][0]
    assert login_name in notice["zh"] and "系统管理 → 用户" in notice["zh"]
    password = notice["zh"].split("临时密码：", 1)[1].split("（", 1)[0]
    with use_scope(system_scope()):
        made = db.session.scalar(select(DealerUser).where(DealerUser.username == login_name))
        assert made is not None and made.active
        assert (made.tenant_id, made.org_node_id) == (hr.tenant_id, hr.store_a)
        assert made.roles == [] and made.first_name == "张三" and made.phone == "13800000002"
        assert answer["result"]["user"] == made.id
        assert answer["result"]["create_login"] is False  # asked once, done
        events = db.session.scalars(
            select(AuditRecord).where(AuditRecord.tenant_id == hr.tenant_id)
        ).all()
        assert any(e.action == "create_login" and login_name in (e.detail or "") for e in events)
        assert not any(password in f"{e.detail}{e.before}{e.after}" for e in events)
    # the password is told once: reading the record again does not repeat it
    again = client.get(f"/api/v1/staff/{answer['id']}", headers=headers).get_json()
    assert "_notices" not in again and password not in str(again)
    assert (
        client.post(
            "/api/v1/security/login",
            json={"username": login_name, "password": password, "provider": "db"},
        ).status_code
        == 200
    )
    # on the screen: the add form flashes the password once on the record's page
    import re

    login(client, hr.users["hr"])
    add = client.get("/entities/staff/add").get_data(as_text=True)
    assert "创建登录账号" in add and "登录用户名" in add
    token = re.search(r'<meta name="csrf-token" content="([^"]*)"', add).group(1)
    form = {
        "csrf_token": token,
        "org_node_id": str(hr.store_a),
        "employee_no": "LJ0010",
        "name": "赵六",
        "status": "active",
        "mobile": "13800000010",
        "create_login": "y",
        "login_name": f"{hr.code.lower()}.screen",
        "pay_lines-count": "0",
    }
    saved = client.post("/entities/staff/add", data=form, content_type="multipart/form-data")
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    shown = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert f"创建登录账号 {hr.code.lower()}.screen，临时密码：" in shown
    assert "临时密码" not in client.get(saved.headers["Location"]).get_data(as_text=True)
    taken = client.post(
        "/entities/staff/add",
        data={**form, "employee_no": "LJ0011"},
        content_type="multipart/form-data",
    )
    assert taken.status_code == 200 and "已被使用" in taken.get_data(as_text=True)
    client.get("/logout/")  # which ends the HR's older API tokens too
    headers = bearer(client, hr.users["hr"])
    # a taken login name (any case), and a missing one: 422 naming the field, nothing saved
    for number, name in (("LJ0002", login_name.upper()), ("LJ0003", "")):
        refused = client.post(
            "/api/v1/staff/",
            json={**body, "employee_no": number, "login_name": name},
            headers=headers,
        )
        assert refused.status_code == 422, refused.get_data(as_text=True)
        assert refused.get_json()["field"] == "login_name"
        listed = client.get(f"/api/v1/staff/?q={number}", headers=headers).get_json()
        assert listed["count"] == 0
    with use_scope(system_scope()):
        assert (
            db.session.scalar(
                select(func.count()).select_from(DealerUser).where(DealerUser.username == "")
            )
            == 0
        )
    # without 创建登录账号 nothing is created
    plain = client.post(
        "/api/v1/staff/",
        json={**body, "employee_no": "LJ0004", "create_login": False, "login_name": "lj.none"},
        headers=headers,
    )
    assert plain.status_code == 201 and plain.get_json()["result"]["user"] is None
    assert "_notices" not in plain.get_json()
    assert user_id("lj.none") is None
    # ticked later on the existing record: created then, and the request is cleared
    later = client.put(
        f"/api/v1/staff/{plain.get_json()['id']}",
        json={"create_login": True, "login_name": f"{hr.code.lower()}.later"},
        headers=headers,
    )
    assert later.status_code == 200, later.get_data(as_text=True)
    assert later.get_json()["result"]["user"] == user_id(f"{hr.code.lower()}.later")
    assert later.get_json()["result"]["create_login"] is False and later.get_json()["_notices"]
    # another tenant: cannot see the record or its login, nor take the name; its own login
    # lands in its own tenant
    other = build_world(app, {"hr": (r.HR, "hq")})
    from tests.app.conftest import install_for

    install_for(app, other, str(PACKS / "hr"))
    theirs = bearer(client, other.users["hr"])
    assert client.get(f"/api/v1/staff/{answer['id']}", headers=theirs).status_code == 404
    clash = client.post(
        "/api/v1/staff/",
        json={
            **employee_body(other, "hr", "LJ0001", create_login=True, login_name=login_name),
            "user": None,
        },
        headers=theirs,
    )
    assert clash.status_code == 422 and clash.get_json()["field"] == "login_name"
    into_a = client.post(
        "/api/v1/staff/",
        json={**body, "employee_no": "LJ0005", "login_name": f"{other.code.lower()}.x"},
        headers=theirs,
    )
    assert into_a.status_code == 422 and user_id(f"{other.code.lower()}.x") is None
    own = client.post(
        "/api/v1/staff/",
        json={
            **employee_body(
                other, "hr", "LJ0006", create_login=True, login_name=f"{other.code.lower()}.own"
            ),
            "user": None,
        },
        headers=theirs,
    )
    assert own.status_code == 201, own.get_data(as_text=True)
    with use_scope(system_scope()):
        made = db.session.get(DealerUser, own.get_json()["result"]["user"])
        assert (made.tenant_id, made.org_node_id) == (other.tenant_id, other.store_a)


def test_the_new_tenant_tables_are_behind_row_security(app):
    if not db.engine.url.drivername.startswith("postgresql"):
        pytest.skip("row-level security is PostgreSQL's")
    from importlib import import_module

    from app.tenancy.row_security import tables_without_row_security

    revision = import_module("migrations.versions.0013_people")
    assert set(revision.TABLES) == {"handover_record", "notice"}
    with db.engine.connect() as connection:
        assert tables_without_row_security(connection, revision.TABLES) == []
