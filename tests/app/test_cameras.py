"""The app's side of the gate cameras (issue 11): signed events API, matching, arrivals, alerts,
walk-in leads, heartbeats and the camera screens."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import re
import time
import uuid

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditRecord
from app.cameras import services
from app.cameras.models import Camera, CameraEvent, EventKind
from app.customers.models import Vehicle
from app.extensions import db
from app.organisation.models import OrgNode
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import build_world, login

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32 + b"\xff\xd9"
ROLES = {
    "desk": ("insurance_desk", "store_a"),
    "deskb": ("insurance_desk", "store_b"),
    "manager": ("store_manager", "store_a"),
}


# --- helpers (also used by test_scoping's fixture to put camera rows in every store) -----------


def add_camera(world, store: str = "store_a", code: str = "GATE-1") -> tuple[str, str, int]:
    """Register a camera at the world's store; returns (key id, token, camera id)."""
    with use_scope(system_scope("tests")):
        node = db.session.get(OrgNode, getattr(world, store))
        camera, token = services.register_camera(db.session, node, code, f"{code} 大门")
        db.session.commit()
        return camera.key_id, token, camera.id


def add_camera_rows(world) -> None:
    """A camera and one read in each store of the world."""
    for store in ("store_a", "store_b"):
        _, _, camera_id = add_camera(world, store, f"CAM-{store[-1].upper()}")
        with use_scope(system_scope("tests")):
            db.session.add(
                CameraEvent(
                    tenant_id=world.tenant_id,
                    org_node_id=getattr(world, store),
                    camera_id=camera_id,
                    event_id=str(uuid.uuid4()),
                    kind=EventKind.PLATE,
                    text="沪Z00000",
                    confidence=0.9,
                    seen_at=datetime.datetime.now(datetime.UTC).replace(tzinfo=None),
                    walk_in=True,
                )
            )
            db.session.commit()


def plate_in(world, store: str = "store_a") -> tuple[str, str]:
    """(plate, customer name) of a vehicle in the world's store."""
    with use_scope(system_scope("tests")):
        vehicle = db.session.scalars(
            select(Vehicle).where(Vehicle.org_node_id == getattr(world, store)).order_by(Vehicle.id)
        ).first()
        return vehicle.plate, vehicle.customer.name


def event(text: str, camera_code: str = "GATE-1", **changes) -> dict:
    body = {
        "event_id": str(uuid.uuid4()),
        "kind": "plate",
        "text": text,
        "colour": "blue",
        "confidence": 0.97,
        "seen_at": datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "camera_code": camera_code,
        "image_jpeg_b64": base64.b64encode(JPEG).decode(),
    }
    body.update(changes)
    return body


def signed_headers(key_id: str, token: str, body: bytes, timestamp: int | None = None) -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = hmac.new(token.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Camera-Key": key_id,
        "X-Timestamp": stamp,
        "X-Signature": signature,
    }


def post_signed(client, key_id, token, payload, path="/api/v1/camera/events", **kwargs):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(path, data=body, headers=signed_headers(key_id, token, body, **kwargs))


def events_with(event_id: str) -> list[CameraEvent]:
    with use_scope(system_scope("tests")):
        return db.session.scalars(select(CameraEvent).where(CameraEvent.event_id == event_id)).all()


@pytest.fixture(scope="module")
def world(app):
    return build_world(app, ROLES)


@pytest.fixture(scope="module")
def other(app):
    return build_world(app, {"desk": ("insurance_desk", "store_a")})


@pytest.fixture(scope="module")
def gate(world):
    return add_camera(world)


# --- signatures ----------------------------------------------------------------------------------


def test_a_signed_event_is_stored_once_and_a_retry_is_a_duplicate(client, world, gate):
    key_id, token, camera_id = gate
    plate, _ = plate_in(world)
    payload = event(plate)
    first = post_signed(client, key_id, token, payload)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.get_json()["status"] == "stored"
    again = post_signed(client, key_id, token, payload)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    rows = events_with(payload["event_id"])
    assert len(rows) == 1
    row = rows[0]
    assert row.camera_id == camera_id and row.org_node_id == world.store_a
    assert row.text == plate and row.vehicle_id is not None and not row.walk_in


