"""The data walls, attacked as the probe did (issue 14, findings 4, 8 and 12):

- references written through any path (REST API, entity API, ORM, relationship) must resolve in
  the writer's scope, and a foreign id is answered exactly like a missing one;
- request bodies are bounded in size and JSON nesting;
- on PostgreSQL, row-level security and the database roles hold even for raw SQL.
"""

from __future__ import annotations

import io
import os

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from app.customers.models import Customer, Vehicle
from app.extensions import db
from app.tenancy.scope import ReferenceOutOfScope, system_scope, use_scope
from tests.app.conftest import api_token, build_world, install_for, scope_of, write_pack


@pytest.fixture(scope="module")
def walls(app):
    mine = build_world(
        app,
        {
            "desk": ("insurance_desk", "store_a"),
            "admin": ("tenant_admin", "hq"),
        },
    )
    other = build_world(app, {"desk": ("insurance_desk", "store_a")})
    return mine, other


def _first(model, world, store: str = "store_a"):
    with use_scope(system_scope("tests")):
        return db.session.scalars(
            select(model)
            .where(model.tenant_id == world.tenant_id, model.org_node_id == getattr(world, store))
            .order_by(model.id)
        ).first()


def _missing_id(model) -> int:
    with use_scope(system_scope("tests")):
        return (db.session.scalar(select(func.max(model.id))) or 0) + 10_000


def _headers(client, username: str) -> dict:
    return {"Authorization": f"Bearer {api_token(client, username)}"}


def _customer_of(vehicle_id: int) -> int | None:
    with use_scope(system_scope("tests")):
        db.session.expire_all()
        return db.session.get(Vehicle, vehicle_id).customer_id


# --- finding 4: references ----------------------------------------------------------------------


