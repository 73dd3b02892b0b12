"""Attacks on the configuration engine, made the way the security probe made them (issue 14):
YAML alias bombs and deep nesting through every reader, zip bombs through pack upload,
entity options api/mask, lineage without rights, the entity API without CSRF, unbounded
text fields, and a tenant pack reusing a platform document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.configuration.reading import PackError, read_pack
from tests.app.conftest import build_world, login, write_pack

LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]"
            for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "kind: entity",
    ]
)
ALIAS_ONLY = "kind: entity\nkey: x\nversion: 1.0.0\ntitle: *lol\n"
DEEP_YAML = "kind: entity\nbody: " + "[" * 200 + "]" * 200 + "\n"
DEEP_JSON = '{"kind": "entity", "body": ' + "[" * 5000 + "]" * 5000 + "}"


def csrf_headers(client) -> dict[str, str]:
    """The session's CSRF token, read from the page's meta tag as the console's JS reads it."""
    page = client.get("/entities/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert token, "the console page carries its CSRF token in a meta tag"
    return {"X-CSRFToken": token.group(1)}


def _validate(client, text: str, file: str = "entities/x.yaml"):
    return client.post(
        "/api/v1/documents/validate",
        json={"text": text, "file": file},
        headers=csrf_headers(client),
    )


@pytest.fixture(scope="module")
def desk_world(app):
    return build_world(app, {"desk": ("insurance_desk", "store_a")})


# --- finding 2: YAML alias expansion, size and depth --------------------------------------


def test_the_validation_api_refuses_a_billion_laughs_naming_the_line(client, desk_world):
    login(client, desk_world.users["desk"])
    answer = _validate(client, LAUGHS)
    assert answer.status_code == 422
    assert len(answer.get_data()) < 2000  # nothing was expanded
    problem = answer.get_json()["problems"][0]
    assert problem["line"] == 1 and "anchor &a refused" in problem["message"]
    assert problem["text"].startswith("editor: entities/x.yaml:1:")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (ALIAS_ONLY, 4, "alias *lol refused"),
        (DEEP_YAML, 2, "nested deeper than 64 levels"),
        ("kind: entity\ntitle: " + "x" * (1024 * 1024) + "\n", None, "at most 1,048,576"),
    ],
)
def test_the_validation_api_refuses_aliases_depth_and_size(client, desk_world, text, line, words):
    login(client, desk_world.users["desk"])
    answer = _validate(client, text)
    assert answer.status_code == 422
    problem = answer.get_json()["problems"][0]
    assert problem["line"] == line and words in problem["message"]


def test_a_json_document_is_bounded_in_depth_before_it_is_parsed(client, desk_world):
    login(client, desk_world.users["desk"])
    answer = _validate(client, DEEP_JSON, "entities/x.json")
    assert answer.status_code == 422
    assert "nested deeper than 64 levels" in answer.get_json()["problems"][0]["message"]


def test_a_plain_document_still_validates(client, desk_world):
    login(client, desk_world.users["desk"])
    answer = _validate(client, "kind: entity\nkey: x\nversion: 1\n")
    assert answer.status_code == 200 and not answer.get_json()["ok"]


def _bomb_pack(tmp_path: Path, text: str, file: str = "entities/bomb.yaml") -> Path:
    folder = Path(write_pack(tmp_path, "bomb"))
    target = folder / file
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return folder


def test_reading_a_pack_refuses_a_laughs_document_naming_file_and_line(tmp_path):
    with pytest.raises(PackError) as refused:
        read_pack(_bomb_pack(tmp_path, LAUGHS))
    assert "bomb: entities/bomb.yaml:1: $: refused: anchor &a refused" in str(refused.value)


def test_reading_a_pack_refuses_a_deep_json_document(tmp_path):
    with pytest.raises(PackError) as refused:
        read_pack(_bomb_pack(tmp_path, DEEP_JSON, "entities/bomb.json"))
    assert "entities/bomb.json:1: $: refused: nested deeper than 64 levels" in str(refused.value)


