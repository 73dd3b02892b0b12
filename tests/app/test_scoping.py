"""Scoping across tenants and sibling stores, for every scoped model: list pages, show, edit and
delete pages, the REST API and exports. The models and screens are found by walking what is
registered, so a new model is covered without touching this file."""

from __future__ import annotations

import io

import pytest
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.baseviews import BaseCRUDView
from flask_appbuilder.security.sqla.models import User
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.jobs import enqueue
from app.organisation.models import OrgNode, Tenant
from app.tenancy.catalogue import GLOBAL_TABLES, is_scoped, scoped_models, unscoped_models
from app.tenancy.mixins import Scoped, SharedScoped
from app.tenancy.scope import system_scope, use_scope
from tests.app.carriers.factory import add_carrier_rows
from tests.app.conftest import (
    add_entity_records,
    api_token,
    build_world,
    install_for,
    login,
    reminder_entity,
    scope_of,
    write_pack,
)
from tests.app.entity_factory import FILES_FIELD, add_entity_files
from tests.app.people_factory import add_people_rows
from tests.app.policies.factory import add_policy_rows
from tests.app.quoting.factory import add_quoting_rows
from tests.app.test_cameras import add_camera_rows
from tests.app.test_monitoring import add_monitoring_rows


def test_every_model_is_scoped_or_declared_global():
    assert unscoped_models() == []


def test_a_model_that_forgets_to_opt_in_is_caught():
    from sqlalchemy import Column, Integer
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass

    class ForgetfulThing(Base):
        __tablename__ = "forgetful_thing"
        id = Column(Integer, primary_key=True)

    class CarefulThing(Scoped, Base):
        __tablename__ = "careful_thing"
        id = Column(Integer, primary_key=True)

    assert unscoped_models(Base.registry.mappers) == ["ForgetfulThing"]


def _expected_visible(model, row, world) -> bool:
    """What a user on store A of `world` may see, written out independently of the guard."""
    if model is Tenant:
        return row.id == world.tenant_id
    if model is OrgNode:
        return row.id == world.store_a
    if issubclass(model, SharedScoped):  # configuration is read tenant-wide
        return row.tenant_id in (None, world.tenant_id)
    return row.tenant_id == world.tenant_id and row.org_node_id == world.store_a


@pytest.fixture(scope="module")
def worlds(app, tmp_path_factory):
    mine = build_world(
        app,
        {
            "probe": ("scope_probe", "store_a"),
            "desk": ("insurance_desk", "store_a"),
            "deskb": ("insurance_desk", "store_b"),
        },
    )
    other = build_world(app, {"desk": ("insurance_desk", "store_a")})
    # A tenant pack with an entity in each tenant, and a record (with its lineage) in each store.
    for world in (mine, other):
        folder = write_pack(
            tmp_path_factory.mktemp("packs"),
            f"scoping_{world.code.lower()}",
            documents=[reminder_entity(extra_fields=[FILES_FIELD])],
        )
        install_for(app, world, folder)
        add_entity_records(app, world)
        add_entity_files(app, world)
    # A camera and a camera event in each store of each tenant.
    for world in (mine, other):
        add_camera_rows(world)
    # A policy (coverages, endorsement, 电子保单) in each store of each tenant.
    for world in (mine, other):
        add_policy_rows(world)
    # A carrier credential and an unmatched download in each store of each tenant.
    for world in (mine, other):
        add_carrier_rows(world)
    # A quote, an order with an item and a payment, and a service contract in each store.
    for world in (mine, other):
        add_quoting_rows(world)
    # A monitored target and an incident in each store of each tenant.
    for world in (mine, other):
        add_monitoring_rows(world)
    # A hand-over record and an in-app notice in each store of each tenant.
    for world in (mine, other):
        add_people_rows(world)
    # A job in each store of each tenant, so jobs have rows on both sides of every wall.
    for world in (mine, other):
        for suffix in ("desk", "deskb"):
            if suffix in world.users:
                with use_scope(scope_of(world.users[suffix])):
                    enqueue("organisation.store_summary")
    return mine, other


def _rows(model, worlds):
    mine, other = worlds
    tenant_ids = {mine.tenant_id, other.tenant_id}
    with use_scope(system_scope()):
        rows = db.session.scalars(select(model)).all()
        if model is Tenant:
            return [row for row in rows if row.id in tenant_ids]
        return [row for row in rows if getattr(row, "tenant_id", None) in tenant_ids]


def _views(app, kind):
    found = []
    for view in app.appbuilder.baseviews:
        datamodel = getattr(view, "datamodel", None)
        if isinstance(view, kind) and datamodel is not None and is_scoped(datamodel.obj):
            found.append(view)
    return found


def test_every_scoped_model_has_rows_on_both_sides_of_the_wall(app, worlds):
    mine = worlds[0]
    for model in scoped_models():
        rows = _rows(model, worlds)
        visible = [r for r in rows if _expected_visible(model, r, mine)]
        hidden = [r for r in rows if not _expected_visible(model, r, mine)]
        assert visible and hidden, f"{model.__name__} needs rows inside and outside the scope"


def _crud_views(app):
    return _views(app, BaseCRUDView)


def test_scoped_screens_are_found(app):
    names = {type(v).__name__ for v in _crud_views(app)}
    assert {"CustomerView", "VehicleView", "OrgNodeView", "TenantView", "AuditRecordView"} <= names
    assert {"JobRecordView", "DealerUserView"} <= names


