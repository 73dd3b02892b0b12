"""The configuration centre for business admins (issue 18): each kind of document shown the way
it reads, versions compared side by side, the grid editor of decision tables with its live
checks, errors in Chinese naming the field, pack upload previewed in business words — and, in a
real browser, the whole round: edit a table in the grid, see a gap flagged, run the simulator,
publish, see the change in the version comparison."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app.audit.models import AuditRecord
from app.configuration import presenting_tables as present_tables
from app.configuration.diffing import (
    ADDED,
    CHANGED,
    REMOVED,
    Skipped,
    diff_values,
    folded,
    side_by_side,
    table_diff,
)
from app.configuration.models import Document, DocumentVersion, VersionStatus
from app.configuration.presenting import present
from app.extensions import db
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import (
    browser_login,
    build_world,
    install_for,
    login,
    reminder_entity,
    write_pack,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "metadata" / "packs" / "demo"


def fee_table(version: str = "1.0.0", rules=None) -> dict:
    """A small fee table: business type × vehicle age → rate; 转保 cars of 3+ years are left
    out (a gap), rows 2 and 3 overlap at age 3 for 续保 (the policy is unique)."""
    return {
        "kind": "decision_table",
        "key": "centre_fee_rate",
        "version": version,
        "title": "测试手续费率",
        "body": {
            "title": "测试手续费率",
            "hit_policy": "unique",
            "inputs": [
                {
                    "name": "business_type",
                    "label": "业务类型",
                    "type": "enum",
                    "values": ["新保", "续保", "转保"],
                },
                {"name": "vehicle_age", "label": "车龄", "type": "integer", "min": 0, "max": 30},
            ],
            "outputs": [{"name": "rate", "label": "费率", "type": "decimal"}],
            "rules": rules
            or [
                {"when": ["新保", "-"], "then": ["0.04"]},
                {"when": ["续保", "[0..3]"], "then": ["0.05"]},
                {"when": ["续保", ">= 3"], "then": ["0.06"]},
                {"when": ["转保", "[0..3)"], "then": ["0.07"]},
            ],
            "tests": [
                {
                    "name": "新保",
                    "input": {"business_type": "新保", "vehicle_age": 1},
                    "expected": {"rate": "0.04"},
                }
            ],
        },
    }


def browser_table() -> dict:
    """A table covering every input (no gap) for the browser round."""
    document = fee_table(
        rules=[
            {"when": ["新保", "-"], "then": ["0.04"]},
            {"when": ["续保", "-"], "then": ["0.05"]},
            {"when": ["转保", "-"], "then": ["0.07"]},
        ]
    )
    return {**document, "key": "centre_browser_rate", "title": "浏览器测试费率"}


@pytest.fixture(scope="module")
def world(app):
    return build_world(
        app, {"admin": ("tenant_admin", "hq"), "desk": ("insurance_desk", "store_a")}
    )


@pytest.fixture(scope="module")
def other(app):
    return build_world(app, {"admin": ("tenant_admin", "hq")})


@pytest.fixture(scope="module")
def core(app):
    """The core pack (a product and a list view of the platform), installed once."""
    with use_scope(system_scope()):
        installed = db.session.scalar(
            select(Document).where(Document.key == "policy_list", Document.tenant_id.is_(None))
        )
    if installed is None:
        result = app.test_cli_runner().invoke(
            args=["pack", "install", str(ROOT / "metadata/packs/core")]
        )
        assert result.exit_code == 0, result.output
    with use_scope(system_scope()):
        found = db.session.scalars(select(Document).where(Document.tenant_id.is_(None))).all()
        return {d.key: d.id for d in found}


@pytest.fixture(scope="module")
def documents(app, world, core, tmp_path_factory):
    """The world's pack: the fee table, a fee agreement of the demo pack and an entity."""
    agreement = yaml.safe_load(
        (DEMO / "fee_agreements" / "sandbox_motor_2026.yaml").read_text(encoding="utf-8")
    )
    agreement["key"] = "centre_agreement"
    folder = write_pack(
        tmp_path_factory.mktemp("centre"),
        "centre_pack",
        documents=[fee_table(), browser_table(), agreement, reminder_entity()],
    )
    install_for(app, world, folder)
    with use_scope(system_scope("tests")):
        found = db.session.scalars(
            select(Document).where(Document.tenant_id == world.tenant_id)
        ).all()
        return {**core, **{d.key: d.id for d in found}}


