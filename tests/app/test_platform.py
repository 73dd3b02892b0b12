"""Migrations, configuration, the demo command and the console pages."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_appbuilder import Model
from sqlalchemy import func, select

from app.configuration.entities import include_in_migrations
from app.customers.models import Customer, Vehicle
from app.extensions import db
from app.identifiers import check_plate, check_resident_id, check_vin
from app.organisation.models import NodeKind, OrgNode, Tenant
from app.security.models import DealerUser
from app.security.roles import ALL_ROLES
from app.tenancy.scope import system_scope, use_scope
from config import ConfigError, load_config
from tests.app.conftest import login


def test_migrations_build_exactly_the_models_schema(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_in_migrations}
        )
        differences = compare_metadata(context, Model.metadata)
    assert differences == []


def test_production_refuses_to_start_without_its_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config("production")
    monkeypatch.setenv("SECRET_KEY", "short")
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@localhost/y")
    with pytest.raises(ConfigError, match="at least 32"):
        load_config("production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    assert load_config("production")["SQLALCHEMY_DATABASE_URI"] == "postgresql://x@localhost/y"


def test_unknown_mode_is_refused():
    with pytest.raises(ConfigError, match="APP_MODE"):
        load_config("staging")


@pytest.fixture(scope="module")
def demo(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--password", "Demo-Pass-2026"])
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_load_builds_the_demo_tenant(app, demo):
    assert "admin / Demo-Pass-2026" in demo
    with use_scope(system_scope()):
        tenant = db.session.scalar(select(Tenant).where(Tenant.code == "DEMO"))
        kinds = db.session.execute(
            select(OrgNode.kind, func.count())
            .where(OrgNode.tenant_id == tenant.id)
            .group_by(OrgNode.kind)
        ).all()
        counts = {kind: n for kind, n in kinds}
        assert counts[NodeKind.REGION] == 2 and counts[NodeKind.AREA] == 4
        assert counts[NodeKind.STORE] == 8
        stores = db.session.scalars(
            select(OrgNode).where(OrgNode.tenant_id == tenant.id, OrgNode.kind == NodeKind.STORE)
        ).all()
        assert (
            len({s.brand_id for s in stores}) >= 4 and len({s.city.province for s in stores}) >= 4
        )
        roles = {r.name for u in db.session.scalars(select(DealerUser)) for r in u.roles}
        assert set(ALL_ROLES) <= roles
        for customer in db.session.scalars(select(Customer).where(Customer.tenant_id == tenant.id)):
            if customer.id_number:
                assert check_resident_id(customer.id_number)
        vehicles = db.session.scalars(select(Vehicle).where(Vehicle.tenant_id == tenant.id)).all()
        # 5 customers' cars per store from the loader, more from the demo policy book
        assert len(vehicles) >= 40
        from app.policies.models import Policy

        insured_stores = {
            p.org_node_id for p in db.session.scalars(select(Policy)) if p.tenant_id == tenant.id
        }
        assert insured_stores == {s.id for s in stores}
        for vehicle in vehicles:
            assert check_vin(vehicle.vin) and check_plate(vehicle.plate)


def test_demo_load_is_idempotent(app, demo):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--password", "Demo-Pass-2026"])
    assert result.exit_code == 0, result.output
    with use_scope(system_scope()):
        assert (
            db.session.scalar(select(func.count()).select_from(Tenant).where(Tenant.code == "DEMO"))
            == 1
        )


def test_admin_sees_the_chinese_console_with_the_org_tree(app, client, demo):
    login(client, "admin", "Demo-Pass-2026")
    html = client.get("/").get_data(as_text=True)
    assert "华东汽车集团" in html and "上海浦东大众4S店" in html and "安信保险代理" in html
    assert 'lang="zh"' in html or "zh" in client.get("/").headers.get("Content-Language", "zh")


def test_store_desk_sees_only_its_branch_of_the_tree(app, client, demo):
    login(client, "insurance.desk", "Demo-Pass-2026")
    html = client.get("/").get_data(as_text=True)
    assert "上海浦东大众4S店" in html
    assert "上海闵行丰田4S店" not in html and "安信保险代理" not in html


def test_every_menu_page_opens_for_the_admin(app, client, demo):
    login(client, "admin", "Demo-Pass-2026")
    with app.test_request_context():
        hrefs = [
            item.get_url()
            for category in app.appbuilder.menu.get_list()
            for item in (category.childs or [category])
            if item.name != "-"
        ]
    assert len(hrefs) > 10
    for href in hrefs:
        if href and href != "#" and not href.startswith("http") and "logout" not in href:
            assert client.get(href).status_code == 200, href


def test_language_switch_to_english(app, client, demo):
    login(client, "admin", "Demo-Pass-2026")
    client.get("/lang/en")
    assert "Organisation" in client.get("/org/tree/").get_data(as_text=True)
