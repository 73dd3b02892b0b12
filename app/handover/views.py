"""The hand-over screen (员工 → 离职交接): choose the leaver, see what they hold, name the
successor, and hand over — stopping the login when they leave. Below, the hand-overs done.

Screens only call services; the request's session is committed here."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import select

from app.errors import DomainError, as_domain_error
from app.extensions import db
from app.handover import services
from app.handover.models import REASON_LABELS, HandoverReason, HandoverRecord
from app.handover.registry import assignments
from app.security.models import DealerUser
from app.web.formatting import local_time

RECENT = 50


class HandoverView(BaseView):
    route_base = "/handover"
    default_view = "index"
    method_permission_name = {"index": "list", "submit": "add"}

    @expose("/", methods=["GET"])
    @has_access
    def index(self):
        return self._page(request.args, {})

    @expose("/", methods=["POST"])
    @has_access
    def submit(self):
        values = request.form
        leaving = values.get("leaving") == "1"
        try:
            record = services.hand_over(
                db.session,
                values.get("leaver_id"),
                values.get("successor_id") or None,
                reason=HandoverReason.LEAVING if leaving else HandoverReason.REASSIGNMENT,
                stop_login=leaving,
                note=values.get("note") or None,
            )
            db.session.commit()
        except Exception as exc:  # noqa: BLE001 - domain errors become form messages
            return self._page(values, _form_errors(exc))
        moved = sum(record.counts.values())
        flash(f"已交接 {record.leaver_name} 的 {moved} 条业务", "success")
        return redirect(url_for("HandoverView.index"))

    def _page(self, values, errors: dict[str, str]):
        users = db.session.scalars(
            select(DealerUser)
            .where(DealerUser.tenant_id.is_not(None))
            .order_by(DealerUser.active.desc(), DealerUser.username)
        ).all()
        held = None
        leaver_id = values.get("leaver_id")
        if leaver_id and not errors.get("leaver_id"):
            try:
                leaver = services.user_in_scope(db.session, leaver_id, "leaver_id")
                held = services.holdings(db.session, leaver, everywhere=False)
            except Exception as exc:  # noqa: BLE001
                errors.update(_form_errors(exc))
        records = db.session.scalars(
            select(HandoverRecord).order_by(HandoverRecord.id.desc()).limit(RECENT)
        ).all()
        return self.render_template(
            "handover/index.html",
            users=users,
            held=held,
            labels={a.key: a.label[1] for a in assignments()},
            records=records,
            reasons=REASON_LABELS,
            values=values,
            errors=errors,
            display_name=services.display_name,
            local_time=local_time,
        )


def _form_errors(exc: Exception) -> dict[str, str]:
    error = as_domain_error(exc)
    if error is None:
        raise exc
    db.session.rollback()
    named = error.field_messages("zh") if isinstance(error, DomainError) else {}
    return named or {"_": error.message("zh")}


def register(appbuilder) -> None:
    from app.handover import permissions  # noqa: F401 - merges the hand-over's permissions
    from app.handover.api import HandoverApi

    appbuilder.add_view(
        HandoverView,
        "Handover",
        label="离职交接",
        href="/handover/",
        icon="fa-exchange",
        category="Employees",
        category_label="员工",
        category_icon="fa-id-badge",
    )
    appbuilder.add_api(HandoverApi)
