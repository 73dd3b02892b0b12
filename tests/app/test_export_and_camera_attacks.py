"""Issue 14, findings 6, 7 and 11 (camera event ids), attacked the way the probe did:

- a customer named `=HYPERLINK(...)` (and the other formula starts) exported to Excel and CSV;
- camera events dated 9999-12-31 and 0001-01-01+14:00, at ingest and already stored;
- a camera of a sibling store reusing another store's event id.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import random
import re
import uuid

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditAction, AuditRecord
from app.cameras.models import CameraEvent, EventKind
from app.customers.models import Customer, Vehicle
from app.demo.loader import make_vin
from app.exports import build_csv, build_workbook, neutralise
from app.extensions import db
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import build_world, install_for, reminder_entity, write_pack
from tests.app.test_cameras import add_camera, event, events_with, login_as, post_signed

ROLES = {
    "admin": ("tenant_admin", "hq"),
    "manager": ("store_manager", "store_a"),
    "desk": ("insurance_desk", "store_a"),
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
PAYLOADS = [
    '=HYPERLINK("http://x","y")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    ' =HYPERLINK("http://x","y")',
]


@pytest.fixture(scope="module")
def world(app):
    return build_world(app, ROLES)


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def iso(moment: datetime.datetime) -> str:
    return moment.isoformat() + "Z"


# --- 6. formula injection in exports -------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_customers(world):
    """Customers named with each payload, each with a vehicle (so the vehicle export shows the
    name too), in store A."""
    with use_scope(system_scope("tests")):
        first = db.session.scalar(select(Vehicle).where(Vehicle.org_node_id == world.store_a))
        rng = random.Random(world.tenant_id)
        for n, name in enumerate(PAYLOADS):
            customer = Customer(tenant_id=world.tenant_id, org_node_id=world.store_a, name=name)
            vehicle = Vehicle(
                tenant_id=world.tenant_id,
                org_node_id=world.store_a,
                customer=customer,
                vin=make_vin(rng, "LSV", "R"),
                plate=f"沪F{n:05d}",
                brand_id=first.brand_id,
            )
            db.session.add_all([customer, vehicle])
        db.session.commit()
    return PAYLOADS


def assert_no_formula_cells(workbook_bytes: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes))
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert_inert(cell.value)
                    # XML turns a carriage return into a line feed: compare as written.
                    values.append(cell.value.replace("\n", "\r"))
                else:
                    values.append(cell.value)
    return values


def assert_inert(text: str) -> None:
    """Text may begin with a formula character only when it is exactly a number ("-12.50"),
    which no spreadsheet can run."""
    if text.lstrip(" ").startswith(FORMULA_STARTS):
        assert PLAIN_NUMBER.match(text), repr(text)


def assert_no_formula_fields(csv_bytes: bytes) -> list:
    text = csv_bytes.decode("utf-8-sig")
    fields = [field for row in csv.reader(io.StringIO(text)) for field in row]
    for field in fields:
        assert_inert(field)
    return fields


@pytest.mark.parametrize("path", ["/customerview/export/", "/vehicleview/export/"])
def test_excel_exports_hold_no_live_formula(client, world, hostile_customers, path):
    login_as(client, world.users["admin"])
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    values = assert_no_formula_cells(response.data)
    for payload in hostile_customers:  # still there, readable, as plain text
        assert "'" + payload in values


@pytest.mark.parametrize("path", ["/customerview/export/", "/vehicleview/export/"])
def test_csv_exports_hold_no_live_formula(client, world, hostile_customers, path):
    login_as(client, world.users["admin"])
    response = client.get(path + "?format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    fields = assert_no_formula_fields(response.data)
    for payload in hostile_customers:
        assert "'" + payload in fields


def test_the_list_offers_the_csv_export_with_its_filters(client, world, hostile_customers):
    login_as(client, world.users["admin"])
    page = client.get("/customerview/list/?_flt_2_name=HYPERLINK").get_data(as_text=True)
    link = re.search(r'id="dc-export-csv"\s+href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert link.endswith("_flt_2_name=HYPERLINK&format=csv"), link
    fields = assert_no_formula_fields(client.get(link).data)
    names = [f for f in fields if "HYPERLINK" in f]
    assert names and all(n.lstrip(" ").startswith("'") for n in names)
    assert len(names) == 2  # the filter applied: only the two HYPERLINK customers


def test_an_unknown_export_format_is_refused(client, world):
    login_as(client, world.users["admin"])
    assert client.get("/customerview/export/?format=xls").status_code == 400


def test_entity_exports_hold_no_live_formula(app, client, world, tmp_path):
    note = {"name": "note", "label": {"zh": "备注", "en": "Note"}, "type": "string"}
    folder = write_pack(tmp_path, "formula_pack", documents=[reminder_entity(extra_fields=[note])])
    install_for(app, world, folder)
    from app.configuration import records
    from app.configuration.runtime import REGISTRY

    with use_scope(system_scope("tests")):
        runtime = REGISTRY.get(db.session, "inspection_reminder", world.tenant_id)
        for payload in PAYLOADS:
            data = {"plate": "沪A12345", "due_date": "2026-12-31", "note": payload}
            records.create_record(db.session, runtime, {**data, "org_node_id": world.store_a}, "t")
    login_as(client, world.users["admin"])
    response = client.get("/entities/inspection_reminder/export")
    assert response.status_code == 200
    values = assert_no_formula_cells(response.data)
    for payload in PAYLOADS:
        assert "'" + payload in values


def test_numbers_stay_numbers_and_only_text_is_neutralised():
    row = [decimal.Decimal("-12.50"), -3, 2.5, "-12.50", "-1+1", "=1+1", "王芳", None, True]
    values = assert_no_formula_cells(build_workbook(["a"] * len(row), [row]))[len(row) :]
    assert values[:3] == [decimal.Decimal("-12.50"), -3, 2.5]  # numbers, not text
    assert values[3:7] == ["-12.50", "'-1+1", "'=1+1", "王芳"]
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(["a"], [[decimal.Decimal("-12.50")]])))
    assert book.worksheets[0]["A2"].data_type == "n"
    fields = assert_no_formula_fields(
        build_csv(["a", "b", "c"], [[decimal.Decimal("-12.50"), "-x", "y"]])
    )
    assert fields == ["a", "b", "c", "-12.50", "'-x", "y"]
    assert neutralise("＝1+1") == "'＝1+1"  # full-width forms too


# --- 7. camera dates -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gate_a(world):
    return add_camera(world, "store_a", "GATE-A")


@pytest.mark.parametrize(
    "seen_at, words",
    [
        ("9999-12-31T23:59:59Z", "between the years"),
        ("9999-12-31T23:59:59+14:00", "between the years"),
        ("0001-01-01T00:00:00+14:00", "between the years"),
        ("0001-01-01T00:00:00-14:00", "between the years"),
        ("2201-01-01T00:00:00Z", "between the years"),
        ("1899-12-31T00:00:00Z", "between the years"),
        ("future", "minutes in the future"),
        ("ancient", "days in the past"),
        ("2026-02-30T00:00:00Z", "not an ISO-8601 time"),
    ],
)
def test_camera_times_out_of_bounds_are_refused_at_ingest(client, gate_a, seen_at, words):
    key_id, token, _ = gate_a
    if seen_at == "future":
        seen_at = iso(utc_now() + datetime.timedelta(hours=1))
    elif seen_at == "ancient":
        seen_at = iso(utc_now() - datetime.timedelta(days=31))
    payload = event("沪A9T001", "GATE-A", seen_at=seen_at)
    answer = post_signed(client, key_id, token, payload)
    assert answer.status_code == 422, answer.get_data(as_text=True)
    message = answer.get_json()["message"]
    assert message.startswith("seen_at") and words in message
    assert events_with(payload["event_id"]) == []


def test_camera_times_within_bounds_are_stored(client, gate_a):
    key_id, token, _ = gate_a
    for moment in (
        utc_now() + datetime.timedelta(minutes=5),
        utc_now() - datetime.timedelta(days=29),
    ):
        payload = event("沪A9T002", "GATE-A", seen_at=iso(moment))
        assert post_signed(client, key_id, token, payload).status_code == 201
        (row,) = events_with(payload["event_id"])
        assert abs(row.seen_at - moment) < datetime.timedelta(seconds=1)


def test_a_heartbeat_time_out_of_bounds_is_refused(client, gate_a):
    key_id, token, _ = gate_a
    for sent_at in ("9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00+14:00"):
        beat = {"camera_code": "GATE-A", "agent_version": "1", "sent_at": sent_at}
        answer = post_signed(client, key_id, token, beat, path="/api/v1/camera/heartbeat")
        assert answer.status_code == 422
        assert answer.get_json()["message"].startswith("sent_at")


def _stored_event(world, camera_id: int, seen_at: datetime.datetime, matched: bool) -> int:
    """An event written straight to the database, as one stored before ingest was bounded."""
    with use_scope(system_scope("tests")):
        vehicle = db.session.scalar(select(Vehicle).where(Vehicle.org_node_id == world.store_a))
        row = CameraEvent(
            tenant_id=world.tenant_id,
            org_node_id=world.store_a,
            camera_id=camera_id,
            event_id=str(uuid.uuid4()),
            kind=EventKind.PLATE,
            text=vehicle.plate if matched else "沪Z99999",
            confidence=0.9,
            seen_at=seen_at,
            received_at=utc_now(),
            vehicle_id=vehicle.id if matched else None,
            customer_id=vehicle.customer_id if matched else None,
            walk_in=not matched,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.mark.parametrize(
    "seen_at, shown",
    [
        # Shanghai's +08:00 overflows the calendar: shown in UTC, marked as such.
        (datetime.datetime(9999, 12, 31, 23, 59, 59), "9999-12-31 23:59:59 UTC"),
        # Converts (to local mean time, +08:06): shown in local time like any other.
        (datetime.datetime(1, 1, 1, 0, 0, 1), "0001-01-01 08:06:01"),
    ],
    ids=["end-of-calendar", "year-one"],
)
def test_a_stored_absurd_time_breaks_no_page_and_can_be_deleted(
    client, world, gate_a, seen_at, shown
):
    _, _, camera_id = gate_a
    walk_in = _stored_event(world, camera_id, seen_at, matched=False)
    arrival = _stored_event(world, camera_id, seen_at, matched=True)
    login_as(client, world.users["desk"])
    for url in (
        "/cameraeventview/list/",
        f"/cameraeventview/show/{walk_in}",
        "/walkinleadview/list/",
        f"/walkinleadview/show/{walk_in}",
        "/cameras/arrivals/",
        "/cameraeventview/export/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert shown in client.get("/cameraeventview/list/").get_data(as_text=True)
    alerts = client.get(f"/cameras/alerts/poll?after={arrival - 1}")
    assert alerts.status_code == 200
    assert alerts.get_json()["alerts"][0]["time"] == shown[11:]  # the time of day

    # The desk may not delete it; the store's manager may, and the audit trail keeps it.
    client.post(f"/cameraeventview/delete/{walk_in}")
    assert _exists(walk_in)
    login_as(client, world.users["manager"])
    for view, pk in (("cameraeventview", arrival), ("walkinleadview", walk_in)):
        client.post(f"/{view}/delete/{pk}")
        assert not _exists(pk), view
        with use_scope(system_scope("tests")):
            audit = db.session.scalar(
                select(AuditRecord).where(
                    AuditRecord.entity == "camera_event",
                    AuditRecord.record_id == str(pk),
                    AuditRecord.action == AuditAction.DELETE,
                )
            )
        assert audit is not None and audit.username == world.users["manager"]


def _exists(pk: int) -> bool:
    with use_scope(system_scope("tests")):
        return db.session.get(CameraEvent, pk) is not None


def test_the_alert_poll_refuses_ids_past_a_bigint(client, world):
    login_as(client, world.users["desk"])
    assert client.get(f"/cameras/alerts/poll?after={2**64}").status_code == 400
    assert client.get("/cameras/alerts/poll?after=-1").status_code == 400
    assert client.get(f"/cameras/arrivals/image/{2**64}").status_code == 404


def test_entity_dates_outside_the_plausible_years_are_refused():
    from app.configuration.entities import FieldError, coerce_value

    for kind, raw in (
        ("date", "9999-12-31"),
        ("date", "0001-01-01"),
        ("datetime", "9999-12-31T23:59:59+14:00"),
        ("datetime", "0001-01-01T00:00:00+14:00"),
    ):
        with pytest.raises(FieldError) as caught:
            coerce_value({"name": "due", "type": kind}, raw)
        assert caught.value.field == "due" and "1900" in caught.value.message
    assert coerce_value({"name": "due", "type": "date"}, "2026-12-31") == datetime.date(
        2026, 12, 31
    )


# --- 11. event ids are unique per camera ---------------------------------------------------------


def test_a_sibling_stores_camera_cannot_suppress_events_by_reusing_their_ids(client, world, gate_a):
    key_a, token_a, camera_a = gate_a
    key_b, token_b, camera_b = add_camera(world, "store_b", "GATE-B")
    stolen_id = str(uuid.uuid4())
    # Store B's camera sends the id first (it learnt it, or guessed it)...
    first = post_signed(client, key_b, token_b, event("沪B0S001", "GATE-B", event_id=stolen_id))
    assert first.status_code == 201
    # ...and store A's real event with that id is still stored, not taken for a duplicate.
    own = post_signed(client, key_a, token_a, event("沪A0S001", "GATE-A", event_id=stolen_id))
    assert own.status_code == 201, own.get_data(as_text=True)
    # A's retry is still a duplicate, and so is B's.
    again = post_signed(client, key_a, token_a, event("沪A0S001", "GATE-A", event_id=stolen_id))
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    again_b = post_signed(client, key_b, token_b, event("沪B0S001", "GATE-B", event_id=stolen_id))
    assert again_b.get_json()["status"] == "duplicate"
    rows = events_with(stolen_id)
    assert sorted((r.camera_id, r.org_node_id) for r in rows) == sorted(
        [(camera_a, world.store_a), (camera_b, world.store_b)]
    )


def test_the_database_keeps_event_ids_unique_per_camera(world, gate_a):
    """The constraint itself (revision 0005), not only the service's look-up: a retry racing
    its original is caught here."""
    _, _, camera_id = gate_a
    event_id = str(uuid.uuid4())
    with use_scope(system_scope("tests")):
        for _ in range(2):
            db.session.add(
                CameraEvent(
                    tenant_id=world.tenant_id,
                    org_node_id=world.store_a,
                    camera_id=camera_id,
                    event_id=event_id,
                    kind=EventKind.PLATE,
                    text="沪A0U001",
                    confidence=0.9,
                    seen_at=utc_now(),
                )
            )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
