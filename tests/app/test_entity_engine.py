"""What the entity engine gives every entity (issue #17), tried on a non-HR entity: the demo
pack's 代送检预约 (vehicle_inspection_booking) with its child rows of items, a photo, document
scans, fields computed from the owner's ID number, states booked → picked up → inspected →
returned, a deposit card masked by role, Excel import and export, and the 年审提醒 it points at
showing it inline. Each feature is also tried across the walls: another tenant and a sibling
store see nothing of it."""

from __future__ import annotations

import datetime
import io
import json
import re
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook, load_workbook
from PIL import Image
from sqlalchemy import inspect, select

from app.audit.models import AuditRecord
from app.configuration import runtime as runtime_module
from app.configuration.computed import Computation, ComputeError, age
from app.configuration.entities import EntityDefinition, plan_changes
from app.configuration.field_types import check_bank_card, check_id_number, check_landline
from app.configuration.hooks import HookCall, register_record_hook
from app.configuration.models import EntityAttachment
from app.configuration.reading import PackError
from app.configuration.runtime import REGISTRY
from app.errors import ValidationFailed
from app.extensions import db
from app.identifiers import InvalidIdentifier
from app.security import roles as r
from app.security.models import DealerUser
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import api_token, build_world, install_for, write_pack
from tests.app.conftest import login as _login

ROOT = Path(__file__).resolve().parents[2]
ENTITIES = ROOT / "metadata/packs/demo/entities"
ID_1990_MALE = "110105199003070017"  # hand-checked below: 1990-03-07, 男 (17th digit odd)
CARD = "6222021234567890128"  # passes Luhn


def _doc(name: str) -> dict:
    """A demo entity document; the booking's items also name the station that checked them (a
    reference inside a child table, shown on the station's page)."""
    document = yaml.safe_load((ENTITIES / f"{name}.yaml").read_text(encoding="utf-8"))
    if name == "vehicle_inspection_booking":
        _items(document["body"])["fields"].append(
            {
                "name": "station",
                "label": {"zh": "检测站"},
                "type": "reference",
                "target": "inspection_station",
            }
        )
    return document


STATION = {
    "kind": "entity",
    "key": "inspection_station",
    "version": "1.0.0",
    "title": "检测站",
    "body": {
        "name": "inspection_station",
        "label": {"zh": "检测站", "en": "Inspection station"},
        "fields": [
            {"name": "station_name", "label": {"zh": "名称"}, "type": "string", "required": True},
            {"name": "opened_on", "label": {"zh": "启用日期"}, "type": "date", "default": "today"},
            {"name": "accredited", "label": {"zh": "已认证"}, "type": "boolean"},
        ],
        "related": [
            {
                "entity": "vehicle_inspection_booking",
                "field": "station",
                "table": "items",
                "label": {"zh": "检测记录"},
                "columns": ["plate", "item", "fee"],
                "totals": [
                    {
                        "label": {"zh": "本年合格检测费", "en": "Fees passed this year"},
                        "sum": "fee",
                        "where": {"passed": True},
                        "period": {"field": "booking_date"},
                        "minimum": 100,
                    },
                    {
                        "label": {"zh": "去年检测次数"},
                        "period": {"field": "booking_date", "within": "last_year"},
                    },
                    {"label": {"zh": "不存在的列"}, "sum": "no_such_column"},
                ],
            }
        ],
        "permissions": {
            "tenant_admin": "write",
            "store_manager": "write",
            "service_advisor": "read",
        },
    },
}


def _documents() -> list[dict]:
    return [_doc("annual_inspection_reminder"), _doc("vehicle_inspection_booking"), STATION]


@pytest.fixture(autouse=True)
def publish_reaches_at_once(monkeypatch):
    monkeypatch.setattr(runtime_module, "CHECK_EVERY_SECONDS", 0)


@pytest.fixture(scope="module")
def world(app, tmp_path_factory):
    roles = {
        "admin": (r.TENANT_ADMIN, "hq"),
        "mgr_a": (r.STORE_MANAGER, "store_a"),
        "adv_a": (r.SERVICE_ADVISOR, "store_a"),
        "adv_b": (r.SERVICE_ADVISOR, "store_b"),
        "fin": (r.FINANCE, "hq"),
        "ren": (r.RENEWAL_SPECIALIST, "store_a"),
    }
    world = build_world(app, roles)
    other = build_world(app, {"admin": (r.TENANT_ADMIN, "hq")})
    folder = tmp_path_factory.mktemp("packs")
    documents = _documents()
    for target in (world, other):
        install_for(
            app, target, write_pack(folder / str(target.tenant_id), "engine", "1.0.0", documents)
        )
    world.other = other
    return world


def login(client, username):
    """Sign in as `username`, signing out whoever was signed in."""
    client.get("/logout/")
    return _login(client, username)


def _headers(client, username):
    return {"Authorization": f"Bearer {api_token(client, username)}"}


def _booking(**extra):
    return {
        "plate": "沪A12345",
        "booking_date": "2026-11-20",
        "owner_name": "张三",
        "owner_id_number": ID_1990_MALE,
        "mobile": "13912345678",
        "landline": "021 62345678",
        "deposit_card": CARD,
        "items": [
            {
                "item": "尾气检测",
                "fee": "120.005",
                "passed": True,
                "inspector_mobile": "13800000001",
            },
            {"item": "灯光检测", "fee": "30", "passed": False},
        ],
        **extra,
    }


