"""The audit trail: before/after values of a change, deletes, permission changes, append-only."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from app.audit.models import AuditAction, AuditRecord
from app.customers.models import Customer
from app.extensions import db
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import build_world, login


def _latest(action: str, entity: str, record_id: str) -> AuditRecord:
    with use_scope(system_scope()):
        return db.session.scalars(
            select(AuditRecord)
            .where(
                AuditRecord.action == action,
                AuditRecord.entity == entity,
                AuditRecord.record_id == record_id,
            )
            .order_by(AuditRecord.id.desc())
        ).first()


def _a_customer(world) -> Customer:
    with use_scope(system_scope()):
        return db.session.scalars(
            select(Customer).where(Customer.org_node_id == world.store_a)
        ).first()


def test_an_edit_through_the_screen_records_before_and_after(app, client):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    customer = _a_customer(world)
    old_mobile, old_name = customer.mobile, customer.name
    login(client, world.users["desk"])
    form = {
        "org_node": str(world.store_a),
        "name": old_name,
        "kind": "person",
        "id_number": customer.id_number,
        "credit_code": "",
        "mobile": "13812345678",
        "address": "",
        "birthday": "",
    }
    response = client.post(f"/customerview/edit/{customer.id}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    record = _latest(AuditAction.UPDATE, "customer", str(customer.id))
    assert json.loads(record.before)["mobile"] == old_mobile
    assert json.loads(record.after)["mobile"] == "13812345678"
    assert "name" not in json.loads(record.after)  # only what changed
    assert record.username == world.users["desk"]
    assert record.tenant_id == world.tenant_id and record.org_node_id == world.store_a


def test_insert_and_delete_are_recorded_with_their_values(app):
    world = build_world(app)
    with use_scope(system_scope("tester")):
        customer = Customer(
            tenant_id=world.tenant_id,
            org_node_id=world.store_b,
            name="审计客户",
            mobile="13900001111",
        )
        db.session.add(customer)
        db.session.commit()
        pk = str(customer.id)
        db.session.delete(customer)
        db.session.commit()
    inserted = _latest(AuditAction.INSERT, "customer", pk)
    deleted = _latest(AuditAction.DELETE, "customer", pk)
    assert inserted.before is None and json.loads(inserted.after)["name"] == "审计客户"
    assert json.loads(deleted.before)["mobile"] == "13900001111" and deleted.after is None
    assert inserted.username == "tester"


def test_a_change_and_its_audit_roll_back_together(app):
    world = build_world(app)
    customer = _a_customer(world)
    with use_scope(system_scope()):
        row = db.session.get(Customer, customer.id)
        row.address = "回滚路1号"
        db.session.flush()
        db.session.rollback()
    with use_scope(system_scope()):
        addresses = [
            json.loads(r.after).get("address")
            for r in db.session.scalars(
                select(AuditRecord).where(
                    AuditRecord.entity == "customer", AuditRecord.record_id == str(customer.id)
                )
            )
            if r.after
        ]
    assert "回滚路1号" not in addresses


def test_role_permission_changes_are_recorded(app):
    sm = app.appbuilder.sm
    with use_scope(system_scope("tester")):
        role = sm.find_role("hr")
        before = list(role.permissions)
        role.permissions = before[:-1]
        db.session.commit()
        record = db.session.scalars(
            select(AuditRecord)
            .where(
                AuditRecord.action == AuditAction.PERMISSION_CHANGE, AuditRecord.entity == "ab_role"
            )
            .order_by(AuditRecord.id.desc())
        ).first()
        assert str(before[-1]) in json.loads(record.before)["permissions"]
        assert str(before[-1]) not in json.loads(record.after)["permissions"]
        role.permissions = before
        db.session.commit()


def test_passwords_are_masked_in_the_trail(app):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    record = _latest(AuditAction.INSERT, "ab_user", _user_id(world.users["desk"]))
    assert json.loads(record.after)["password"] == "******"


def _user_id(username: str) -> str:
    from app.security.models import DealerUser

    with use_scope(system_scope()):
        return str(db.session.scalar(select(DealerUser.id).where(DealerUser.username == username)))


def test_audit_records_are_append_only_in_the_orm(app):
    with use_scope(system_scope()):
        record = db.session.scalars(select(AuditRecord)).first()
        record.detail = "tampered"
        with pytest.raises(PermissionError):
            db.session.flush()
        db.session.rollback()


def test_audit_records_are_append_only_in_the_database(app):
    with use_scope(system_scope()):
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text("UPDATE audit_record SET detail = 'x'"))
        db.session.rollback()
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text("DELETE FROM audit_record"))
        db.session.rollback()


def test_the_trail_is_browsable_with_filters(app, client):
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    login(client, world.users["admin"])
    page = client.get("/auditrecordview/list/?_flt_0_action=login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert world.users["admin"] in html
