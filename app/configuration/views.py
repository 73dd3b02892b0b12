"""Screens of the configuration engine: low-code entity records (one generic screen serving
every published entity), installed packs and documents with their versions."""

from __future__ import annotations

import base64
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
from app.configuration import (
    attachments,
    masking,
    records,
    related,
    spreadsheets,
    states,
)
from app.configuration.forms import (
    existing_rows,
    record_form,
    reference_choices,
    remask,
    submitted_rows,
    submitted_values,
    table_rows,
)
from app.configuration.hooks import forget_told, told_saver
from app.configuration.install import publish_version
from app.configuration.models import DocumentVersion, InstalledPack
from app.configuration.reading import (
    PackError,
    load_schema,
)
from app.configuration.runtime import REGISTRY, EntityRuntime
from app.errors import BadInput, answer_or_raise, form_error
from app.extensions import db
from app.tenancy.scope import ScopeViolation
from app.web.base import DealerModelView, build_workbook, labelled
from app.web.paging import check_paging

PAGE_SIZE = 20


def _flash_told() -> None:
    """What the save's hooks told the saver (a new login's temporary password), shown once."""
    lang = _lang()
    for notice in told_saver():
        flash(notice.get(lang) or notice["zh"], "info")


def _lang() -> str:
    locale = get_locale()
    return "en" if locale and locale.language == "en" else "zh"


def _user_tenant() -> int | None:
    return getattr(g.user, "tenant_id", None)


def _whole_number(text: str) -> int:
    """`?page=`: a whole number, else a 400 naming it (werkzeug would quietly use the default)."""
    try:
        return int(text or 0)
    except ValueError:
        raise BadInput("page must be a whole number", "页码应为整数", field="page") from None


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


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook(data: bytes, name: str):
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name, mimetype=XLSX)


def show_groups(definition, lang: str) -> list[dict]:
    """The record page's groups, as the form's `form_sections` (brochure figure 12: 基本信息,
    薪酬明细, 证件资料 …): each a title, its value fields, its tables and its file lists; fields in
    no section come last under 其他. Without sections, one untitled group of everything. The
    photo is not in any group: the page shows it at the top right."""
    sections = definition.body.get("form_sections") or []
    named = [
        ((s["title"].get(lang) or s["title"]["zh"]), [definition.field(n) for n in s["fields"]])
        for s in sections
    ]
    placed = {n for s in sections for n in s["fields"]}
    rest = [f for f in definition.fields if f["name"] not in placed]
    if not sections:
        named = [(None, rest)]
    elif rest:
        named.append((str(_("Other")), rest))
    groups = []
    for title, specs in named:
        specs = [s for s in specs if s is not None and s["type"] != "photo"]
        group = {
            "title": title,
            "columns": [s for s in specs if s in definition.column_fields],
            "tables": [s for s in specs if s["type"] == "table"],
            "files": [s for s in specs if s["type"] == "attachment"],
        }
        if group["columns"] or group["tables"] or group["files"]:
            groups.append(group)
    return groups


