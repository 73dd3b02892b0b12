"""One hand-over: whose records went to whom, how many of each kind, and whether the login was
stopped (a leaver's). The rows themselves are audited one by one as well."""

from __future__ import annotations

import datetime

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.models import utcnow
from app.tenancy.mixins import TenantScoped


class HandoverReason:
    LEAVING = "leaving"  # 离职
    REASSIGNMENT = "reassignment"  # 调岗 / 工作调整


REASON_LABELS = {HandoverReason.LEAVING: "离职交接", HandoverReason.REASSIGNMENT: "工作调整"}


class HandoverRecord(TenantScoped, Model):
    __tablename__ = "handover_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    leaver_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), index=True)
    leaver_name: Mapped[str] = mapped_column(String(128))
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    successor_name: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(32), default=HandoverReason.LEAVING)
    login_stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"{self.leaver_name} → {self.successor_name or '-'}"