def test_bad_signatures_stale_times_and_unknown_or_revoked_keys_are_refused(client, world):
    key_id, token, camera_id = add_camera(world, code="GATE-SIG")
    plate, _ = plate_in(world)
    payload = event(plate, "GATE-SIG")
    body = json.dumps(payload).encode()
    tampered = body.replace(b'"confidence": 0.97', b'"confidence": 0.10')
    assert tampered != body

    def post(data: bytes, headers: dict):
        return client.post("/api/v1/camera/events", data=data, headers=headers)

    now = int(time.time())
    refused = {
        "tampered body": post(tampered, signed_headers(key_id, token, body)),
        "wrong token": post(body, signed_headers(key_id, "not-the-token", body)),
        "replayed old timestamp": post(body, signed_headers(key_id, token, body, now - 400)),
        "timestamp from the future": post(body, signed_headers(key_id, token, body, now + 400)),
        "unknown key": post(body, signed_headers("cam_unknown", token, body)),
        "no signature": post(body, {"Content-Type": "application/json", "X-Camera-Key": key_id}),
    }
    with use_scope(system_scope("tests")):
        services.revoke(db.session.get(Camera, camera_id))
        db.session.commit()
    refused["revoked key"] = post(body, signed_headers(key_id, token, body))
    refused["revoked key, heartbeat"] = post_signed(
        client, key_id, token, {"camera_code": "GATE-SIG"}, path="/api/v1/camera/heartbeat"
    )
    assert {name: r.status_code for name, r in refused.items()} == dict.fromkeys(refused, 401)
    assert events_with(payload["event_id"]) == []


def test_a_timestamp_within_five_minutes_is_accepted(client, world, gate):
    key_id, token, _ = gate
    answer = post_signed(client, key_id, token, event("沪A0000A"), timestamp=int(time.time()) - 250)
    assert answer.status_code == 201


@pytest.mark.parametrize(
    "change, status",
    [
        ({"kind": "face"}, 422),
        ({"text": ""}, 422),
        ({"colour": "purple"}, 422),
        ({"confidence": 1.5}, 422),
        ({"confidence": "high"}, 422),
        ({"seen_at": "yesterday"}, 422),
        ({"event_id": "a b"}, 422),
        ({"image_jpeg_b64": "%%%not base64"}, 422),
        ({"image_jpeg_b64": base64.b64encode(b"GIF89a").decode()}, 422),
    ],
)
def test_malformed_events_are_refused_as_such(client, gate, change, status):
    key_id, token, _ = gate
    payload = event("沪A12345") | change
    assert post_signed(client, key_id, token, payload).status_code == status
    assert events_with(payload["event_id"]) == []


def test_a_body_that_is_not_json_is_400_and_a_huge_one_413(client, gate):
    key_id, token, _ = gate
    assert post_signed(client, key_id, token, b"{not json").status_code == 400
    assert post_signed(client, key_id, token, b"[1, 2]").status_code == 400
    huge = event("沪A12345", image_jpeg_b64="A" * (services.MAX_BODY_BYTES + 10))
    assert post_signed(client, key_id, token, huge).status_code == 413


def test_a_camera_posts_only_as_itself_and_only_to_its_own_store(client, world):
    key_a, token_a, _ = add_camera(world, "store_a", "GATE-A2")
    add_camera(world, "store_b", "GATE-B2")
    plate, _ = plate_in(world, "store_b")
    as_other_camera = event(plate, "GATE-B2")
    assert post_signed(client, key_a, token_a, as_other_camera).status_code == 403
    assert events_with(as_other_camera["event_id"]) == []
    own = event(plate, "GATE-A2", store=world.store_b, org_node_id=world.store_b)
    assert post_signed(client, key_a, token_a, own).status_code == 201
    (row,) = events_with(own["event_id"])
    assert row.org_node_id == world.store_a  # the store is the camera's, whatever the body says


def test_the_api_needs_no_csrf_token_when_csrf_is_on(world):
    from app import create_app

    strict = create_app("test", {"WTF_CSRF_ENABLED": True})
    key_id, token, _ = add_camera(world, code="GATE-CSRF")
    with strict.app_context():
        answer = post_signed(strict.test_client(), key_id, token, event("沪A1234C", "GATE-CSRF"))
        db.session.remove()
    assert answer.status_code == 201


# --- matching, walk-ins, alerts, arrivals --------------------------------------------------------


