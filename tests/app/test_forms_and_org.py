"""Forms name the field and save nothing on bad input; the org tree keeps its shape."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.customers.models import Customer
from app.extensions import db
from app.organisation.models import NodeKind, OrgNode
from app.tenancy.scope import ScopeViolation, system_scope, use_scope
from tests.app.conftest import build_world, login, scope_of


def _count_customers(world) -> int:
    with use_scope(system_scope()):
        return db.session.scalar(
            select(func.count(Customer.id)).where(Customer.tenant_id == world.tenant_id)
        )


def test_invalid_identifier_names_the_field_and_saves_nothing(app, client):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    login(client, world.users["desk"])
    before = _count_customers(world)
    response = client.post(
        "/customerview/add",
        data={
            "org_node": str(world.store_a),
            "name": "错误身份证客户",
            "kind": "person",
            "id_number": "110105194912310021",
            "mobile": "12345",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "身份证号校验位应为 X" in html  # the console speaks Chinese
    assert "手机号应为 13–19 开头的 11 位数字" in html
    assert _count_customers(world) == before


def test_valid_customer_is_saved_on_the_users_store(app, client):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    login(client, world.users["desk"])
    response = client.post(
        "/customerview/add",
        data={
            "org_node": str(world.store_a),
            "name": "新客户",
            "kind": "person",
            "id_number": "11010519491231002X",
            "mobile": "13912345678",
        },
    )
    assert response.status_code == 302
    with use_scope(system_scope()):
        customer = db.session.scalar(
            select(Customer).where(Customer.tenant_id == world.tenant_id, Customer.name == "新客户")
        )
    assert customer.org_node_id == world.store_a and customer.mobile == "13912345678"


def test_store_form_needs_a_brand_and_a_right_parent(app, client):
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    login(client, world.users["admin"])
    response = client.post(
        "/orgnodeview/add",
        data={"parent": str(world.store_a), "kind": "store", "code": "SX", "name": "错店"},
        follow_redirects=True,
    )
    assert "不能挂在" in response.get_data(as_text=True)  # the console speaks Chinese
    with use_scope(system_scope()):
        assert (
            db.session.scalar(
                select(OrgNode).where(OrgNode.tenant_id == world.tenant_id, OrgNode.code == "SX")
            )
            is None
        )


def test_new_nodes_get_paths_and_moving_a_subtree_rewrites_them(app):
    world = build_world(app)
    with use_scope(system_scope()):
        region = db.session.get(OrgNode, world.region)
        new_region = OrgNode(
            tenant_id=world.tenant_id,
            parent_id=world.hq,
            kind=NodeKind.REGION,
            code="R2",
            name="华南",
        )
        db.session.add(new_region)
        db.session.flush()
        assert new_region.path == f"/{world.hq}/{new_region.id}/"
        area = db.session.get(OrgNode, world.area)
        area.parent_id = new_region.id
        db.session.commit()
        db.session.expire_all()
        store = db.session.get(OrgNode, world.store_a)
        assert store.path == f"/{world.hq}/{new_region.id}/{world.area}/{world.store_a}/"
        assert region.path == f"/{world.hq}/{world.region}/"


def test_a_region_manager_cannot_create_nodes_outside_their_region(app):
    world = build_world(app)
    other = build_world(app)
    manager = build_world(app, {"manager": ("region_manager", "region")})
    with use_scope(scope_of(manager.users["manager"])):
        node = OrgNode(parent_id=other.area, kind=NodeKind.STORE, code="X9", name="越界店")
        db.session.add(node)
        with pytest.raises(ScopeViolation):
            db.session.flush()
        db.session.rollback()
    assert world.tenant_id != other.tenant_id
