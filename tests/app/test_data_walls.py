"""The data walls, attacked as the probe did (issue 14, findings 4, 8 and 12):

- references written through any path (REST API, entity API, ORM, relationship) must resolve in
  the writer's scope, and a foreign id is answered exactly like a missing one;
- request bodies are bounded in size and JSON nesting;
- on PostgreSQL, row-level security and the database roles hold even for raw SQL.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

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