def _csrf(client) -> str:
    page = client.get("/documentview/list/").get_data(as_text=True)
    return page.split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]


# --- pure: structural differences -----------------------------------------------------------


def test_diff_names_changed_added_and_removed_fields_and_aligns_lists():
    old = {"a": 1, "lines": [{"code": "x", "v": 1}, {"code": "y", "v": 2}], "gone": True}
    new = {"a": 2, "lines": [{"code": "w", "v": 0}, {"code": "x", "v": 1}, {"code": "y", "v": 3}]}
    changes = {(c.path, c.status) for c in diff_values(old, new)}
    assert changes == {
        ("$.a", CHANGED),
        ("$.gone", REMOVED),
        ("$.lines[2].v", CHANGED),  # matched by code, though it moved down
        ("$.lines[0]", ADDED),
    }
    unkeyed = diff_values({"l": [1, 2, 3]}, {"l": [1, 9, 2, 3]})
    assert [(c.path, c.status, c.new) for c in unkeyed] == [("$.l[1]", ADDED, 9)]
    assert diff_values({"x": [1]}, {"x": [1]}) == []


def test_table_diff_marks_rows_and_cells():
    old = fee_table()["body"]
    new_rules = [dict(r) for r in old["rules"]]
    new_rules[1] = {"when": ["续保", "[0..3)"], "then": ["0.05"]}  # one cell changed
    new_rules.insert(0, {"when": ["转保", ">= 3"], "then": ["0.08"]})  # a row added first
    del new_rules[-1]  # the last row removed
    new = {**old, "rules": new_rules}
    diff = table_diff(old, new)
    statuses = [(r.status, r.old_number, r.new_number) for r in diff.rows]
    assert ("added", None, 1) in statuses and ("removed", 4, None) in statuses
    changed = [r for r in diff.rows if r.status == "changed"]
    assert len(changed) == 1 and changed[0].changed == [False, True, False]
    assert changed[0].cells[1] == ("[0..3]", "[0..3)")
    assert diff.counts == {"added": 1, "removed": 1, "changed": 1, "same": 2}
    widened = {**old, "inputs": [*old["inputs"], {"name": "seats", "type": "integer"}]}
    assert [c["status"] for c in table_diff(old, widened).columns] == [
        "same",
        "same",
        "added",
        "same",
    ]


def test_long_unchanged_runs_are_folded_around_the_changes():
    old = "\n".join(f"line {i}" for i in range(100))
    new = old.replace("line 50", "line fifty")
    shown = folded(side_by_side(old, new), 3)
    skipped = [getattr(item, "count", None) for item in shown if item.status == "skipped"]
    assert skipped == [47, 46]  # lines 0-46 and 54-99: three kept on each side of line 50
    assert [item.new for item in shown if item.status == "changed"] == ["line fifty"]
    assert len(shown) == 1 + 3 + 1 + 3 + 1
    unchanged = side_by_side("a\nb", "a\nb")
    assert folded(unchanged, 3) == [Skipped(2)]


def test_side_by_side_pairs_lines():
    pairs = side_by_side("a\nb\nc\n", "a\nB\nc\nd\n")
    assert [(p.status, p.old, p.new) for p in pairs] == [
        ("same", "a", "a"),
        ("changed", "b", "B"),
        ("same", "c", "c"),
        ("added", "", "d"),
    ]


