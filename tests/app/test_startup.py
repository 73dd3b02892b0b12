"""First contact: `make run` (db upgrade, demo load, run) prints no alarming lines, and loading
the demo again never silently changes anyone's password."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

from flask_appbuilder.security.sqla import apis as fab_apis
from sqlalchemy import select
from werkzeug.security import check_password_hash

from app.extensions import db
from app.security.models import DealerUser
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import build_world

FILTER_WARNING = "Filter type not supported"


def _filter_warnings(caplog, datamodel, columns) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="flask_appbuilder.models.filters"):
        datamodel.get_filters(columns)
    return [r.getMessage() for r in caplog.records if FILTER_WARNING in r.getMessage()]


def test_no_screen_or_api_searches_a_column_without_a_filter(app, caplog):
    """Each warning came from a search column Flask-AppBuilder has no filter for (the group
    API's "roles.name", "users.id"…), built at every start: at every `flask` command."""
    group_api = next(v for v in app.appbuilder.baseviews if type(v).__name__ == "GroupApi")
    # The check sees the fault it guards against: Flask-AppBuilder's own columns warn.
    assert _filter_warnings(caplog, group_api.datamodel, fab_apis.GroupApi.search_columns)
    found = {}
    for view in app.appbuilder.baseviews:
        datamodel, columns = getattr(view, "datamodel", None), getattr(view, "search_columns", None)
        if datamodel is None or not columns:
            continue
        warnings = _filter_warnings(caplog, datamodel, columns)
        if warnings:
            found[type(view).__name__] = warnings
    assert found == {}


class FakeDemo:
    """The demo loader reduced to its users: the ones given, and one it creates on first run."""

    def __init__(self, existing: str, created: str, node_id: int, tenant_id: int):
        self.existing, self.created = existing, created
        self.node_id, self.tenant_id = node_id, tenant_id

    def __call__(self, session, appbuilder, *args, **kwargs):
        from app.demo.loader import DemoLogin

        sm = appbuilder.sm
        if sm.find_user(username=self.created) is None:
            session.add(
                sm.user_model(
                    username=self.created,
                    first_name="新",
                    last_name="用户",
                    email=f"{self.created}@test.local",
                    active=True,
                    roles=[sm.find_role("insurance_desk")],
                    tenant_id=self.tenant_id,
                    org_node_id=self.node_id,
                )
            )
        return [
            DemoLogin(self.existing, "insurance_desk", "浦东店"),
            DemoLogin(self.created, "insurance_desk", "浦东店"),
        ]


def _hash(username: str) -> str:
    with use_scope(system_scope()):
        db.session.expire_all()
        return db.session.scalar(select(DealerUser.password).where(DealerUser.username == username))


def _password_in(output: str) -> str:
    line = next(line for line in output.splitlines() if "admin login:" in line)
    return line.rsplit("/", 1)[1].strip()


def test_a_second_demo_load_keeps_every_password_and_says_where_it_is(app, monkeypatch):
    world = build_world(app, {"kept": ("insurance_desk", "store_a")})
    existing, created = world.users["kept"], f"{world.code.lower()}.created"
    monkeypatch.setattr(
        "app.demo.loader.load_demo", FakeDemo(existing, created, world.store_a, world.tenant_id)
    )
    monkeypatch.setattr("app.cli.install_demo_packs", lambda: [])
    stored = Path(app.config["STORAGE_PATH"]) / "demo_password"
    runner = app.test_cli_runner()
    before = _hash(existing)

    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    password = _password_in(first.output)
    assert stored.read_text().strip() == password and f"kept in {stored}" in first.output
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert _hash(existing) == before  # an existing user keeps the password they had
    assert check_password_hash(_hash(created), password)  # a new one gets the demo password
    created_hash = _hash(created)

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert _password_in(second.output) == password and "unchanged" in second.output
    assert _hash(existing) == before and _hash(created) == created_hash

    chosen = runner.invoke(args=["demo", "load", "--password", "Chosen-Pass-2026"])
    assert chosen.exit_code == 0, chosen.output
    assert "set by --password" in chosen.output
    assert check_password_hash(_hash(existing), "Chosen-Pass-2026")
    assert check_password_hash(_hash(created), "Chosen-Pass-2026")
    third = runner.invoke(args=["demo", "load"])
    assert _password_in(third.output) == "Chosen-Pass-2026"
    assert check_password_hash(_hash(created), "Chosen-Pass-2026")


def test_the_demo_has_the_car_of_the_sample_gate_picture(app):
    """docs/cameras.md: the agent pointed at samples/gate raises the pop-up at the demo camera's
    store, because the loader gives that store the car in the picture (once)."""
    from app.customers.models import Vehicle
    from app.demo.loader import SAMPLE_PLATE, _gate_sample_car
    from app.identifiers import check_vin
    from app.organisation.models import OrgNode

    root = Path(__file__).resolve().parents[2]
    assert (root / "samples" / "gate" / "plate_hu_AK5218.jpg").is_file()
    assert SAMPLE_PLATE == "沪AK5218"
    world = build_world(app)
    with use_scope(system_scope()):
        store = db.session.get(OrgNode, world.store_a)
        _gate_sample_car(db.session, store)
        _gate_sample_car(db.session, store)  # a second load adds nothing
        db.session.commit()
        cars = db.session.scalars(
            select(Vehicle).where(
                Vehicle.tenant_id == world.tenant_id, Vehicle.plate == SAMPLE_PLATE
            )
        ).all()
        assert len(cars) == 1 and cars[0].org_node_id == store.id
        assert check_vin(cars[0].vin) and cars[0].customer.name == "门岗演示客户"
