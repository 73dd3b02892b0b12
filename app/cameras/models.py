"""Cameras and the events they send. Both belong to a store (their org node) of one tenant."""

from __future__ import annotations

import datetime
import enum

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit.models import utcnow
from app.columns import enum_type
from app.customers.models import Customer, Vehicle
from app.organisation.models import OrgNode
from app.tenancy.mixins import TenantScoped

DEFAULT_HEARTBEAT_SECONDS = 30


class CameraStatus(enum.StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    REVOKED = "revoked"


CAMERA_STATUS_LABELS = {
    CameraStatus.ONLINE: _l("Online"),
    CameraStatus.OFFLINE: _l("Offline"),
    CameraStatus.REVOKED: _l("Revoked"),
}


class EventKind(enum.StrEnum):
    PLATE = "plate"
    CODE = "code"


EVENT_KIND_LABELS = {EventKind.PLATE: _l("Plate"), EventKind.CODE: _l("Code")}

PLATE_COLOURS = ("blue", "yellow", "green", "white", "black")
PLATE_COLOUR_LABELS = {
    "blue": _l("Blue"),
    "yellow": _l("Yellow"),
    "green": _l("Green"),
    "white": _l("White"),
    "black": _l("Black"),
}


class Camera(TenantScoped, Model):
    """A camera agent at a store's gate. `key_id` names it in the signed requests; `secret` is its
    token, kept as is because the HMAC check needs it (a hash would not do). The column is named
    `secret` so the audit trail masks it, and no screen or API ever shows it after creation."""

    __tablename__ = "camera"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32), comment="camera_code in the agent's config")
    key_id: Mapped[str] = mapped_column(String(40), unique=True)
    secret: Mapped[str] = mapped_column(String(128), comment="the token; never shown again")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    heartbeat_seconds: Mapped[int] = mapped_column(Integer, default=DEFAULT_HEARTBEAT_SECONDS)
    last_heartbeat_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    agent_version: Mapped[str | None] = mapped_column(String(32))
    spool_depth: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)

    org_node: Mapped[OrgNode] = relationship()

    def __repr__(self) -> str:
        return f"{self.name} ({self.code})"

    def status(self, now: datetime.datetime | None = None) -> CameraStatus:
        """Offline once silent for longer than twice its heartbeat interval: one late heartbeat
        is tolerated, two missed ones are not."""
        if not self.active:
            return CameraStatus.REVOKED
        if self.last_heartbeat_at is None:
            return CameraStatus.OFFLINE
        silence = (now or utcnow()) - self.last_heartbeat_at
        limit = datetime.timedelta(seconds=2 * max(self.heartbeat_seconds or 0, 1))
        return CameraStatus.ONLINE if silence <= limit else CameraStatus.OFFLINE


class CameraEvent(TenantScoped, Model):
    """One plate or code read at a store's gate. A plate matched to a vehicle of the tenant is an
    arrival and raises the 进店提醒 alert; an unknown plate is kept as a walk-in lead."""

    __tablename__ = "camera_event"
    # The event id is the agent's: unique per camera (one agent's retries), not per tenant, so a
    # camera of another store cannot suppress this camera's events by reusing their ids.
    __table_args__ = (
        UniqueConstraint("camera_id", "event_id", name="uq_camera_event_camera_id_event_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), comment="the agent's id, stable on retries")
    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id"), index=True)
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind, 16))
    text: Mapped[str] = mapped_column(String(512), comment="plate (normalised) or code text")
    colour: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    seen_at: Mapped[datetime.datetime] = mapped_column(DateTime, index=True, comment="UTC")
    received_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, comment="UTC")
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # Deferred: lists never load the picture, only the image route does.
    image_jpeg: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    camera: Mapped[Camera] = relationship()
    vehicle: Mapped[Vehicle | None] = relationship()
    customer: Mapped[Customer | None] = relationship()
    org_node: Mapped[OrgNode] = relationship()

    def __repr__(self) -> str:
        return f"{self.kind.value} {self.text}"

    @property
    def is_arrival(self) -> bool:
        return self.vehicle_id is not None