def test_presenters_are_chosen_by_kind_and_fall_back_to_yaml():
    agreement = yaml.safe_load(
        (DEMO / "fee_agreements" / "sandbox_motor_2026.yaml").read_text(encoding="utf-8")
    )
    shown = present("fee_agreement", agreement, "zh")
    assert shown.template.endswith("document_part_fee_agreement.html")
    first = shown.context["lines"][0]
    assert first["product_label"].endswith("交强险")  # by its category path where one is known
    assert (first["fee_type"], first["base"]) == ("手续费", "含税保费")
    assert first["rates"][0] == {"how": "ratio", "value": "4%"}
    assert shown.context["business_types"][:2] == ["新保", "续保"]
    table = present("decision_table", fee_table(), "zh").context["table"]
    assert [g["cells"] for g in table["gaps"]] == [['"转保"', "[3..30]"]]
    assert [r["number"] for r in table["rows"] if r["warn"]] == [3]  # overlaps row 2 at 3
    rule_set = yaml.safe_load(
        (ROOT / "metadata/packs/core/rule_sets/jqx_premium.yaml").read_text(encoding="utf-8")
    )
    assert present("rule_set", rule_set, "zh").template.endswith("document_part_yaml.html")
    broken = {**agreement, "body": {"lines": "not a list"}}
    fallback = present("fee_agreement", broken, "zh")
    assert fallback.template.endswith("document_part_yaml.html") and fallback.note


def test_a_large_table_is_checked_at_once_while_typing_and_fully_on_its_page():
    rows = [{"when": ["新保", f"[{i % 30}..{i % 30 + 1})"], "then": ["0.04"]} for i in range(320)]
    document = fee_table(rules=rows)
    live = present_tables.table_view(document, "zh", use="live")
    assert [n["code"] for n in live["notes"]] == ["analysis_incomplete"] and not live["gaps"]
    page = present_tables.table_view(document, "zh")
    assert not page["notes"] and page["gaps"]  # 续保 and 转保 have no row
    assert sum(1 for r in page["rows"] if r["warn"]) > 0  # rows repeating a band never win


# --- the pages --------------------------------------------------------------------------------


def test_each_kind_reads_as_itself_on_its_page(app, client, world, documents):
    login(client, world.users["admin"])
    table = client.get(f"/documentview/show/{documents['centre_fee_rate']}")
    html = table.get_data(as_text=True)
    assert table.status_code == 200
    assert 'id="dc-decision-table"' in html and "业务类型" in html and "车龄" in html
    assert html.count('class="dc-gap-row"') == 1 and "[3..30]" in html
    assert 'class="dc-row-warn" data-row="3"' in html  # the overlapping row
    agreement = client.get(f"/documentview/show/{documents['centre_agreement']}")
    html = agreement.get_data(as_text=True)
    assert 'id="dc-fee-grid"' in html and "交强险" in html and "4%" in html and "5.00" in html
    product = client.get(f"/documentview/show/{documents['compulsory_motor']}")
    html = product.get_data(as_text=True)
    assert 'id="dc-coverages"' in html and 'id="dc-form-fields"' in html
    entity = client.get(f"/documentview/show/{documents['inspection_reminder']}")
    assert 'id="dc-yaml"' in entity.get_data(as_text=True)  # no presenter: the YAML
    html = client.get(f"/documentview/show/{documents['policy_list']}").get_data(as_text=True)
    assert 'id="dc-list-columns"' in html and "保单号" in html
    assert client.get("/documentview/show/999999999").status_code == 404
    assert client.get("/documentview/show/abc").status_code == 404