def test_the_vehicle_api_answers_a_foreign_customer_exactly_like_a_missing_one(client, walls):
    mine, other = walls
    headers = _headers(client, mine.users["desk"])
    vehicle = _first(Vehicle, mine)
    before = vehicle.customer_id
    attempts = {
        "another tenant's": _first(Customer, other).id,
        "a sibling store's": _first(Customer, mine, "store_b").id,
        "a missing": _missing_id(Customer),
    }
    answers = {}
    for name, customer_id in attempts.items():
        response = client.put(
            f"/api/v1/vehicle/{vehicle.id}", json={"customer_id": customer_id}, headers=headers
        )
        answers[name] = (response.status_code, response.get_json())
    assert answers["another tenant's"][0] == 422, answers
    assert answers["another tenant's"] == answers["a missing"] == answers["a sibling store's"]
    assert "customer_id" in str(answers["a missing"][1])
    assert _customer_of(vehicle.id) == before
    # Not a wall that refuses everything: the desk's own customer is accepted.
    own = _first(Customer, mine).id
    response = client.put(
        f"/api/v1/vehicle/{vehicle.id}", json={"customer_id": own}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _customer_of(vehicle.id) == own


def test_creating_a_vehicle_with_a_foreign_customer_is_refused(client, walls):
    mine, other = walls
    headers = _headers(client, mine.users["desk"])
    answers = []
    for customer_id in (_first(Customer, other).id, _missing_id(Customer), 2**63 + 5):
        response = client.post(
            "/api/v1/vehicle/",
            json={
                "customer_id": customer_id,
                "vin": "LSVAU2180N2183311",
                "org_node_id": mine.store_a,
            },
            headers=headers,
        )
        answers.append((response.status_code, response.get_json()))
    assert answers[0][0] == 422 and answers[0] == answers[1], answers
    assert 400 <= answers[2][0] < 500, answers
    with use_scope(system_scope("tests")):
        assert db.session.scalar(select(Vehicle).where(Vehicle.vin == "LSVAU2180N2183311")) is None


def test_the_orm_refuses_a_foreign_reference_on_every_path(app, walls):
    mine, other = walls
    foreign = _first(Customer, other)
    vehicle_id = _first(Vehicle, mine).id
    missing = _missing_id(Customer)
    messages = []
    with use_scope(scope_of(mine.users["desk"])):
        for value in (foreign.id, missing):
            vehicle = db.session.get(Vehicle, vehicle_id)
            vehicle.customer_id = value
            with pytest.raises(ReferenceOutOfScope) as refused:
                db.session.flush()
            messages.append(str(refused.value))
            db.session.rollback()
    assert messages == ["customer_id: no such record in your scope"] * 2
    # A related object assigned (the foreign key is only copied from it during the flush).
    with use_scope(system_scope("tests")):
        foreign = db.session.get(Customer, foreign.id)
    with use_scope(scope_of(mine.users["desk"])):
        vehicle = db.session.get(Vehicle, vehicle_id)
        vehicle.customer = foreign
        with pytest.raises(ReferenceOutOfScope, match="customer_id"):
            db.session.flush()
        db.session.rollback()
    # Even the platform's unrestricted scope may not tie one tenant's row to another's.
    with use_scope(system_scope("tests")):
        vehicle = db.session.get(Vehicle, vehicle_id)
        vehicle.customer_id = foreign.id
        with pytest.raises(ReferenceOutOfScope, match="customer_id"):
            db.session.flush()
        db.session.rollback()
    assert _customer_of(vehicle_id) != foreign.id


def test_an_unchanged_reference_is_not_judged_again(app, walls):
    """A tenant admin moved a customer out of a store; the store's vehicle still points at it.
    Editing another field of the vehicle must not be refused for the reference it did not
    write."""
    mine, _ = walls
    vehicle_id = _first(Vehicle, mine, "store_b").id
    with use_scope(scope_of(mine.users["admin"])):
        vehicle = db.session.get(Vehicle, vehicle_id)
        vehicle.model_name = "帕萨特"
        db.session.flush()  # the admin sees the vehicle's customer: accepted
        db.session.rollback()


def _reference_entity(key: str) -> dict:
    return {
        "kind": "entity",
        "key": key,
        "version": "1.0.0",
        "title": "回访记录",
        "body": {
            "name": key,
            "label": {"zh": "回访记录", "en": "Follow-up"},
            "fields": [
                {
                    "name": "customer_ref",
                    "label": {"zh": "客户", "en": "Customer"},
                    "type": "reference",
                    "target": "customer",
                    "required": True,
                },
                {"name": "note", "label": {"zh": "备注", "en": "Note"}, "type": "string"},
            ],
            "list_columns": ["customer_ref", "note"],
            "permissions": {"insurance_desk": "write", "tenant_admin": "write"},
        },
    }


def test_an_entity_reference_field_resolves_in_the_writers_scope(app, client, walls, tmp_path):
    mine, other = walls
    key = f"follow_up_{mine.code.lower()}"
    install_for(app, mine, write_pack(tmp_path, key, documents=[_reference_entity(key)]))
    headers = _headers(client, mine.users["desk"])
    answers = []
    for customer_id in (_first(Customer, other).id, _missing_id(Customer)):
        response = client.post(
            f"/api/v1/{key}/",
            json={"customer_ref": customer_id, "note": "越界", "org_node_id": mine.store_a},
            headers=headers,
        )
        answers.append((response.status_code, response.get_json()))
    assert answers[0][0] == 422 and answers[0] == answers[1], answers
    assert "customer_ref" in str(answers[0][1])
    own = client.post(
        f"/api/v1/{key}/",
        json={"customer_ref": _first(Customer, mine).id, "org_node_id": mine.store_a},
        headers=headers,
    )
    assert own.status_code == 201, own.get_data(as_text=True)
    record_id = own.get_json()["id"]
    changed = client.put(
        f"/api/v1/{key}/{record_id}",
        json={"customer_ref": _first(Customer, other).id},
        headers=headers,
    )
    assert changed.status_code == 422 and changed.get_json() == answers[0][1]


# --- finding 8: request size and JSON nesting ---------------------------------------------------

MB = 1024 * 1024


def test_an_oversize_api_body_is_answered_413_before_it_is_read(client, walls):
    mine, _ = walls
    headers = {**_headers(client, mine.users["desk"]), "Content-Type": "application/json"}
    body = b'{"name": "' + b"x" * (17 * MB) + b'"}'
    response = client.post("/api/v1/customer/", data=body, headers=headers)
    assert response.status_code == 413
    assert "16 MB" in response.get_json()["message"]
    answer = client.put(
        "/api/v1/follow_up/1",
        data=body,
        headers={**headers, "Accept-Language": "zh-CN"},
    )
    assert answer.status_code == 413 and "16 MB" in answer.get_json()["message"]


def test_an_oversize_form_is_answered_413_on_screens(client, walls):
    mine, _ = walls
    from tests.app.conftest import login

    login(client, mine.users["admin"])
    response = client.post("/customerview/add", data={"name": "x" * (17 * MB)})
    assert response.status_code == 413
    assert "16 MB" in response.get_data(as_text=True)


def test_the_pack_upload_has_its_own_larger_limit(app, client):
    from tests.app.conftest import login

    world = build_world(app, {"probe": ("scope_probe", "hq")})
    login(client, world.users["probe"])
    assert app.config["PACK_UPLOAD_MAX_BYTES"] > app.config["MAX_CONTENT_LENGTH"]
    within = io.BytesIO(b"PK" + b"\0" * (17 * MB))  # over the general limit, under the upload's
    response = client.post(
        "/packs/upload", data={"pack": (within, "big.zip")}, content_type="multipart/form-data"
    )
    assert response.status_code == 200  # read and refused as a pack, not as a request
    beyond = io.BytesIO(b"PK" + b"\0" * (app.config["PACK_UPLOAD_MAX_BYTES"] + MB))
    response = client.post(
        "/packs/upload", data={"pack": (beyond, "huge.zip")}, content_type="multipart/form-data"
    )
    assert response.status_code == 413


def _nested(depth: int) -> bytes:
    return b'{"name": ' + b"[" * depth + b"1" + b"]" * depth + b"}"


@pytest.mark.parametrize("path", ["/api/v1/customer/", "/api/v1/vehicle/"])
def test_deep_json_nesting_is_answered_400_on_the_apis(client, walls, path):
    mine, _ = walls
    headers = {**_headers(client, mine.users["desk"]), "Content-Type": "application/json"}
    response = client.post(path, data=_nested(100_000), headers=headers)
    assert response.status_code == 400
    assert response.get_json()["code"] == "too_deep"
    # Brackets inside a string are text, not nesting: such a body reaches the API's validation.
    text = b'{"name": "' + b"[" * 1000 + b'", "org_node_id": "x"}'
    response = client.post(path, data=text, headers=headers)
    assert response.status_code != 400 or response.get_json().get("code") != "too_deep"


def test_deep_json_nesting_is_answered_400_on_the_entity_api(client, walls):
    mine, _ = walls
    headers = {**_headers(client, mine.users["desk"]), "Content-Type": "application/json"}
    response = client.post("/api/v1/anything/", data=_nested(65), headers=headers)
    assert response.status_code == 400 and response.get_json()["code"] == "too_deep"
    response = client.post("/api/v1/anything/", data=_nested(63), headers=headers)
    assert response.status_code == 404  # within the bound: on to the API (no such entity)


def test_json_depth_counts_only_structure():
    from app.web.request_limits import json_depth

    assert json_depth(b"1") == 0
    assert json_depth(b'{"a": [1, {"b": []}]}') == 4
    assert json_depth(b'{"a": "[[[[{{{{", "b": "\\"[["}') == 1
    assert json_depth(_nested(64)) == 65


# --- finding 12: row-level security and database roles (PostgreSQL only) -----------------------


def _postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def test_the_migration_walls_off_its_tenant_tables_and_audit_truncation(app):
    if not _postgresql():
        pytest.skip("row-level security is PostgreSQL's")
    from importlib import import_module

    from app.tenancy.row_security import tables_without_row_security

    revision = import_module("migrations.versions.0006_row_security")
    with db.engine.connect() as connection:
        assert tables_without_row_security(connection, revision.TABLES) == []
        triggers = connection.scalars(
            text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_record'::regclass")
        ).all()
    assert "audit_record_no_truncate" in triggers


@pytest.fixture(scope="module")
def app_role(app, walls):
    """The roles made by `flask db-roles` on this test database (names of its own, since roles
    belong to the whole cluster), and an engine connected as the app role."""
    if not _postgresql():
        pytest.skip("database roles and row-level security are PostgreSQL's")
    url = db.engine.url
    owner, app_name = f"{url.database}_owner", f"{url.database}_app"
    db.session.remove()  # no transaction of the tests may hold locks the ownership change needs
    os.environ["DC_TEST_APP_PASSWORD"] = "app-role-Pass-2026"
    result = app.test_cli_runner().invoke(
        args=["db-roles", "--owner", owner, "--app", app_name]
        + ["--app-password-env", "DC_TEST_APP_PASSWORD"]
    )
    assert result.exit_code == 0, result.output
    with db.engine.connect() as connection:  # the password went over hashed, and was set
        stored = connection.scalar(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": app_name}
        )
    assert stored.startswith("SCRAM-SHA-256$")
    check = app.test_cli_runner().invoke(args=["db-roles", "--check"])
    assert check.exit_code == 0, check.output
    engine = create_engine(url.set(username=app_name, password=None))
    yield app_name, engine
    engine.dispose()


def _count(connection, sql: str, **params) -> int:
    return connection.scalar(text(sql), params)


def test_raw_sql_under_another_tenants_setting_sees_none_of_this_tenants_rows(walls, app_role):
    mine, other = walls
    _, engine = app_role
    with engine.connect() as connection:
        assert _count(connection, "SELECT count(*) FROM customer") == 0  # no setting: nothing
        connection.execute(
            text("SELECT set_config('dealercover.tenant_id', :t, true)"),
            {"t": str(other.tenant_id)},
        )
        mine_seen = "SELECT count(*) FROM customer WHERE tenant_id = :t"
        assert _count(connection, mine_seen, t=mine.tenant_id) == 0
        assert _count(connection, mine_seen, t=other.tenant_id) > 0
        assert set(connection.scalars(text("SELECT DISTINCT tenant_id FROM vehicle"))) == {
            other.tenant_id
        }
        with pytest.raises(DBAPIError, match="row-level security"):
            connection.execute(
                text(
                    "INSERT INTO customer (name, kind, tenant_id, org_node_id) "
                    "VALUES ('越界', 'person', :t, :n)"
                ),
                {"t": mine.tenant_id, "n": mine.store_a},
            )
        connection.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_record SET action = 'forged'",
        "DELETE FROM audit_record",
        "TRUNCATE audit_record",
    ],
)
def test_the_app_role_cannot_change_or_remove_audit_records(app_role, statement):
    _, engine = app_role
    with engine.connect() as connection, use_scope(system_scope("tests")):
        assert _count(connection, "SELECT count(*) FROM audit_record") > 0  # it may read them
        with pytest.raises(DBAPIError) as refused:
            connection.execute(text(statement))
        assert refused.value.orig.sqlstate == "42501"  # insufficient_privilege
        connection.rollback()