@pytest.mark.parametrize(
    "view_name",
    [
        "CustomerView",
        "VehicleView",
        "OrgNodeView",
        "TenantView",
        "AuditRecordView",
        "JobRecordView",
        "DealerUserView",
        "DocumentView",
        "DocumentVersionView",
        "InstalledPackView",
        "CameraView",
        "CameraMonitorView",
        "CameraEventView",
        "WalkInLeadView",
    ],
)
def test_list_show_edit_delete_pages_hold_the_scope(app, client, worlds, view_name):
    mine = worlds[0]
    view = next(v for v in _crud_views(app) if type(v).__name__ == view_name)
    model = view.datamodel.obj
    login(client, mine.users["probe"])
    rows = _rows(model, worlds)
    visible = [r.id for r in rows if _expected_visible(model, r, mine)]
    hidden = [r.id for r in rows if not _expected_visible(model, r, mine)]
    base = view.route_base
    page = client.get(f"{base}/list/?psize_{view_name}=100")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for pk in visible:
        assert f'{base}/show/{pk}"' in html, f"{view_name}: own row {pk} missing from list"
    for pk in hidden:
        assert f'{base}/show/{pk}"' not in html, f"{view_name}: row {pk} leaked into list"
        assert client.get(f"{base}/show/{pk}").status_code == 404
        if "can_edit" in view.base_permissions:
            assert client.get(f"{base}/edit/{pk}").status_code == 404
        if "can_delete" in view.base_permissions:
            assert client.post(f"{base}/delete/{pk}").status_code == 404
    with use_scope(system_scope()):
        still_there = db.session.scalars(select(model.id).where(model.id.in_(hidden))).all()
    assert sorted(still_there) == sorted(hidden)
    assert client.get(f"{base}/show/{visible[0]}").status_code == 200


@pytest.mark.parametrize(
    "view_name",
    [
        "CustomerView",
        "VehicleView",
        "OrgNodeView",
        "AuditRecordView",
        "JobRecordView",
        "CameraView",
        "CameraEventView",
    ],
)
def test_exports_hold_the_scope(app, client, worlds, view_name):
    mine = worlds[0]
    view = next(v for v in _crud_views(app) if type(v).__name__ == view_name)
    model = view.datamodel.obj
    login(client, mine.users["probe"])
    rows = _rows(model, worlds)
    expected = sum(1 for r in rows if _expected_visible(model, r, mine))
    response = client.get(f"{view.route_base}/export/")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.max_row - 1 == expected
    assert expected < len(rows)


def _apis(app):
    return _views(app, ModelRestApi)


def test_scoped_apis_are_found(app):
    names = {type(v).__name__ for v in _apis(app)}
    assert {"CustomerApi", "VehicleApi", "OrgNodeApi", "AuditRecordApi", "JobRecordApi"} <= names
    assert "UserApi" in names  # Flask-AppBuilder's own security API over the base User


def test_every_scoped_api_holds_the_scope(app, client, worlds):
    mine = worlds[0]
    token = api_token(client, mine.users["probe"])
    headers = {"Authorization": f"Bearer {token}"}
    for api in _apis(app):
        model = api.datamodel.obj
        rows = _rows(model, worlds)
        visible = {r.id for r in rows if _expected_visible(model, r, mine)}
        hidden = {r.id for r in rows if not _expected_visible(model, r, mine)}
        prefix = f"/api/v1/{api.resource_name}"
        response = client.get(f"{prefix}/?q=(page_size:500)", headers=headers)
        assert response.status_code == 200, (api, response.get_data(as_text=True))
        ids = set(response.get_json()["ids"])
        mine_and_other = visible | hidden
        assert ids & mine_and_other == visible, f"{type(api).__name__} list"
        for pk in list(hidden)[:5]:
            assert client.get(f"{prefix}/{pk}", headers=headers).status_code == 404


def test_sibling_store_desk_sees_only_its_store(app, client, worlds):
    mine, _ = worlds
    login(client, mine.users["deskb"])
    token = api_token(client, mine.users["deskb"])
    customers = client.get(
        "/api/v1/customer/?q=(page_size:100)", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    nodes = {row["org_node_id"] for row in customers["result"]}
    assert nodes == {mine.store_b}


def test_tenant_admin_sees_both_stores_and_no_other_tenant(app, client):
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    other = build_world(app)
    token = api_token(client, world.users["admin"])
    result = client.get(
        "/api/v1/customer/?q=(page_size:500)", headers={"Authorization": f"Bearer {token}"}
    ).get_json()["result"]
    tenants = {row["tenant_id"] for row in result}
    nodes = {row["org_node_id"] for row in result}
    assert tenants == {world.tenant_id}
    assert {world.store_a, world.store_b} <= nodes
    assert other.tenant_id not in tenants


def test_writes_outside_the_scope_are_refused(app, client, worlds):
    mine, other = worlds
    token = api_token(client, mine.users["desk"])
    headers = {"Authorization": f"Bearer {token}"}
    for node in (mine.store_b, other.store_a):
        response = client.post(
            "/api/v1/customer/", json={"name": "越界客户", "org_node_id": node}, headers=headers
        )
        assert response.status_code in (400, 404, 422), response.get_data(as_text=True)
    with use_scope(system_scope()):
        from app.customers.models import Customer

        assert db.session.scalar(select(Customer).where(Customer.name == "越界客户")) is None


def test_queries_without_a_scope_see_nothing(app, worlds):
    from app.customers.models import Customer

    assert db.session.scalars(select(Customer)).all() == []
    with use_scope(system_scope()):
        assert db.session.scalars(select(Customer)).all()


def test_scoped_models_cover_the_core(app):
    names = {m.__name__ for m in scoped_models()}
    assert {
        "Customer",
        "Vehicle",
        "OrgNode",
        "Tenant",
        "AuditRecord",
        "JobRecord",
        "DealerUser",
    } <= names
    assert issubclass(User, User) and not issubclass(OrgNode, User)
    assert all(issubclass(m, Scoped) for m in scoped_models())
    assert "brand" in GLOBAL_TABLES