def test_reading_a_pack_refuses_an_oversized_file_without_reading_it(app, tmp_path):
    folder = _bomb_pack(tmp_path, "kind: entity\n# " + "x" * 2000 + "\n")
    app.config["DOCUMENT_MAX_BYTES"] = 1000
    try:
        with pytest.raises(PackError) as refused:
            read_pack(folder)
    finally:
        app.config["DOCUMENT_MAX_BYTES"] = 1024 * 1024
    assert "entities/bomb.yaml: $: refused: the document is 2,016 bytes" in str(refused.value)


def test_flask_pack_validate_refuses_the_bomb(app, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["pack", "validate", str(_bomb_pack(tmp_path, LAUGHS))]
    )
    assert result.exit_code != 0
    assert "entities/bomb.yaml:1: $: refused: anchor &a refused" in result.output


def test_the_document_editor_shows_the_refusal_as_a_form_message(app, client, desk_world):
    from sqlalchemy import select

    from app.configuration.models import Document
    from app.extensions import db
    from app.tenancy.scope import system_scope, use_scope

    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    from tests.app.conftest import install_for, reminder_entity

    install_for(
        app,
        world,
        write_pack(
            Path(app.config["STORAGE_PATH"]) / world.code, "editor", documents=[reminder_entity()]
        ),
    )
    with use_scope(system_scope()):
        document = db.session.scalar(select(Document).where(Document.tenant_id == world.tenant_id))
    login(client, world.users["admin"])
    page = client.post(f"/documents/{document.id}/edit", data={"text": LAUGHS})
    assert page.status_code == 200
    assert "anchor &amp;a refused" in page.get_data(as_text=True)


def test_no_yaml_is_read_outside_the_safe_reader():
    """Every YAML read of outside input goes through app/configuration/safe_input.py."""
    root = Path(__file__).resolve().parents[2]
    # Bundled reference data (cities, brands) ship with the code; they are not outside input.
    allowed = {"app/configuration/safe_input.py", "app/organisation/reference.py"}
    pattern = re.compile(r"yaml\.(safe_load|load|full_load|unsafe_load|compose|load_all)\b")
    offenders = [
        str(path.relative_to(root))
        for folder in ("app", "rules", "scripts")
        for path in (root / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
        and str(path.relative_to(root)) not in allowed
    ]
    assert offenders == []


# --- finding 12: a tenant pack reusing a platform document's kind and key ---------------------


ROOT = Path(__file__).resolve().parents[2]


def _platform_core(app) -> None:
    from sqlalchemy import select

    from app.configuration.models import InstalledPack
    from app.extensions import db
    from app.tenancy.scope import system_scope, use_scope

    with use_scope(system_scope()):
        installed = db.session.scalar(
            select(InstalledPack).where(
                InstalledPack.name == "core", InstalledPack.tenant_id.is_(None)
            )
        )
    if installed is None:
        result = app.test_cli_runner().invoke(
            args=["pack", "install", str(ROOT / "metadata/packs/core")]
        )
        assert result.exit_code == 0, result.output


def _shadowing_pack(tmp_path: Path) -> Path:
    import yaml

    platform = yaml.safe_load(
        (ROOT / "metadata/packs/core/list_views/policy_list.yaml").read_text(encoding="utf-8")
    )
    return Path(
        write_pack(tmp_path, "shadow", documents=[{**platform, "version": "9.0.0", "title": "x"}])
    )


def _counts():
    from sqlalchemy import func, select

    from app.configuration.models import Document, DocumentVersion, InstalledPack
    from app.extensions import db
    from app.tenancy.scope import system_scope, use_scope

    with use_scope(system_scope()):
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (InstalledPack, Document, DocumentVersion)
        )


