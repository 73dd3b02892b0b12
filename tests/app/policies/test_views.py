"""The policy screens: list and search, the policy page, reveal (audited), export (audited), the
批改 and 退保 forms naming bad fields, the PDF, and the walls between stores and tenants."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.audit.models import AuditRecord
from app.extensions import db
from app.policies.labels import PolicyStatus
from app.policies.models import Endorsement, Policy
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import build_world, login
from tests.app.policies.factory import make_policy


@pytest.fixture(scope="module")
def book(app):
    world = build_world(
        app,
        {
            "desk": ("insurance_desk", "store_a"),
            "deskb": ("insurance_desk", "store_b"),
            "region": ("region_manager", "region"),
        },
    )
    other = build_world(app, {"desk": ("insurance_desk", "store_a")})
    mine = [make_policy(world.store_a, insured_mobile="13812345678") for _ in range(3)]
    sibling = make_policy(world.store_b)
    foreign = make_policy(other.store_a)
    return world, other, mine, sibling, foreign


def _policy(pk):
    with use_scope(system_scope()):
        policy = db.session.get(Policy, pk)
        db.session.expunge(policy)
        return policy


def test_list_shows_the_store_and_the_default_headers(client, book):
    world, _, mine, sibling, foreign = book
    login(client, world.users["desk"])
    page = client.get("/policies/list/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for header in ("大区", "店代码", "保单来源", "出单终端", "新旧车", "是否单交强", "不含税保费"):
        assert f">{header}</th>" in html
    assert "店品牌</th>" not in html  # shown: false in the core document
    for pk in mine:
        assert f"/policies/show/{pk}" in html
    assert f"/policies/show/{sibling}" not in html
    assert f"/policies/show/{foreign}" not in html


def test_search_by_plate_typed_full_width_and_by_number(client, book):
    world, _, mine, _, _ = book
    target = _policy(mine[0])
    login(client, world.users["desk"])
    full_width = target.plate[0] + "".join(chr(ord(c) + 0xFEE0) for c in target.plate[1:])
    html = client.get("/policies/list/", query_string={"plate": full_width}).get_data(as_text=True)
    assert f"/policies/show/{mine[0]}" in html
    html = client.get(
        "/policies/list/", query_string={"policy_no": target.policy_no[-6:]}
    ).get_data(as_text=True)
    assert f"/policies/show/{mine[0]}" in html and f"/policies/show/{mine[1]}" not in html
    bad = client.get("/policies/list/", query_string={"start_from": "2026-13-45"})
    assert bad.status_code == 422
    assert "start_from" in bad.get_data(as_text=True)


def test_region_manager_sees_both_stores_read_only(client, book):
    world, _, mine, sibling, foreign = book
    login(client, world.users["region"])
    html = client.get("/policies/list/?page_size=100").get_data(as_text=True)
    assert f"/policies/show/{sibling}" in html and f"/policies/show/{mine[0]}" in html
    assert f"/policies/show/{foreign}" not in html
    page = client.get(f"/policies/show/{sibling}").get_data(as_text=True)
    assert 'id="dc-endorse"' not in page and 'id="dc-reveal"' not in page
    assert client.get(f"/policies/endorse/{sibling}").status_code in (302, 403)
    assert client.get(f"/policies/personal/{sibling}").status_code in (302, 403)


def test_other_stores_and_tenants_are_not_found(client, book):
    world, _, _, sibling, foreign = book
    login(client, world.users["desk"])
    for pk in (sibling, foreign):
        for path in ("show", "pdf", "endorse", "cancel"):
            assert client.get(f"/policies/{path}/{pk}").status_code == 404, (path, pk)
        response = client.post(
            f"/policies/cancel/{pk}", data={"effective_date": "2026-09-01", "reason": "越权"}
        )
        assert response.status_code == 404
    with use_scope(system_scope()):
        assert _policy(sibling).status == PolicyStatus.PENDING_CONFIRMATION


def test_page_masks_personal_data_and_reveal_is_audited(client, book):
    world, _, mine, _, _ = book
    login(client, world.users["desk"])
    html = client.get(f"/policies/show/{mine[0]}").get_data(as_text=True)
    assert "138****5678" in html and "13812345678" not in html
    assert 'id="dc-lineage"' in html and 'id="dc-reveal"' in html
    revealed = client.get(f"/policies/personal/{mine[0]}").get_data(as_text=True)
    assert "13812345678" in revealed
    with use_scope(system_scope()):
        record = db.session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "reveal_personal_data", AuditRecord.entity == "policy")
            .order_by(AuditRecord.id.desc())
        ).first()
        assert record is not None and f'"policy_id": {mine[0]}' in record.detail
        assert record.username == world.users["desk"]


def test_export_is_scoped_masked_by_role_and_audited(client, book):
    world, _, mine, sibling, _ = book
    login(client, world.users["region"])
    response = client.get("/policies/export/")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert "保单号" in header and "店品牌" not in header
    numbers = {row[header.index("保单号")] for row in rows[1:]}
    assert {_policy(pk).policy_no for pk in [*mine, sibling]} <= numbers
    insured = {row[header.index("被保险人")] for row in rows[1:]}
    assert all("*" in name for name in insured)
    premium = rows[1][header.index("含税保费")]
    assert isinstance(premium, int | float)
    with use_scope(system_scope()):
        record = db.session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "export", AuditRecord.entity == "policy")
            .order_by(AuditRecord.id.desc())
        ).first()
        assert record is not None and record.username == world.users["region"]
        assert '"unmasked": false' in record.detail


def test_endorse_form_names_bad_fields_then_endorses(client, book):
    world, _, mine, _, _ = book
    pk = mine[1]
    login(client, world.users["desk"])
    assert client.get(f"/policies/endorse/{pk}").status_code == 200
    bad = client.post(
        f"/policies/endorse/{pk}",
        data={"kind": "change_plate", "effective_date": "2026-06-01", "plate": "沪I1234"},
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'data-field="plate"' in html
    bad = client.post(
        f"/policies/endorse/{pk}",
        data={
            "kind": "change_coverage",
            "effective_date": "2026-06-01",
            "cov_code": ["own_damage", "third_party"],
            "cov_name": ["车损险", "三者险"],
            "cov_sum": ["", ""],
            "cov_premium": ["abc", "1200.00"],
        },
    )
    assert bad.status_code == 422
    assert 'data-field="coverages[0].premium_incl_tax"' in bad.get_data(as_text=True)
    good = client.post(
        f"/policies/endorse/{pk}",
        data={
            "kind": "change_coverage",
            "effective_date": "2026-09-01",
            "cov_code": ["own_damage", "third_party"],
            "cov_name": ["车损险", "三者险"],
            "cov_sum": ["150000", "2000000"],
            "cov_premium": ["3600.00", "1200.00"],
            "reason": "提高车损保额",
        },
    )
    assert good.status_code == 302
    with use_scope(system_scope()):
        endorsement = db.session.scalar(select(Endorsement).where(Endorsement.policy_id == pk))
        assert str(endorsement.premium_change_incl_tax) == "297.53"
        assert endorsement.created_by == world.users["desk"]


def test_cancel_form_names_bad_fields_then_cancels(client, book):
    world, _, mine, _, _ = book
    pk = mine[2]
    login(client, world.users["desk"])
    bad = client.post(f"/policies/cancel/{pk}", data={"effective_date": "2026-09-01", "reason": ""})
    assert bad.status_code == 422 and 'data-field="reason"' in bad.get_data(as_text=True)
    bad = client.post(
        f"/policies/cancel/{pk}", data={"effective_date": "2030-01-01", "reason": "x"}
    )
    assert bad.status_code == 422 and 'data-field="effective_date"' in bad.get_data(as_text=True)
    good = client.post(
        f"/policies/cancel/{pk}", data={"effective_date": "2026-09-01", "reason": "车辆转卖"}
    )
    assert good.status_code == 302
    assert _policy(pk).status == PolicyStatus.CANCELLED
    page = client.get(f"/policies/show/{pk}").get_data(as_text=True)
    assert "已退保" in page and "-2,082.74" in page
    again = client.get(f"/policies/cancel/{pk}")
    assert again.status_code == 200
    refused = client.post(
        f"/policies/cancel/{pk}", data={"effective_date": "2026-10-01", "reason": "再退"}
    )
    assert refused.status_code == 422


def test_pdf_download(client, book):
    world, _, mine, _, _ = book
    login(client, world.users["desk"])
    response = client.get(f"/policies/pdf/{mine[0]}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    html = client.get(f"/policies/show/{mine[0]}").get_data(as_text=True)
    assert ".pdf" in html  # the stored document is listed with its checksum