def login_as(client, username: str) -> None:
    """Switch user: the login page ignores a login while someone is logged in."""
    client.get("/logout/")
    login(client, username)


def poll(client, after=None):
    response = client.get("/cameras/alerts/poll" + ("" if after is None else f"?after={after}"))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_an_arrival_pops_an_alert_for_the_stores_desk_only(client, world, other, gate):
    key_id, token, _ = gate
    plate, customer = plate_in(world)
    cursors = {}
    for who, username in (
        ("desk", world.users["desk"]),
        ("deskb", world.users["deskb"]),
        ("other", other.users["desk"]),
    ):
        login_as(client, username)
        cursors[who] = poll(client).get_json()["last_id"]
    assert post_signed(client, key_id, token, event(plate)).status_code == 201

    login_as(client, world.users["desk"])
    response = poll(client, cursors["desk"])
    assert "Set-Cookie" not in response.headers  # polling does not keep the session alive
    alerts = response.get_json()["alerts"]
    assert [a["plate"] for a in alerts] == [plate]
    assert alerts[0]["customer"] == customer and alerts[0]["store"] == "浦东店"
    assert poll(client, response.get_json()["last_id"]).get_json()["alerts"] == []

    for who, username in (("deskb", world.users["deskb"]), ("other", other.users["desk"])):
        login_as(client, username)
        assert poll(client, cursors[who]).get_json()["alerts"] == [], who


def test_another_tenants_plate_matches_nothing_and_raises_no_alert(client, world, other, gate):
    key_id, token, _ = gate
    foreign_plate, foreign_customer = plate_in(other)
    login_as(client, world.users["desk"])
    cursor = poll(client).get_json()["last_id"]
    payload = event(foreign_plate)
    assert post_signed(client, key_id, token, payload).status_code == 201
    (row,) = events_with(payload["event_id"])
    assert row.vehicle_id is None and row.customer_id is None and row.walk_in
    assert poll(client, cursor).get_json()["alerts"] == []
    page = client.get("/cameras/arrivals/").get_data(as_text=True)
    assert foreign_plate in page and foreign_customer not in page
    assert "dc-walk-in" in page


def test_an_unknown_plate_is_kept_as_a_walk_in_lead(client, world, gate):
    key_id, token, _ = gate
    payload = event("沪A5W4L1")
    assert post_signed(client, key_id, token, payload).status_code == 201
    (row,) = events_with(payload["event_id"])
    assert row.walk_in and row.vehicle_id is None
    login_as(client, world.users["desk"])
    leads = client.get("/walkinleadview/list/?psize_WalkInLeadView=100").get_data(as_text=True)
    assert "沪A5W4L1" in leads
    assert f"/walkinleadview/show/{row.id}" in leads


def test_a_vehicle_of_a_sibling_store_matches_without_naming_its_customer(client, world, gate):
    key_id, token, _ = gate
    plate, customer = plate_in(world, "store_b")
    login_as(client, world.users["desk"])
    cursor = poll(client).get_json()["last_id"]
    payload = event(plate)
    assert post_signed(client, key_id, token, payload).status_code == 201
    (row,) = events_with(payload["event_id"])
    assert row.vehicle_id is not None and not row.walk_in  # same tenant: a known car
    alerts = poll(client, cursor).get_json()["alerts"]
    assert [a["plate"] for a in alerts] == [plate]
    assert customer not in json.dumps(alerts, ensure_ascii=False)  # store B's customer stays there
    assert customer not in client.get("/cameras/arrivals/").get_data(as_text=True)


def test_a_vin_code_matches_the_vehicle(client, world, gate):
    key_id, token, _ = gate
    with use_scope(system_scope("tests")):
        vin = db.session.scalars(
            select(Vehicle.vin).where(Vehicle.org_node_id == world.store_a)
        ).first()
    payload = event(vin, kind="code", colour=None, confidence=1.0)
    assert post_signed(client, key_id, token, payload).status_code == 201
    (row,) = events_with(payload["event_id"])
    assert row.kind == EventKind.CODE and row.vehicle_id is not None and not row.walk_in


