"""Refused requests answer 4xx in one shape, never 500 (issue 14, finding 10), attacked the way
the probe did: ids past 64 bits, negative pages, a bad date in a filter, a dict where a scalar
goes, deep JSON, duplicates and bad identifiers on API writes. And the one error family of
app/errors.py: its JSON shape, its languages, its form helper."""

from __future__ import annotations

import prison
import pytest
from flask import get_flashed_messages
from sqlalchemy import select
from wtforms import Form, StringField

from app.customers.models import Vehicle
from app.errors import Conflict, ValidationFailed, as_domain_error, form_error
from app.extensions import db
from app.identifiers import InvalidIdentifier
from app.tenancy.scope import ScopeViolation, system_scope, use_scope
from tests.app.conftest import (
    api_token,
    build_world,
    install_for,
    login,
    reminder_entity,
    write_pack,
)

HUGE = "99999999999999999999"  # past 2**63


@pytest.fixture(scope="module")
def world(app):
    return build_world(
        app, {"admin": ("tenant_admin", "hq"), "store": ("store_manager", "store_a")}
    )


def _auth(client, world, who="admin", lang=None):
    headers = {"Authorization": f"Bearer {api_token(client, world.users[who])}"}
    if lang:
        headers["Accept-Language"] = lang
    return headers


def _vehicles(world):
    with use_scope(system_scope("tests")):
        return db.session.scalars(
            select(Vehicle).where(Vehicle.tenant_id == world.tenant_id).order_by(Vehicle.id)
        ).all()


def _q(**args) -> str:
    return prison.dumps(args)


@pytest.mark.parametrize("pk", [HUGE, f"-{HUGE}", "abc", "1e5"])
@pytest.mark.parametrize("api", ["customer", "vehicle", "org_node", "security/users"])
def test_an_impossible_id_is_not_found_on_every_api(client, world, api, pk):
    headers = _auth(client, world)
    for method in ("get", "put", "delete"):
        response = getattr(client, method)(f"/api/v1/{api}/{pk}", headers=headers, json={})
        # FAB's GET routes take `<int:pk>`, so a GET with a sign or letters matches no GET
        # route (405, werkzeug's answer); everything else is simply not found.
        expected = {404, 405} if method == "get" and not pk.isdigit() else {404}
        assert response.status_code in expected, (method, response.get_data(as_text=True))
        assert response.get_json()["code"] in ("not_found", "method_not_allowed")


def test_an_impossible_id_is_not_found_on_screens_and_the_entity_api(app, client, world, tmp_path):
    install_for(app, world, write_pack(tmp_path, "reminders", documents=[reminder_entity()]))
    headers = _auth(client, world)
    assert client.get(f"/api/v1/inspection_reminder/{HUGE}", headers=headers).status_code == 404
    assert client.delete(f"/api/v1/inspection_reminder/{HUGE}", headers=headers).status_code == 404
    deep = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/v1/inspection_reminder/",
        data=deep,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500
    login(client, world.users["admin"])
    page = client.get(f"/customerview/show/{HUGE}")
    assert page.status_code == 404
    assert "记录不存在" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "args",
    [{"page": -1}, {"page_size": -1}, {"page_size": 0}, {"page": 10**12}, {"page": -(2**70)}],
)
def test_a_bad_page_is_refused_naming_it(client, world, args):
    response = client.get(f"/api/v1/customer/?q={_q(**args)}", headers=_auth(client, world))
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == "bad_input" and body["field"] in args


def test_the_entity_api_refuses_a_negative_page_size_instead_of_listing_every_row(
    app, client, world, tmp_path
):
    install_for(app, world, write_pack(tmp_path, "reminders", documents=[reminder_entity()]))
    headers = _auth(client, world)
    for query in ("page_size=-1", "page=-1", "page_size=0"):
        response = client.get(f"/api/v1/inspection_reminder/?{query}", headers=headers)
        assert response.status_code == 400, (query, response.get_data(as_text=True))


def test_a_bad_date_in_a_filter_is_a_bad_request(client, world):
    filters = [{"col": "birthday", "opr": "gt", "value": "not-a-date"}]
    response = client.get(
        f"/api/v1/customer/?q={_q(filters=filters)}", headers=_auth(client, world)
    )
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)


