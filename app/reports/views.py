"""报表: the tenant's report documents whose source is an entity the user may read, each run for
a period on the records the user sees, and exported to Excel (audited)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from flask import abort, g, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from app.audit.models import AuditAction
from app.audit.recorder import record_event
from app.configuration import records
from app.configuration.lookup import documents_in_force
from app.configuration.runtime import REGISTRY
from app.errors import DomainError
from app.exports import export_response
from app.extensions import db
from app.reports.entity_source import PERIODS, run_report

PERIOD_LABELS = {
    "today": "今日",
    "yesterday": "昨日",
    "this_month": "当月",
    "last_month": "上月",
    "this_year": "当年",
    "last_year": "去年",
    "custom": "自定义",
}


def _reports() -> list[tuple[str, dict, object]]:
    """(key, body, entity) of the report documents the user may run."""
    tenant_id = getattr(g.user, "tenant_id", None)
    found = []
    for version in documents_in_force(db.session, "report", tenant_id, datetime.date.today()):
        body = version.body
        runtime = REGISTRY.get(db.session, body.get("source", ""), tenant_id)
        if runtime is not None and records.permission(runtime, g.user) is not None:
            found.append((version.document.key, body, runtime))
    return found


def _report(key: str):
    for found in _reports():
        if found[0] == key:
            return found
    abort(404)


def _shown(value, kind: str) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if kind == "money" else f"{value.normalize():f}"
    return "" if value is None else str(value)


class ReportView(BaseView):
    route_base = "/reports"
    default_view = "index"
    method_permission_name = {"index": "list", "show": "show", "export": "export"}

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("reports/index.html", reports=_reports())

    @expose("/<key>/")
    @has_access
    def show(self, key: str):
        _, body, runtime = _report(key)
        args = request.args
        error, table = None, None
        try:
            table = run_report(
                db.session,
                runtime,
                body,
                period=args.get("period") or None,
                start=args.get("from"),
                end=args.get("to"),
            )
        except DomainError as exc:
            error = exc.message("zh")
        periods = [p for p in body.get("periods", []) if p in PERIODS]
        return self.render_template(
            "reports/show.html",
            key=key,
            body=body,
            table=table,
            error=error,
            periods=[(p, PERIOD_LABELS[p]) for p in periods],
            chosen=args.get("period") or body.get("default_period") or "",
            args=args,
            shown=_shown,
        )

    @expose("/<key>/export")
    @has_access
    def export(self, key: str):
        _, body, runtime = _report(key)
        args = request.args
        try:
            table = run_report(
                db.session,
                runtime,
                body,
                period=args.get("period") or None,
                start=args.get("from"),
                end=args.get("to"),
            )
        except DomainError as exc:
            abort(400, exc.message("zh"))
        rows = [*table.rows, *([table.totals] if table.totals else [])]
        record_event(
            db.session,
            AuditAction.EXPORT,
            tenant_id=getattr(g.user, "tenant_id", None),
            org_node_id=getattr(g.user, "org_node_id", None),
            entity=f"report:{key}",
            detail={"rows": len(table.rows), "period": args.get("period") or "default"},
        )
        db.session.commit()
        return export_response(f"{key}-{datetime.date.today():%Y%m%d}", table.headers, rows)


def register(appbuilder) -> None:
    from app.security import roles as r

    r.grant({role: {"ReportView": "read"} for role in r.ROLE_POLICY})
    appbuilder.add_view(
        ReportView,
        "EntityReports",
        label="统计报表",
        href="/reports/",
        icon="fa-bar-chart",
        category="Reports",
        category_label="报表",
        category_icon="fa-bar-chart",
    )
