"""The configuration engine end to end: a pack never seen before installs, its entity gets a
table, a screen and a REST API scoped to tenant and store; an upgrade keeps every record; bad
packs are refused with their file and line and leave the database unchanged."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from sqlalchemy import func, inspect, select

from app.configuration import runtime as runtime_module
from app.configuration.install import install_pack, plan_install
from app.configuration.models import Document, DocumentVersion, InstalledPack, Lineage
from app.configuration.reading import PackError, read_pack
from app.extensions import db
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import (
    api_token,
    build_world,
    install_for,
    login,
    reminder_entity,
    write_pack,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def publish_reaches_at_once(monkeypatch):
    # Processes check the epoch at most once a second; tests should not wait for it.
    monkeypatch.setattr(runtime_module, "CHECK_EVERY_SECONDS", 0)


@pytest.fixture(scope="module")
def core(app):
    runner = app.test_cli_runner()
    with use_scope(system_scope()):
        installed = db.session.scalar(
            select(InstalledPack).where(
                InstalledPack.name == "core", InstalledPack.tenant_id.is_(None)
            )
        )
    if installed is None:
        result = runner.invoke(args=["pack", "install", str(ROOT / "metadata/packs/core")])
        assert result.exit_code == 0, result.output
    return True


def _headers(client, username):
    return {"Authorization": f"Bearer {api_token(client, username)}"}


def _snapshot():
    """Row counts of the configuration tables and the names of all tables."""
    with use_scope(system_scope()):
        counts = tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (InstalledPack, Document, DocumentVersion, Lineage)
        )
        tables = set(inspect(db.engine).get_table_names())
    return counts, tables


def test_core_and_demo_packs_install_with_their_cases(app, core):
    world = build_world(app)
    runner = app.test_cli_runner()
    result: Result = runner.invoke(
        args=["pack", "install", str(ROOT / "metadata/packs/demo"), "--tenant", world.code]
    )
    assert result.exit_code == 0, result.output
    assert "failed" in result.output and " 0 failed" in result.output
    assert f"x{world.tenant_id}_annual_inspection_reminder" in inspect(db.engine).get_table_names()
    listing = runner.invoke(args=["pack", "list"]).output
    assert "core" in listing and "demo" in listing


def test_a_new_pack_gives_an_entity_a_screen_and_an_api_scoped_to_tenant_and_store(
    app, client, core, tmp_path
):
    world = build_world(
        app, {"desk": ("insurance_desk", "store_a"), "deskb": ("insurance_desk", "store_b")}
    )
    other = build_world(app, {"desk": ("insurance_desk", "store_a")})
    install_for(app, world, write_pack(tmp_path, "reminders", documents=[reminder_entity()]))
    headers = _headers(client, world.users["desk"])

    created = client.post(
        "/api/v1/inspection_reminder/",
        json={"plate": "沪A·12345", "due_date": "2026-12-31"},
        headers=headers,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    record = created.get_json()["result"]
    assert record["plate"] == "沪A12345" and record["status"] == "pending"
    assert record["org_node_id"] == world.store_a

    login(client, world.users["desk"])
    page = client.post(
        "/entities/inspection_reminder/add",
        data={
            "org_node_id": str(world.store_a),
            "plate": "沪B54321",
            "due_date": "2027-01-15",
            "status": "done",
        },
    )
    assert page.status_code == 302, page.get_data(as_text=True)[:3000]
    listing = client.get("/entities/inspection_reminder/").get_data(as_text=True)
    assert "沪A12345" in listing and "沪B54321" in listing and "已完成" in listing

    listed = client.get("/api/v1/inspection_reminder/", headers=headers).get_json()
    assert listed["count"] == 2
    # a sibling store and another tenant see none of it
    sibling = client.get(
        "/api/v1/inspection_reminder/", headers=_headers(client, world.users["deskb"])
    )
    assert sibling.get_json()["count"] == 0
    stranger = _headers(client, other.users["desk"])
    assert client.get("/api/v1/inspection_reminder/", headers=stranger).status_code == 404
    assert (
        client.get(f"/api/v1/inspection_reminder/{record['id']}", headers=stranger).status_code
        == 404
    )
    sibling_get = client.get(
        f"/api/v1/inspection_reminder/{record['id']}",
        headers=_headers(client, world.users["deskb"]),
    )
    assert sibling_get.status_code == 404

    lineage = client.get(
        f"/api/v1/lineage/x{world.tenant_id}_inspection_reminder/{record['id']}", headers=headers
    ).get_json()["result"]
    assert lineage[0]["key"] == "inspection_reminder" and lineage[0]["version"] == "1.0.0"
    spec = client.get("/api/v1/inspection_reminder/_openapi", headers=headers).get_json()
    assert spec["components"]["schemas"]["inspection_reminder"]["required"] == ["plate", "due_date"]


def test_bad_record_values_name_the_field_and_save_nothing(app, client, core, tmp_path):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    install_for(app, world, write_pack(tmp_path, "reminders", documents=[reminder_entity()]))
    headers = _headers(client, world.users["desk"])
    response = client.post(
        "/api/v1/inspection_reminder/",
        json={"plate": "沪I12345", "due_date": "2026-02-30", "status": "lost", "colour": "red"},
        headers=headers,
    )
    assert response.status_code == 422
    errors = response.get_json()["message"]
    assert set(errors) == {"plate", "due_date", "status", "colour"}
    assert client.get("/api/v1/inspection_reminder/", headers=headers).get_json()["count"] == 0
    outside = client.post(
        "/api/v1/inspection_reminder/",
        json={"plate": "沪A12345", "due_date": "2026-12-31", "org_node_id": world.store_b},
        headers=headers,
    )
    assert outside.status_code == 422


def test_upgrade_with_one_more_field_keeps_every_record(app, client, core, tmp_path):
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    install_for(app, world, write_pack(tmp_path / "v1", "reminders", documents=[reminder_entity()]))
    headers = _headers(client, world.users["admin"])
    for plate in ("沪A11111", "沪A22222", "沪A33333"):
        body = {"plate": plate, "due_date": "2026-12-01", "org_node_id": world.store_a}
        assert (
            client.post("/api/v1/inspection_reminder/", json=body, headers=headers).status_code
            == 201
        )
    notes = {"name": "notes", "label": {"zh": "备注", "en": "Notes"}, "type": "text"}
    v2 = write_pack(
        tmp_path / "v2",
        "reminders",
        "1.1.0",
        [reminder_entity(version="1.1.0", extra_fields=[notes])],
    )

    dry = app.test_cli_runner().invoke(
        args=["pack", "upgrade", v2, "--tenant", world.code, "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert "add_column notes text" in dry.output
    assert "+    type: text" in dry.output and "-version: 1.0.0" in dry.output
    with use_scope(system_scope()):
        columns = {
            c["name"]
            for c in inspect(db.engine).get_columns(f"x{world.tenant_id}_inspection_reminder")
        }
    assert "notes" not in columns  # the dry run changed nothing

    install_for(app, world, v2)
    rows = client.get("/api/v1/inspection_reminder/", headers=headers).get_json()["result"]
    assert sorted(r["plate"] for r in rows) == ["沪A11111", "沪A22222", "沪A33333"]
    assert all(r["notes"] is None for r in rows)
    updated = client.put(
        f"/api/v1/inspection_reminder/{rows[0]['id']}", json={"notes": "已电话"}, headers=headers
    )
    assert updated.get_json()["result"]["notes"] == "已电话"
    with use_scope(system_scope()):
        document = db.session.scalar(
            select(Document).where(
                Document.tenant_id == world.tenant_id, Document.key == "inspection_reminder"
            )
        )
        assert [v.version for v in document.versions] == ["1.0.0", "1.1.0"]
        assert document.current_version.version == "1.1.0"
        assert document.versions[0].data["version"] == "1.0.0"  # older versions stay readable


def test_removing_or_retyping_a_field_is_refused_unless_the_document_says_how(app, core, tmp_path):
    world = build_world(app)
    install_for(app, world, write_pack(tmp_path / "v1", "reminders", documents=[reminder_entity()]))
    removed = reminder_entity(version="2.0.0")
    removed["body"]["fields"] = removed["body"]["fields"][:2]
    removed["body"]["list_columns"] = ["plate", "due_date"]
    with pytest.raises(PackError, match="field 'status' was removed"):
        install_for(app, world, write_pack(tmp_path / "v2", "reminders", "2.0.0", [removed]))
    retyped = reminder_entity(version="2.0.0")
    retyped["body"]["fields"][1] = {
        "name": "due_date",
        "label": {"zh": "到期", "en": "Due"},
        "type": "string",
    }
    with pytest.raises(PackError, match="changes type date → string"):
        install_for(app, world, write_pack(tmp_path / "v3", "reminders", "2.0.0", [retyped]))
    removed["body"]["dropped_fields"] = [{"name": "status", "data": "keep"}]
    plan = install_for(app, world, write_pack(tmp_path / "v4", "reminders", "2.0.0", [removed]))
    assert any(str(c).startswith("keep_column status") for t in plan.tables for c in t.changes)


def _bad_decision_table():
    return {
        "kind": "decision_table",
        "key": "broken_rate",
        "version": "1.0.0",
        "title": "坏表",
        "body": {
            "title": "坏表",
            "hit_policy": "first",
            "inputs": [{"name": "age", "type": "integer"}],
            "outputs": [{"name": "rate", "type": "decimal"}],
            "rules": [{"when": {"age": ">= 5 +* 3"}, "then": {"rate": "0.1"}}],
        },
    }


def _failing_case_table():
    table = copy.deepcopy(_bad_decision_table())
    table["key"] = "wrong_rate"
    table["body"]["rules"] = [{"when": {"age": "-"}, "then": {"rate": "0.1"}}]
    table["body"]["tests"] = [
        {"name": "always 0.2", "input": {"age": 3}, "expected": {"rate": "0.2"}}
    ]
    return table


@pytest.mark.parametrize(
    "case",
    ["schema", "missing_pack", "yaml_syntax", "duplicate_key", "bad_expression", "failing_case"],
)
def test_bad_packs_are_refused_whole_with_their_location(app, core, tmp_path, case):
    world = build_world(app)
    good = reminder_entity(key=f"good_{case}")
    documents = [good]
    requires = None
    if case == "schema":
        broken = reminder_entity(key="broken")
        broken["body"]["fields"][0]["type"] = "licence_plate"
        documents.append(broken)
    elif case == "missing_pack":
        requires = {"carriers": ">=2.0"}
    elif case == "bad_expression":
        documents.append(_bad_decision_table())
    elif case == "failing_case":
        documents.append(_failing_case_table())
    folder = Path(write_pack(tmp_path, "badpack", documents=documents, requires=requires))
    if case == "yaml_syntax":
        (folder / "entities" / "oops.yaml").write_text(
            "kind: entity\nkey: [unclosed\n", encoding="utf-8"
        )
    elif case == "duplicate_key":
        (folder / "entities" / "twice.yaml").write_text(
            "kind: entity\nkey: a\nkey: b\n", encoding="utf-8"
        )
    before = _snapshot()
    with pytest.raises(PackError) as refused:
        install_for(app, world, str(folder))
    message = str(refused.value)
    expected = {
        "schema": ("badpack: entities/broken.yaml:", "$.body.fields[0].type", "licence_plate"),
        "missing_pack": ("badpack: pack.yaml", "$.requires.carriers", "not installed"),
        "yaml_syntax": ("badpack: entities/oops.yaml:3", "YAML syntax"),
        "duplicate_key": (
            "badpack: entities/twice.yaml:3",
            "duplicate key 'key' (first at line 2)",
        ),
        "bad_expression": ("badpack: decision_tables/broken_rate.yaml", "broken_rate"),
        "failing_case": ("badpack: decision_tables/wrong_rate.yaml", "always 0.2"),
    }[case]
    for fragment in expected:
        assert fragment in message, message
    assert _snapshot() == before


def test_a_failure_while_applying_rolls_everything_back(app, core, tmp_path, monkeypatch):
    """All-or-nothing even when the database refuses half-way (here: the second entity's DDL)."""
    world = build_world(app)
    first, second = reminder_entity(key="first_entity"), reminder_entity(key="second_entity")
    folder = write_pack(tmp_path, "halfway", documents=[first, second])
    from app.configuration import install as install_module

    real = install_module.publish_entity_tables
    calls = []

    def fail_on_second(session, previous, data, version, tenant_id):
        calls.append(data["key"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(session, previous, data, version, tenant_id)

    monkeypatch.setattr(install_module, "publish_entity_tables", fail_on_second)
    before = _snapshot()
    with use_scope(system_scope()), pytest.raises(RuntimeError, match="disk full"):
        install_pack(db.session, read_pack(Path(folder)), world.tenant_id, "tests")
    assert _snapshot() == before
    assert f"x{world.tenant_id}_first_entity" not in inspect(db.engine).get_table_names()


def test_published_versions_are_immutable(app, core):
    with use_scope(system_scope()):
        version = db.session.scalars(
            select(DocumentVersion).where(DocumentVersion.status == "published")
        ).first()
        version.content = "{}"
        with pytest.raises(PermissionError, match="published"):
            db.session.flush()
        db.session.rollback()


def test_a_changed_document_needs_a_higher_version(app, core, tmp_path):
    world = build_world(app)
    install_for(app, world, write_pack(tmp_path / "a", "reminders", documents=[reminder_entity()]))
    changed = reminder_entity()
    changed["title"] = "年审提醒（改）"
    with use_scope(system_scope()):
        plan = plan_install(
            db.session,
            read_pack(Path(write_pack(tmp_path / "b", "reminders", "1.0.1", [changed]))),
            world.tenant_id,
        )
        db.session.rollback()
    assert not plan.ok and "is not above 1.0.0" in plan.render()


def test_pack_cli_validate_test_and_export(app, core, tmp_path):
    runner = app.test_cli_runner()
    assert (
        "documents valid"
        in runner.invoke(args=["pack", "validate", str(ROOT / "metadata/packs/core")]).output
    )
    tested = runner.invoke(args=["pack", "test", str(ROOT / "metadata/packs/core")])
    assert tested.exit_code == 0 and "0 failed" in tested.output
    out = tmp_path / "exported"
    exported = runner.invoke(args=["pack", "export", "core", str(out)])
    assert exported.exit_code == 0, exported.output
    again = read_pack(out)
    assert again.name == "core" and len(again.documents) == len(
        read_pack(ROOT / "metadata/packs/core").documents
    )


def test_tenant_scoped_pack_needs_a_tenant(app, core):
    result = app.test_cli_runner().invoke(
        args=["pack", "install", str(ROOT / "metadata/packs/demo")]
    )
    assert result.exit_code != 0 and "--tenant" in result.output


def test_entity_screens_hold_the_scope(app, client, core, tmp_path):
    world = build_world(
        app, {"desk": ("insurance_desk", "store_a"), "deskb": ("insurance_desk", "store_b")}
    )
    install_for(app, world, write_pack(tmp_path, "reminders", documents=[reminder_entity()]))
    headers = _headers(client, world.users["desk"])
    record = client.post(
        "/api/v1/inspection_reminder/",
        json={"plate": "沪C77777", "due_date": "2026-12-31"},
        headers=headers,
    ).get_json()
    login(client, world.users["deskb"])
    assert "沪C77777" not in client.get("/entities/inspection_reminder/").get_data(as_text=True)
    assert client.get(f"/entities/inspection_reminder/{record['id']}/").status_code == 404
    assert client.post(f"/entities/inspection_reminder/{record['id']}/delete").status_code == 404
    client.get("/logout/")
    login(client, world.users["desk"])
    assert client.get(f"/entities/inspection_reminder/{record['id']}/").status_code == 200
    export = client.get("/entities/inspection_reminder/export")
    assert export.status_code == 200


def _zip(folder: Path) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.rglob("*"):
            if path.is_file():
                archive.write(path, f"{folder.name}/{path.relative_to(folder)}")
    return buffer.getvalue()


def test_console_upload_shows_the_plan_then_installs_for_the_users_tenant(
    app, client, core, tmp_path
):
    import io

    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    folder = Path(
        write_pack(tmp_path, "uploaded", documents=[reminder_entity(key="uploaded_thing")])
    )
    login(client, world.users["admin"])
    response = client.post(
        "/packs/upload",
        data={"pack": (io.BytesIO(_zip(folder)), "uploaded.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    review = client.get(response.headers["Location"])
    html = review.get_data(as_text=True)
    assert "uploaded_thing" in html and "create_table" in html and 'id="dc-install"' in html
    with use_scope(system_scope()):
        assert (
            db.session.scalar(select(InstalledPack).where(InstalledPack.name == "uploaded")) is None
        )
    installed = client.post(response.headers["Location"])
    assert installed.status_code == 302
    with use_scope(system_scope()):
        pack = db.session.scalar(select(InstalledPack).where(InstalledPack.name == "uploaded"))
    assert pack.tenant_id == world.tenant_id


def test_console_upload_refuses_paths_outside_the_pack(app, client, core):
    import io
    import zipfile

    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../escape.yaml", "kind: entity")
    login(client, world.users["admin"])
    response = client.post(
        "/packs/upload",
        data={"pack": (io.BytesIO(buffer.getvalue()), "evil.zip")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "a path outside the pack" in response.get_data(as_text=True)


def test_document_editor_saves_a_draft_and_publishing_it_makes_it_current(
    app, client, core, tmp_path
):
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    install_for(app, world, write_pack(tmp_path, "reminders", documents=[reminder_entity()]))
    with use_scope(system_scope()):
        document = db.session.scalar(
            select(Document).where(
                Document.tenant_id == world.tenant_id, Document.key == "inspection_reminder"
            )
        )
        text = yaml.safe_dump(
            {**document.current_version.data, "version": "1.0.1", "title": "年审提醒（新）"},
            allow_unicode=True,
        )
    login(client, world.users["admin"])
    page = client.get("/entities/").get_data(as_text=True)
    token = page.split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]
    bad = client.post(
        "/api/v1/documents/validate",
        json={"text": "kind: entity\nkey: x\nversion: 1\n"},
        headers={"X-CSRFToken": token},  # a cookie call sends the page's token (issue 14)
    )
    assert not bad.get_json()["ok"] and bad.get_json()["problems"][0]["path"] == "$"
    saved = client.post(f"/documents/{document.id}/edit", data={"text": text})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    with use_scope(system_scope()):
        db.session.expire_all()
        draft = db.session.get(Document, document.id).draft
        assert draft.version == "1.0.1"
    published = client.post(
        "/documentversionview/action_post", data={"action": "publish", "rowid": [draft.id]}
    )
    assert published.status_code == 302
    with use_scope(system_scope()):
        db.session.expire_all()
        assert db.session.get(Document, document.id).current_version.title == "年审提醒（新）"


def test_the_entity_form_names_bad_fields_in_chinese_and_saves_nothing(app, client, core, tmp_path):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    install_for(app, world, write_pack(tmp_path, "reminders", documents=[reminder_entity()]))
    login(client, world.users["desk"])
    page = client.post(
        "/entities/inspection_reminder/add",
        data={
            "org_node_id": str(world.store_a),
            "plate": "沪I12345",
            "due_date": "",
            "status": "pending",
        },
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "车牌号应为省份简称" in html and 'data-field="due_date">必填' in html
    headers = _headers(client, world.users["desk"])
    assert client.get("/api/v1/inspection_reminder/", headers=headers).get_json()["count"] == 0
