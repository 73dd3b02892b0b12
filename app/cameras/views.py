"""Console screens of cameras: the registry (token shown once, revoke, rotate), monitoring,
arrivals today, the event log, walk-in leads, and the alert poll behind the 进店提醒 pop-up."""

from __future__ import annotations

import re

from flask import Response, abort, current_app, flash, g, jsonify, make_response, redirect, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, has_access_api, permission_name
from flask_babel import format_datetime, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from app.audit.models import utcnow
from app.cameras import services
from app.cameras.api import CameraIngestApi
from app.cameras.models import (
    CAMERA_STATUS_LABELS,
    EVENT_KIND_LABELS,
    PLATE_COLOUR_LABELS,
    Camera,
    CameraEvent,
    CameraStatus,
)
from app.extensions import db
from app.organisation.models import NodeKind
from app.web.base import DealerModelView, labelled

CAMERA_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
STATUS_STYLE = {
    CameraStatus.ONLINE: "success",
    CameraStatus.OFFLINE: "danger",
    CameraStatus.REVOKED: "default",
}

CAMERA_LABELS = {
    "name": _l("Name"),
    "code": _l("Camera code"),
    "org_node": _l("Store"),
    "key_id": _l("Key id"),
    "active": _l("Active"),
    "status": _l("Status"),
    "revoked_at": _l("Revoked (UTC)"),
    "heartbeat_seconds": _l("Heartbeat interval (s)"),
    "last_heartbeat_at": _l("Last heartbeat"),
    "agent_version": _l("Agent version"),
    "spool_depth": _l("Events waiting"),
    "created_at": _l("Created (UTC)"),
}
EVENT_LABELS = {
    "seen_at": _l("Seen"),
    "received_at": _l("Received (UTC)"),
    "kind": _l("Kind"),
    "text": _l("Plate or code"),
    "colour": _l("Plate colour"),
    "confidence": _l("Confidence"),
    "camera": _l("Camera"),
    "vehicle": _l("Vehicle"),
    "customer": _l("Customer"),
    "walk_in": _l("Walk-in"),
    "org_node": _l("Store"),
    "event_id": _l("Event id"),
}


MAX_ROW_ID = 2**63 - 1  # past a BIGINT, a database refuses the number instead of finding nothing


def _in_local_zone(value, formatter, pattern: str) -> str:
    """A stored UTC time in the user's time zone (Asia/Shanghai by default). A time so close to
    the end of the calendar that the zone's offset overflows it (one stored before ingest was
    bounded) is shown in UTC, marked as such, instead of failing the whole page."""
    if not value:
        return ""
    try:
        return formatter(value, pattern)
    except (OverflowError, ValueError):
        in_utc = value.isoformat(sep=" ", timespec="seconds")
        return (in_utc if "yyyy" in pattern else in_utc.split(" ")[1]) + " UTC"


def local_time(value) -> str:
    """Date and time, to the second, in the user's zone."""
    return _in_local_zone(value, format_datetime, "yyyy-MM-dd HH:mm:ss")


def local_clock(value) -> str:
    """The time of day in the user's zone (arrivals of today, alerts)."""
    return _in_local_zone(value, format_time, "HH:mm:ss")


def blank_if_none(value) -> str:
    return "" if value is None else str(value)


def status_badge(status: CameraStatus) -> Markup:
    return Markup('<span class="label label-{} dc-camera-{}">{}</span>').format(
        STATUS_STYLE[status], status.value, str(CAMERA_STATUS_LABELS[status])
    )


def token_page(view, camera: Camera, token: str) -> Response:
    """The only page that ever shows a token. Not cached, not flashed (a flash would travel in
    the session cookie)."""
    html = view.render_template(
        "cameras/token.html", camera=camera, token=token, app_url=request.host_url.rstrip("/")
    )
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


