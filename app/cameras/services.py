"""Camera registry, signed requests, event intake, plate matching, alerts and arrivals.

The events API has no logged-in user: a request is first authenticated in the platform scope
(only to find the camera by its key id), then all its work runs in the camera's own scopes: the
store's for what it writes, the tenant's (its root node) for matching a plate, so a vehicle of
another tenant is never found, whatever its plate.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.audit.models import utcnow
from app.cameras.models import PLATE_COLOURS, Camera, CameraEvent, EventKind
from app.customers.models import Vehicle
from app.identifiers import InvalidIdentifier, check_vin, normalise_plate
from app.organisation.models import OrgNode
from app.tenancy.scope import Scope, system_scope, use_scope
from app.timebounds import OutOfRange, check_plausible

MAX_CLOCK_SKEW_SECONDS = 300
MAX_BODY_BYTES = 1_000_000  # a plate crop is a few kB; a whole 1280x720 JPEG about 150 kB
MAX_IMAGE_BYTES = 512_000
ALERT_WINDOW = datetime.timedelta(minutes=2)
ALERT_BATCH = 20
EVENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# How far a camera's own times may be from the server's clock. A signed request is at most 300 s
# off (see authenticate), and an event is seen before it is sent, so a time further ahead than
# that is a broken clock or a forged body. The agent's spool is bounded by count, not age; an
# event older than the age limit is of no use at the desk any more and is refused, which the agent
# dead-letters (kept in dead-letter.jsonl, not lost).
MAX_FUTURE = datetime.timedelta(minutes=10)
MAX_EVENT_AGE = datetime.timedelta(days=30)


class CameraAuthError(Exception):
    """The request is not from an active camera holding its token: answer 401."""


class CameraForbidden(Exception):
    """An authenticated camera asked for something that is not its own: answer 403."""


class MalformedRequest(Exception):
    """The body cannot be an event or heartbeat: answer `status` (400 or 422)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


# --- registry ---------------------------------------------------------------------------------


def new_key_id() -> str:
    return "cam_" + secrets.token_hex(8)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def issue_credentials(camera: Camera) -> str:
    """Give the camera a key id (once) and a fresh token; return the token, the only time it is
    seen in clear outside the database."""
    if not camera.key_id:
        camera.key_id = new_key_id()
    token = new_token()
    camera.secret = token
    camera.active = True
    camera.revoked_at = None
    return token


def revoke(camera: Camera) -> None:
    camera.active = False
    camera.revoked_at = utcnow()


def register_camera(
    session: Session, store: OrgNode, code: str, name: str, heartbeat_seconds: int = 30
) -> tuple[Camera, str]:
    camera = Camera(
        tenant_id=store.tenant_id,
        org_node_id=store.id,
        code=code,
        name=name,
        heartbeat_seconds=heartbeat_seconds,
    )
    token = issue_credentials(camera)
    session.add(camera)
    session.flush()
    return camera, token


# --- signed requests --------------------------------------------------------------------------


