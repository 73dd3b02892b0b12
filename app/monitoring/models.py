"""What the probes last saw (MonitorStatus, one row per target) and the incidents they opened.

Both are platform rows when the target is the platform's (database, job queue, payment gateway,
a plugin) and one tenant's when the target serves one tenant (its carriers, its camera agents):
SharedScoped, so a tenant reads its own rows and the platform's, and only the platform writes
the platform's. The probe job writes them in the system scope."""

from __future__ import annotations

import datetime

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.models import utcnow
from app.tenancy.mixins import SharedScoped


class ProbeState:
    OK = "ok"
    DOWN = "down"
    UNKNOWN = "unknown"  # not checked (never run, nothing to check)


STATE_LABELS = {ProbeState.OK: "正常", ProbeState.DOWN: "故障", ProbeState.UNKNOWN: "未知"}


class MonitorStatus(SharedScoped, Model):
    """The latest reading of one target. Not audited: it changes on every probe run."""

    __tablename__ = "monitor_status"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)  # tenant:kind:name
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(16), default=ProbeState.UNKNOWN)
    detail: Mapped[str] = mapped_column(Text, default="")
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    provinces: Mapped[list] = mapped_column(JSON, default=list)
    reportable: Mapped[bool] = mapped_column(Boolean, default=True)
    checked_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    since: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)  # state changed

    def __repr__(self) -> str:
        return f"{self.kind}:{self.name}={self.state}"


class Incident(SharedScoped, Model):
    """A target found down: opened on the first failed probe, closed on the first good one.
    Its duration is judged against the regulator's reporting thresholds (see services)."""

    __tablename__ = "monitor_incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), index=True)  # tenant:kind:name
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(255), default="")
    provinces: Mapped[list] = mapped_column(JSON, default=list)
    reportable: Mapped[bool] = mapped_column(Boolean, default=True)
    opened_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    closed_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, index=True)
    detail: Mapped[str] = mapped_column(Text, default="")  # the failure that opened it
    closing_detail: Mapped[str] = mapped_column(Text, default="")
    threshold_minutes: Mapped[int | None] = mapped_column(Integer)
    # When the outage reached the regulator's threshold.
    breached_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)

    def __repr__(self) -> str:
        return f"incident {self.id} {self.kind}:{self.name}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def duration(self, now: datetime.datetime | None = None) -> datetime.timedelta:
        return (self.closed_at or now or utcnow()) - self.opened_at