def test_the_grid_saves_a_draft_publishing_shows_the_change_side_by_side(
    app, client, world, documents
):
    document_id = documents["centre_fee_rate"]
    login(client, world.users["admin"])
    grid = client.get(f"/documents/{document_id}/grid")
    html = grid.get_data(as_text=True)
    assert grid.status_code == 200 and 'id="dc-grid"' in html
    assert 'value="1.0.1"' in html  # the next version is suggested

    def save(version, new_rate):
        rows = [
            {"when": {"business_type": "新保", "vehicle_age": "-"}, "then": {"rate": new_rate}},
            {"when": {"business_type": "续保", "vehicle_age": "[0..3)"}, "then": {"rate": "0.05"}},
            {"when": {"business_type": "续保", "vehicle_age": ">= 3"}, "then": {"rate": "0.06"}},
        ]
        table = {"hit_policy": "unique", "rules": rows}
        return client.post(
            f"/documents/{document_id}/grid",
            data={"table": json.dumps(table), "version": version, "title": "测试手续费率"},
        )

    # A draft whose own test case fails (新保 must stay 0.04) is saved but not published.
    failing = save("1.0.1", "0.045")
    assert failing.status_code == 302, failing.get_data(as_text=True)[-3000:]
    with use_scope(system_scope()):
        db.session.expire_all()
        failing_id = db.session.get(Document, document_id).draft.id
    refused = client.post(f"/documents/{document_id}/publish/{failing_id}", follow_redirects=True)
    assert "新保" in refused.get_data(as_text=True) and "0.045" in refused.get_data(as_text=True)
    saved = save("1.0.2", "0.04")
    assert saved.status_code == 302
    with use_scope(system_scope()):
        db.session.expire_all()
        document = db.session.get(Document, document_id)
        draft = document.draft
        assert draft.version == "1.0.2" and draft.status == VersionStatus.DRAFT
        assert len(draft.body["rules"]) == 3
        assert document.current_version.version == "1.0.0"
        audited = db.session.scalar(
            select(AuditRecord).where(
                AuditRecord.entity == DocumentVersion.__tablename__,
                AuditRecord.record_id == str(draft.id),
            )
        )
        assert audited is not None
        draft_id, current_id = draft.id, document.current_version_id
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert 'id="dc-publish"' in page
    assert page.count('class="dc-gap-row"') == 1  # 转保 is now wholly uncovered
    published = client.post(f"/documents/{document_id}/publish/{draft_id}")
    assert published.status_code == 302
    assert f"/documentview/compare/{document_id}" in published.headers["Location"]
    compare = client.get(published.headers["Location"]).get_data(as_text=True)
    assert '<del>[0..3]</del><span class="dc-arrow">→</span><ins>[0..3)</ins>' in compare
    assert compare.count('data-status="removed"') == 1  # the 转保 row
    assert compare.count('data-status="same"') == 2
    with use_scope(system_scope()):
        db.session.expire_all()
        document = db.session.get(Document, document_id)
        assert document.current_version_id == draft_id != current_id
    again = client.post(f"/documents/{document_id}/publish/{draft_id}")  # published already
    assert again.status_code == 302 and "compare" not in again.headers["Location"]


