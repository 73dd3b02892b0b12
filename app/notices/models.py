"""An in-app notice to one user. `dedupe_key` makes raising the same reminder twice harmless
(the daily job runs every day; a person hears once per licence expiry)."""

from __future__ import annotations

import datetime

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.models import utcnow
from app.tenancy.mixins import TenantScoped


class Notice(TenantScoped, Model):
    __tablename__ = "notice"
    __table_args__ = (UniqueConstraint("user_id", "dedupe_key", name="uq_notice_user_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))  # the template key that raised it
    dedupe_key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(255))
    due_date: Mapped[datetime.date | None] = mapped_column(Date)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)

    def __repr__(self) -> str:
        return self.title