class EntityRecordsView(BaseView):
    """Serves /entities/<name>/…: list, show, add, edit, delete, state transitions, files, and
    Excel import and export of any entity, read from the registry on each request so a publish
    shows up without a restart."""

    route_base = "/entities"
    default_view = "catalogue"
    # The engine's extra screens share the permissions of the roles' ordinary levels: reading a
    # file is showing, a transition or a file's deletion is editing, an import is adding.
    method_permission_name = {
        "catalogue": "catalogue",
        "records": "records",
        "show": "show",
        "add": "add",
        "edit": "edit",
        "delete": "delete",
        "export": "export",
        "transition": "edit",
        "file": "show",
        "delete_file": "edit",
        "import_records": "add",
        "export_rows": "export",
        "import_rows": "edit",
    }

    def _context(self, runtime: EntityRuntime) -> dict:
        lang = _lang()
        definition = runtime.definition
        column_names = {f["name"] for f in definition.column_fields}
        columns = [c for c in definition.body.get("list_columns", []) if c in column_names]
        columns = columns or [f["name"] for f in definition.column_fields[:6]]
        hidden = masking.hidden_fields(definition, g.user)
        return {
            "entity": runtime,
            "lang": lang,
            "title": definition.label(lang),
            "fields": definition.fields,
            "column_fields": definition.column_fields,
            "columns": [definition.field(c) for c in columns],
            "display": lambda spec, value, name=None: shown(
                runtime, spec, value, lang, hidden, name
            ),
            "label": lambda item: (
                (item.get("label") or {}).get(lang) or (item.get("label") or {}).get("zh", "")
            ),
            "can_write": records.permission(runtime, g.user) == "write",
            "store_name": _store_name,
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
        page = max(request.args.get("page", 0, type=_whole_number), 0)
        check_paging(page, PAGE_SIZE)
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
        definition = runtime.definition
        grids = {
            spec["name"]: records.child_rows(db.session, runtime, record, spec["name"])
            for spec in definition.table_fields
        }
        files = attachments.files_of(db.session, runtime, record) if definition.file_fields else []
        state = None
        if definition.states:
            current = getattr(record, definition.states["field"])
            state = {
                "field": definition.states["field"],
                "current": current,
                "transitions": states.transitions_from(definition, current, g.user),
            }
        _audit_unmasked(runtime, [record.id], "show")
        return self.render_template(
            "configuration/entity_show.html",
            record=record,
            lineage=lineage,
            grids=grids,
            files=files,
            state=state,
            references=related.references_shown(db.session, runtime, record, g.user),
            sections=related.related_sections(db.session, runtime, record, g.user),
            groups=show_groups(definition, _lang()),
            **self._context(runtime),
        )

    def _save(self, runtime: EntityRuntime, record=None):
        """The add and edit screens: the form, its grids of child rows and its files."""
        name = runtime.definition.name
        posted = request.method == "POST"
        data = request.form if posted else None
        form = record_form(db.session, runtime, _lang(), data, obj=record, user=g.user)
        hidden = _mask_form(form, runtime, record, data is None) if record is not None else set()
        hidden_cells = {n for n in masking.hidden_fields(runtime.definition, g.user) if "." in n}
        grids = table_rows(db.session, runtime, record, hidden_cells)
        extra_errors: dict[str, str] = {}
        existing = record.id if record is not None else None
        if posted:
            grids = submitted_rows(
                request.form,
                runtime,
                existing_rows(db.session, runtime, record),
                hidden_cells,
            )
        if posted and form.validate():
            forget_told()
            values = {**submitted_values(form, runtime), **grids}
            for field_name in hidden:  # a masked field left empty keeps its value
                if values.get(field_name) in (None, ""):
                    values.pop(field_name, None)
            try:
                if record is None:
                    record = records.create_record(
                        db.session, runtime, values, g.user.username, user=g.user, commit=False
                    )
                else:
                    records.update_record(db.session, runtime, record, values, user=g.user)
                self._store_uploads(runtime, record)
                db.session.commit()
            except records.RecordErrors as exc:
                db.session.rollback()
                messages = exc.messages(_lang())
                extra = {k: v for k, v in messages.items() if getattr(form, k, None) is None}
                _attach_errors(form, {k: v for k, v in messages.items() if k not in extra})
                extra_errors.update(extra)
            except Exception as exc:
                if not form_error(form, exc):
                    raise
            else:
                flash(_("Saved"), "success")
                _flash_told()
                return redirect(url_for(".show", name=name, record_id=record.id))
            forget_told()
            grids = remask(runtime, grids, hidden_cells)
            if existing is None:
                record = None  # the add failed: nothing was kept
        sectioned = {
            n for s in runtime.definition.body.get("form_sections", []) for n in s["fields"]
        }
        tenant_id = _user_tenant()
        return self.render_template(
            "configuration/entity_form.html",
            form=form,
            record=record,
            grids=grids,
            files=attachments.files_of(db.session, runtime, record)
            if record is not None and record.id and runtime.definition.file_fields
            else [],
            unsectioned=[
                f["name"] for f in runtime.definition.fields if f["name"] not in sectioned
            ],
            grid_errors=lambda name: [
                (k, v) for k, v in extra_errors.items() if k == name or k.startswith(name + "[")
            ],
            reference_choices=lambda spec: reference_choices(db.session, spec, tenant_id),
            **self._context(runtime),
        )

    def _store_uploads(self, runtime: EntityRuntime, record) -> None:
        for spec in runtime.definition.file_fields:
            for upload in request.files.getlist(spec["name"]):
                if upload and upload.filename:
                    attachments.save_file(
                        db.session,
                        runtime,
                        record,
                        spec["name"],
                        upload.filename,
                        upload.read(attachments.HARD_MAX_MB * attachments.MB + 1),
                        g.user.username,
                    )

    @expose("/<name>/add", methods=["GET", "POST"])
    @has_access
    def add(self, name: str):
        return self._save(entity_or_404(name, "write"))

    @expose("/<name>/<int:record_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, name: str, record_id: int):
        runtime = entity_or_404(name, "write")
        record = records.get_record(db.session, runtime, record_id) or abort(404)
        return self._save(runtime, record)

    @expose("/<name>/<int:record_id>/delete", methods=["POST"])
    @has_access
    def delete(self, name: str, record_id: int):
        runtime = entity_or_404(name, "write")
        record = records.get_record(db.session, runtime, record_id) or abort(404)
        records.delete_record(db.session, record, runtime)
        flash(_("Deleted"), "info")
        return redirect(url_for(".records", name=name))

    @expose("/<name>/<int:record_id>/transition", methods=["POST"])
    @has_access
    def transition(self, name: str, record_id: int):
        """Move the record along one of its state transitions (the show page's buttons)."""
        runtime = entity_or_404(name, "write")
        record = records.get_record(db.session, runtime, record_id) or abort(404)
        if not runtime.definition.states:
            abort(404)
        target = request.form.get("to", "")
        forget_told()
        try:
            records.update_record(
                db.session, runtime, record, {runtime.definition.states["field"]: target}, g.user
            )
        except Exception as exc:
            forget_told()
            return answer_or_raise(exc)
        flash(_("Saved"), "success")
        _flash_told()
        return redirect(url_for(".show", name=name, record_id=record_id))

    @expose("/<name>/<int:record_id>/files/<int:file_id>")
    @has_access
    def file(self, name: str, record_id: int, file_id: int):
        """A file of a record, only to those who see the record (else 404, as if absent)."""
        runtime = entity_or_404(name)
        record = records.get_record(db.session, runtime, record_id) or abort(404)
        found = attachments.get_file(db.session, runtime, record, file_id) or abort(404)
        try:
            data = attachments.read_bytes(found)
        except OSError:
            abort(404)
        inline = found.content_type.startswith("image/") or found.content_type.endswith("pdf")
        response = send_file(
            io.BytesIO(data),
            mimetype=found.content_type,
            as_attachment=not inline,
            download_name=found.filename,
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    @expose("/<name>/<int:record_id>/files/<int:file_id>/delete", methods=["POST"])
    @has_access
    def delete_file(self, name: str, record_id: int, file_id: int):
        runtime = entity_or_404(name, "write")
        record = records.get_record(db.session, runtime, record_id) or abort(404)
        found = attachments.get_file(db.session, runtime, record, file_id) or abort(404)
        attachments.delete_file(db.session, found)
        db.session.commit()
        flash(_("Deleted"), "info")
        return redirect(url_for(".edit", name=name, record_id=record_id))

    @expose("/<name>/export")
    @has_access
    def export(self, name: str):
        runtime = entity_or_404(name)
        lang = _lang()
        count, rows = records.list_records(db.session, runtime, page=0, page_size=100_000)
        fields = runtime.definition.column_fields
        hidden = masking.hidden_fields(runtime.definition, g.user)
        data = build_workbook(
            [f["label"].get(lang) or f["label"]["zh"] for f in fields] + [_("Store")],
            (
                [shown(runtime, f, getattr(row, f["name"]), lang, hidden) for f in fields]
                + [_store_name(row.org_node_id)]
                for row in rows
            ),
        )
        _audit_export(runtime, len(rows), hidden)
        return _workbook(data, f"{name}.xlsx")

    @expose("/<name>/import", methods=["GET", "POST"])
    @has_access
    def import_records(self, name: str):
        """Upload a filled template: all rows or none (or only the good rows when asked); the
        bad rows come back as a workbook naming each row and column."""
        runtime = entity_or_404(name, "write")
        if request.args.get("template"):
            return _workbook(
                spreadsheets.template(runtime.definition.fields), f"{name}-template.xlsx"
            )
        result = None
        if request.method == "POST":
            upload = request.files.get("file")
            mode = request.form.get("mode", "all")
            try:
                if upload is None or not upload.filename:
                    raise BadInput("choose a file", "请选择文件", field="file")
                data = upload.read(spreadsheets.MAX_IMPORT_BYTES + 1)
                result = spreadsheets.import_records(db.session, runtime, data, g.user, mode)
            except Exception as exc:
                return answer_or_raise(exc)
            if result.error_workbook and request.form.get("download"):
                return _workbook(result.error_workbook, f"{name}-errors.xlsx")
            if result.ok:
                flash(_("Imported %(count)s rows", count=result.saved), "success")
                return redirect(url_for(".records", name=name))
        return self.render_template(
            "configuration/entity_import.html",
            result=result,
            error_link=_data_link(result),
            **self._context(runtime),
        )

    @expose("/<name>/<int:record_id>/rows/<field_name>/export")
    @has_access
    def export_rows(self, name: str, record_id: int, field_name: str):
        runtime = entity_or_404(name)
        record = records.get_record(db.session, runtime, record_id) or abort(404)
        spec = runtime.definition.field(field_name)
        if spec is None or spec["type"] != "table":
            abort(404)
        lang = _lang()
        hidden = masking.hidden_fields(runtime.definition, g.user)
        rows = records.child_rows(db.session, runtime, record, field_name)
        titles = related.ReferenceTitles(db.session, g.user)

        def cell(column, row):
            value = getattr(row, column["name"])
            if column["type"] == "reference" and value is not None:
                value = titles.title(column, value)
            return shown(runtime, column, value, lang, hidden, f"{field_name}.{column['name']}")

        data = spreadsheets.export_rows(spec["fields"], rows, cell)
        _audit_export(runtime, len(rows), hidden, record_id=record.id, table=field_name)
        return _workbook(data, f"{name}-{record_id}-{field_name}.xlsx")

    @expose("/<name>/<int:record_id>/rows/<field_name>/import", methods=["GET", "POST"])
    @has_access
    def import_rows(self, name: str, record_id: int, field_name: str):
        runtime = entity_or_404(name, "write")
        record = records.get_record(db.session, runtime, record_id) or abort(404)
        spec = runtime.definition.field(field_name)
        if spec is None or spec["type"] != "table":
            abort(404)
        if request.args.get("template"):
            return _workbook(
                spreadsheets.template(spec["fields"], with_store=False),
                f"{name}-{field_name}-template.xlsx",
            )
        result = None
        if request.method == "POST":
            upload = request.files.get("file")
            mode = request.form.get("mode", "all")
            try:
                if upload is None or not upload.filename:
                    raise BadInput("choose a file", "请选择文件", field="file")
                data = upload.read(spreadsheets.MAX_IMPORT_BYTES + 1)
                result = spreadsheets.import_rows(
                    db.session,
                    runtime,
                    record,
                    field_name,
                    data,
                    g.user,
                    mode,
                    replace=bool(request.form.get("replace")),
                )
            except Exception as exc:
                return answer_or_raise(exc)
            if result.error_workbook and request.form.get("download"):
                return _workbook(result.error_workbook, f"{name}-{field_name}-errors.xlsx")
            if result.ok:
                flash(_("Imported %(count)s rows", count=result.saved), "success")
                return redirect(url_for(".show", name=name, record_id=record_id))
        return self.render_template(
            "configuration/entity_import.html",
            result=result,
            error_link=_data_link(result),
            record=record,
            table=spec,
            **self._context(runtime),
        )


def _data_link(result) -> str | None:
    """The error workbook as a link the page carries (only the bad rows: small)."""
    if result is None or not result.error_workbook:
        return None
    return f"data:{XLSX};base64," + base64.b64encode(result.error_workbook).decode("ascii")


def _store_name(node_id) -> str:
    from app.organisation.models import OrgNode

    node = db.session.get(OrgNode, node_id)
    return node.name if node is not None else str(node_id)


def _audit_export(runtime: EntityRuntime, rows: int, hidden, **detail) -> None:
    unmasked = [f for f in masking.masked_fields(runtime.definition) if f not in hidden]
    record_event(
        db.session,
        AuditAction.EXPORT,
        tenant_id=_user_tenant(),
        org_node_id=getattr(g.user, "org_node_id", None),
        entity=runtime.definition.table,
        detail={"rows": rows, "unmasked": unmasked, **detail},
    )
    db.session.commit()


def shown(runtime: EntityRuntime, spec: dict, value, lang: str, hidden: set[str], name=None) -> str:
    """A value as the user may see it: a masked field starred unless their role may see it."""
    text = display(runtime, spec, value, lang)
    return masking.mask_value(text) if (name or spec["name"]) in hidden else text


def _audit_unmasked(runtime: EntityRuntime, record_ids, how: str, columns=None) -> None:
    masking.audit_unmasked(db.session, runtime.definition, g.user, record_ids, how, columns)
    db.session.commit()


def _mask_form(form, runtime: EntityRuntime, record, fresh: bool) -> set[str]:
    """Masked fields of an edit form: for a user who may not see them, emptied, with the starred
    value as placeholder (left empty, the value is kept); for one who may, audited."""
    hidden = {n for n in masking.hidden_fields(runtime.definition, g.user) if "." not in n}
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
    from app.configuration.menu import entity_menu_entries
    from app.web.navigation import register_menu_provider

    register_api(appbuilder)
    register_menu_provider(entity_menu_entries)