class CameraView(DealerModelView):
    datamodel = SQLAInterface(Camera)
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_export"]
    list_title = _l("Cameras")
    show_title = add_title = edit_title = _l("Camera")
    label_columns = CAMERA_LABELS
    list_columns = [
        "name",
        "code",
        "org_node",
        "key_id",
        "status",
        "last_heartbeat_at",
        "agent_version",
        "spool_depth",
    ]
    show_columns = [
        "name",
        "code",
        "org_node",
        "key_id",
        "status",
        "revoked_at",
        "heartbeat_seconds",
        "last_heartbeat_at",
        "agent_version",
        "spool_depth",
        "created_at",
    ]
    add_columns = ["org_node", "name", "code", "heartbeat_seconds"]
    edit_columns = ["name", "code", "heartbeat_seconds"]
    search_columns = ["name", "code", "org_node", "key_id", "active"]
    order_columns = ["name", "code", "last_heartbeat_at"]
    formatters_columns = {
        "status": status_badge,
        "last_heartbeat_at": local_time,
        "agent_version": blank_if_none,
        "spool_depth": blank_if_none,
    }
    add_form_query_rel_fields = {"org_node": [["kind", FilterEqual, NodeKind.STORE.value]]}
    description_columns = {
        "code": _l("The camera.code of the agent's config, e.g. GATE-1"),
        "heartbeat_seconds": _l("Shown offline when silent for twice this long"),
    }

    def pre_add(self, item: Camera) -> None:
        self._check(item)
        if item.org_node is None or item.org_node.kind != NodeKind.STORE:
            raise ValueError(_("Store: a camera belongs to a store"))
        g.dc_new_camera_token = services.issue_credentials(item)

    def pre_update(self, item: Camera) -> None:
        self._check(item)

    @staticmethod
    def _check(item: Camera) -> None:
        if not CAMERA_CODE.match(item.code or ""):
            raise ValueError(_("Camera code: letters, digits, - and _ only, at most 32"))
        if not 5 <= (item.heartbeat_seconds or 0) <= 3600:
            raise ValueError(_("Heartbeat interval: between 5 and 3600 seconds"))

    def post_add(self, item: Camera) -> None:
        g.dc_new_camera = item

    def post_add_redirect(self):
        token = g.pop("dc_new_camera_token", None)
        camera = g.pop("dc_new_camera", None)
        if token and camera is not None:
            return token_page(self, camera, token)
        return super().post_add_redirect()

    @action(
        "revoke",
        _l("Revoke"),
        _l("Revoke the selected cameras? Their events will be refused until a new token."),
        "fa-ban",
    )
    def revoke(self, items):
        items = [c for c in (items if isinstance(items, list) else [items]) if c is not None]
        for camera in items:
            services.revoke(camera)
        db.session.commit()
        flash(_("%(n)d camera(s) revoked", n=len(items)), "warning")
        return redirect(self.get_redirect())

    @action(
        "rotate_token",
        _l("New token"),
        _l("Issue a new token? The old one stops working at once."),
        "fa-key",
        multiple=False,
    )
    def rotate_token(self, item):
        camera = item[0] if isinstance(item, list) and item else item
        if camera is None:  # another tenant's or store's camera: not found, not forbidden
            abort(404)
        token = services.issue_credentials(camera)
        db.session.commit()
        return token_page(self, camera, token)


class CameraMonitorView(DealerModelView):
    """Monitoring (状态监控): every agent, its last heartbeat and whether it is online."""

    datamodel = SQLAInterface(Camera)
    base_permissions = ["can_list", "can_show", "can_export"]
    list_title = show_title = _l("Camera agents")
    label_columns = CAMERA_LABELS
    list_columns = [
        "status",
        "name",
        "code",
        "org_node",
        "last_heartbeat_at",
        "heartbeat_seconds",
        "agent_version",
        "spool_depth",
    ]
    show_columns = list_columns
    search_columns = ["name", "code", "org_node", "active"]
    formatters_columns = {
        "status": status_badge,
        "last_heartbeat_at": local_time,
        "agent_version": blank_if_none,
        "spool_depth": blank_if_none,
    }
    base_order = ("org_node_id", "asc")


def _event_columns():
    return ["seen_at", "text", "kind", "colour", "confidence", "customer", "vehicle", "camera"]


class CameraEventView(DealerModelView):
    """Every read of every camera in the user's scope (arrivals, walk-ins, codes). Tenant admins
    and store managers may delete a bad read (a wrong time, a false plate); the deletion is in
    the audit trail with the row's values, as every ORM delete is."""

    datamodel = SQLAInterface(CameraEvent)
    base_permissions = ["can_list", "can_show", "can_export", "can_delete"]
    list_title = show_title = _l("Camera events")
    label_columns = EVENT_LABELS
    list_columns = [*_event_columns(), "walk_in", "org_node"]
    show_columns = [*list_columns, "received_at", "event_id"]
    search_columns = ["seen_at", "text", "kind", "walk_in", "camera", "org_node"]
    base_order = ("id", "desc")
    formatters_columns = {
        "seen_at": local_time,
        "received_at": local_time,
        "kind": labelled(EVENT_KIND_LABELS),
        "colour": labelled(PLATE_COLOUR_LABELS),
        "customer": blank_if_none,
        "vehicle": blank_if_none,
        "walk_in": labelled({True: _l("Walk-in"), False: ""}),
    }
    page_size = 50