def test_a_tenant_pack_reusing_a_platform_document_is_refused_by_the_cli(app, tmp_path):
    _platform_core(app)
    world = build_world(app)
    before = _counts()
    result = app.test_cli_runner().invoke(
        args=["pack", "install", str(_shadowing_pack(tmp_path)), "--tenant", world.code]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert (
        "shadow: list_views/policy_list.yaml:2: $.key: list_view 'policy_list' is a platform "
        "document" in result.output
    )
    assert _counts() == before


# --- finding 8 (part): entity text fields are bounded, and so is the audit trail's copy -------


NOTE = {"name": "note", "label": {"zh": "备注", "en": "Note"}, "type": "text"}
CODE = {"name": "code", "label": {"zh": "编号", "en": "Code"}, "type": "string", "max_length": 8}


@pytest.fixture(scope="module")
def noted(app, tmp_path_factory):
    """A tenant with an entity holding a text and a short string field, and a store manager."""
    from tests.app.conftest import install_for, reminder_entity

    world = build_world(app, {"manager": ("store_manager", "store_a")})
    folder = write_pack(
        tmp_path_factory.mktemp("noted"),
        f"noted_{world.code.lower()}",
        documents=[reminder_entity(extra_fields=[NOTE, CODE])],
    )
    install_for(app, world, folder)
    return world


def _bearer(client, username: str) -> dict[str, str]:
    from tests.app.conftest import api_token

    return {"Authorization": f"Bearer {api_token(client, username)}"}


def _reminder(**extra) -> dict:
    return {"plate": "沪A12345", "due_date": "2026-12-31", **extra}


def _entity_rows(world, model_name: str = "inspection_reminder") -> int:
    from sqlalchemy import func, select

    from app.configuration.runtime import REGISTRY
    from app.extensions import db
    from app.tenancy.scope import system_scope, use_scope

    with use_scope(system_scope()):
        model = REGISTRY.get(db.session, model_name, world.tenant_id).model
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"note": "x" * 10_001}, "note", "at most 10000 characters"),
        ({"code": "x" * 9}, "code", "at most 8 characters"),
    ],
)
def test_an_oversized_text_value_is_refused_naming_the_field(client, noted, values, field, message):
    headers = _bearer(client, noted.users["manager"])
    before = _entity_rows(noted)
    answer = client.post("/api/v1/inspection_reminder/", json=_reminder(**values), headers=headers)
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    assert message in str(answer.get_json()["message"][field])
    assert _entity_rows(noted) == before


def test_a_megabyte_value_is_refused_and_nothing_is_stored(client, noted):
    headers = _bearer(client, noted.users["manager"])
    before = _entity_rows(noted)
    answer = client.post(
        "/api/v1/inspection_reminder/", json=_reminder(note="x" * 2_000_000), headers=headers
    )
    assert 400 <= answer.status_code < 500
    assert _entity_rows(noted) == before


def test_the_audit_trail_keeps_a_capped_copy_of_a_long_value(client, noted):
    import json

    from sqlalchemy import select

    from app.audit.models import AuditRecord
    from app.extensions import db
    from app.tenancy.scope import system_scope, use_scope

    headers = _bearer(client, noted.users["manager"])
    created = client.post(
        "/api/v1/inspection_reminder/", json=_reminder(note="长" * 9_000), headers=headers
    )
    assert created.status_code == 201, created.get_data(as_text=True)[:300]
    assert created.get_json()["result"]["note"] == "长" * 9_000  # the record keeps it whole
    with use_scope(system_scope()):
        audited = db.session.scalar(
            select(AuditRecord).where(
                AuditRecord.entity == f"x{noted.tenant_id}_inspection_reminder",
                AuditRecord.record_id == str(created.get_json()["id"]),
            )
        )
    note = json.loads(audited.after)["note"]
    assert note == "长" * 2000 + "…[truncated: 9,000 characters]"


# --- finding 5: pack upload is bounded, and uploads do not pile up -----------------------------


