"""Importing an existing book: good files, bad rows named with their column, nothing imported
unless the operator accepts the good rows, idempotent re-import, updates only when changed,
full-width identifiers normalised, endorsement rows, Excel, the CLI and the console screen."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.audit.models import AuditRecord
from app.demo.loader import make_vin
from app.extensions import db
from app.policies import importing
from app.policies.labels import BusinessType, PolicyStatus
from app.policies.models import Endorsement, Policy
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import build_world, login, scope_of

HEADER = [
    "保险公司",
    "保单号",
    "批单号",
    "险种",
    "门店代码",
    "被保险人",
    "证件号码",
    "手机号",
    "车牌号",
    "车架号",
    "新旧车",
    "起保日期",
    "含税保费",
    "车船税",
    "批改类型",
    "批改生效日期",
    "批改保费变化",
]


def _vin(seed: int) -> str:
    import random

    return make_vin(random.Random(seed), "LSV", "R")


def _row(
    no,
    line="交强险",
    store="SA",
    plate="沪A12345",
    start="2025-03-01",
    premium="950.00",
    insured="张三",
    mobile="13812345678",
    vin=None,
    carrier="中国平安",
    **endorsement,
):
    return [
        carrier,
        no,
        endorsement.get("number", ""),
        line,
        store,
        insured,
        "",
        mobile,
        plate,
        vin or "",
        "旧车",
        start,
        premium,
        "360.00" if line == "交强险" else "",
        endorsement.get("kind", ""),
        endorsement.get("effective", ""),
        endorsement.get("change", ""),
    ]


def _write_csv(tmp_path, rows, name="book.csv"):
    path = tmp_path / name
    path.write_text(importing.csv_text([HEADER, *rows]), encoding="utf-8-sig")
    return path


@pytest.fixture
def world(app):
    return build_world(
        app, {"admin": ("tenant_admin", "hq"), "store": ("store_manager", "store_a")}
    )


def _import(world, path, accept=False, user="admin", store=None):
    with use_scope(scope_of(world.users[user])):
        mapping = importing.load_mapping(db.session, "standard_book", world.tenant_id)
        summary = importing.import_file(
            db.session,
            path,
            mapping,
            tenant_id=world.tenant_id,
            accept_good_rows=accept,
            default_store=store,
            source_name=path.name,
        )
        db.session.commit()
    db.session.remove()
    return summary


def _policies(world):
    with use_scope(system_scope()):
        rows = db.session.scalars(
            select(Policy).where(Policy.tenant_id == world.tenant_id).order_by(Policy.id)
        ).all()
        db.session.expunge_all()
        return rows


def test_good_file_imports_and_reimport_is_idempotent(world, tmp_path):
    vin = _vin(1)
    rows = [
        _row(
            "PDZA2025000000000001", vin=vin, plate="沪Ａ１２３４５", mobile="１３８１２３４５６７８"
        ),
        _row("PDAA2025000000000002", line="商业险", premium="4,997.54", vin=vin),
        _row("PDZA2026000000000003", start="2026-03-01", vin=vin),
        _row(
            "PDZA2026000000000004",
            start="2026-03-01",
            plate="沪B22222",
            carrier="中国人保",
            vin=_vin(2),
        ),
        _row(
            "PDAA2025000000000002",
            line="商业险",
            number="PDAA2025000000000002P001",
            kind="退保",
            effective="2025-09-01",
            change="-1,234.56",
        ),
    ]
    path = _write_csv(tmp_path, rows)
    summary = _import(world, path)
    assert summary.errors == [] and summary.imported
    assert summary.policies_inserted == 4 and summary.endorsements_inserted == 1
    policies = {p.policy_no: p for p in _policies(world)}
    first = policies["PDZA2025000000000001"]
    assert first.plate == "沪A12345" and first.insured_mobile == "13812345678"  # full width in
    assert first.premium_excl_tax == Decimal("896.23")
    assert first.vehicle_tax == Decimal("360.00")
    assert first.carrier_key == "pingan" and first.org_node_id == world.store_a
    assert policies["PDAA2025000000000002"].premium_incl_tax == Decimal("4997.54")
    assert policies["PDAA2025000000000002"].premium_excl_tax == Decimal("4714.66")
    assert policies["PDAA2025000000000002"].status == PolicyStatus.CANCELLED
    renewal = policies["PDZA2026000000000003"]
    assert renewal.business_type == BusinessType.RENEWAL and renewal.renews_policy_id == first.id
    assert policies["PDZA2026000000000004"].business_type == BusinessType.NEW
    with use_scope(system_scope()):
        batch = db.session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "import", AuditRecord.tenant_id == world.tenant_id
            )
        ).all()
        assert any("pingan/PDZA2025000000000001" in record.detail for record in batch)
    again = _import(world, path)
    assert again.policies_inserted == 0 and again.policies_unchanged == 4
    assert again.endorsements_inserted == 0 and again.endorsements_unchanged == 1
    assert len(_policies(world)) == 4
    # a changed premium is an update, recorded with its before and after values
    rows[2] = _row("PDZA2026000000000003", start="2026-03-01", vin=vin, premium="855.00")
    changed = _import(world, _write_csv(tmp_path, rows))
    assert changed.policies_updated == 1 and changed.policies_unchanged == 3
    with use_scope(system_scope()):
        update = db.session.scalars(
            select(AuditRecord)
            .where(AuditRecord.entity == "policy", AuditRecord.action == "update")
            .order_by(AuditRecord.id.desc())
        ).first()
        assert '"premium_incl_tax": "855.00"' in update.after


def test_bad_rows_are_named_and_nothing_is_imported_unless_accepted(world, tmp_path):
    rows = [
        _row("PDZA2025100000000001"),
        _row("PDZA2025100000000002", plate="沪I12345"),
        _row("PDZA2025100000000003", start="2025-02-30"),
        _row("PDZA2025100000000004", premium="九百五"),
        _row("PDZA2025100000000005", store="ZZ"),
        _row("PDZA2025100000000006", mobile="12345", vin="LSV00000000000000"),
        _row("PDZA2025100000000001"),  # duplicate of the first row
        _row("PDZA2025100000000007", line="游艇险"),
        _row(
            "PDZA2025199999999999",
            number="PDZA2025199999999999P001",
            kind="退保",
            effective="2025-06-01",
            change="-10",
        ),
        _row("PDZA2025100000000008"),
    ]
    path = _write_csv(tmp_path, rows)
    summary = _import(world, path)
    assert not summary.imported and _policies(world) == []
    named = {(e.row, e.column) for e in summary.errors}
    assert {
        (3, "车牌号"),
        (4, "起保日期"),
        (5, "含税保费"),
        (6, "门店代码"),
        (7, "手机号"),
        (7, "车架号"),
        (8, "保单号"),
        (9, "险种"),
        (10, "保单号"),
    } <= named
    assert summary.good_rows == 2 and summary.refused_rows == 8
    book = load_workbook(io.BytesIO(importing.error_workbook(summary))).active
    lines = list(book.iter_rows(values_only=True))
    assert lines[0][:3] == ("行号", "列", "错误说明")
    assert (3, "车牌号") in {(line[0], line[1]) for line in lines[1:]}
    assert "PDZA2025100000000002" in {line[4] for line in lines[1:]}  # the row itself follows
    accepted = _import(world, path, accept=True)
    assert accepted.imported and accepted.policies_inserted == 2
    assert sorted(p.policy_no for p in _policies(world)) == [
        "PDZA2025100000000001",
        "PDZA2025100000000008",
    ]


def test_missing_required_column_refuses_the_file(world, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("保单号,被保险人\nPD1,张三\n", encoding="utf-8")
    summary = _import(world, path, accept=True)
    assert not summary.imported
    assert {e.column for e in summary.errors} >= {"险种", "起保日期"}


def test_stores_outside_the_scope_are_refused(world, app, tmp_path):
    other = build_world(app)
    path = _write_csv(tmp_path, [_row("PDZA2025200000000001", store="SB")])
    summary = _import(world, path, user="store")  # a store manager of store A
    assert [e.column for e in summary.errors] == ["门店代码"]
    with use_scope(scope_of(world.users["admin"])):
        mapping = importing.load_mapping(db.session, "standard_book", world.tenant_id)
        with pytest.raises(importing.ValidationFailed):
            importing.PolicyImporter(
                db.session, mapping, tenant_id=other.tenant_id, default_store="SA"
            )
    db.session.remove()


def test_excel_file(world, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(_row("PDZA2025300000000001", vin=_vin(3)))
    import datetime

    sheet.append(_row("PDZA2025300000000002", start=datetime.datetime(2025, 4, 1)))
    path = tmp_path / "book.xlsx"
    book.save(path)
    summary = _import(world, path)
    assert summary.imported and summary.policies_inserted == 2
    assert {str(p.start_date) for p in _policies(world)} == {"2025-03-01", "2025-04-01"}


def test_cli_prints_a_json_summary(app, world, tmp_path):
    path = _write_csv(tmp_path, [_row("PDZA2025400000000001"), _row("BAD", plate="X")])
    runner = app.test_cli_runner()
    with use_scope(system_scope()):
        from app.organisation.models import Tenant

        code = db.session.get(Tenant, world.tenant_id).code
    db.session.remove()
    result = runner.invoke(
        args=["policies", "import", str(path), "--mapping", "standard_book", "--tenant", code]
    )
    assert result.exit_code == 1, result.output
    summary = json.loads(result.output)
    assert summary["imported"] is False and summary["errors"][0]["row"] == 3
    assert summary["errors"][0]["column"] == "车牌号"
    result = runner.invoke(
        args=[
            "policies",
            "import",
            str(path),
            "--mapping",
            "standard_book",
            "--tenant",
            code,
            "--accept-good-rows",
        ]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["policies"]["inserted"] == 1
    missing = runner.invoke(
        args=["policies", "import", str(path), "--mapping", "nope", "--tenant", code]
    )
    assert missing.exit_code == 2 and '"field": "mapping"' in missing.output


def test_console_upload_preview_and_import(client, world, tmp_path):
    path = _write_csv(
        tmp_path, [_row("PDZA2025500000000001"), _row("PDZA2025500000000002", plate="X")]
    )
    login(client, world.users["admin"])
    assert client.get("/policies/import/").status_code == 200
    preview = client.post(
        "/policies/import/check",
        data={"file": (io.BytesIO(path.read_bytes()), "book.csv"), "mapping": "standard_book"},
        content_type="multipart/form-data",
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "dc-import-errors" in html and "车牌号" in html
    token = html.split('name="token" value="')[1].split('"')[0]
    errors = client.get(f"/policies/import/errors/{token}")
    assert errors.status_code == 200
    refused = client.post("/policies/import/run", data={"token": token})
    assert "尚未导入" in refused.get_data(as_text=True) and _policies(world) == []
    done = client.post("/policies/import/run", data={"token": token, "accept_good_rows": "on"})
    assert "已导入" in done.get_data(as_text=True)
    assert [p.policy_no for p in _policies(world)] == ["PDZA2025500000000001"]
    with use_scope(system_scope()):
        count = db.session.scalar(
            select(func.count(Endorsement.id)).where(Endorsement.tenant_id == world.tenant_id)
        )
    assert count == 0
    assert client.get("/policies/import/errors/not-a-token").status_code == 404