class WalkInLeadView(DealerModelView):
    """Unknown plates at the gate: people who came in and are not yet our customers. Deleting a
    lead deletes its camera event (same rights and audit as the event log)."""

    datamodel = SQLAInterface(CameraEvent)
    base_permissions = ["can_list", "can_show", "can_export", "can_delete"]
    base_filters = [["walk_in", FilterEqual, True]]
    list_title = show_title = _l("Walk-in leads")
    label_columns = EVENT_LABELS
    list_columns = ["seen_at", "text", "colour", "confidence", "camera", "org_node"]
    show_columns = [*list_columns, "received_at", "event_id"]
    search_columns = ["seen_at", "text", "camera", "org_node"]
    base_order = ("id", "desc")
    formatters_columns = {
        "seen_at": local_time,
        "received_at": local_time,
        "colour": labelled(PLATE_COLOUR_LABELS),
    }
    page_size = 50


def customer_label(event: CameraEvent) -> str:
    """The customer's name when the user may see it; a customer of a store outside the user's
    scope is named as such, not leaked."""
    if event.customer is not None:
        return event.customer.name
    if event.vehicle_id is not None:
        return _("Customer of another store")
    return _("Unknown plate")


class ArrivalsView(BaseView):
    """今日进店: today's arrivals (local calendar day) in the user's scope."""

    route_base = "/cameras"
    default_view = "arrivals"

    @expose("/arrivals/")
    @has_access
    @permission_name("list")
    def arrivals(self):
        timezone = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
        day = services.local_today(timezone)
        start, end = services.local_day_bounds(day, timezone)
        events = services.arrivals_between(db.session, start, end)
        return self.render_template(
            "cameras/arrivals.html",
            day=day,
            events=events,
            matched=sum(1 for e in events if e.vehicle_id is not None),
            walk_ins=sum(1 for e in events if e.walk_in),
            customer_label=customer_label,
            colour_labels=PLATE_COLOUR_LABELS,
            local_clock=local_clock,
        )

    @expose("/arrivals/image/<int:pk>")
    @has_access
    @permission_name("list")
    def image(self, pk: int):
        if pk > MAX_ROW_ID:
            return make_response("", 404)
        image = db.session.scalar(select(CameraEvent.image_jpeg).where(CameraEvent.id == pk))
        if image is None:
            return make_response("", 404)
        response = make_response(image)
        response.headers["Content-Type"] = "image/jpeg"
        response.headers["Cache-Control"] = "private, max-age=3600"
        return response


class _NoSessionRefresh(Response):
    """A poll every second must not keep the session alive: the idle timeout is a security
    setting, and a screen left open would otherwise never log out. Flask re-issues the session
    cookie on every response; this response quietly declines that one cookie."""

    def set_cookie(self, key: str, *args, **kwargs) -> None:
        if key == current_app.config.get("SESSION_COOKIE_NAME", "session"):
            return
        super().set_cookie(key, *args, **kwargs)


def alert_json(event: CameraEvent) -> dict:
    return {
        "id": event.id,
        "plate": event.text,
        "customer": customer_label(event),
        "vehicle": (event.vehicle.model_name or "") if event.vehicle else "",
        "store": event.org_node.name if event.org_node else "",
        "time": local_clock(event.seen_at),
    }


class ArrivalAlertView(BaseView):
    """The poll behind the 进店提醒 pop-up of the base layout: arrivals of known vehicles at the
    stores of the user's scope, after the last one the screen has shown."""

    route_base = "/cameras/alerts"

    @expose("/poll")
    @has_access_api
    @permission_name("get")
    def poll(self):
        after = request.args.get("after", type=int)
        if after is not None and not 0 <= after <= MAX_ROW_ID:
            return jsonify({"message": "after must be an event id (0 to 2^63-1)"}), 400
        if after is None:
            body = {"last_id": services.latest_event_id(db.session), "alerts": []}
        else:
            alerts = services.alerts_after(db.session, after, utcnow())
            body = {
                "last_id": alerts[-1].id if alerts else after,
                "alerts": [alert_json(e) for e in alerts],
            }
        response = jsonify(body)
        response.__class__ = _NoSessionRefresh
        response.headers["Cache-Control"] = "no-store"
        return response


def register(appbuilder) -> None:
    category = "Services"
    appbuilder.add_view(
        ArrivalsView,
        "Arrivals today",
        label=_l("Arrivals today"),
        icon="fa-car",
        category=category,
    )
    appbuilder.add_view(
        WalkInLeadView,
        "Walk-in leads",
        label=_l("Walk-in leads"),
        icon="fa-user-plus",
        category=category,
    )
    appbuilder.add_view(
        CameraEventView,
        "Camera events",
        label=_l("Camera events"),
        icon="fa-list",
        category=category,
    )
    appbuilder.add_view(
        CameraView, "Cameras", label=_l("Cameras"), icon="fa-video-camera", category="System"
    )
    appbuilder.add_view(
        CameraMonitorView,
        "Camera agents",
        label=_l("Camera agents"),
        icon="fa-video-camera",
        category="System",
    )
    appbuilder.add_view_no_menu(ArrivalAlertView)
    appbuilder.add_api(CameraIngestApi)