def _create(client, world, user="mgr_a", **extra):
    answer = client.post(
        "/api/v1/vehicle_inspection_booking/",
        json=_booking(**extra),
        headers=_headers(client, world.users[user]),
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["result"]


# --- field types ---------------------------------------------------------------------------------


def test_validated_types_check_their_standards():
    assert check_id_number(ID_1990_MALE.lower()) == ID_1990_MALE
    with pytest.raises(InvalidIdentifier, match="region"):
        # a valid check character but no such province (99)
        check_id_number("990105199003070010")
    with pytest.raises(InvalidIdentifier, match="check character"):
        check_id_number("110105199003070011")
    assert check_bank_card("6222 0212 3456 7890 128") == CARD
    with pytest.raises(InvalidIdentifier, match="Luhn"):
        check_bank_card("6222021234567890127")
    assert check_landline("(0755)2234567-89") == "0755-2234567-89"
    with pytest.raises(InvalidIdentifier):
        check_landline("12345678")


def test_bad_values_are_refused_naming_each_field(client, world):
    answer = client.post(
        "/api/v1/vehicle_inspection_booking/",
        json=_booking(
            owner_id_number="110105199003070011",
            deposit_card="6222021234567890127",
            mobile="1234",
            landline="abc",
            items=[{"item": "尾气检测", "fee": "十元"}, {"fee": "1", "colour": "red"}],
        ),
        headers=_headers(client, world.users["mgr_a"]),
    )
    assert answer.status_code == 422
    body = json.dumps(answer.get_json(), ensure_ascii=False)
    for name in (
        "owner_id_number",
        "deposit_card",
        "mobile",
        "landline",
        "items[1].fee",
        "items[2].item",
        "items[2].colour",
    ):
        assert name in body, name


# --- child rows, computed fields, audit -----------------------------------------------------------


def test_child_rows_and_computed_fields(app, client, world):
    created = _create(client, world, owner_birth_date="1970-01-01", total_fee="9999")
    # computed from the ID number and the rows; submitted computed values are ignored
    assert created["owner_birth_date"] == "1990-03-07"
    assert created["owner_sex"] == "male"
    assert created["owner_age"] == age(datetime.date(1990, 3, 7))
    assert created["total_fee"] == "150.01"  # 120.005 → 120.01 half-up, + 30.00
    assert [row["item"] for row in created["items"]] == ["尾气检测", "灯光检测"]
    assert created["items"][0]["fee"] == "120.01"
    headers = _headers(client, world.users["mgr_a"])
    url = f"/api/v1/vehicle_inspection_booking/{created['id']}"
    # PUT without the rows leaves them; with them replaces them and recomputes
    assert (
        len(
            client.put(url, json={"owner_name": "李四"}, headers=headers).get_json()["result"][
                "items"
            ]
        )
        == 2
    )
    changed = client.put(
        url, json={"items": [{"item": "外观", "fee": "50"}], "owner_id_number": ""}, headers=headers
    ).get_json()["result"]
    assert changed["total_fee"] == "50.00"
    assert changed["owner_birth_date"] is None and changed["owner_age"] is None
    table = f"x{world.tenant_id}_vehicle_inspection_booking__items"
    with use_scope(system_scope()):
        assert table in inspect(db.engine).get_table_names()
        audited = db.session.scalars(select(AuditRecord).where(AuditRecord.entity == table)).all()
    assert {a.action for a in audited} >= {"insert", "delete"}
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            secured = connection.exec_driver_sql(
                "SELECT relrowsecurity, relforcerowsecurity FROM pg_class "
                f"WHERE relname = '{table}'"
            ).one()
        assert tuple(secured) == (True, True)
    # the other tenant and the sibling store see neither the record nor its rows
    for username in (world.other.users["admin"], world.users["adv_b"]):
        assert client.get(url, headers=_headers(client, username)).status_code == 404
    with use_scope(system_scope()):
        runtime = REGISTRY.get(db.session, "vehicle_inspection_booking", world.tenant_id)
        child = runtime.model.__children__["items"]
        rows = db.session.scalars(select(child).where(child.parent_id == created["id"])).all()
    assert {row.org_node_id for row in rows} == {world.store_a}


def test_computed_expressions_are_checked():
    assert Computation("age(birth)", {"birth"}).evaluate({"birth": None}) is None
    for bad, why in (
        ("__import__('os')", "unknown function"),
        ("birth.year", "Attribute"),
        ("nosuch(birth)", "unknown function"),
        ("other + 1", "not a field"),
        ("[1][0]", "not allowed"),
    ):
        with pytest.raises(ComputeError, match=why):
            Computation(bad, {"birth"})


# --- states ---------------------------------------------------------------------------------------


def test_states_move_only_along_their_transitions(client, world):
    headers = _headers(client, world.users["adv_a"])
    started_late = client.post(
        "/api/v1/vehicle_inspection_booking/",
        json=_booking(status="returned"),
        headers=headers,
    )
    assert started_late.status_code == 422 and started_late.get_json()["field"] == "status"
    created = _create(client, world, user="adv_a")
    assert created["status"] == "booked"
    url = f"/api/v1/vehicle_inspection_booking/{created['id']}"
    skipped = client.put(url, json={"status": "returned"}, headers=headers)
    assert skipped.status_code == 409 and skipped.get_json()["field"] == "status"
    # an advisor may not cancel (store managers may)
    refused = client.post(f"{url}/_transition", json={"to": "cancelled"}, headers=headers)
    assert refused.status_code == 409 and refused.get_json()["code"] == "transition_role"
    assert (
        client.post(f"{url}/_transition", json={"to": "picked_up"}, headers=headers).status_code
        == 200
    )
    missing = client.post(f"{url}/_transition", json={"to": "inspected"}, headers=headers)
    assert missing.status_code == 422 and missing.get_json()["field"] == "inspection_result"
    done = client.post(
        f"{url}/_transition",
        json={"to": "inspected", "inspection_result": "passed"},
        headers=headers,
    )
    assert done.status_code == 200 and done.get_json()["result"]["status"] == "inspected"
    # the screen: the show page offers the one next step, and the form refuses a jump
    login(client, world.users["adv_a"])
    page = client.get(f"/entities/vehicle_inspection_booking/{created['id']}/").get_data(
        as_text=True
    )
    assert 'data-to="returned"' in page and 'data-to="cancelled"' not in page
    jump = client.post(
        f"/entities/vehicle_inspection_booking/{created['id']}/transition",
        data={"to": "booked", "csrf_token": _csrf(client, created["id"])},
        headers={"Referer": f"/entities/vehicle_inspection_booking/{created['id']}/"},
    )
    assert jump.status_code in (302, 409)
    assert client.get(url, headers=headers).get_json()["result"]["status"] == "inspected"
    moved = client.post(
        f"/entities/vehicle_inspection_booking/{created['id']}/transition",
        data={"to": "returned", "csrf_token": _csrf(client, created["id"])},
    )
    assert moved.status_code == 302
    assert client.get(url, headers=headers).get_json()["result"]["status"] == "returned"


def _csrf(client, record_id) -> str:
    return _csrf_of(client, f"/entities/vehicle_inspection_booking/{record_id}/")


# --- masking --------------------------------------------------------------------------------------


def test_sensitive_fields_are_masked_by_role_everywhere(client, world):
    created = _create(client, world)
    url = f"/api/v1/vehicle_inspection_booking/{created['id']}"

    def seen(user):
        return client.get(url, headers=_headers(client, world.users[user])).get_json()["result"]

    advisor, manager, finance = seen("adv_a"), seen("mgr_a"), seen("fin")
    assert advisor["deposit_card"] != CARD and "*" in advisor["deposit_card"]
    assert advisor["owner_id_number"].startswith("110") and "*" in advisor["owner_id_number"]
    assert advisor["mobile"] == "139****5678"
    assert advisor["items"][0]["inspector_mobile"] == "138****0001"
    assert manager["deposit_card"] == CARD and "*" in manager["owner_id_number"]
    listed = client.get(
        "/api/v1/vehicle_inspection_booking/",
        query_string={"page_size": 500},
        headers=_headers(client, world.users["adv_a"]),
    ).get_json()["result"]
    in_list = next(row for row in listed if row["id"] == created["id"])
    assert in_list["items"][0]["inspector_mobile"] == "138****0001"
    assert "*" in in_list["deposit_card"] and in_list["vehicle_photo"] == []
    assert finance["deposit_card"] == CARD
    # a masked field cannot be searched for
    guess = client.get(
        "/api/v1/vehicle_inspection_booking/",
        query_string={"deposit_card": CARD},
        headers=_headers(client, world.users["adv_a"]),
    )
    assert guess.status_code == 400
    # the screen and the export mask alike; the export is audited with what it showed
    login(client, world.users["adv_a"])
    page = client.get(f"/entities/vehicle_inspection_booking/{created['id']}/").get_data(
        as_text=True
    )
    assert CARD not in page and ID_1990_MALE not in page and "13912345678" not in page
    # the edit form's grid shows the masked cell starred and empty; saved so, it keeps its value
    edit_url = f"/entities/vehicle_inspection_booking/{created['id']}/edit"
    form = client.get(edit_url).get_data(as_text=True)
    assert "13800000001" not in form and 'placeholder="138****0001"' in form
    rows = created["items"]
    saved = client.post(
        edit_url,
        data={
            "csrf_token": _csrf_of(client, edit_url),
            "org_node_id": str(world.store_a),
            "plate": "沪A12345",
            "booking_date": "2026-11-20",
            "status": "booked",
            "owner_name": "张三改",
            "items-count": "3",
            **{f"items-{i}-id": str(row["id"]) for i, row in enumerate(rows)},
            **{f"items-{i}-item": row["item"] for i, row in enumerate(rows)},
            **{f"items-{i}-fee": row["fee"] for i, row in enumerate(rows)},
            "items-0-inspector_mobile": "",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[-3000:]
    after = seen("ren")  # the renewal specialist sees mobiles in full
    assert after["owner_name"] == "张三改"
    assert after["items"][0]["inspector_mobile"] == "13800000001"
    assert after["deposit_card"] != CARD  # … but not this card: only finance and store managers
    exported = client.get("/entities/vehicle_inspection_booking/export")
    sheet = load_workbook(io.BytesIO(exported.data)).active
    cells = {str(c.value) for row in sheet.iter_rows() for c in row}
    assert CARD not in cells and ID_1990_MALE not in cells
    assert "车主身份证号" in cells
    with use_scope(system_scope()):
        audit = db.session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "export", AuditRecord.username == world.users["adv_a"]
            )
        ).all()
    assert audit and json.loads(audit[-1].detail or "{}").get("unmasked") == []


# --- files ----------------------------------------------------------------------------------------


def _png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_photo_and_attachments_are_checked_stored_and_walled(app, client, world):
    created = _create(client, world, user="adv_a")
    base = f"/api/v1/vehicle_inspection_booking/{created['id']}"
    headers = _headers(client, world.users["adv_a"])

    def upload(field, name, data):
        return client.post(
            f"{base}/files/{field}",
            data={"file": (io.BytesIO(data), name)},
            headers=headers,
            content_type="multipart/form-data",
        )

    photo = upload("vehicle_photo", "car.png", _png())
    assert photo.status_code == 201, photo.get_json()
    assert photo.get_json()["result"]["content_type"] == "image/jpeg"  # re-encoded
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for field, name, data in (
        ("vehicle_photo", "x.svg", svg),
        ("documents", "x.html", b"<html><script>alert(1)</script></html>"),
        ("documents", "fake.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
        ("documents", "big.pdf", b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)),
        ("vehicle_photo", "empty.jpg", b""),
        ("documents", "book.xlsx", _workbook([["a"]])),  # office files are not accepted here
    ):
        refused = upload(field, name, data)
        assert refused.status_code in (400, 422), (name, refused.get_json())
        assert field in json.dumps(refused.get_json()), name
    pdf = upload("documents", "../../etc/保单.pdf", b"%PDF-1.4\n%%EOF\n")
    assert pdf.status_code == 201
    assert pdf.get_json()["result"]["name"] == "保单.pdf"
    second_photo = upload("vehicle_photo", "car2.png", _png((10, 10)))
    record = client.get(base, headers=headers).get_json()["result"]
    assert [f["id"] for f in record["vehicle_photo"]] == [second_photo.get_json()["id"]]
    file_url = record["documents"][0]["url"]
    assert client.get(file_url, headers=headers).data.startswith(b"%PDF")
    photo_id = second_photo.get_json()["id"]
    screen_url = f"/entities/vehicle_inspection_booking/{created['id']}/files/{photo_id}"
    login(client, world.users["adv_a"])
    shown = client.get(screen_url)
    assert shown.status_code == 200 and shown.data.startswith(b"\xff\xd8\xff")
    # the walls: a sibling store's user and another tenant's admin get nothing
    for username in (world.users["adv_b"], world.other.users["admin"]):
        assert client.get(file_url, headers=_headers(client, username)).status_code == 404
        login(client, username)
        assert client.get(screen_url).status_code == 404
    with use_scope(system_scope()):
        stored = db.session.scalars(
            select(EntityAttachment).where(EntityAttachment.record_id == created["id"])
        ).all()
        assert all(
            Path(app.config["STORAGE_PATH"], "entity-files", f.storage_key).is_file()
            for f in stored
        )
        audited = db.session.scalars(
            select(AuditRecord).where(AuditRecord.entity == "entity_attachment")
        ).all()
    assert {a.action for a in audited} >= {"insert", "delete"}  # the replaced photo
    assert _stored_files(app, world) == _attachment_rows(world)  # its bytes went with it


def _stored_files(app, world) -> int:
    folder = Path(app.config["STORAGE_PATH"], "entity-files", str(world.tenant_id))
    return len(list(folder.iterdir())) if folder.is_dir() else 0


def _attachment_rows(world) -> int:
    with use_scope(system_scope()):
        return len(
            db.session.scalars(
                select(EntityAttachment).where(EntityAttachment.tenant_id == world.tenant_id)
            ).all()
        )


# --- relations ------------------------------------------------------------------------------------


def test_relations_show_on_both_sides(client, world):
    mgr = _headers(client, world.users["mgr_a"])
    reminder = client.post(
        "/api/v1/annual_inspection_reminder/",
        json={"plate": "沪B54321", "due_date": "2026-12-31"},
        headers=mgr,
    ).get_json()
    booking = _create(client, world, plate="沪B54321", reminder=reminder["id"])
    related = client.get(
        f"/api/v1/annual_inspection_reminder/{reminder['id']}", headers=mgr
    ).get_json()["result"]["_related"]
    assert [row["id"] for row in related["vehicle_inspection_booking"]] == [booking["id"]]
    assert related["vehicle_inspection_booking"][0]["values"]["total_fee"] == "150.01"
    login(client, world.users["mgr_a"])
    reminder_page = client.get(f"/entities/annual_inspection_reminder/{reminder['id']}/").get_data(
        as_text=True
    )
    assert (
        "代送检预约" in reminder_page
        and f"/entities/vehicle_inspection_booking/{booking['id']}/" in reminder_page
    )
    booking_page = client.get(f"/entities/vehicle_inspection_booking/{booking['id']}/").get_data(
        as_text=True
    )
    assert f"/entities/annual_inspection_reminder/{reminder['id']}/" in booking_page
    assert "沪B54321 (#" in booking_page
    # a reminder of the sibling store cannot be pointed at (another tenant's live in their own
    # table, so an id there only ever means a record of this tenant's)
    foreign = client.post(
        "/api/v1/annual_inspection_reminder/",
        json={"plate": "沪C11111", "due_date": "2026-12-31"},
        headers=_headers(client, world.users["adv_b"]),
    ).get_json()
    refused = client.post(
        "/api/v1/vehicle_inspection_booking/",
        json=_booking(reminder=foreign["id"]),
        headers=mgr,
    )
    assert refused.status_code == 422
    # a reference inside a child table shows on the referenced record's page too
    station = client.post(
        "/api/v1/inspection_station/", json={"station_name": "浦东检测站"}, headers=mgr
    ).get_json()
    checked = _create(
        client, world, items=[{"item": "制动", "fee": "80", "station": station["id"]}]
    )
    rows = client.get(f"/api/v1/inspection_station/{station['id']}", headers=mgr).get_json()[
        "result"
    ]["_related"]["vehicle_inspection_booking.items"]
    assert [(r["id"], r["values"]["item"], r["values"]["plate"]) for r in rows] == [
        (checked["id"], "制动", "沪A12345")
    ]
    station_page = client.get(f"/entities/inspection_station/{station['id']}/").get_data(
        as_text=True
    )
    assert "检测记录" in station_page and "制动" in station_page
    # the sibling store's advisor reads stations but not store A's bookings: none listed
    login(client, world.users["adv_b"])
    assert "制动" not in client.get(f"/entities/inspection_station/{station['id']}/").get_data(
        as_text=True
    )


def test_related_totals_add_up_the_rows_shown_against_a_minimum(client, world):
    """A `related:` section's `totals:` sums a column of the related rows (of the child row or
    the record holding it), filtered by equality and by this or last year, against a minimum;
    over the rows the reader sees."""
    mgr = _headers(client, world.users["mgr_a"])
    station = client.post(
        "/api/v1/inspection_station/", json={"station_name": "合计检测站"}, headers=mgr
    ).get_json()
    year = datetime.date.today().year

    def book(day, *items):
        rows = [{"item": i, "fee": f, "passed": p, "station": station["id"]} for i, f, p in items]
        return _create(client, world, booking_date=day, items=rows)

    book(f"{year}-01-02", ("尾气", "60.5", True), ("灯光", "30", False))
    book(f"{year}-12-31", ("制动", "20", True))
    book(f"{year - 1}-12-31", ("制动", "500", True), ("灯光", "5", False))

    def totals(headers):
        shown = client.get(f"/api/v1/inspection_station/{station['id']}", headers=headers)
        return shown.get_json()["result"].get("_totals", {}).get("vehicle_inspection_booking.items")

    assert totals(mgr) == [
        {
            "label": {"zh": "本年合格检测费", "en": "Fees passed this year"},
            "value": "80.5",
            "minimum": 100,
            "met": False,
        },
        {"label": {"zh": "去年检测次数"}, "value": "2", "minimum": None, "met": None},
    ]
    book(f"{year}-06-01", ("复检", "19.5", True))
    assert [t["value"] for t in totals(mgr)] == ["100", "2"] and totals(mgr)[0]["met"] is True
    login(client, world.users["mgr_a"])
    page = client.get(f"/entities/inspection_station/{station['id']}/").get_data(as_text=True)
    line = page.split('class="dc-related-total"', 1)[1].split("</p>", 1)[0]
    assert "本年合格检测费：100" in line and "最低要求 100" in line and "达标" in line
    assert "不存在的列" not in page
    # neither the sibling store nor another tenant gets the station, nor its totals
    for outsider in (world.users["adv_b"], world.other.users["admin"]):
        answer = client.get(
            f"/api/v1/inspection_station/{station['id']}", headers=_headers(client, outsider)
        )
        assert answer.status_code == 404 and "80.5" not in answer.get_data(as_text=True)


def test_date_defaults_and_yes_no_values(client, world):
    """`default: today` fills the add form with today's date (it was a 500) and a record saved
    without it; a yes/no value is one of 是/否/true/false/1/0/yes/no/y/n, anything else is
    refused naming the field on the form, the API and an imported row (it used to become 否)."""
    today = datetime.date.today().isoformat()
    login(client, world.users["mgr_a"])
    form = client.get("/entities/inspection_station/add")
    assert form.status_code == 200 and f'value="{today}"' in form.get_data(as_text=True)
    mgr = _headers(client, world.users["mgr_a"])
    for word, meant in (("是", True), ("否", False), ("Y", True), ("0", False), (True, True)):
        saved = client.post(
            "/api/v1/inspection_station/",
            json={"station_name": f"站{word}", "accredited": word},
            headers=mgr,
        )
        assert saved.status_code == 201, saved.get_json()
        assert saved.get_json()["result"]["accredited"] is meant, word
        assert saved.get_json()["result"]["opened_on"] == today
    for word in ("也许", "maybe", "2", 7):
        refused = client.post(
            "/api/v1/inspection_station/",
            json={"station_name": "疑站", "accredited": word},
            headers=mgr,
        )
        assert refused.status_code == 422, word
        assert "accredited" in json.dumps(refused.get_json(), ensure_ascii=False), word
    # the form: a posted "也许" is an error on the field, a ticked box is 是, none is 否
    token = _csrf_of(client, "/entities/inspection_station/add")
    base = {"csrf_token": token, "org_node_id": str(world.store_a), "station_name": "表单站"}
    page = client.post("/entities/inspection_station/add", data={**base, "accredited": "也许"})
    assert page.status_code == 200 and "是 或 否" in page.get_data(as_text=True)
    ticked = client.post("/entities/inspection_station/add", data={**base, "accredited": "y"})
    assert ticked.status_code == 302
    unticked = client.post("/entities/inspection_station/add", data={**base, "opened_on": ""})
    assert unticked.status_code == 302
    stations = client.get(
        "/api/v1/inspection_station/", query_string={"page_size": 100}, headers=mgr
    ).get_json()["result"]
    found = [r for r in stations if r["station_name"] == "表单站"]
    assert sorted(r["accredited"] for r in found) == [False, True]
    assert all(r["opened_on"] == today for r in found)
    assert not [r for r in stations if r["station_name"] in ("疑站", "导入站二")]
    # an imported row with neither yes nor no is a row error naming the column
    template = client.get("/entities/inspection_station/import?template=1")
    header = [c.value for c in load_workbook(io.BytesIO(template.data)).active[1]]
    column = header.index("已认证")
    rows = [header, [None] * len(header), [None] * len(header)]
    rows[1][header.index("名称*")], rows[1][column] = "导入站一", "是"
    rows[2][header.index("名称*")], rows[2][column] = "导入站二", "也许"
    answer = client.post(
        "/api/v1/inspection_station/_import",
        data={"file": (io.BytesIO(_workbook(rows)), "s.xlsx")},
        headers=mgr,
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert [(e["row"], e["column"]) for e in answer.get_json()["errors"]] == [(3, "已认证")]
    assert "导入站一" not in json.dumps(
        client.get("/api/v1/inspection_station/", headers=mgr).get_json(), ensure_ascii=False
    )  # all or nothing


# --- import and export ----------------------------------------------------------------------------


def _workbook(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


IMPORT_HEADER = ["车牌号*", "预约日期", "车主姓名", "车主身份证号", "状态", "押金退款卡号", "门店"]


def test_import_is_all_or_nothing_with_a_row_error_workbook(client, world):
    login(client, world.users["mgr_a"])
    template = client.get("/entities/vehicle_inspection_booking/import?template=1")
    header = [c.value for c in load_workbook(io.BytesIO(template.data)).active[1]]
    assert "车牌号*" in header and "出生日期" not in header and "检测项目" not in header
    rows = [
        IMPORT_HEADER,
        ["沪A88881", "2026-11-01", "王五", ID_1990_MALE, "已预约", CARD, "浦东店"],
        ["沪A88882", datetime.datetime(2026, 11, 2), "赵六", None, "booked", None, None],
        ["NOTAPLATE", "2026-11-03", "钱七", "110105199003070011", "已交车", None, "火星店"],
    ]
    headers = _headers(client, world.users["mgr_a"])

    def count():
        return client.get(
            "/api/v1/vehicle_inspection_booking/", query_string={"q": "沪A8888"}, headers=headers
        ).get_json()["count"]

    answer = client.post(
        "/api/v1/vehicle_inspection_booking/_import",
        data={"file": (io.BytesIO(_workbook(rows)), "b.xlsx")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    errors = answer.get_json()["errors"]
    assert {(e["row"], e["column"]) for e in errors} == {
        (4, "车牌号"),
        (4, "车主身份证号"),
        (4, "门店"),
    }
    assert count() == 0  # nothing half-imported
    # the screen gives the error workbook: row and column named, the bad cells marked
    page = client.post(
        "/entities/vehicle_inspection_booking/import",
        data={
            "file": (io.BytesIO(_workbook(rows[:3] + [[*rows[3][:6], None]])), "b.xlsx"),
            "mode": "all",
            "csrf_token": _csrf_of(client, "/entities/vehicle_inspection_booking/import"),
        },
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "未导入任何数据" in page and "第4行" not in page and "门店" in page
    assert count() == 0
    workbook = client.post(
        "/entities/vehicle_inspection_booking/import",
        data={
            "file": (io.BytesIO(_workbook(rows)), "b.xlsx"),
            "mode": "all",
            "download": "1",
            "csrf_token": _csrf_of(client, "/entities/vehicle_inspection_booking/import"),
        },
        content_type="multipart/form-data",
    )
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    assert sheet.cell(1, 1).value == "行号" and sheet.cell(1, sheet.max_column).value == "错误"
    assert sheet.cell(2, 1).value == 4
    assert "第4行 [车牌号]" in sheet.cell(2, sheet.max_column).value
    assert sheet.cell(2, 2).fill.fgColor.rgb.endswith("FFC7CE")
    # the third row's state is not an initial one: refused too, once its plate is right
    fixed = [*rows[:3], ["沪A88883", "2026-11-03", "钱七", None, "已交车", None, None]]
    state_refused = client.post(
        "/api/v1/vehicle_inspection_booking/_import",
        data={"file": (io.BytesIO(_workbook(fixed)), "b.xlsx")},
        headers=headers,
        content_type="multipart/form-data",
    ).get_json()
    assert state_refused["errors"][0]["column"] == "状态"
    good = client.post(
        "/api/v1/vehicle_inspection_booking/_import",
        data={"file": (io.BytesIO(_workbook(rows)), "b.xlsx"), "mode": "good_rows"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert good.status_code == 422 and good.get_json()["saved"] == 2
    assert count() == 2
    imported = client.get(
        "/api/v1/vehicle_inspection_booking/", query_string={"q": "沪A88881"}, headers=headers
    ).get_json()["result"][0]
    assert imported["owner_birth_date"] == "1990-03-07" and imported["status"] == "booked"
    with use_scope(system_scope()):
        assert db.session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "import", AuditRecord.username == world.users["mgr_a"]
            )
        ).all()
    # another tenant's import never lands in this tenant, and a sibling store is no target
    sibling = client.post(
        "/api/v1/vehicle_inspection_booking/_import",
        data={
            "file": (
                io.BytesIO(
                    _workbook(
                        [
                            IMPORT_HEADER,
                            ["沪A77771", "2026-11-01", "甲", None, None, None, "闵行店"],
                        ]
                    )
                ),
                "b.xlsx",
            )
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert sibling.status_code == 422


def _csrf_of(client, url) -> str:
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'<meta name="csrf-token" content="([^"]*)"', page)
    return found.group(1) if found else ""


def test_child_rows_import_and_export_through_the_record(client, world):
    created = _create(client, world)
    login(client, world.users["mgr_a"])
    base = f"/entities/vehicle_inspection_booking/{created['id']}/rows/items"
    rows = [["项目*", "费用*", "合格"]] + [[f"项目{i}", f"{i}.5", "是"] for i in range(30)]
    bad = [*rows, ["", "abc", "否"]]
    refused = client.post(
        f"{base}/import",
        data={
            "file": (io.BytesIO(_workbook(bad)), "r.xlsx"),
            "csrf_token": _csrf_of(client, f"{base}/import"),
        },
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "费用" in refused and "32" in refused
    headers = _headers(client, world.users["mgr_a"])
    url = f"/api/v1/vehicle_inspection_booking/{created['id']}"
    assert len(client.get(url, headers=headers).get_json()["result"]["items"]) == 2
    ok = client.post(
        f"{base}/import",
        data={
            "file": (io.BytesIO(_workbook(rows)), "r.xlsx"),
            "csrf_token": _csrf_of(client, f"{base}/import"),
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    record = client.get(url, headers=headers).get_json()["result"]
    assert len(record["items"]) == 32 and record["total_fee"] == "600.01"
    exported = load_workbook(io.BytesIO(client.get(f"{base}/export").data)).active
    assert exported.max_row == 33 and exported.cell(1, 2).value == "项目"
    # a reference cell may name the record by its title; unknown or ambiguous titles are named
    station = client.post(
        "/api/v1/inspection_station/", json={"station_name": "闵行检测站"}, headers=headers
    ).get_json()
    by_title = [
        ["项目", "费用", "检测站"],
        ["复检", "5", "闵行检测站"],
        ["复检", "5", "火星检测站"],
    ]
    refused = client.post(
        f"{base}/import",
        data={
            "file": (io.BytesIO(_workbook(by_title)), "r.xlsx"),
            "csrf_token": _csrf_of(client, f"{base}/import"),
        },
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "找不到「火星检测站」" in refused
    client.post(
        f"{base}/import",
        data={
            "file": (io.BytesIO(_workbook(by_title[:2])), "r.xlsx"),
            "csrf_token": _csrf_of(client, f"{base}/import"),
        },
        content_type="multipart/form-data",
    )
    record = client.get(url, headers=headers).get_json()["result"]
    assert record["items"][-1]["station"] == station["id"]
    # round trip: download, fill in, upload in place of the rows; the store manager sees the
    # inspector's mobile starred, and the starred cell keeps its value
    sheet = load_workbook(io.BytesIO(client.get(f"{base}/export").data)).active
    header = [c.value for c in sheet[1]]
    assert header[0] == "行编号" and sheet.cell(34, header.index("检测站") + 1).value == (
        f"闵行检测站 (#{station['id']})"
    )
    assert sheet.cell(2, header.index("检测员手机") + 1).value == "138****0001"
    sheet.cell(3, header.index("合格") + 1).value = "是"
    out = io.BytesIO()
    sheet.parent.save(out)
    replaced = client.post(
        f"{base}/import",
        data={
            "file": (io.BytesIO(out.getvalue()), "r.xlsx"),
            "replace": "1",
            "csrf_token": _csrf_of(client, f"{base}/import"),
        },
        content_type="multipart/form-data",
    )
    assert replaced.status_code == 302, replaced.get_data(as_text=True)[-2000:]
    after = client.get(url, headers=_headers(client, world.users["ren"])).get_json()["result"]
    assert len(after["items"]) == 33 and after["total_fee"] == record["total_fee"]
    assert after["items"][0]["inspector_mobile"] == "13800000001"
    assert after["items"][1]["passed"] is True and after["items"][-1]["station"] == station["id"]
    login(client, world.users["adv_b"])
    assert client.get(f"{base}/export").status_code == 404


# --- screens --------------------------------------------------------------------------------------


def test_screens_add_a_record_with_rows_and_a_photo(client, world):
    login(client, world.users["mgr_a"])
    form = client.get("/entities/vehicle_inspection_booking/add").get_data(as_text=True)
    assert 'name="items-0-item"' in form and 'type="file"' in form and "自动计算" in form
    assert 'value="picked_up"' not in form  # a new record starts booked
    token = _csrf_of(client, "/entities/vehicle_inspection_booking/add")
    data = {
        "csrf_token": token,
        "org_node_id": str(world.store_a),
        "plate": "沪A66666",
        "booking_date": "2026-11-05",
        "status": "booked",
        "owner_name": "孙八",
        "owner_id_number": ID_1990_MALE,
        "items-count": "3",
        "items-0-item": "尾气",
        "items-0-fee": "10",
        "items-1-item": "灯光",
        "items-1-fee": "abc",
        "vehicle_photo": (io.BytesIO(_png()), "car.png"),
    }
    bad = client.post(
        "/entities/vehicle_inspection_booking/add", data=data, content_type="multipart/form-data"
    )
    assert bad.status_code == 200 and "items[2].fee" in bad.get_data(as_text=True)
    assert _stored_files(client.application, world) == _attachment_rows(world)  # no orphan
    data["items-1-fee"] = "20"
    data["vehicle_photo"] = (io.BytesIO(_png()), "car.png")
    saved = client.post(
        "/entities/vehicle_inspection_booking/add", data=data, content_type="multipart/form-data"
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "尾气" in page and "30.00" in page and "1990-03-07" in page and "dc-photo" in page
    assert "检测项目" in page and "取车" in page


# --- schema changes -------------------------------------------------------------------------------


def _items(body: dict) -> dict:
    return next(f for f in body["fields"] if f["name"] == "items")


def test_publishing_changes_child_tables_safely(app, client, world, tmp_path):
    document = _doc("vehicle_inspection_booking")
    body = document["body"]
    old = EntityDefinition(body["name"], world.tenant_id, body)
    grown = json.loads(json.dumps(body))
    _items(grown)["fields"].append({"name": "lane", "label": {"zh": "检测线"}, "type": "string"})
    grown["fields"].append(
        {
            "name": "notes_rows",
            "label": {"zh": "备注"},
            "type": "table",
            "fields": [{"name": "note", "label": {"zh": "备注"}, "type": "text"}],
        }
    )
    plan = plan_changes(old, EntityDefinition(body["name"], world.tenant_id, grown))
    assert not plan.refusals
    assert {str(c) for c in plan.changes} == {
        "add_child_column items.lane",
        "create_child_table notes_rows",
    }
    shrunk = json.loads(json.dumps(body))
    _items(shrunk)["fields"].pop()
    assert (
        "items.station was removed"
        in plan_changes(old, EntityDefinition(body["name"], world.tenant_id, shrunk)).refusals[0]
    )
    document = {**document, "version": "1.1.0", "body": grown}
    install_for(
        app,
        world,
        write_pack(
            tmp_path, "engine", "1.1.0", [_doc("annual_inspection_reminder"), document, STATION]
        ),
    )
    with use_scope(system_scope()):
        columns = {
            c["name"]
            for c in inspect(db.engine).get_columns(
                f"x{world.tenant_id}_vehicle_inspection_booking__items"
            )
        }
        assert "lane" in columns
    broken = json.loads(json.dumps(grown))
    broken["fields"][7]["compute"] = "open('x')"
    broken["states"]["transitions"][0]["to"] = "nowhere"
    with pytest.raises(PackError) as refused:
        install_for(
            app,
            world,
            write_pack(
                tmp_path / "b",
                "engine",
                "1.2.0",
                [
                    _doc("annual_inspection_reminder"),
                    {**document, "version": "1.2.0", "body": broken},
                    STATION,
                ],
            ),
        )
    text = str(refused.value)
    assert "fields[7].compute" in text and "unknown function 'open'" in text
    assert "transitions[0].to" in text


# --- named record hooks, references to a login ----------------------------------------------------

HOOK_CALLS: list[tuple] = []


def _count_hook(call: HookCall) -> None:
    HOOK_CALLS.append((call.record.id, call.from_state, call.to_state, call.user.username))


def _refusing_hook(call: HookCall) -> None:
    if call.record.note == "no":
        raise ValidationFailed("note: the task says no", "备注：不同意", field="note")


def _hooked_task(hooks=("tests.refuse", "tests.count")) -> dict:
    return {
        "kind": "entity",
        "key": "hooked_task",
        "version": "1.0.0",
        "title": "任务",
        "body": {
            "name": "hooked_task",
            "label": {"zh": "任务", "en": "Task"},
            "fields": [
                {"name": "title", "label": {"zh": "标题"}, "type": "string", "required": True},
                {"name": "note", "label": {"zh": "备注"}, "type": "string"},
                {"name": "owner", "label": {"zh": "负责人"}, "type": "reference", "target": "user"},
                {
                    "name": "status",
                    "label": {"zh": "状态"},
                    "type": "enum",
                    "default": "open",
                    "choices": [
                        {"value": "open", "label": {"zh": "进行中"}},
                        {"value": "done", "label": {"zh": "已完成"}},
                    ],
                },
            ],
            "states": {
                "field": "status",
                "transitions": [{"from": "open", "to": "done", "hooks": list(hooks)}],
            },
            "hooks": {"after_create": ["tests.count"]},
            "permissions": {"tenant_admin": "write", "store_manager": "write"},
        },
    }


def test_named_hooks_run_in_the_save_and_logins_are_referenced_in_scope(
    app, client, world, tmp_path
):
    register_record_hook("tests.count", _count_hook)
    register_record_hook("tests.refuse", _refusing_hook)
    with pytest.raises(PackError) as unknown:
        install_for(
            app,
            world,
            write_pack(tmp_path / "x", "hooked", "1.0.0", [_hooked_task(["tests.nowhere"])]),
        )
    assert "transitions[0].hooks" in str(unknown.value) and "tests.nowhere" in str(unknown.value)
    install_for(app, world, write_pack(tmp_path, "hooked", "1.0.0", [_hooked_task()]))
    manager = world.users["mgr_a"]
    mgr = _headers(client, manager)
    with use_scope(system_scope()):
        ids = {
            u.username: u.id
            for u in db.session.scalars(select(DealerUser)).all()
            if u.username
            in (world.users["adv_a"], world.users["adv_b"], world.other.users["admin"])
        }
    # a login may be given by its user name (looked up in the writer's scope) or its id
    created = client.post(
        "/api/v1/hooked_task/",
        json={"title": "核对保单", "note": "no", "owner": world.users["adv_a"]},
        headers=mgr,
    )
    assert created.status_code == 201, created.get_json()
    task = created.get_json()["result"]
    assert task["owner"] == ids[world.users["adv_a"]]
    assert [(task["id"], None, None, manager)] == HOOK_CALLS  # after_create
    # a hook's refusal refuses the whole transition, naming its field; nothing is kept
    refused = client.post(
        f"/api/v1/hooked_task/{task['id']}/_transition", json={"to": "done"}, headers=mgr
    )
    assert refused.status_code == 422 and refused.get_json()["field"] == "note"
    again = client.get(f"/api/v1/hooked_task/{task['id']}", headers=mgr).get_json()["result"]
    assert again["status"] == "open" and len(HOOK_CALLS) == 1
    assert (
        client.put(
            f"/api/v1/hooked_task/{task['id']}", json={"note": "ok"}, headers=mgr
        ).status_code
        == 200
    )
    assert len(HOOK_CALLS) == 1  # no transition, no hook
    done = client.post(
        f"/api/v1/hooked_task/{task['id']}/_transition", json={"to": "done"}, headers=mgr
    )
    assert done.status_code == 200, done.get_json()
    assert HOOK_CALLS[-1] == (task["id"], "open", "done", manager)
    # another tenant's login, a sibling store's (outside the manager's scope) and an unknown
    # name are refused naming the field
    for owner in (
        ids[world.other.users["admin"]],
        ids[world.users["adv_b"]],
        world.users["adv_b"],
        "nobody.here",
    ):
        answer = client.post(
            "/api/v1/hooked_task/", json={"title": "越界", "owner": owner}, headers=mgr
        )
        assert answer.status_code == 422, (owner, answer.get_json())
        assert "owner" in json.dumps(answer.get_json(), ensure_ascii=False), owner
    # the screens: the form offers the logins in scope by name, the page shows the name
    login(client, manager)
    form = client.get("/entities/hooked_task/add").get_data(as_text=True)
    assert world.users["adv_a"] in form and world.users["adv_b"] not in form
    assert world.other.users["admin"] not in form
    page = client.get(f"/entities/hooked_task/{task['id']}/").get_data(as_text=True)
    shown = re.search(r'dc-value-owner">([^<]*)<', page)
    assert shown and world.users["adv_a"] in shown.group(1), page[-3000:]
