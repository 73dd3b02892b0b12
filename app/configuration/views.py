"""Screens of the configuration engine: low-code entity records (one generic screen serving
every published entity), installed packs and documents with their versions."""

from __future__ import annotations

import io

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.audit.models import AuditAction
from app.audit.recorder import record_event
from app.configuration import masking, records
from app.configuration.forms import record_form, submitted_values
from app.configuration.install import publish_version
from app.configuration.models import DocumentVersion, InstalledPack
from app.configuration.reading import (
    PackError,
    load_schema,
)
from app.configuration.runtime import REGISTRY, EntityRuntime
from app.extensions import db
from app.tenancy.scope import ScopeViolation
from app.web.base import DealerModelView, build_workbook, labelled

PAGE_SIZE = 20


def _lang() -> str:
    locale = get_locale()
    return "en" if locale and locale.language == "en" else "zh"


def _user_tenant() -> int | None:
    return getattr(g.user, "tenant_id", None)


def entity_or_404(name: str, need: str = "read") -> EntityRuntime:
    """The entity if the user may `need` it; unknown and forbidden both look like not found."""
    runtime = REGISTRY.get(db.session, name, _user_tenant())
    if runtime is None:
        abort(404)
    allowed = records.permission(runtime, g.user)
    if allowed is None or (need == "write" and allowed != "write"):
        abort(404)
    return runtime


def display(runtime: EntityRuntime, spec: dict, value, lang: str) -> str:
    if value is None:
        return ""
    if spec["type"] == "enum":
        choice = next((c for c in spec["choices"] if c["value"] == value), None)
        return (choice["label"].get(lang) or choice["label"]["zh"]) if choice else str(value)
    if spec["type"] == "boolean":
        return "✔" if value else "✘"
    return str(value)


