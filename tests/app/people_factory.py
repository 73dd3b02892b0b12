"""Rows of the hand-over and the notices in each store of a test world, written directly: the
scoping tests need every scoped model on both sides of the wall."""

from __future__ import annotations

import datetime

from sqlalchemy import select

from app.extensions import db
from app.handover.models import HandoverRecord
from app.notices.models import Notice
from app.security.models import DealerUser
from app.tenancy.scope import system_scope, use_scope


def add_people_rows(world) -> None:
    with use_scope(system_scope("tests")):
        user = db.session.scalars(
            select(DealerUser).where(DealerUser.tenant_id == world.tenant_id)
        ).first()
        for store in (world.store_a, world.store_b):
            scope = {"tenant_id": world.tenant_id, "org_node_id": store}
            db.session.add(
                HandoverRecord(
                    **scope,
                    leaver_id=user.id,
                    leaver_name=user.username,
                    reason="reassignment",
                    counts={"customer.owner": 0},
                )
            )
            db.session.add(
                Notice(
                    **scope,
                    user_id=user.id,
                    kind="tests",
                    dedupe_key=f"tests:{store}",
                    title="测试提醒",
                    body="测试",
                    due_date=datetime.date.today(),
                )
            )
        db.session.commit()
