"""Endorse and cancel ask the policy's carrier through its plugin (the sandbox here), as issuing
does: the carrier's endorsement number is kept with its answer; a refusal is a 409 and a carrier
that does not answer a 503, and in both cases nothing is written."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.carriers.contract import CarrierRefused, CarrierUnavailable
from app.extensions import db
from app.policies.models import Endorsement, Policy
from app.security import roles as r
from app.tenancy.scope import system_scope, use_scope
from plugins.sandbox_carrier.client import SandboxClient
from tests.app.conftest import api_token, build_world, install_for, login
from tests.app.policies.factory import make_policy
from tests.app.quoting.helpers import install_core

PACKS = Path(__file__).resolve().parents[3] / "metadata" / "packs"


@pytest.fixture(scope="module")
def world(app):
    install_core(app)
    world = build_world(app, {"desk": (r.INSURANCE_DESK, "store_a")})
    install_for(app, world, str(PACKS / "demo"))
    return world


def _state(policy_id: int) -> tuple[str, int, str | None]:
    with use_scope(system_scope("tests")):
        policy = db.session.get(Policy, policy_id)
        count = db.session.scalar(
            select(func.count(Endorsement.id)).where(Endorsement.policy_id == policy_id)
        )
        result = (policy.status.value, count, policy.plate)
        db.session.rollback()
        return result


def test_endorse_and_cancel_go_through_the_sandbox_carrier(app, client, world, monkeypatch):
    start = datetime.date.today() - datetime.timedelta(days=30)
    pk = make_policy(
        world.store_a, carrier_key="picc", carrier_name="中国人保财险", start_date=start
    )
    headers = {"Authorization": f"Bearer {api_token(client, world.users['desk'])}"}
    effective = (start + datetime.timedelta(days=60)).isoformat()

    plate = client.post(
        f"/api/v1/policy/{pk}/endorse",
        json={"kind": "change_plate", "effective_date": effective, "plate": "沪AD12345"},
        headers=headers,
    )
    assert plate.status_code == 201, plate.get_json()
    number = plate.get_json()["endorsement_no"]
    with use_scope(system_scope("tests")):
        policy_no = db.session.get(Policy, pk).policy_no
        db.session.rollback()
    assert number and number != f"{policy_no}P001"  # the sandbox's number, not the book's
    with use_scope(system_scope("tests")):
        stored = db.session.scalar(select(Endorsement).where(Endorsement.endorsement_no == number))
        assert stored.details["carrier"]["carrier_key"] == "picc"
        assert stored.details["carrier"]["endorsement_no"] == number
        db.session.rollback()

    # The carrier refuses: 409 naming the carrier's reason; the plate is not changed.
    def refuse(self, request, timeout):
        raise CarrierRefused("refused", ["该保单存在未决赔案，暂不能批改"])

    monkeypatch.setattr(SandboxClient, "endorse", refuse)
    refused = client.post(
        f"/api/v1/policy/{pk}/endorse",
        json={"kind": "change_plate", "effective_date": effective, "plate": "沪AF54321"},
        headers=headers,
    )
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["code"] == "carrier_refused"
    assert refused.get_json()["field"] == "carrier"
    assert "未决赔案" in refused.get_json()["message"]
    assert _state(pk) == ("pending_confirmation", 1, "沪AD12345")

    # The carrier does not answer in time: 503, nothing written, the cancel can be retried.
    seen = []

    def time_out(self, request, timeout):
        seen.append((request.idempotency_key, timeout))
        raise CarrierUnavailable("timeout", ["保险公司在 20 秒内未响应"])

    monkeypatch.setattr(SandboxClient, "cancel", time_out)
    body = {"effective_date": effective, "reason": "车辆转卖"}
    late = client.post(f"/api/v1/policy/{pk}/cancel", json=body, headers=headers)
    assert late.status_code == 503, late.get_json()
    assert late.get_json()["code"] == "carrier_unavailable"
    assert _state(pk) == ("pending_confirmation", 1, "沪AD12345")
    assert 0 < seen[0][1] <= 20

    monkeypatch.undo()
    done = client.post(f"/api/v1/policy/{pk}/cancel", json=body, headers=headers)
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["endorsement_no"] not in (number, f"{policy_no}P002")
    assert done.get_json()["premium_change_incl_tax"].startswith("-")
    assert _state(pk)[:2] == ("cancelled", 2)


def test_a_bad_change_never_reaches_the_carrier(app, client, world, monkeypatch):
    start = datetime.date.today() - datetime.timedelta(days=30)
    pk = make_policy(
        world.store_a, carrier_key="picc", carrier_name="中国人保财险", start_date=start
    )
    asked = []
    monkeypatch.setattr(SandboxClient, "endorse", lambda *a, **k: asked.append(a))
    headers = {"Authorization": f"Bearer {api_token(client, world.users['desk'])}"}
    bad = client.post(
        f"/api/v1/policy/{pk}/endorse",
        json={
            "kind": "change_plate",
            "effective_date": (start + datetime.timedelta(days=5)).isoformat(),
            "plate": "沪I0000",
        },
        headers=headers,
    )
    assert bad.status_code == 422 and bad.get_json()["field"] == "plate"
    assert asked == []


def test_the_cancel_form_shows_the_carriers_refusal(app, client, world, monkeypatch):
    start = datetime.date.today() - datetime.timedelta(days=30)
    pk = make_policy(
        world.store_a, carrier_key="picc", carrier_name="中国人保财险", start_date=start
    )

    def refuse(self, request, timeout):
        raise CarrierRefused("refused", ["退保须由投保人本人到柜面办理"])

    monkeypatch.setattr(SandboxClient, "cancel", refuse)
    login(client, world.users["desk"])
    page = client.post(
        f"/policies/cancel/{pk}",
        data={"effective_date": (start + datetime.timedelta(days=5)).isoformat(), "reason": "卖车"},
    )
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'id="dc-form-error"' in html and "退保须由投保人本人到柜面办理" in html
    assert _state(pk)[:2] == ("pending_confirmation", 0)