def _zip(files: dict[str, bytes], method: int = 8) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _zip_folder(folder: Path) -> bytes:
    return _zip(
        {
            f"{folder.name}/{path.relative_to(folder)}": path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }
    )


def _uploads(app) -> set[str]:
    root = Path(app.config["STORAGE_PATH"]) / "pack-uploads"
    return {entry.name for entry in root.iterdir()} if root.is_dir() else set()


def _upload(client, data: bytes):
    import io

    return client.post(
        "/packs/upload",
        data={"pack": (io.BytesIO(data), "pack.zip")},
        content_type="multipart/form-data",
    )


@pytest.fixture(scope="module")
def implementer(app):
    return build_world(app, {"admin": ("tenant_admin", "hq")})


def _lying_zip() -> bytes:
    """A 3 MB member whose headers declare 1,000 bytes."""
    import struct

    data = bytearray(_zip({"pack/pack.yaml": b"name: liar\n", "pack/big.yaml": b"\0" * 3_000_000}))
    local = data.index(b"PK\x03\x04", 1)  # the second member's local header
    central = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 1)
    struct.pack_into("<I", data, local + 22, 1000)
    struct.pack_into("<I", data, central + 24, 1000)
    return bytes(data)


@pytest.mark.parametrize(
    ("settings", "files", "method", "words"),
    [
        ({}, {"p/big.yaml": b"\0" * 20_000_000}, 8, "big.yaml: larger than 2 MB unpacked"),
        (
            {"PACK_FILE_MAX_BYTES": 50_000_000},
            {"p/big.yaml": b"\0" * 20_000_000},
            8,
            "big.yaml: compressed more than 100:1",
        ),
        (
            {"PACK_UNPACKED_MAX_BYTES": 5 * 1024 * 1024},
            {f"p/f{i}.yaml": bytes(1024 * 1024) for i in range(6)},
            0,
            "unpacks to more than 5 MB",
        ),
        ({"PACK_MAX_FILES": 10}, {f"p/f{i}.yaml": b"a: 1\n" for i in range(11)}, 8, "11 files"),
    ],
)
def test_a_zip_bomb_is_refused_and_leaves_nothing_on_disk(
    app, client, implementer, monkeypatch, settings, files, method, words
):
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    login(client, implementer.users["admin"])
    before = _uploads(app)
    page = _upload(client, _zip(files, method))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "上传被拒绝" in text and words in text
    assert _uploads(app) == before


def test_a_zip_lying_about_its_sizes_is_refused_and_leaves_nothing(app, client, implementer):
    login(client, implementer.users["admin"])
    before = _uploads(app)
    page = _upload(client, _lying_zip())
    assert "上传被拒绝" in page.get_data(as_text=True)
    assert _uploads(app) == before


def test_an_upload_is_removed_once_installed_or_cancelled(app, client, implementer, tmp_path):
    from tests.app.conftest import reminder_entity

    login(client, implementer.users["admin"])
    folder = Path(
        write_pack(
            tmp_path,
            "upl_" + implementer.code.lower(),
            documents=[reminder_entity("upload_reminder")],
        )
    )
    for action, expected in (({"action": "cancel"}, "/packs/upload"), ({}, "installedpackview")):
        before = _uploads(app)
        review = _upload(client, _zip_folder(folder))
        assert review.status_code == 302, review.get_data(as_text=True)[:500]
        token = review.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
        assert _uploads(app) == before | {token}
        done = client.post(f"/packs/review/{token}", data=action)
        assert done.status_code == 302 and expected in done.headers["Location"]
        assert _uploads(app) == before


