"""The 进店提醒 alert in a real browser, and the real agent's sender against a live app.

The app runs on a free localhost port in a background thread (werkzeug, threaded) on the test
database; Chromium (Playwright) is logged in as a desk user of store A."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import pytest
from sqlalchemy import select

from app.cameras.models import Camera, CameraEvent
from app.extensions import db
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import PASSWORD, build_world
from tests.app.test_cameras import add_camera, event, plate_in, signed_headers


@pytest.fixture(scope="module")
def live_url(live_server):
    return live_server


@pytest.fixture(scope="module")
def world(app):
    return build_world(app, {"desk": ("insurance_desk", "store_a")})


def post_to(url: str, key_id: str, token: str, payload: dict) -> int:
    body = json.dumps(payload).encode()
    request = urllib.request.Request(
        url + "/api/v1/camera/events", data=body, headers=signed_headers(key_id, token, body)
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return answer.status


def test_an_arrival_pops_up_in_the_desk_users_browser_within_two_seconds(live_url, world, browser):
    from playwright.sync_api import expect

    key_id, token, _ = add_camera(world, code="GATE-WEB")
    plate, customer = plate_in(world)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(live_url + "/login/")
    page.fill("input[name=username]", world.users["desk"])
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    with page.expect_response(lambda r: "/cameras/alerts/poll" in r.url):
        page.goto(live_url + "/cameras/arrivals/")  # any page: the alert lives in the layout

    assert post_to(live_url, key_id, token, event(plate, "GATE-WEB")) == 201
    alert = page.locator(".dc-arrival-alert", has_text=plate)
    expect(alert).to_be_visible(timeout=2000)
    expect(alert).to_contain_text(customer)
    expect(alert).to_contain_text("浦东店")
    expect(alert).to_contain_text("进店提醒")
    page.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_agents_spool_reaches_the_app_in_order_and_only_once(live_url, world, tmp_path):
    # The agent is a separate program; only this test imports it, to drive its real sender.
    pytest.importorskip("cv2")
    from camera_agent.agent import make_event
    from camera_agent.sender import Sender, flush, send_heartbeat
    from camera_agent.spool import Spool

    key_id, token, camera_id = add_camera(world, code="GATE-E2E")
    plate, _ = plate_in(world)
    spool = Spool(tmp_path / "spool")
    texts = [plate, "沪A5E2E1", "沪A5E2E2", plate, "沪A5E2E3"]
    spooled = [make_event("plate", text, "blue", 0.95, "GATE-E2E", None) for text in texts]
    for item in spooled:
        spool.add(item)

    app_down = Sender(f"http://127.0.0.1:{_closed_port()}", key_id, token, timeout=2)
    assert flush(spool, app_down).stopped_by is None
    assert spool.depth() == len(texts)

    sender = Sender(live_url, key_id, token, timeout=5)
    result = flush(spool, sender)
    assert (result.sent, result.stopped_by, spool.depth()) == (len(texts), "", 0)

    for item in spooled[:2]:  # answers lost on the way back: the agent sends them again
        spool.add(item)
    assert flush(spool, sender).sent == 2
    assert send_heartbeat(sender, "GATE-E2E", spool) == 200

    with use_scope(system_scope("tests")):
        rows = db.session.scalars(
            select(CameraEvent).where(CameraEvent.camera_id == camera_id).order_by(CameraEvent.id)
        ).all()
        assert [r.event_id for r in rows] == [e["event_id"] for e in spooled]
        assert [r.text for r in rows] == texts
        assert [r.walk_in for r in rows] == [False, True, True, False, True]
        db.session.expire_all()
        assert db.session.get(Camera, camera_id).status().value == "online"


def test_a_revoked_camera_keeps_its_events_spooled(live_url, world, tmp_path):
    pytest.importorskip("cv2")
    from app.cameras import services
    from camera_agent.agent import make_event
    from camera_agent.sender import Sender, flush
    from camera_agent.spool import Spool

    key_id, token, camera_id = add_camera(world, code="GATE-REV")
    with use_scope(system_scope("tests")):
        services.revoke(db.session.get(Camera, camera_id))
        db.session.commit()
    spool = Spool(tmp_path / "spool")
    spool.add(make_event("plate", "沪A7R3V1", "blue", 0.9, "GATE-REV", None))
    started = time.monotonic()
    assert flush(spool, Sender(live_url, key_id, token)).stopped_by == 401
    assert spool.depth() == 1 and time.monotonic() - started < 5
