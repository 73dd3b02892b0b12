"""The audit record. Append-only: the ORM refuses to change or delete one, and the database
refuses too (triggers created by the migration)."""

from __future__ import annotations

import datetime

from flask_appbuilder import Model
from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.tenancy.mixins import TenantScoped


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class AuditAction:
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCKED_OUT = "locked_out"
    LOGOUT = "logout"
    PERMISSION_CHANGE = "permission_change"
    EXPORT = "export"
    UNLOCK = "unlock"

    ALL = (
        INSERT,
        UPDATE,
        DELETE,
        LOGIN,
        LOGIN_FAILED,
        LOCKED_OUT,
        LOGOUT,
        PERMISSION_CHANGE,
        EXPORT,
        UNLOCK,
    )


class AuditRecord(TenantScoped, Model):
    __tablename__ = "audit_record"
    __scope_optional__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    entity: Mapped[str | None] = mapped_column(String(64), index=True)
    record_id: Mapped[str | None] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    username: Mapped[str] = mapped_column(String(128), default="")
    ip: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(Text, comment="JSON of the values before")
    after: Mapped[str | None] = mapped_column(Text, comment="JSON of the values after")
    detail: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"{self.action} {self.entity or ''} {self.record_id or ''}".strip()
