from __future__ import annotations

import datetime

from flask_appbuilder import Model
from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.models import utcnow
from app.tenancy.mixins import TenantScoped


class JobStatus:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobRecord(TenantScoped, Model):
    """One run of a task: who asked, with what, and how it ended."""

    __tablename__ = "job_record"
    __scope_optional__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(128), index=True)
    arguments: Mapped[str] = mapped_column(Text, default="{}", comment="JSON")
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED, index=True)
    backend: Mapped[str] = mapped_column(String(16), default="inline")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requested_by_id: Mapped[int | None] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(128), default="")
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)

    def __repr__(self) -> str:
        return f"{self.task} #{self.id}"
