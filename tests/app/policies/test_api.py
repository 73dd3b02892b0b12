"""The REST API of the policy book: list, search, get, endorse, cancel, PDF; scoped (another
tenant and a sibling store get 404), personal data masked by role, bad input named."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.policies.models import Policy
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import api_token, build_world
from tests.app.policies.factory import make_policy


@pytest.fixture(scope="module")
def book(app):
    world = build_world(
        app,
        {
            "desk": ("insurance_desk", "store_a"),
            "region": ("region_manager", "region"),
            "probe": ("scope_probe", "store_a"),  # every permission, the OpenAPI reader's too
        },
    )
    other = build_world(app, {"desk": ("insurance_desk", "store_a")})
    mine = [make_policy(world.store_a, insured_mobile="13812345678") for _ in range(3)]
    return world, other, mine, make_policy(world.store_b), make_policy(other.store_a)


def _headers(client, username):
    return {"Authorization": f"Bearer {api_token(client, username)}"}


def test_list_get_and_search_are_scoped(client, book):
    world, other, mine, sibling, foreign = book
    headers = _headers(client, world.users["desk"])
    listed = client.get("/api/v1/policy/?q=(page_size:100)", headers=headers).get_json()
    assert set(mine) <= set(listed["ids"])
    assert sibling not in listed["ids"] and foreign not in listed["ids"]
    for pk in (sibling, foreign):
        assert client.get(f"/api/v1/policy/{pk}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/policy/{pk}/pdf", headers=headers).status_code == 404
        for action, body in (
            (
                "endorse",
                {"kind": "change_plate", "effective_date": "2026-05-01", "plate": "沪B54321"},
            ),
            ("cancel", {"effective_date": "2026-05-01", "reason": "越权"}),
        ):
            response = client.post(f"/api/v1/policy/{pk}/{action}", json=body, headers=headers)
            assert response.status_code == 404, response.get_json()
    with use_scope(system_scope()):
        number = db.session.get(Policy, mine[0]).policy_no
    found = client.get(
        "/api/v1/policy/search", query_string={"policy_no": number}, headers=headers
    ).get_json()
    assert found["count"] == 1 and found["result"][0]["id"] == mine[0]
    bad = client.get("/api/v1/policy/search?start_from=yesterday", headers=headers)
    assert bad.status_code == 422 and bad.get_json()["field"] == "start_from"


def test_get_shows_lines_and_masks_by_role(client, book):
    world, _, mine, _, _ = book
    desk = client.get(f"/api/v1/policy/{mine[0]}", headers=_headers(client, world.users["desk"]))
    result = desk.get_json()["result"]
    assert result["insured_mobile"] == "13812345678"  # the desk may call its customers
    assert [c["code"] for c in result["coverages"]] == ["own_damage", "third_party"]
    region = client.get(
        f"/api/v1/policy/{mine[0]}", headers=_headers(client, world.users["region"])
    ).get_json()["result"]
    assert region["insured_mobile"] == "138****5678"
    assert "*" in region["insured_name"]


def test_endorse_and_cancel(client, book):
    world, _, mine, _, _ = book
    headers = _headers(client, world.users["desk"])
    pk = mine[1]
    bad = client.post(
        f"/api/v1/policy/{pk}/endorse",
        json={"kind": "change_plate", "effective_date": "2026-05-01", "plate": "沪I0000"},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.get_json()["field"] == "plate"
    bad = client.post(
        f"/api/v1/policy/{pk}/endorse",
        json={
            "kind": "change_coverage",
            "effective_date": "2026-09-01",
            "coverages": [{"code": "own_damage", "premium_incl_tax": "lots"}],
        },
        headers=headers,
    )
    assert bad.status_code == 422
    assert bad.get_json()["field"] == "coverages[0].premium_incl_tax"
    assert (
        client.post(f"/api/v1/policy/{pk}/endorse", data="nope", headers=headers).status_code == 422
    )
    done = client.post(
        f"/api/v1/policy/{pk}/endorse",
        json={
            "kind": "change_coverage",
            "effective_date": "2026-09-01",
            "coverages": [
                {"code": "own_damage", "name": "车损险", "premium_incl_tax": "3600.00"},
                {"code": "third_party", "name": "三者险", "premium_incl_tax": "1200.00"},
            ],
        },
        headers=headers,
    )
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["premium_change_incl_tax"] == "297.53"
    cancel = client.post(
        f"/api/v1/policy/{pk}/cancel",
        json={"effective_date": "2026-10-01", "reason": "车辆转卖"},
        headers=headers,
    )
    assert cancel.status_code == 201, cancel.get_json()
    assert cancel.get_json()["kind"] == "cancel"
    assert cancel.get_json()["premium_change_incl_tax"].startswith("-")
    again = client.post(
        f"/api/v1/policy/{pk}/cancel",
        json={"effective_date": "2026-10-02", "reason": "再退"},
        headers=headers,
    )
    assert again.status_code == 409 and again.get_json()["field"] == "status"
    missing = client.post(
        f"/api/v1/policy/{mine[2]}/cancel", json={"effective_date": "2026-10-01"}, headers=headers
    )
    assert missing.status_code == 422 and missing.get_json()["field"] == "reason"


def test_region_manager_cannot_write(client, book):
    world, _, mine, _, _ = book
    response = client.post(
        f"/api/v1/policy/{mine[2]}/cancel",
        json={"effective_date": "2026-10-01", "reason": "x"},
        headers=_headers(client, world.users["region"]),
    )
    assert response.status_code in (401, 403)


def test_pdf_and_openapi(client, book):
    world, _, mine, _, _ = book
    headers = _headers(client, world.users["desk"])
    pdf = client.get(f"/api/v1/policy/{mine[0]}/pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    spec = client.get("/api/v1/_openapi", headers=_headers(client, world.users["probe"])).get_json()
    paths = spec["paths"]
    assert "/api/v1/policy/{pk}/endorse" in paths and "/api/v1/policy/{pk}/cancel" in paths
    assert "/api/v1/policy/search" in paths and "/api/v1/policy/" in paths