@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], [None, False]])
def test_a_dict_or_list_in_a_scalar_field_is_refused(client, world, value):
    vehicle = _vehicles(world)[0]
    headers = _auth(client, world)
    for field in ("plate", "seats", "customer_id", "register_date"):
        response = client.put(f"/api/v1/vehicle/{vehicle.id}", json={field: value}, headers=headers)
        assert response.status_code in (400, 422), (field, response.get_data(as_text=True))
    response = client.post(
        "/api/v1/org_node/",
        json={"parent_id": value, "kind": "store", "code": "X1", "name": "x"},
        headers=headers,
    )
    assert response.status_code in (400, 422), response.get_data(as_text=True)


def test_deep_json_nesting_is_a_bad_request(client, world):
    depth = 100_000
    body = "[" * depth + "]" * depth
    headers = {**_auth(client, world), "Content-Type": "application/json"}
    for path in ("/api/v1/customer/", "/api/v1/vehicle/"):
        response = client.post(path, data=body, headers=headers)
        assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]


def test_a_duplicate_vin_is_a_conflict_naming_the_field(client, world):
    first, second = _vehicles(world)[:2]
    headers = _auth(client, world, lang="zh-CN,zh;q=0.9")
    response = client.put(f"/api/v1/vehicle/{second.id}", json={"vin": first.vin}, headers=headers)
    assert response.status_code == 409, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == "duplicate" and body["field"] == "vin"
    assert "已存在" in body["message"]
    assert _vehicles(world)[1].vin == second.vin


def test_a_bad_identifier_on_an_api_write_is_422_naming_the_field(client, world):
    vehicle = _vehicles(world)[0]
    response = client.put(
        f"/api/v1/vehicle/{vehicle.id}",
        json={"vin": "LSV0000000000000I"},
        headers=_auth(client, world),
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert body["field"] == "vin" and body["code"] == "invalid_identifier"
    assert _vehicles(world)[0].vin == vehicle.vin


def test_a_store_outside_the_scope_is_refused_like_a_missing_one(client, world):
    vehicle = next(v for v in _vehicles(world) if v.org_node_id == world.store_a)
    response = client.put(
        f"/api/v1/vehicle/{vehicle.id}",
        json={"org_node_id": world.store_b},
        headers=_auth(client, world, "store"),
    )
    assert response.status_code in (404, 422), response.get_data(as_text=True)


def test_fab_openapi_document_is_reachable(app, client):
    with use_scope(system_scope("tests")):
        sm = app.appbuilder.sm
        if sm.find_user(username="errors.spec") is None:
            from tests.app.conftest import PASSWORD

            sm.add_user(
                "errors.spec", "e", "s", "e.s@test.local", sm.find_role("platform_admin"), PASSWORD
            )
    headers = {"Authorization": f"Bearer {api_token(client, 'errors.spec')}"}
    response = client.get("/api/v1/_openapi", headers=headers)
    assert response.status_code == 200
    assert "/api/v1/customer/" in response.get_json()["paths"]


# --- the error family itself -------------------------------------------------------------------


def test_domain_errors_answer_in_fab_shape_with_code_and_field(app):
    error = ValidationFailed("plate: too long", "车牌号：太长", field="plate")
    assert error.status == 422
    assert error.to_json("en") == {
        "message": "plate: too long",
        "code": "validation_failed",
        "field": "plate",
    }
    assert error.to_json("zh")["message"] == "车牌号：太长"
    several = ValidationFailed(errors={"plate": ("bad", "错误"), "vin": "bad"})
    assert several.to_json("zh")["message"] == {"plate": ["错误"], "vin": ["bad"]}
    assert Conflict("x", row=3, column="B").to_json()["row"] == 3


def test_older_errors_are_translated_once(app):
    identifier = as_domain_error(InvalidIdentifier("VIN is bad", "车架号错误"))
    assert (identifier.status, identifier.message("zh")) == (422, "车架号错误")
    scope = as_domain_error(ScopeViolation("outside"))
    assert (scope.status, scope.code, scope.field) == (422, "out_of_scope", "org_node_id")
    assert as_domain_error(ValueError("a plain bug")) is None
    assert as_domain_error(KeyError("a plain bug")) is None


def test_form_error_marks_the_field_or_flashes(app):
    class PlateForm(Form):
        plate = StringField()

    with app.test_request_context("/customers/add", method="POST"):
        form = PlateForm()
        assert form_error(form, ValidationFailed("bad", "车牌号错误", field="plate"))
        assert form.plate.errors == ["车牌号错误"]
        assert form_error(form, Conflict("already there", "已存在"))
        assert get_flashed_messages() == ["已存在"]
        assert not form_error(form, RuntimeError("a bug"))