def signature_of(token: str, timestamp: str, body: bytes) -> str:
    return hmac.new(token.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AuthenticatedCamera:
    """Plain values, not the ORM row: they stay readable after the request's commits."""

    camera_id: int
    tenant_id: int
    org_node_id: int
    code: str
    store_path: str

    @property
    def store_scope(self) -> Scope:
        """Writes: the camera's own store and nothing else."""
        return Scope(
            tenant_id=self.tenant_id,
            node_id=self.org_node_id,
            node_path=self.store_path,
            username=f"camera:{self.code}",
        )

    @property
    def tenant_scope(self) -> Scope:
        """Matching: the whole tenant, from its root node, the first segment of the store's path
        ("/1/4/9/" -> "/1/")."""
        root_id = int(self.store_path.strip("/").split("/")[0])
        return Scope(
            tenant_id=self.tenant_id,
            node_id=root_id,
            node_path=f"/{root_id}/",
            username=f"camera:{self.code}",
        )


def authenticate(
    session: Session,
    key_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
) -> AuthenticatedCamera:
    """The active camera that signed `body`, or CameraAuthError. A timestamp more than 300 s
    off refuses replays of old captured requests (within the window the event id dedups them)."""
    if not key_id or not timestamp or not signature:
        raise CameraAuthError("X-Camera-Key, X-Timestamp and X-Signature are required")
    try:
        sent = int(timestamp)
    except ValueError as exc:
        raise CameraAuthError("X-Timestamp must be unix seconds") from exc
    if abs(now - sent) > MAX_CLOCK_SKEW_SECONDS:
        raise CameraAuthError("timestamp too far from the server's clock (replay or bad clock)")
    with use_scope(system_scope("camera-auth")):
        camera = session.scalar(select(Camera).where(Camera.key_id == key_id))
        if camera is None or not camera.active:
            raise CameraAuthError("unknown or revoked camera key")
        expected = signature_of(camera.secret, timestamp, body)
        if not hmac.compare_digest(expected, signature.strip().lower()):
            raise CameraAuthError("bad signature")
        return AuthenticatedCamera(
            camera.id, camera.tenant_id, camera.org_node_id, camera.code, camera.org_node.path
        )


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventInput:
    event_id: str
    kind: EventKind
    text: str
    colour: str | None
    confidence: float
    seen_at: datetime.datetime
    camera_code: str
    image_jpeg: bytes | None


def parse_json_object(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest("body is not JSON", 400) from exc
    if not isinstance(data, dict):
        raise MalformedRequest("body must be a JSON object", 400)
    return data


def parse_time(value, field: str) -> datetime.datetime:
    """ISO-8601 to a naive UTC datetime (how the database keeps times), or a 422 naming
    `field`: not text, not a time, or outside the years app.timebounds allows (where converting
    to another zone could overflow)."""
    if not isinstance(value, str) or len(value) > 40:
        raise MalformedRequest(f"{field} must be an ISO-8601 string")
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        check_plausible(moment, field)
        if moment.tzinfo is not None:
            moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    except OutOfRange as exc:
        raise MalformedRequest(f"{field} {exc.message}") from exc
    except ValueError as exc:
        raise MalformedRequest(f"{field} is not an ISO-8601 time") from exc
    return moment


def parse_utc(value, field: str, now: datetime.datetime) -> datetime.datetime:
    """A time the camera saw something: parse_time, and refused with a 422 naming `field`
    unless it lies between MAX_EVENT_AGE ago and MAX_FUTURE ahead of `now` (naive UTC)."""
    moment = parse_time(value, field)
    if moment > now + MAX_FUTURE:
        minutes = int(MAX_FUTURE.total_seconds() // 60)
        raise MalformedRequest(f"{field} is more than {minutes} minutes in the future")
    if moment < now - MAX_EVENT_AGE:
        raise MalformedRequest(f"{field} is more than {MAX_EVENT_AGE.days} days in the past")
    return moment


def _required_text(data: dict, name: str, limit: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise MalformedRequest(f"{name} is required")
    if len(value) > limit:
        raise MalformedRequest(f"{name} is longer than {limit} characters")
    return value.strip()


def _image(value) -> bytes | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MalformedRequest("image_jpeg_b64 must be base64 text or null")
    try:
        image = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedRequest("image_jpeg_b64 is not base64") from exc
    if len(image) > MAX_IMAGE_BYTES:
        raise MalformedRequest(f"image is larger than {MAX_IMAGE_BYTES} bytes", 413)
    if not image.startswith(b"\xff\xd8"):
        raise MalformedRequest("image is not a JPEG")
    return image


def parse_event(data: dict, now: datetime.datetime) -> EventInput:
    """The event of a request body; `now` is the server's clock (naive UTC)."""
    event_id = _required_text(data, "event_id", 64)
    if not EVENT_ID_PATTERN.match(event_id):
        raise MalformedRequest("event_id may hold letters, digits and - _ . : only")
    kind = data.get("kind")
    if kind not in (EventKind.PLATE.value, EventKind.CODE.value):
        raise MalformedRequest("kind must be 'plate' or 'code'")
    text = _required_text(data, "text", 512)
    if kind == EventKind.PLATE:
        text = normalise_plate(text)
        if len(text) > 16:
            raise MalformedRequest("a plate is at most 16 characters")
    colour = data.get("colour")
    if colour is not None and colour not in PLATE_COLOURS:
        raise MalformedRequest(f"colour must be one of {', '.join(PLATE_COLOURS)} or null")
    confidence = data.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise MalformedRequest("confidence must be a number")
    if not 0.0 <= confidence <= 1.0:
        raise MalformedRequest("confidence must be between 0 and 1")
    return EventInput(
        event_id=event_id,
        kind=EventKind(kind),
        text=text,
        colour=colour,
        confidence=float(confidence),
        seen_at=parse_utc(data.get("seen_at"), "seen_at", now),
        camera_code=_required_text(data, "camera_code", 32),
        image_jpeg=_image(data.get("image_jpeg_b64")),
    )


def check_own_code(auth: AuthenticatedCamera, camera_code: str) -> None:
    if camera_code != auth.code:
        raise CameraForbidden(
            f"camera_code {camera_code!r} is not this key's camera ({auth.code!r})"
        )


def match_vehicle(session: Session, auth: AuthenticatedCamera, event: EventInput) -> Vehicle | None:
    """The tenant's vehicle with this plate (or, for a code, this VIN). Run in the tenant's scope,
    so another tenant's vehicle with the same plate is simply not there."""
    with use_scope(auth.tenant_scope):
        if event.kind == EventKind.PLATE:
            return session.scalar(select(Vehicle).where(Vehicle.plate == event.text))
        try:
            vin = check_vin(event.text)
        except InvalidIdentifier:
            return None
        return session.scalar(select(Vehicle).where(Vehicle.vin == vin))


def store_event(
    session: Session, auth: AuthenticatedCamera, event: EventInput
) -> tuple[int | None, bool]:
    """Store the event once: (its row id, True) when new, (None, False) on a retry.

    An event id is the agent's, so it is unique per camera, not per tenant: another camera (of
    a sibling store, say) reusing the id names a different event and never suppresses this one."""
    with use_scope(auth.store_scope):
        existing = session.scalar(
            select(CameraEvent.id).where(
                CameraEvent.camera_id == auth.camera_id, CameraEvent.event_id == event.event_id
            )
        )
    if existing is not None:
        return None, False
    vehicle = match_vehicle(session, auth, event)
    row = CameraEvent(
        tenant_id=auth.tenant_id,
        org_node_id=auth.org_node_id,
        camera_id=auth.camera_id,
        event_id=event.event_id,
        kind=event.kind,
        text=event.text,
        colour=event.colour,
        confidence=event.confidence,
        seen_at=event.seen_at,
        received_at=utcnow(),
        vehicle_id=vehicle.id if vehicle else None,
        customer_id=vehicle.customer_id if vehicle else None,
        walk_in=event.kind == EventKind.PLATE and vehicle is None,
        image_jpeg=event.image_jpeg,
    )
    with use_scope(auth.store_scope):
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            # The same event id arrived twice at once (a retry racing its original): one wins.
            session.rollback()
            return None, False
        return row.id, True


@dataclass(frozen=True)
class HeartbeatInput:
    camera_code: str
    agent_version: str
    spool_depth: int


def parse_heartbeat(data: dict) -> HeartbeatInput:
    """The heartbeat of a request body. Its `sent_at` is telemetry (the server stores its own
    clock's time of arrival), so it is only checked to be a sane time."""
    depth = data.get("spool_depth", 0)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise MalformedRequest("spool_depth must be a whole number >= 0")
    version = data.get("agent_version") or ""
    if not isinstance(version, str) or len(version) > 32:
        raise MalformedRequest("agent_version must be text of at most 32 characters")
    if data.get("sent_at") is not None:
        parse_time(data["sent_at"], "sent_at")
    return HeartbeatInput(_required_text(data, "camera_code", 32), version, depth)


def record_heartbeat(session: Session, auth: AuthenticatedCamera, beat: HeartbeatInput) -> None:
    """Telemetry, not a business change: a plain UPDATE (still under the store's scope) rather
    than a flushed object, so a heartbeat every 30 s does not fill the audit trail."""
    with use_scope(auth.store_scope):
        session.execute(
            update(Camera)
            .where(Camera.id == auth.camera_id)
            .values(
                last_heartbeat_at=utcnow(),
                agent_version=beat.agent_version or None,
                spool_depth=beat.spool_depth,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()


# --- alerts and arrivals (in the current user's scope) -----------------------------------------


def latest_event_id(session: Session) -> int:
    """Where a newly opened screen starts listening: it does not replay older alerts."""
    newest = session.scalar(select(CameraEvent.id).order_by(CameraEvent.id.desc()).limit(1))
    return newest or 0


def alerts_after(session: Session, after_id: int, now: datetime.datetime) -> list[CameraEvent]:
    """Arrivals of known vehicles the screen has not shown yet, in order; none older than the
    alert window, so a screen that was away does not pop a backlog."""
    return list(
        session.scalars(
            select(CameraEvent)
            .where(
                CameraEvent.id > after_id,
                CameraEvent.vehicle_id.is_not(None),
                CameraEvent.received_at >= now - ALERT_WINDOW,
            )
            .options(*_display_loads())
            .order_by(CameraEvent.id)
            .limit(ALERT_BATCH)
        )
    )


def local_day_bounds(
    day: datetime.date, timezone: str
) -> tuple[datetime.datetime, datetime.datetime]:
    """A local calendar day as naive UTC bounds [start, end)."""
    zone = ZoneInfo(timezone)
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
    end = start + datetime.timedelta(days=1)
    return (
        start.astimezone(datetime.UTC).replace(tzinfo=None),
        end.astimezone(datetime.UTC).replace(tzinfo=None),
    )


def local_today(timezone: str) -> datetime.date:
    return datetime.datetime.now(ZoneInfo(timezone)).date()


def arrivals_between(
    session: Session, start: datetime.datetime, end: datetime.datetime
) -> list[CameraEvent]:
    """Plate reads (matched or walk-in) and matched codes seen in [start, end), newest first."""
    return list(
        session.scalars(
            select(CameraEvent)
            .where(
                CameraEvent.seen_at >= start,
                CameraEvent.seen_at < end,
                (CameraEvent.kind == EventKind.PLATE) | CameraEvent.vehicle_id.is_not(None),
            )
            .options(*_display_loads())
            .order_by(CameraEvent.seen_at.desc(), CameraEvent.id.desc())
        )
    )


def _display_loads():
    # Relationship loads go through the guard too: a vehicle of a sibling store the user may not
    # see loads as None, and the screens say "another store's customer" instead of a name.
    return (
        selectinload(CameraEvent.vehicle),
        selectinload(CameraEvent.customer),
        selectinload(CameraEvent.org_node),
        selectinload(CameraEvent.camera),
    )


def cameras_in_scope(session: Session) -> list[Camera]:
    return list(session.scalars(select(Camera).order_by(Camera.org_node_id, Camera.code)))
