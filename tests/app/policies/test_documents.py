"""The 电子保单 PDF: generated, stored with its SHA-256, and readable (policy number inside)."""

from __future__ import annotations

import datetime
import hashlib
import io
from decimal import Decimal

from pypdf import PdfReader

from app.extensions import db
from app.policies.documents import read_document, store_policy_pdf
from app.policies.models import Policy
from app.policies.services import EndorsementChange, endorse
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import build_world
from tests.app.policies.factory import commercial_coverages, make_policy


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_policy_pdf_is_stored_with_its_checksum(app):
    world = build_world(app)
    policy_id = make_policy(world.store_a, vehicle_tax=Decimal("360.00"))
    with use_scope(system_scope("tests")):
        policy = db.session.get(Policy, policy_id)
        endorse(
            db.session,
            policy,
            EndorsementChange(
                kind="change_coverage",
                effective_date=datetime.date(2026, 9, 1),
                coverages=commercial_coverages(own_damage="3600.00"),
                reason="提高车损保额",
            ),
        )
        document = store_policy_pdf(db.session, policy)
        db.session.commit()
        data = read_document(document)
        assert data.startswith(b"%PDF")
        assert hashlib.sha256(data).hexdigest() == document.sha256
        assert document.size == len(data)
        text = pdf_text(data)
        assert policy.policy_no in text
        assert "电子保单" in text
        assert "4,200.00" in text  # 保费合计
        assert f"{policy.policy_no}P001" in text  # the endorsement is listed
        second = store_policy_pdf(db.session, policy)
        assert second.filename.endswith("-v2.pdf")
        db.session.rollback()
