"""Console screens of the policy book (保单): the list (保单清单) with search and Excel export,
the policy page (coverages, endorsements, payments, documents, lineage — "why this number?"),
the 批改 and 退保 forms, the 电子保单 download and the import of an existing book.

Screens only call services; the request's session is committed here."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from flask import Response, abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from sqlalchemy import select

from app.audit.models import AuditAction
from app.audit.recorder import record_event
from app.errors import DomainError, ValidationFailed, as_domain_error
from app.exports import FORMATS, export_response
from app.extensions import db
from app.organisation.models import NodeKind, OrgNode
from app.policies import documents, listing, services
from app.policies.hooks import payments_of
from app.policies.labels import (
    BusinessType,
    EndorsementKind,
    PolicyLine,
    PolicyStatus,
    choices,
    label,
)
from app.policies.models import Policy
from app.policies.requests import cancellation_from, endorsement_from

REVEAL_ACTION = "reveal_personal_data"
PERSONAL_VIEW = "PolicyPersonalDataView"
EXPORT_LIMIT = 100_000


def may_reveal() -> bool:
    """Whether the user's role may see insured ID numbers and phones unmasked."""
    from flask import current_app

    return current_app.appbuilder.sm.has_access("can_show", PERSONAL_VIEW)


def _tenant_id() -> int | None:
    return getattr(g.user, "tenant_id", None)


def _layout() -> listing.ListLayout:
    return listing.policy_list_layout(db.session, _tenant_id(), datetime.date.today())


def _int_arg(name: str, default: int, maximum: int) -> int:
    text = request.args.get(name, "")
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        abort(400, f"{name} must be a positive number")
    return min(int(text), maximum)


def _filters() -> dict[str, Any]:
    """Select-box choices of the search form: stores and carriers the user can see."""
    stores = db.session.scalars(
        select(OrgNode).where(OrgNode.kind == NodeKind.STORE).order_by(OrgNode.code)
    ).all()
    carriers = db.session.execute(
        select(Policy.carrier_key, Policy.carrier_name).distinct().order_by(Policy.carrier_key)
    ).all()
    seen: dict[str, str] = {}
    for key, name in carriers:
        seen.setdefault(key, name or key)
    return {
        "stores": [(s.id, f"{s.name}（{s.code}）") for s in stores],
        "carriers": sorted(seen.items()),
        "statuses": choices(PolicyStatus),
        "lines": choices(PolicyLine),
        "business_types": choices(BusinessType),
    }


def _cells(policy: Policy, columns, context, reveal: bool = False) -> list[str]:
    return [
        listing.display(
            listing.resolve(policy, c.field, context), c.format, field=c.field, reveal=reveal
        )
        for c in columns
    ]


def _policy_or_404(pk: int) -> Policy:
    """The policy if the user's scope sees it; another store's or tenant's is simply not found."""
    policy = db.session.get(Policy, pk)
    if policy is None:
        abort(404)
    return policy