class EntityRecordsView(BaseView):
    """Serves /entities/<name>/…: list, show, add, edit, delete and export of any entity, read
    from the registry on each request so a publish shows up without a restart."""

    route_base = "/entities"
    default_view = "catalogue"

    def _context(self, runtime: EntityRuntime) -> dict:
        lang = _lang()
        definition = runtime.definition
        columns = [c for c in definition.body.get("list_columns", []) if definition.field(c)]
        columns = columns or [f["name"] for f in definition.fields[:6]]
        hidden = masking.hidden_fields(definition, g.user)
        return {
            "entity": runtime,
            "lang": lang,
            "title": definition.label(lang),
            "fields": definition.fields,
            "columns": [definition.field(c) for c in columns],
            "display": lambda spec, value: shown(runtime, spec, value, lang, hidden),
            "can_write": records.permission(runtime, g.user) == "write",
        }

    @expose("/")
    @has_access
    def catalogue(self):
        visible = [
            (runtime, records.permission(runtime, g.user))
            for runtime in REGISTRY.visible(db.session, _user_tenant())
        ]
        visible = [(runtime, level) for runtime, level in visible if level]
        return self.render_template(
            "configuration/entity_catalogue.html", entities=visible, lang=_lang()
        )

    @expose("/<name>/")
    @has_access
    def records(self, name: str):
        runtime = entity_or_404(name)
        page = max(int(request.args.get("page", 0) or 0), 0)
        search = request.args.get("q", "").strip()
        hidden = masking.hidden_fields(runtime.definition, g.user)
        count, rows = records.list_records(
            db.session, runtime, search, page=page, page_size=PAGE_SIZE, hidden=hidden
        )
        context = self._context(runtime)
        columns = [spec["name"] for spec in context["columns"]]
        _audit_unmasked(runtime, [row.id for row in rows], "list", columns)
        return self.render_template(
            "configuration/entity_list.html",
            rows=rows,
            count=count,
            page=page,
            pages=max((count + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            search=search,
            **context,
        )

    @expose("/<name>/<int:record_id>/")
    @has_access
    def show(self, name: str, record_id: int):
        runtime = entity_or_404(name)
        record = records.get_record(db.session, runtime, record_id) or abort(404)
        lineage = records.lineage_of(db.session, runtime.definition.table, record_id)
        _audit_unmasked(runtime, [record.id], "show")
        return self.render_template(
            "configuration/entity_show.html",
            record=record,
            lineage=lineage,
            **self._context(runtime),
        )

    @expose("/<name>/add", methods=["GET", "POST"])
    @has_access
    def add(self, name: str):
        runtime = entity_or_404(name, "write")
        form = record_form(
            db.session, runtime, _lang(), request.form if request.method == "POST" else None
        )
        if request.method == "POST" and form.validate():
            try:
                record = records.create_record(
                    db.session, runtime, submitted_values(form, runtime), g.user.username
                )
            except records.RecordErrors as exc:
                db.session.rollback()
                _attach_errors(form, exc.messages(_lang()))
            else:
                flash(_("Saved"), "success")
                return redirect(url_for(".show", name=name, record_id=record.id))
        return self.render_template(
            "configuration/entity_form.html", form=form, **self._context(runtime)
        )

    @expose("/<name>/<int:record_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, name: str, record_id: int):
        runtime = entity_or_404(name, "write")
        record = records.get_record(db.session, runtime, record_id) or abort(404)
        data = request.form if request.method == "POST" else None
        form = record_form(db.session, runtime, _lang(), data, obj=record)
        hidden = _mask_form(form, runtime, record, data is None)
        if request.method == "POST" and form.validate():
            values = submitted_values(form, runtime)
            for name in hidden:  # a masked field left empty keeps its value
                if values.get(name) in (None, ""):
                    values.pop(name, None)
            try:
                records.update_record(db.session, runtime, record, values)
            except records.RecordErrors as exc:
                db.session.rollback()
                _attach_errors(form, exc.messages(_lang()))
            else:
                flash(_("Saved"), "success")
                return redirect(url_for(".show", name=name, record_id=record.id))
        return self.render_template(
            "configuration/entity_form.html", form=form, record=record, **self._context(runtime)
        )

    @expose("/<name>/<int:record_id>/delete", methods=["POST"])
    @has_access
    def delete(self, name: str, record_id: int):
        runtime = entity_or_404(name, "write")
        record = records.get_record(db.session, runtime, record_id) or abort(404)
        records.delete_record(db.session, record)
        flash(_("Deleted"), "info")
        return redirect(url_for(".records", name=name))

    @expose("/<name>/export")
    @has_access
    def export(self, name: str):
        runtime = entity_or_404(name)
        lang = _lang()
        count, rows = records.list_records(db.session, runtime, page=0, page_size=100_000)
        fields = runtime.definition.fields
        hidden = masking.hidden_fields(runtime.definition, g.user)
        data = build_workbook(
            [f["label"].get(lang) or f["label"]["zh"] for f in fields],
            (
                [shown(runtime, f, getattr(row, f["name"]), lang, hidden) for f in fields]
                for row in rows
            ),
        )
        unmasked = [f for f in masking.masked_fields(runtime.definition) if f not in hidden]
        record_event(
            db.session,
            AuditAction.EXPORT,
            tenant_id=_user_tenant(),
            org_node_id=getattr(g.user, "org_node_id", None),
            entity=runtime.definition.table,
            detail={"rows": len(rows), "unmasked": unmasked},
        )
        db.session.commit()
        return send_file(
            io.BytesIO(data),
            as_attachment=True,
            download_name=f"{name}.xlsx",
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )


def shown(runtime: EntityRuntime, spec: dict, value, lang: str, hidden: set[str]) -> str:
    """A value as the user may see it: a masked field starred unless their role may see it."""
    text = display(runtime, spec, value, lang)
    return masking.mask_value(text) if spec["name"] in hidden else text


def _audit_unmasked(runtime: EntityRuntime, record_ids, how: str, columns=None) -> None:
    masking.audit_unmasked(db.session, runtime.definition, g.user, record_ids, how, columns)
    db.session.commit()


def _mask_form(form, runtime: EntityRuntime, record, fresh: bool) -> set[str]:
    """Masked fields of an edit form: for a user who may not see them, emptied, with the starred
    value as placeholder (left empty, the value is kept); for one who may, audited."""
    hidden = masking.hidden_fields(runtime.definition, g.user)
    if not hidden:
        if fresh:
            _audit_unmasked(runtime, [record.id], "edit form")
        return hidden
    for name in hidden:
        field = getattr(form, name)
        if fresh:
            field.data = None
        starred = masking.mask_value(
            display(runtime, runtime.definition.field(name), getattr(record, name), _lang())
        )
        field.render_kw = {**(field.render_kw or {}), "placeholder": starred or ""}
        field.description = _("Masked for your role: leave it empty to keep the value")
    return hidden


def _attach_errors(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(f"{name}: {message}", "danger")


KIND_LABELS = load_schema("document")["properties"]["kind"]["x-labels"]


def kind_label(kind: str) -> str:
    labels = KIND_LABELS.get(kind, {})
    return labels.get(_lang()) or kind


def owner_label(tenant_id) -> str:
    return str(tenant_id) if tenant_id is not None else _("Platform")


LABELS = {
    "name": _l("Name"),
    "version": _l("Version"),
    "title": _l("Title"),
    "description": _l("Description"),
    "installed_at": _l("Installed (UTC)"),
    "installed_by": _l("Installed by"),
    "tenant": _l("Tenant"),
    "tenant_id": _l("Tenant"),
    "manifest": _l("Manifest"),
    "document": _l("Document"),
    "status": _l("Status"),
    "effective_from": _l("Effective from"),
    "published_at": _l("Published (UTC)"),
    "published_by": _l("Published by"),
    "content": _l("Content"),
    "source_file": _l("Source file"),
    "kind": _l("Kind"),
    "key": _l("Key"),
    "pack": _l("Pack"),
    "current_version": _l("Current version"),
}


class InstalledPackView(DealerModelView):
    datamodel = SQLAInterface(InstalledPack)
    base_permissions = ["can_list", "can_show", "can_export"]
    list_title = show_title = _l("Installed packs")
    label_columns = LABELS
    list_columns = ["name", "version", "title", "tenant_id", "installed_at", "installed_by"]
    formatters_columns = {"tenant_id": owner_label}
    show_columns = [*list_columns, "description", "manifest"]
    search_columns = ["name", "version"]


STATUS_LABELS = {"draft": _l("Draft"), "published": _l("Published")}


class DocumentVersionView(DealerModelView):
    datamodel = SQLAInterface(DocumentVersion)
    base_permissions = ["can_list", "can_show", "can_export", "publish"]
    list_title = show_title = _l("Document versions")
    label_columns = LABELS
    list_columns = ["document", "version", "status", "title", "effective_from", "published_at"]
    show_columns = [*list_columns, "published_by", "source_file", "content"]
    search_columns = ["version", "status", "title"]
    formatters_columns = {"status": labelled(STATUS_LABELS)}
    base_order = ("id", "desc")

    @action(
        "publish", _l("Publish"), _l("Publish the selected drafts?"), "fa-check", multiple=False
    )
    def publish(self, item):
        item = item[0] if isinstance(item, list) else item
        try:
            publish_version(db.session, item, g.user.username)
        except (PackError, ScopeViolation) as exc:
            flash(str(exc), "danger")
        else:
            flash(_("Published %(doc)s", doc=str(item)), "success")
        return redirect(self.get_redirect())


def register(appbuilder) -> None:
    # The documents' screens for business admins live in their own module (it imports this one).
    from app.configuration.document_views import (
        DocumentEditorView,
        DocumentView,
        PackUploadView,
        RuleSimulatorView,
    )

    category = "Configuration"
    appbuilder.add_view(
        EntityRecordsView,
        "Custom data",
        label=_l("Custom data"),
        icon="fa-table",
        category=category,
        category_label=_l("Configuration"),
        category_icon="fa-cogs",
    )
    appbuilder.add_view(
        DocumentView, "Documents", label=_l("Documents"), icon="fa-file-text-o", category=category
    )
    appbuilder.add_view_no_menu(DocumentVersionView)
    appbuilder.add_view_no_menu(DocumentEditorView)
    appbuilder.add_view(
        PackUploadView,
        "Upload a pack",
        label=_l("Upload a pack"),
        icon="fa-upload",
        category=category,
    )
    appbuilder.add_view(
        RuleSimulatorView,
        "Rule simulator",
        label=_l("Rule simulator"),
        icon="fa-flask",
        category=category,
    )
    appbuilder.add_view(
        InstalledPackView, "Packs", label=_l("Installed packs"), icon="fa-cubes", category=category
    )
    from app.configuration.api import register_api

    register_api(appbuilder)