def test_the_grid_refuses_bad_cells_naming_row_and_column(app, client, world, documents):
    document_id = documents["centre_fee_rate"]
    login(client, world.users["admin"])
    with use_scope(system_scope()):
        before = len(db.session.get(Document, document_id).versions)
    rows = [
        {"when": {"business_type": "旧保", "vehicle_age": "-"}, "then": {"rate": "0.04"}},
        {"when": {"business_type": "新保", "vehicle_age": "[5..1]"}, "then": {"rate": "x"}},
    ]
    refused = client.post(
        f"/documents/{document_id}/grid",
        data={"table": json.dumps({"rules": rows}), "version": "9.0.0"},
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and 'id="dc-grid-problems"' in html
    assert "第 1 行" in html and "列 business_type" in html and "第 2 行" in html
    assert "列 vehicle_age" in html
    for bad in (
        {"rules": "x"},
        {"rules": [["not", "a", "row"]]},
        {"rules": [{"when": {"vehicle_age": 5}}]},
    ):
        answer = client.post(
            f"/documents/{document_id}/grid", data={"table": json.dumps(bad), "version": "9.0.0"}
        )
        assert answer.status_code == 200 and 'id="dc-grid-problems"' in answer.get_data(
            as_text=True
        )
    no_version = client.post(
        f"/documents/{document_id}/grid",
        data={"table": json.dumps({"rules": rows[:0]}), "version": ""},
    )
    assert "版本" in no_version.get_data(as_text=True)
    with use_scope(system_scope()):
        db.session.expire_all()
        assert len(db.session.get(Document, document_id).versions) == before


def test_cells_and_tables_are_checked_as_they_are_typed(app, client, world, documents):
    login(client, world.users["admin"])
    headers = {"X-CSRFToken": _csrf(client)}
    body = fee_table()["body"]
    base = {"inputs": body["inputs"], "outputs": body["outputs"]}

    def cell(column, text, side="input"):
        return client.post(
            "/documents/cell",
            json={**base, "column": column, "text": text, "side": side},
            headers=headers,
        )

    assert cell("vehicle_age", "[0..3)").get_json() == {"ok": True, "problems": []}
    bad = cell("vehicle_age", "[5..1]").get_json()
    assert not bad["ok"] and "下限大于上限" in bad["problems"][0]
    assert "不在输入的允许值" in cell("business_type", '"旧保"').get_json()["problems"][0]
    assert not cell("rate", '"high"', "output").get_json()["ok"]
    assert cell("rate", "0.04", "output").get_json()["ok"]
    for malformed, field in (
        ({**base, "column": 5}, "column"),
        ({"inputs": "x", "outputs": [], "column": "a"}, "inputs"),
        ({**base, "column": "vehicle_age", "text": "x" * 3000}, "text"),
        ({**base, "column": "vehicle_age", "text": {"a": 1}}, "text"),
    ):
        answer = client.post("/documents/cell", json=malformed, headers=headers)
        assert answer.status_code == 400 and answer.get_json()["field"] == field
    document_id = documents["centre_fee_rate"]
    checked = client.post(
        f"/documents/{document_id}/check",
        json={"rules": [{"when": {"business_type": "新保"}, "then": {"rate": "0.04"}}]},
        headers=headers,
    ).get_json()
    assert [g["cells"] for g in checked["gaps"]] == [['"续保", "转保"', "-"]]
    refused = client.post(f"/documents/{document_id}/check", json=[1], headers=headers)
    assert refused.status_code == 400 and refused.get_json()["field"] == "body"


def test_editor_errors_are_chinese_and_name_the_field(app, client, world, documents):
    document_id = documents["centre_agreement"]
    login(client, world.users["admin"])
    with use_scope(system_scope()):
        data = db.session.get(Document, document_id).current_version.data
    data["version"] = 2
    data["body"]["payer"] = "bank"
    data["body"]["lines"][0]["rates"]["new"] = {"ratio": "abc"}
    answer = client.post(
        f"/documents/{document_id}/edit", data={"text": yaml.safe_dump(data, allow_unicode=True)}
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "「文档版本」应为文本" in html
    assert "「正文 › 付费方」的值 “bank” 不在允许的范围内" in html
    assert "「正文 › 协议行 › 第 1 项 › 业务类型 → 比例或金额 › 新保 › 比例」的写法不对" in html
    form = client.get(f"/documents/{document_id}/edit").get_data(as_text=True)
    config = json.loads(
        form.split('<script type="application/json" id="dc-editor-config">', 1)[1].split(
            "</script>", 1
        )[0]
    )
    assert config["schema"]["properties"]["agreement_code"]["title"] == "协议代码"


def test_other_tenants_and_the_desk_cannot_reach_the_documents(
    app, client, world, other, documents
):
    document_id = documents["centre_fee_rate"]
    login(client, other.users["admin"])
    headers = {"X-CSRFToken": _csrf(client)}
    for path in (
        f"/documentview/show/{document_id}",
        f"/documentview/compare/{document_id}",
        f"/documents/{document_id}/grid",
        f"/documents/{document_id}/edit",
    ):
        assert client.get(path).status_code == 404, path
    assert (
        client.post(
            f"/documents/{document_id}/check", json={"rules": []}, headers=headers
        ).status_code
        == 404
    )
    with use_scope(system_scope()):
        version_id = db.session.get(Document, document_id).versions[0].id
    assert client.post(f"/documents/{document_id}/publish/{version_id}").status_code == 404
    client.get("/logout/")
    login(client, world.users["desk"])
    grid = client.get(f"/documents/{document_id}/grid")
    assert grid.status_code in (302, 403)  # no editing permission
    assert client.post(f"/documents/{document_id}/publish/{version_id}").status_code in (302, 403)


def test_wrong_pairings_answer_404_and_platform_documents_stay_as_they_are(
    app, client, world, documents
):
    login(client, world.users["admin"])
    table, agreement = documents["centre_fee_rate"], documents["centre_agreement"]
    with use_scope(system_scope()):
        foreign_version = db.session.get(Document, agreement).versions[0].id
        platform_table = db.session.get(Document, documents["jqx_floating_rate"])
        platform_versions = len(platform_table.versions)
        body = platform_table.current_version.body
    assert client.get(f"/documentview/show/{table}?version={foreign_version}").status_code == 404
    assert client.get(f"/documentview/compare/{table}?a={foreign_version}").status_code == 404
    assert client.post(f"/documents/{table}/publish/{foreign_version}").status_code == 404
    assert client.get(f"/documents/{agreement}/grid").status_code == 404  # not a table
    assert client.post(f"/documents/{agreement}/check", json={"rules": []}).status_code in (
        400,
        404,
    )
    # The platform's table is read by the tenant but not changed by it.
    platform_id = documents["jqx_floating_rate"]
    shown = client.get(f"/documentview/show/{platform_id}").get_data(as_text=True)
    assert 'id="dc-decision-table"' in shown and 'id="dc-edit-grid"' not in shown
    rows = [{"when": dict.fromkeys([i["name"] for i in body["inputs"]], "-"), "then": {}}]
    refused = client.post(
        f"/documents/{platform_id}/grid",
        data={"table": json.dumps({"rules": rows}), "version": "9.9.9"},
        follow_redirects=True,
    )
    assert refused.status_code == 200
    with use_scope(system_scope()):
        db.session.expire_all()
        assert len(db.session.get(Document, platform_id).versions) == platform_versions


def _upgrade_zip(folder: Path) -> bytes:
    """The world's pack, next version: the fee table's rows changed, the entity given a field."""
    changed_table = fee_table(
        "2.0.0",
        rules=[
            {"when": ["新保", "-"], "then": ["0.04"]},
            {"when": ["续保", "-"], "then": ["0.05"]},
            {"when": ["转保", "-"], "then": ["0.07"]},
        ],
    )
    extra = {
        "name": "mileage",
        "label": {"zh": "里程数", "en": "Mileage"},
        "type": "integer",
    }
    folder = Path(
        write_pack(
            folder,
            "centre_pack",
            version="1.1.0",
            documents=[changed_table, reminder_entity(version="1.1.0", extra_fields=[extra])],
        )
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.rglob("*"):
            if path.is_file():
                archive.write(path, f"{folder.name}/{path.relative_to(folder)}")
    return buffer.getvalue()


def test_pack_review_speaks_of_documents_tables_and_columns(
    app, client, world, documents, tmp_path
):
    zipped = _upgrade_zip(tmp_path)
    login(client, world.users["admin"])
    uploaded = client.post(
        "/packs/upload",
        data={"pack": (io.BytesIO(zipped), "centre.zip")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    html = client.get(uploaded.headers["Location"]).get_data(as_text=True)
    changed = html.split('id="dc-plan-changed"', 1)[1].split('id="dc-plan-tables"', 1)[0]
    assert "测试手续费率" in changed and "年审提醒" in changed
    assert "里程数（mileage）" in changed  # the field added, by its name
    tables = html.split('id="dc-plan-tables"', 1)[1]
    assert "年审提醒" in tables and "里程数（mileage）" in tables and "整数" in tables
    client.post(uploaded.headers["Location"], data={"action": "cancel"})


# --- the round in a browser ------------------------------------------------------------------

SHOTS = os.environ.get("DC_SCREENSHOTS")  # a folder: also take the screens at 1366 and 390 px


def _shoot(page, name: str) -> None:
    if not SHOTS:
        return
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def test_business_admin_edits_in_the_grid_sees_the_gap_simulates_publishes_and_compares(
    app, live_server, browser, world, documents
):
    """Issue 18's 'done when': one browser session, from the grid to the comparison."""
    document_id = documents["centre_browser_rate"]
    page = browser_login(browser, live_server, world.users["admin"], width=1366)
    page.on("dialog", lambda dialog: dialog.accept())  # the publish confirmation
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(  # a script refused by the Content Security Policy is an error too
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server}/documentview/show/{document_id}")
    assert page.locator("tr.dc-gap-row").count() == 0
    page.click("#dc-edit-grid")
    page.wait_for_selector("#dc-grid-status.label-success")  # checked: no gap yet
    _shoot(page, "grid")

    # A bad cell is refused as it is typed, with the engine's reason under it.
    age_cells = page.locator("input.dc-cell[data-column=vehicle_age]")
    age_cells.nth(2).fill("[5..1]")
    page.wait_for_selector("input.dc-cell-bad")
    problem = age_cells.nth(2).locator("xpath=..").locator(".dc-cell-problem")
    assert "下限大于上限" in problem.inner_text()
    # Narrowing 转保 to new cars leaves older 转保 cars uncovered: the gap is flagged.
    age_cells.nth(2).fill("[0..3)")
    page.wait_for_selector("#dc-grid-status[data-gaps='1']")
    page.wait_for_function("!document.querySelector('input.dc-cell-bad')")
    gap = page.locator(".dc-finding-gap").first
    assert "转保" in gap.inner_text() and "[3..30]" in gap.get_attribute("data-gap-cells")
    # The gap becomes a row with one click; rows are moved and deleted.
    page.click(".dc-fill-gap")
    rows = page.locator("tr.dc-grid-row")
    assert rows.count() == 4
    assert rows.nth(3).locator("input.dc-cell").nth(1).input_value() == "[3..30]"
    rows.nth(3).locator("input.dc-cell").nth(2).fill("0.09")
    page.wait_for_selector("#dc-grid-status[data-gaps='0']")
    rows.nth(3).locator(".dc-row-up").click()
    assert rows.nth(2).locator("input.dc-cell").nth(2).input_value() == "0.09"
    rows.nth(2).locator(".dc-row-delete").click()
    assert rows.count() == 3
    page.click("#dc-add-row")
    assert rows.count() == 4 and rows.nth(3).locator("input.dc-cell").nth(0).input_value() == "-"
    rows.nth(3).locator(".dc-row-delete").click()
    page.wait_for_selector("#dc-grid-status[data-gaps='1']")
    _shoot(page, "grid-gap")
    page.click("#dc-grid-save")
    page.wait_for_selector("#dc-publish")
    assert page.locator("tr.dc-gap-row").count() == 1  # the draft's page marks the gap too
    _shoot(page, "document-draft")

    # The simulator, one click away, tries the draft: an old 转保 car gets no answer.
    page.click("#dc-try")
    page.wait_for_selector("#dc-simulate")
    assert "1.0.1" in page.locator("#dc-tried-version").inner_text()
    page.select_option("#in-business_type", "转保")
    page.fill("#in-vehicle_age", "5")
    page.click("#dc-run")
    page.wait_for_selector("#dc-result")
    assert page.locator("#dc-trace").inner_text().strip()
    _shoot(page, "simulator")
    page.click("#dc-sim-publish")
    page.wait_for_selector("#dc-table-diff")
    changed = page.locator("td.dc-cell-changed")
    assert changed.count() == 1
    assert "[0..3)" in changed.inner_text() and "-" in changed.locator("del").inner_text()
    _shoot(page, "compare")
    if SHOTS:  # the other pages of the centre, to look at
        for name, path in (
            ("fee-agreement", f"/documentview/show/{documents['centre_agreement']}"),
            ("product", f"/documentview/show/{documents['compulsory_motor']}"),
            ("list-view", f"/documentview/show/{documents['policy_list']}"),
            ("editor", f"/documents/{documents['centre_agreement']}/edit"),
            ("table", f"/documentview/show/{documents['centre_fee_rate']}"),
        ):
            page.goto(f"{live_server}{path}")
            page.wait_for_load_state("networkidle")
            _shoot(page, name)
        archive = Path(SHOTS) / "centre_pack.zip"
        archive.write_bytes(_upgrade_zip(Path(SHOTS)))
        page.goto(f"{live_server}/packs/upload")
        page.set_input_files("input[name=pack]", str(archive))
        page.click("#dc-upload")
        page.wait_for_selector("#dc-plan-tables")
        _shoot(page, "pack-review")
        page.click("#dc-cancel")
    with use_scope(system_scope()):
        db.session.expire_all()
        document = db.session.get(Document, document_id)
        assert document.current_version.version == "1.0.1"
        assert document.current_version.body["rules"][2]["when"] == ["转保", "[0..3)"]  # as written
    assert errors == []
    page.close()