def test_stale_uploads_are_swept_on_upload_and_by_the_command(app, client, implementer):
    import os
    import time

    root = Path(app.config["STORAGE_PATH"]) / "pack-uploads"
    day_old = time.time() - 25 * 3600
    for name in ("a" * 32, "b" * 32):
        (root / name / "p").mkdir(parents=True, exist_ok=True)
        (root / name / "p" / "pack.yaml").write_text("name: left\n")
        os.utime(root / name, (day_old, day_old))
    fresh = root / ("c" * 32)
    fresh.mkdir(exist_ok=True)
    login(client, implementer.users["admin"])
    _upload(client, b"not a zip")  # any upload sweeps first
    assert "a" * 32 not in _uploads(app) and "b" * 32 not in _uploads(app)
    os.utime(fresh, (day_old, day_old))
    result = app.test_cli_runner().invoke(args=["pack", "sweep-uploads"])
    assert result.exit_code == 0 and "removed 1 stale uploads" in result.output
    assert "c" * 32 not in _uploads(app)


def test_the_console_names_a_platform_document_a_tenant_pack_reuses(
    app, client, implementer, tmp_path
):
    _platform_core(app)
    login(client, implementer.users["admin"])
    review = _upload(client, _zip_folder(_shadowing_pack(tmp_path)))
    page = client.get(review.headers["Location"]).get_data(as_text=True)
    assert "list_view &#39;policy_list&#39; is a platform document" in page
    assert 'id="dc-install"' not in page


# --- finding 9: api: false, mask: true, lineage rights, CSRF on cookie calls -------------------


PHONE = {"name": "phone", "label": {"zh": "手机", "en": "Mobile"}, "type": "phone"}
SECRET = {
    "name": "code",
    "label": {"zh": "暗码", "en": "Code"},
    "type": "string",
    "mask": True,
}
FULL_PHONE, FULL_CODE = "13912345678", "ABCDEFGH42"


@pytest.fixture(scope="module")
def masked(app, tmp_path_factory):
    """A tenant with a masked entity (a phone, masked by default, and a `mask: true` code), an
    entity with `api: false`, one record in store A, and users who may and may not unmask."""
    from app.configuration import records
    from app.configuration.runtime import REGISTRY
    from app.extensions import db
    from app.tenancy.scope import system_scope, use_scope
    from tests.app.conftest import install_for, reminder_entity

    world = build_world(
        app,
        {
            "manager": ("store_manager", "store_a"),
            "desk": ("insurance_desk", "store_a"),
            "hr": ("hr", "hq"),
            "admin": ("tenant_admin", "hq"),
        },
    )
    no_api = reminder_entity("no_api_reminder")
    no_api["body"]["api"] = False
    folder = write_pack(
        tmp_path_factory.mktemp("masked"),
        f"masked_{world.code.lower()}",
        documents=[reminder_entity(extra_fields=[PHONE, SECRET]), no_api],
    )
    install_for(app, world, folder)
    with use_scope(system_scope("tests")):
        for key in ("inspection_reminder", "no_api_reminder"):
            runtime = REGISTRY.get(db.session, key, world.tenant_id)
            values = {"plate": "沪A12345", "due_date": "2026-12-31", "org_node_id": world.store_a}
            if key == "inspection_reminder":
                values |= {"phone": FULL_PHONE, "code": FULL_CODE}
            record = records.create_record(db.session, runtime, values, "tests")
            world.users[f"{key}_id"] = str(record.id)
    return world


def _unmasked_audits(world) -> list[dict]:
    import json

    from sqlalchemy import select

    from app.audit.models import AuditRecord
    from app.configuration.masking import VIEW_UNMASKED
    from app.extensions import db
    from app.tenancy.scope import system_scope, use_scope

    with use_scope(system_scope()):
        rows = db.session.scalars(
            select(AuditRecord)
            .where(
                AuditRecord.action == VIEW_UNMASKED,
                AuditRecord.entity == f"x{world.tenant_id}_inspection_reminder",
            )
            .order_by(AuditRecord.id)
        ).all()
        return [{"user": row.username, **json.loads(row.detail)} for row in rows]