class PolicyView(BaseView):
    """保单清单, the policy page and its actions."""

    route_base = "/policies"
    default_view = "list"

    @expose("/list/")
    @has_access
    @permission_name("list")
    def list(self):
        try:
            search = listing.PolicySearch.from_args(request.args)
        except ValidationFailed as exc:
            return self._list_page(listing.PolicySearch(), {exc.field: exc.message("zh")})
        return self._list_page(search, {})

    def _list_page(self, search: listing.PolicySearch, errors: dict[str, str]):
        layout = _layout()
        page = listing.page_of(
            db.session,
            search,
            layout,
            _int_arg("page", 1, 10**6),
            _int_arg("page_size", layout.page_size, listing.MAX_PAGE_SIZE),
        )
        columns = [c for c in layout.columns if c.shown]
        rows = [(p, _cells(p, columns, page.context)) for p in page.policies]
        html = self.render_template(
            "policies/list.html",
            layout=layout,
            columns=columns,
            rows=rows,
            page=page,
            search=search,
            args=search.as_args(),
            filters=_filters(),
            can_export=self.appbuilder.sm.has_access("can_export", "PolicyView"),
            can_import=self.appbuilder.sm.has_access("can_upload", "PolicyImportView"),
            errors=errors,
        )
        return Response(html, status=422 if errors else 200)

    @expose("/export/")
    @has_access
    @permission_name("export")
    def export(self):
        fmt = request.args.get("format", "xlsx")
        if fmt not in FORMATS:
            abort(400, f"format must be one of {', '.join(FORMATS)}")
        try:
            search = listing.PolicySearch.from_args(request.args)
        except ValidationFailed as exc:
            abort(422, exc.message("zh"))
        layout = _layout()
        columns = [c for c in layout.columns if c.exported]
        reveal = may_reveal()
        total = listing.count(db.session, search)
        rows = [
            [
                listing.export_value(
                    listing.resolve(p, c.field, context), c.format, field=c.field, reveal=reveal
                )
                for c in columns
            ]
            for chunk, context in listing.iter_export(
                db.session, search, layout, limit=EXPORT_LIMIT
            )
            for p in chunk
        ]
        record_event(
            db.session,
            AuditAction.EXPORT,
            tenant_id=_tenant_id(),
            org_node_id=getattr(g.user, "org_node_id", None),
            entity="policy",
            detail={
                "rows": len(rows),
                "matched": total,
                "filters": search.as_args(),
                "columns": [c.field for c in columns],
                "unmasked": reveal,
                "layout": layout.version,
            },
        )
        db.session.commit()
        return export_response(
            f"policies-{datetime.datetime.now():%Y%m%d-%H%M%S}",
            [c.label() for c in columns],
            rows,
            fmt,
        )

    @expose("/show/<int:pk>")
    @has_access
    @permission_name("show")
    def show(self, pk: int):
        return render_policy_page(self, pk, reveal=False)

    @expose("/pdf/<int:pk>")
    @has_access
    @permission_name("show")
    def pdf(self, pk: int):
        policy = _policy_or_404(pk)
        document = documents.latest_policy_pdf(db.session, policy)
        db.session.commit()
        return _send_document(document)

    @expose("/document/<int:pk>/<int:document_id>")
    @has_access
    @permission_name("show")
    def document(self, pk: int, document_id: int):
        policy = _policy_or_404(pk)
        document = next((d for d in policy.documents if d.id == document_id), None)
        if document is None:
            abort(404)
        return _send_document(document)

    @expose("/regenerate/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def regenerate(self, pk: int):
        policy = _policy_or_404(pk)
        documents.store_policy_pdf(db.session, policy)
        db.session.commit()
        flash("已重新生成电子保单", "success")
        return redirect(url_for("PolicyView.show", pk=pk))

    @expose("/endorse/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("edit")
    def endorse(self, pk: int):
        policy = _policy_or_404(pk)
        values = _endorse_defaults(policy)
        errors: dict[str, str] = {}
        if request.method == "POST":
            values = _endorse_values(request.form)
            try:
                endorsement = services.endorse(db.session, policy, endorsement_from(values))
                db.session.commit()
            except Exception as exc:  # a refusal is shown on the form; anything else is a bug
                errors = _form_errors(exc)
            else:
                flash(
                    f"批改成功：批单号 {endorsement.endorsement_no}，"
                    f"保费变化 {endorsement.premium_change_incl_tax} 元",
                    "success",
                )
                return redirect(url_for("PolicyView.show", pk=pk))
            policy = _policy_or_404(pk)
        html = self.render_template(
            "policies/endorse.html",
            policy=policy,
            values=values,
            errors=errors,
            kinds=[(k.value, label(k)) for k in EndorsementKind if k != EndorsementKind.CANCEL],
            label=label,
        )
        return Response(html, status=422 if errors else 200)

    @expose("/cancel/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("edit")
    def cancel(self, pk: int):
        policy = _policy_or_404(pk)
        values = {"effective_date": _default_date(policy).isoformat(), "reason": ""}
        errors: dict[str, str] = {}
        if request.method == "POST":
            values = {k: request.form.get(k, "") for k in ("effective_date", "reason")}
            try:
                effective, reason, number = cancellation_from(values)
                endorsement = services.cancel(
                    db.session, policy, effective, reason, endorsement_no=number
                )
                db.session.commit()
            except Exception as exc:
                errors = _form_errors(exc)
            else:
                flash(
                    f"退保成功：批单号 {endorsement.endorsement_no}，"
                    f"退还保费 {-endorsement.premium_change_incl_tax} 元",
                    "success",
                )
                return redirect(url_for("PolicyView.show", pk=pk))
            policy = _policy_or_404(pk)
        html = self.render_template(
            "policies/cancel.html", policy=policy, values=values, errors=errors, label=label
        )
        return Response(html, status=422 if errors else 200)


class PolicyPersonalDataView(BaseView):
    """The insured's ID number and phone unmasked: only for roles granted this view, and every
    look is audited."""

    route_base = "/policies/personal"
    default_view = "reveal"

    @expose("/<int:pk>")
    @has_access
    @permission_name("show")
    def reveal(self, pk: int):
        return render_policy_page(self, pk, reveal=True)


def render_policy_page(view: BaseView, pk: int, reveal: bool):
    policy = _policy_or_404(pk)
    if reveal:
        record_event(
            db.session,
            REVEAL_ACTION,
            tenant_id=policy.tenant_id,
            org_node_id=policy.org_node_id,
            entity="policy",
            detail={
                "policy_id": policy.id,
                "policy_no": policy.policy_no,
                "fields": ["insured_id_number", "insured_mobile"],
            },
        )
        db.session.commit()
        policy = _policy_or_404(pk)
    context = listing.ResolveContext.for_policies(db.session, [policy])
    sm = view.appbuilder.sm
    return view.render_template(
        "policies/show.html",
        policy=policy,
        reveal=reveal,
        can_reveal=may_reveal(),
        can_edit=sm.has_access("can_edit", "PolicyView")
        and policy.status in services.OPEN_STATUSES,
        id_number=policy.insured_id_number
        if reveal
        else listing.mask_identifier(policy.insured_id_number),
        mobile=policy.insured_mobile if reveal else listing.mask_identifier(policy.insured_mobile),
        region=listing.resolve(policy, "org_node.region", context),
        area=listing.resolve(policy, "org_node.area", context),
        payments=payments_of(db.session, policy),
        coverages_now=services.current_coverages(policy),
        lineage=_lineage_view(policy.lineage),
        label=label,
        money=lambda v: listing.display(v, "money"),
        local=lambda v: listing.display(v, "datetime"),
    )


def _lineage_view(lineage: Mapping[str, Any] | None) -> dict[str, Any]:
    """The stored lineage in the shape the page shows: versions, named values, trace steps."""
    lineage = dict(lineage or {})
    versions = lineage.get("documents") or lineage.get("versions") or []
    if isinstance(versions, Mapping):
        versions = [{"key": k, "version": v} for k, v in versions.items()]
    explain = lineage.get("explain") or {}
    trace = lineage.get("trace") or []
    if isinstance(trace, Mapping):
        trace = [{"name": k, "value": v} for k, v in trace.items()]
    rest = {
        k: v for k, v in lineage.items() if k not in {"documents", "versions", "explain", "trace"}
    }
    return {"versions": versions, "explain": explain, "trace": trace, "rest": rest}


def _send_document(document) -> Response:
    data = documents.read_document(document)
    import io

    return send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=request.args.get("download") == "1",
        download_name=document.filename,
    )


def _default_date(policy: Policy) -> datetime.date:
    today = datetime.date.today()
    return min(max(today, policy.start_date), policy.end_date)


def _endorse_defaults(policy: Policy) -> dict[str, Any]:
    return {
        "kind": EndorsementKind.CHANGE_PLATE.value,
        "effective_date": _default_date(policy).isoformat(),
        "plate": "",
        "insured_name": "",
        "insured_id_number": "",
        "insured_mobile": "",
        "reason": "",
        "coverages": [
            {k: c.get(k) or "" for k in ("code", "name", "sum_insured", "premium_incl_tax")}
            for c in services.current_coverages(policy)
        ]
        + [{"code": "", "name": "", "sum_insured": "", "premium_incl_tax": ""}],
    }


def _endorse_values(form) -> dict[str, Any]:
    """The form's fields as the JSON body the API takes; blank coverage rows and rows the user
    ticked for removal are left out."""
    values = {
        k: form.get(k, "")
        for k in (
            "kind",
            "effective_date",
            "plate",
            "insured_name",
            "insured_id_number",
            "insured_mobile",
            "reason",
        )
    }
    rows = zip(
        form.getlist("cov_code"),
        form.getlist("cov_name"),
        form.getlist("cov_sum"),
        form.getlist("cov_premium"),
        strict=False,
    )
    removed = set(form.getlist("cov_remove"))
    values["coverages"] = [
        {"code": code, "name": name, "sum_insured": total, "premium_incl_tax": premium}
        for code, name, total, premium in rows
        if code.strip() and code not in removed
    ]
    for optional in ("plate", "insured_id_number", "insured_mobile", "reason"):
        if not values[optional].strip():
            values[optional] = None
    return values


def _form_errors(exc: Exception) -> dict[str, str]:
    error = as_domain_error(exc)
    if error is None:
        raise exc
    db.session.rollback()
    named = error.field_messages("zh") if isinstance(error, DomainError) else {}
    if not named:
        named = {"_": error.message("zh")}
    return named


def register(appbuilder) -> None:
    from app.policies import permissions  # noqa: F401 - merges the book's permissions
    from app.policies.api import PolicyApi
    from app.policies.import_views import PolicyImportView

    appbuilder.add_view(
        PolicyView,
        "PolicyList",
        label="保单清单",
        href="/policies/list/",
        icon="fa-file-text-o",
        category="Policies",
    )
    appbuilder.add_view_no_menu(PolicyPersonalDataView)
    appbuilder.add_view(
        PolicyImportView,
        "PolicyImport",
        label="导入保单",
        href="/policies/import/",
        icon="fa-upload",
        category="Policies",
    )
    appbuilder.add_api(PolicyApi)