def test_arrivals_today_are_scoped_to_the_users_stores(client, world, other, gate):
    key_id, token, _ = gate
    plate, customer = plate_in(world)
    assert post_signed(client, key_id, token, event(plate)).status_code == 201
    login_as(client, world.users["desk"])
    page = client.get("/cameras/arrivals/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert plate in html and customer in html and 'class="dc-arrival' in html
    for username in (world.users["deskb"], other.users["desk"]):
        login_as(client, username)
        html = client.get("/cameras/arrivals/").get_data(as_text=True)
        assert plate not in html


def test_the_poll_answers_401_once_the_session_is_gone(client, world):
    client.get("/logout/")
    assert client.get("/cameras/alerts/poll?after=0").status_code == 401
    login_as(client, world.users["desk"])
    assert client.get("/cameras/alerts/poll?after=0").status_code == 200


def test_yesterdays_reads_are_not_arrivals_today(app, world):
    timezone = app.config["BABEL_DEFAULT_TIMEZONE"]
    today = services.local_today(timezone)
    start, end = services.local_day_bounds(today, timezone)
    assert end - start == datetime.timedelta(days=1)
    assert start.hour == 16  # Asia/Shanghai midnight is 16:00 UTC the day before
    with use_scope(system_scope("tests")):
        rows = services.arrivals_between(db.session, start, end)
    assert all(start <= r.seen_at < end for r in rows)


def test_the_event_picture_is_served_in_scope_only(client, world, other, gate):
    key_id, token, _ = gate
    payload = event("沪A1M2G3")
    assert post_signed(client, key_id, token, payload).status_code == 201
    (row,) = events_with(payload["event_id"])
    login_as(client, world.users["desk"])
    picture = client.get(f"/cameras/arrivals/image/{row.id}")
    assert picture.status_code == 200 and picture.data == JPEG
    login_as(client, other.users["desk"])
    assert client.get(f"/cameras/arrivals/image/{row.id}").status_code == 404


# --- heartbeats and status -----------------------------------------------------------------------


def test_heartbeats_show_online_then_offline_after_silence(client, world):
    key_id, token, camera_id = add_camera(world, code="GATE-HB")
    beat = {
        "camera_code": "GATE-HB",
        "agent_version": "0.3.0",
        "sent_at": "2026-01-01T00:00:00Z",
        "spool_depth": 4,
    }
    with use_scope(system_scope("tests")):
        audits_before = db.session.scalar(select(func.count()).select_from(AuditRecord))
    answer = post_signed(client, key_id, token, beat, path="/api/v1/camera/heartbeat")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    wrong = {**beat, "camera_code": "GATE-1"}
    assert (
        post_signed(client, key_id, token, wrong, path="/api/v1/camera/heartbeat").status_code
        == 403
    )
    with use_scope(system_scope("tests")):
        db.session.expire_all()
        camera = db.session.get(Camera, camera_id)
        assert (camera.agent_version, camera.spool_depth) == ("0.3.0", 4)
        assert camera.status().value == "online"
        later = camera.last_heartbeat_at + datetime.timedelta(seconds=2 * camera.heartbeat_seconds)
        assert camera.status(later).value == "online"
        assert camera.status(later + datetime.timedelta(seconds=1)).value == "offline"
        audits_after = db.session.scalar(select(func.count()).select_from(AuditRecord))
        assert audits_after == audits_before  # heartbeats are telemetry, not audited changes
        camera.last_heartbeat_at -= datetime.timedelta(seconds=3 * camera.heartbeat_seconds)
        db.session.commit()
    login_as(client, world.users["manager"])
    page = client.get("/cameramonitorview/list/?psize_CameraMonitorView=100").get_data(as_text=True)
    rows = re.findall(r"<tr.*?</tr>", page, re.S)
    row = next(r for r in rows if "GATE-HB" in r)
    assert "dc-camera-offline" in row


def test_a_camera_never_heard_from_is_offline(world):
    _, _, camera_id = add_camera(world, code="GATE-NEW")
    with use_scope(system_scope("tests")):
        assert db.session.get(Camera, camera_id).status().value == "offline"


# --- the console ---------------------------------------------------------------------------------


def _add_form(world, code: str) -> dict:
    return {"org_node": str(world.store_a), "name": "东门", "code": code, "heartbeat_seconds": "30"}


def test_adding_a_camera_shows_its_token_once_and_it_works(client, world):
    login_as(client, world.users["manager"])
    page = client.post("/cameraview/add", data=_add_form(world, "GATE-UI"))
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    key_id = re.search(r'id="dc-camera-key">([^<]+)<', html).group(1)
    token = re.search(r'id="dc-camera-token"[^>]*>([^<]+)<', html).group(1)
    assert post_signed(client, key_id, token, event("沪A7U1I2", "GATE-UI")).status_code == 201

    with use_scope(system_scope("tests")):
        camera = db.session.scalar(select(Camera).where(Camera.key_id == key_id))
        camera_id = camera.id
        audit = db.session.scalar(
            select(AuditRecord).where(
                AuditRecord.entity == "camera", AuditRecord.record_id == str(camera_id)
            )
        )
    assert token not in audit.after  # the audit trail masks the secret
    for url in (
        f"/cameraview/show/{camera_id}",
        f"/cameraview/edit/{camera_id}",
        "/cameraview/list/",
        "/cameramonitorview/list/",
        "/cameraview/export/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert token.encode() not in response.data, url


def test_revoke_and_new_token_from_the_console(client, world):
    login_as(client, world.users["manager"])
    html = client.post("/cameraview/add", data=_add_form(world, "GATE-ROT")).get_data(as_text=True)
    key_id = re.search(r'id="dc-camera-key">([^<]+)<', html).group(1)
    old = re.search(r'id="dc-camera-token"[^>]*>([^<]+)<', html).group(1)
    with use_scope(system_scope("tests")):
        camera_id = db.session.scalar(select(Camera.id).where(Camera.key_id == key_id))

    rotated = client.post(f"/cameraview/action/rotate_token/{camera_id}")
    assert rotated.status_code == 200
    new = re.search(r'id="dc-camera-token"[^>]*>([^<]+)<', rotated.get_data(as_text=True)).group(1)
    assert new != old
    assert post_signed(client, key_id, old, event("沪A0R0T1", "GATE-ROT")).status_code == 401
    assert post_signed(client, key_id, new, event("沪A0R0T2", "GATE-ROT")).status_code == 201

    client.post("/cameraview/action_post", data={"action": "revoke", "rowid": [str(camera_id)]})
    assert post_signed(client, key_id, new, event("沪A0R0T3", "GATE-ROT")).status_code == 401
    page = client.get("/cameraview/list/").get_data(as_text=True)
    assert "dc-camera-revoked" in page


def test_a_desk_user_cannot_register_cameras_but_sees_arrivals(client, world):
    login_as(client, world.users["desk"])
    assert client.get("/cameras/arrivals/").status_code == 200
    before = client.get("/cameraview/add")
    assert before.status_code in (302, 403)
    client.post("/cameraview/add", data=_add_form(world, "GATE-DESK"))
    with use_scope(system_scope("tests")):
        assert db.session.scalar(select(Camera).where(Camera.code == "GATE-DESK")) is None


def test_another_tenants_camera_cannot_be_rotated(client, world, other):
    _, _, foreign_id = add_camera(other, code="GATE-FOREIGN")
    login_as(client, world.users["manager"])
    assert client.post(f"/cameraview/action/rotate_token/{foreign_id}").status_code == 404


def test_a_camera_code_is_checked(client, world):
    login_as(client, world.users["manager"])
    client.post("/cameraview/add", data={**_add_form(world, "GATE-BAD"), "code": "bad code!"})
    with use_scope(system_scope("tests")):
        assert db.session.scalar(select(Camera).where(Camera.code == "bad code!")) is None


def test_cli_creates_a_camera_and_prints_its_token_once(app, world):
    runner = app.test_cli_runner()
    with use_scope(system_scope("tests")):
        tenant_code = world.code
    result = runner.invoke(
        args=["cameras", "create", "--tenant", tenant_code, "--store", "SA", "--code", "GATE-CLI"]
    )
    assert result.exit_code == 0, result.output
    key_id = re.search(r"key_id = (\S+)", result.output).group(1)
    token = re.search(r"token  = (\S+)", result.output).group(1)
    with use_scope(system_scope("tests")):
        camera = db.session.scalar(select(Camera).where(Camera.key_id == key_id))
        assert camera.secret == token and camera.org_node_id == world.store_a
    listing = runner.invoke(args=["cameras", "list"])
    assert key_id in listing.output and token not in listing.output