def test_an_entity_with_api_false_has_no_rest_api(client, masked):
    headers = _bearer(client, masked.users["admin"])
    record = masked.users["no_api_reminder_id"]
    base = "/api/v1/no_api_reminder/"
    answers = [
        client.get(base, headers=headers),
        client.post(base, json=_reminder(), headers=headers),
        client.get(f"{base}{record}", headers=headers),
        client.put(f"{base}{record}", json={"plate": "沪A54321"}, headers=headers),
        client.delete(f"{base}{record}", headers=headers),
        client.get(f"{base}_openapi", headers=headers),
        client.get(
            f"/api/v1/lineage/x{masked.tenant_id}_no_api_reminder/{record}", headers=headers
        ),
    ]
    assert [a.status_code for a in answers] == [404] * len(answers)
    assert _entity_rows(masked, "no_api_reminder") == 1
    # Its screens stay: api: false takes away the REST API only.
    login(client, masked.users["admin"])
    assert client.get("/entities/no_api_reminder/").status_code == 200
    assert client.get("/api/v1/inspection_reminder/", headers=headers).status_code == 200


def test_the_api_masks_for_a_role_that_may_not_see_and_audits_who_may(client, masked):
    before = len(_unmasked_audits(masked))
    manager = client.get(
        "/api/v1/inspection_reminder/", headers=_bearer(client, masked.users["manager"])
    ).get_json()["result"][0]
    assert manager["phone"] == "139****5678" and manager["code"] == "A********2"
    assert FULL_PHONE not in str(manager) and FULL_CODE not in str(manager)
    assert len(_unmasked_audits(masked)) == before  # nothing was shown in full
    desk_headers = _bearer(client, masked.users["desk"])
    record = masked.users["inspection_reminder_id"]
    desk = client.get(f"/api/v1/inspection_reminder/{record}", headers=desk_headers).get_json()
    assert desk["result"]["phone"] == FULL_PHONE and desk["result"]["code"] == FULL_CODE
    audits = _unmasked_audits(masked)[before:]
    assert audits == [
        {
            "user": masked.users["desk"],
            "how": "api get",
            "fields": ["phone", "code"],
            "records": [record],
        }
    ]


def test_a_masked_field_cannot_be_guessed_by_filtering(client, masked):
    headers = _bearer(client, masked.users["manager"])
    guess = client.get(f"/api/v1/inspection_reminder/?phone={FULL_PHONE}", headers=headers)
    assert guess.status_code == 400 and "phone" in guess.get_json()["message"]
    desk = _bearer(client, masked.users["desk"])
    found = client.get(f"/api/v1/inspection_reminder/?phone={FULL_PHONE}", headers=desk)
    assert found.status_code == 200 and found.get_json()["count"] == 1