def test_no_one_truncates_the_audit_table(app, app_role):
    with db.engine.connect() as connection:  # the superuser the tests run as
        before = _count(connection, "SELECT count(*) FROM audit_record")
        with pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text("TRUNCATE audit_record"))
        connection.rollback()
        assert _count(connection, "SELECT count(*) FROM audit_record") == before


def test_the_app_runs_as_the_app_role_with_the_wall_following_each_scope(app, walls, app_role):
    """The whole app on the app role: requests work (logins, lists, writes with their audit),
    and SQL written by hand sees only what the current scope may see."""
    from app import create_app
    from tests.app.conftest import IsolatedClient

    mine, other = walls
    role, _ = app_role
    url = db.engine.url.set(username=role, password=None)
    as_app = create_app(
        "test", {"SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False)}
    )
    with as_app.app_context():
        tenants = "SELECT DISTINCT tenant_id FROM customer"
        with use_scope(scope_of(mine.users["desk"])):
            assert set(db.session.scalars(text(tenants))) == {mine.tenant_id}
            # The scope changes inside one transaction: the settings follow it.
            with use_scope(system_scope("tests")):
                assert {mine.tenant_id, other.tenant_id} <= set(db.session.scalars(text(tenants)))
            assert set(db.session.scalars(text(tenants))) == {mine.tenant_id}
            streamed = db.session.execute(
                text(tenants), execution_options={"stream_results": True}
            )  # a server-side cursor
            assert set(streamed.scalars()) == {mine.tenant_id}
        assert set(db.session.scalars(text(tenants))) == set()  # no scope: nothing
        db.session.rollback()
        as_app.test_client_class = IsolatedClient
        client = as_app.test_client()
        headers = _headers(client, mine.users["desk"])
        listed = client.get("/api/v1/customer/?q=(page_size:100)", headers=headers)
        assert listed.status_code == 200
        assert {row["tenant_id"] for row in listed.get_json()["result"]} == {mine.tenant_id}
        created = client.post(
            "/api/v1/customer/",
            json={"name": "角色测试客户", "kind": "person", "org_node_id": mine.store_a},
            headers=headers,
        )
        assert created.status_code == 201, created.get_data(as_text=True)
        db.session.remove()


def test_an_entity_table_is_created_behind_forced_row_security(app, walls, tmp_path):
    if not _postgresql():
        pytest.skip("row-level security is PostgreSQL's")
    mine, _ = walls
    key = f"walled_{mine.code.lower()}"
    install_for(app, mine, write_pack(tmp_path, key, documents=[_reference_entity(key)]))
    with db.engine.connect() as connection:
        enabled, forced = connection.execute(
            text("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = :t"),
            {"t": f"x{mine.tenant_id}_{key}"},
        ).one()
    assert enabled and forced