def test_screens_mask_the_list_the_record_and_the_edit_form(client, masked):
    record = masked.users["inspection_reminder_id"]
    login(client, masked.users["manager"])
    pages = [
        client.get("/entities/inspection_reminder/"),
        client.get(f"/entities/inspection_reminder/{record}/"),
        client.get(f"/entities/inspection_reminder/{record}/edit"),
    ]
    for page in pages:
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and FULL_PHONE not in text and FULL_CODE not in text
        assert "139****5678" in text
    assert "留空则保留原值" in pages[2].get_data(as_text=True)
    # Saving the form with the masked fields left empty keeps their values.
    saved = client.post(
        f"/entities/inspection_reminder/{record}/edit",
        data={
            "org_node_id": str(masked.store_a),
            "plate": "沪A12345",
            "due_date": "2026-11-30",
            "status": "pending",
            "phone": "",
            "code": "",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    desk = _bearer(client, masked.users["desk"])
    kept = client.get(f"/api/v1/inspection_reminder/{record}", headers=desk).get_json()["result"]
    assert kept["phone"] == FULL_PHONE and kept["code"] == FULL_CODE
    assert kept["due_date"] == "2026-11-30"


def test_a_role_that_may_see_sees_in_full_and_every_view_is_audited(client, masked):
    record = masked.users["inspection_reminder_id"]
    before = len(_unmasked_audits(masked))
    login(client, masked.users["desk"])
    for url in ("/entities/inspection_reminder/", f"/entities/inspection_reminder/{record}/"):
        assert FULL_PHONE in client.get(url).get_data(as_text=True)
    hows = [audit["how"] for audit in _unmasked_audits(masked)[before:]]
    assert hows == ["list", "show"]


def test_exports_are_masked_unless_the_role_may_see_and_say_so_in_the_audit(client, masked):
    import io
    import json

    from openpyxl import load_workbook
    from sqlalchemy import select

    from app.audit.models import AuditAction, AuditRecord
    from app.extensions import db
    from app.tenancy.scope import system_scope, use_scope

    def export(username: str) -> tuple[str, dict]:
        client.get("/logout/")
        login(client, username)
        answer = client.get("/entities/inspection_reminder/export")
        assert answer.status_code == 200
        sheet = load_workbook(io.BytesIO(answer.data)).active
        cells = " ".join(str(c.value) for row in sheet.iter_rows() for c in row)
        with use_scope(system_scope()):
            event = db.session.scalars(
                select(AuditRecord)
                .where(AuditRecord.action == AuditAction.EXPORT, AuditRecord.username == username)
                .order_by(AuditRecord.id.desc())
            ).first()
        return cells, json.loads(event.detail)

    cells, detail = export(masked.users["manager"])
    assert FULL_PHONE not in cells and "139****5678" in cells and detail["unmasked"] == []
    cells, detail = export(masked.users["desk"])
    assert FULL_PHONE in cells and FULL_CODE in cells and detail["unmasked"] == ["phone", "code"]


def test_lineage_needs_rights_on_the_entity_and_the_record(app, client, masked):
    record = masked.users["inspection_reminder_id"]
    url = f"/api/v1/lineage/x{masked.tenant_id}_inspection_reminder/{record}"
    hr = client.get(url, headers=_bearer(client, masked.users["hr"]))
    assert hr.status_code == 404
    desk = client.get(url, headers=_bearer(client, masked.users["desk"]))
    assert desk.status_code == 200 and desk.get_json()["result"][0]["purpose"] == "schema"
    stranger = build_world(app, {"desk": ("insurance_desk", "store_a")})
    other = client.get(url, headers=_bearer(client, stranger.users["desk"]))
    assert other.status_code == 404
    for bad_id in ("999999999", "²", "9" * 40):
        unknown = client.get(
            f"/api/v1/lineage/x{masked.tenant_id}_inspection_reminder/{bad_id}",
            headers=_bearer(client, masked.users["desk"]),
        )
        assert unknown.status_code == 404


def test_cookie_calls_to_the_entity_api_need_the_csrf_token(client, masked):
    record = masked.users["inspection_reminder_id"]
    login(client, masked.users["desk"])
    base = "/api/v1/inspection_reminder/"
    refused = [
        client.post(base, json=_reminder()),
        client.put(f"{base}{record}", json={"status": "done"}),
        client.delete(f"{base}{record}"),
        client.post("/api/v1/documents/validate", json={"text": "kind: entity\n"}),
        client.post(base, json=_reminder(), headers={"X-CSRFToken": "forged"}),
    ]
    assert [a.status_code for a in refused] == [403] * len(refused)
    assert "X-CSRFToken" in refused[0].get_json()["message"]
    assert client.get(base).status_code == 200  # reads need no token
    created = client.post(base, json=_reminder(), headers=csrf_headers(client))
    assert created.status_code == 201, created.get_data(as_text=True)[:300]
    bearer = _bearer(client, masked.users["desk"])
    assert client.post(base, json=_reminder(), headers=bearer).status_code == 201
