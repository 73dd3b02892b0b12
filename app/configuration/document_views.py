"""The configuration centre's screens for business admins: documents and their versions, the
editors (schema form, YAML, and a grid for decision tables), the rule simulator and pack
upload.

- A document's page shows a version the way its kind reads (the kind's presenter,
  app.configuration.presenting), its versions, and buttons to edit, try and publish.
- Two versions compare side by side (app.configuration.diffing): a decision table row by row
  and cell by cell, other kinds field by field and line by line.
- The grid edits a decision table's rows; each cell is checked by the rules engine's parser as
  it is typed and the table's gaps and overlaps are recomputed. Saving makes a draft version;
  publishing goes through `publish_version`, as the versions list does.
"""

from __future__ import annotations

import json

import yaml
from flask import abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from packaging.version import InvalidVersion, Version
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import rules
from app.configuration import simulator
from app.configuration.api import document_problems
from app.configuration.diffing import compare_versions
from app.configuration.install import publish_version, save_draft
from app.configuration.models import Document, DocumentVersion, VersionStatus
from app.configuration.presenting import present
from app.configuration.presenting_tables import HIT_POLICY_LABELS, table_view
from app.configuration.reading import (
    PackError,
    Problem,
    bundled_body_schema,
    parse_yaml,
    read_pack,
    schema_problems,
)
from app.configuration.schema_words import localised_schema
from app.configuration.views import LABELS, _lang, _user_tenant, kind_label, owner_label
from app.extensions import db
from app.tenancy.scope import ScopeViolation
from app.web.base import DealerModelView
from app.web.formatting import local_time
from rules.editing import check_cell

MAX_GRID_ROWS = 5000
MAX_CELL = 2000


class DocumentView(DealerModelView):
    """The documents, and each one's page: its content the way its kind reads, its versions,
    and two versions compared side by side."""

    datamodel = SQLAInterface(Document)
    base_permissions = ["can_list", "can_show", "can_export"]
    method_permission_name = {"compare": "show"}
    list_title = show_title = _l("Documents")
    label_columns = LABELS
    list_columns = ["kind", "key", "current_version", "pack", "tenant_id"]
    formatters_columns = {
        "tenant_id": lambda tenant_id: _owner(tenant_id),
        "kind": kind_label,
        "key": lambda key: Markup("<code>{}</code>").format(key),  # an identifier, as such
        "current_version": lambda version: _version_words(version),
    }
    show_columns = list_columns
    search_columns = ["kind", "key", "pack"]
    base_order = ("kind", "asc")

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        document = document_or_404(pk)
        shown = version_or_404(document, request.args.get("version", type=int))
        return self.render_template(
            "configuration/document_show.html",
            document=document,
            shown=shown,
            presentation=present(document.kind, shown.data, _lang()),
            versions=list(reversed(document.versions)),
            kind_label=kind_label(document.kind),
            owner=_owner(document.tenant_id),
            can_edit=_may("can_edit", "DocumentEditorView") and _changeable(document),
            can_publish=_may("publish", "DocumentVersionView"),
            is_rule=document.kind in ("decision_table", "rule_set"),
            previous=previous_version(document, shown),
            local_time=local_time,
        )

    @expose("/compare/<pk>", methods=["GET"])
    @has_access
    def compare(self, pk):
        """Two versions side by side: by default the newest and the one before it."""
        document = document_or_404(pk)
        versions = list(document.versions)
        new = version_or_404(document, request.args.get("b", type=int) or versions[-1].id)
        old_id = request.args.get("a", type=int)
        old = version_or_404(document, old_id) if old_id else previous_version(document, new)
        if old is None:
            flash(_("This document has one version only: nothing to compare"), "info")
            return redirect(url_for(".show", pk=document.id))
        return self.render_template(
            "configuration/document_compare.html",
            document=document,
            old=old,
            new=new,
            versions=list(reversed(versions)),
            comparison=compare_versions(document.kind, old.data, new.data),
            kind_label=kind_label(document.kind),
        )


def _owner(tenant_id: int | None) -> str:
    """Who owns a document in words: the platform, or the tenant by name."""
    if tenant_id is None:
        return owner_label(None)
    from app.organisation.models import Tenant

    tenant = db.session.get(Tenant, tenant_id)
    return tenant.name if tenant is not None else owner_label(tenant_id)


def _version_words(version: DocumentVersion | None) -> str:
    """A version in the list: its title and number (版本 1.0.2)."""
    if version is None:
        return ""
    return _("%(title)s (version %(version)s)", title=version.title, version=version.version)


def _changeable(document: Document) -> bool:
    """A tenant's users change their tenant's documents; the platform's only its admins."""
    return document.tenant_id is not None or _user_tenant() is None


def _may(permission: str, view: str) -> bool:
    return bool(current_app.appbuilder.sm.has_access(permission, view))


def document_or_404(pk) -> Document:
    """The document if the user's scope sees it (the scope filters the query)."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        abort(404)
    if not 0 < number < 2**31:
        abort(404)
    document = db.session.scalar(select(Document).where(Document.id == number))
    return document or abort(404)


def version_or_404(document: Document, version_id: int | None) -> DocumentVersion:
    """A version of the document by id; by default the current one (or the newest draft of a
    document never published)."""
    if version_id is None:
        chosen = document.current_version or document.draft
    else:
        chosen = next((v for v in document.versions if v.id == version_id), None)
    return chosen or abort(404)


def previous_version(document: Document, version: DocumentVersion) -> DocumentVersion | None:
    """What `version` is compared with: for a draft, the current version; otherwise the
    version published (or saved) before it."""
    current = document.current_version
    if version.status == VersionStatus.DRAFT and current is not None and current.id != version.id:
        return current
    earlier = [v for v in document.versions if v.id < version.id]
    published = [v for v in earlier if v.status == VersionStatus.PUBLISHED]
    return (published or earlier or [None])[-1]


def next_version(document: Document) -> str:
    """A version above every version of the document, for the next draft."""
    try:
        highest = max((v.version for v in document.versions), key=Version)
    except (InvalidVersion, ValueError):
        return ""
    return simulator.next_patch(highest)


class DocumentEditorView(BaseView):
    """Edit a document: a form built from its schema (Chinese labels and help) beside its YAML,
    validated live with errors naming the field; a decision table also in a grid. Saving
    makes a draft version; publishing goes through `publish_version`."""

    route_base = "/documents"
    default_view = "edit"
    method_permission_name = {
        "edit": "edit",
        "grid": "edit",
        "check_cell": "edit",
        "check_table": "edit",
        "publish": "edit",
    }

    @expose("/<int:document_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, document_id: int):
        document = document_or_404(document_id)
        base = document.draft or document.current_version
        text = request.form.get("text", "") if request.method == "POST" else as_yaml(base.data)
        problems = []
        if request.method == "POST":
            problems = document_problems(text, f"{document.kind}/{document.key}.yaml", _lang())
            data = parse_yaml(text)[0] if not problems else None
            if data and (data.get("kind"), data.get("key")) != (document.kind, document.key):
                problems.append(Problem("editor", document.key, _("kind and key cannot change")))
            if not problems:
                draft = _save(document, data)
                if draft is not None:
                    return redirect(url_for("DocumentView.show", pk=document.id, version=draft.id))
        return self.render_template(
            "configuration/document_editor.html",
            document=document,
            text=text,
            problems=problems,
            data=base.data,
            body_schema=localised_schema(bundled_body_schema(document.kind), _lang()),
            kind_label=kind_label(document.kind),
            has_grid=document.kind == "decision_table",
            lang=_lang(),
        )

    @expose("/<int:document_id>/grid", methods=["GET", "POST"])
    @has_access
    def grid(self, document_id: int):
        """A decision table as a grid: add, move and delete rows, cells checked as typed."""
        document = document_or_404(document_id)
        if document.kind != "decision_table":
            abort(404)
        base = document.draft or document.current_version
        data, problems = base.data, []
        if request.method == "POST":
            data, problems = grid_submission(base.data, request.form)
            if not problems:
                draft = _save(document, data)
                if draft is not None:
                    return redirect(url_for("DocumentView.show", pk=document.id, version=draft.id))
        view = table_view(data, _lang(), use="live")
        return self.render_template(
            "configuration/document_grid.html",
            document=document,
            base=base,
            data=data,
            view=view,
            version=data.get("version") if request.method == "POST" else next_version(document),
            problems=problems,
            kind_label=kind_label(document.kind),
            hit_policies=rules.HIT_POLICIES,
            hit_policy_labels={k: str(v) for k, v in HIT_POLICY_LABELS.items()},
            grid_config=_grid_config(document, view),
        )

    @expose("/cell", methods=["POST"])
    @has_access
    def check_cell(self):
        """One cell checked by the rules engine's parser: {inputs, outputs, column, side, text}
        → {ok, problems: [message]}; a malformed request is a 400 naming the field."""
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return _refused(_("Send a JSON object"), "body")
        for name in ("inputs", "outputs"):
            if not isinstance(payload.get(name), list) or not 0 < len(payload[name]) <= 60:
                return _refused(_("%(field)s must be a list of columns", field=name), name)
        column, side = payload.get("column"), payload.get("side", "input")
        if not isinstance(column, str) or side not in ("input", "output"):
            return _refused(_("column and side (input or output) are required"), "column")
        text = payload.get("text", "")
        if isinstance(text, bool) or not isinstance(text, str | int | float):
            return _refused(_("A cell is a text of at most 2000 characters"), "text")
        if len(str(text)) > MAX_CELL:
            return _refused(_("A cell is a text of at most 2000 characters"), "text")
        found = check_cell(payload["inputs"], payload["outputs"], column, text, side)
        lang = _lang()
        return jsonify({"ok": not found, "problems": [f.message(lang) for f in found]})

    @expose("/<int:document_id>/check", methods=["POST"])
    @has_access
    def check_table(self, document_id: int):
        """The table being edited, analysed: errors by row and column, overlaps, gaps."""
        document = document_or_404(document_id)
        if document.kind != "decision_table":
            abort(404)
        payload = request.get_json(silent=True)
        base = (document.draft or document.current_version).data
        try:
            data = grid_data(base, payload if isinstance(payload, dict) else None)
        except GridRefused as refused:
            return _refused(refused.message, refused.field)
        view = table_view(data, _lang(), use="live")
        rows = [
            {"number": r["number"], "marks": r["marks"], "warn": r["warn"]} for r in view["rows"]
        ]
        return jsonify(
            {"rows": rows, "gaps": view["gaps"], "errors": view["errors"], "notes": view["notes"]}
        )

    @expose("/<int:document_id>/publish/<int:version_id>", methods=["POST"])
    @has_access
    def publish(self, document_id: int, version_id: int):
        """Publish a draft through the one publish path, then show what changed."""
        document = document_or_404(document_id)
        version = version_or_404(document, version_id)
        if not _may("publish", "DocumentVersionView"):
            abort(403)
        previous = document.current_version
        here = url_for("DocumentView.show", pk=document.id, version=version.id)
        try:
            publish_version(db.session, version, g.user.username)
        except PackError as exc:
            for problem in exc.problems:
                flash(_("Not published: %(reason)s", reason=problem.message), "danger")
            return redirect(here)
        except (ScopeViolation, PermissionError):
            db.session.rollback()
            flash(_("You may not change this document"), "danger")
            return redirect(here)
        flash(_("Published %(doc)s", doc=f"{document.key} {version.version}"), "success")
        if previous is None:
            return redirect(url_for("DocumentView.show", pk=document.id))
        return redirect(
            url_for("DocumentView.compare", pk=document.id, a=previous.id, b=version.id)
        )


def _grid_config(document: Document, view: dict) -> dict:
    """What grid.js needs: the columns, the declarations to check cells against, the two
    check endpoints, and its words in the user's language."""
    return {
        "columns": [
            {"name": c["name"], "label": c["label"], "side": c["side"]} for c in view["columns"]
        ],
        "inputs": view["inputs"],
        "outputs": view["outputs"],
        "cellUrl": url_for("DocumentEditorView.check_cell"),
        "checkUrl": url_for("DocumentEditorView.check_table", document_id=document.id),
        "words": {
            "ok": _("No gaps or overlaps"),
            "problems": _("%(count)s to look at", count="{n}"),
            "gap": _("Gap"),
            "fill": _("Add this row"),
            "row": _("Row"),
            "moveUp": _("Move up"),
            "moveDown": _("Move down"),
            "delete": _("Delete row"),
            "description": _("Description"),
            "checking": _("checking…"),
            "unreadable": _("The check could not run; the table is checked again when it is saved"),
            "noRows": _("The table has no rows"),
        },
    }


def _save(document: Document, data: dict) -> DocumentVersion | None:
    try:
        draft = save_draft(db.session, document, data, g.user.username)
    except ScopeViolation:
        db.session.rollback()
        flash(_("You may not change this document"), "danger")
        return None
    except IntegrityError:
        db.session.rollback()
        flash(
            _(
                "Version %(version)s of this document exists already: raise the version",
                version=data.get("version"),
            ),
            "danger",
        )
        return None
    flash(_("Saved as draft %(version)s", version=draft.version), "success")
    return draft


def _refused(message, field: str):
    return jsonify({"message": str(message), "field": field}), 400


class GridRefused(Exception):
    def __init__(self, message: str, field: str) -> None:
        self.message, self.field = str(message), field
        super().__init__(self.message)


def grid_data(base: dict, payload: dict | None) -> dict:
    """The document with the grid's hit policy and rows (its inputs and outputs unchanged).
    `payload` is {"hit_policy", "rules": [{"when": {input: cell}, "then": {output: cell},
    "description"}]}; GridRefused names the row and column of what cannot be read."""
    if payload is None:
        raise GridRefused(_("Send the table as a JSON object"), "table")
    rows = payload.get("rules")
    if not isinstance(rows, list):
        raise GridRefused(_("rules must be a list of rows"), "rules")
    if len(rows) > MAX_GRID_ROWS:
        raise GridRefused(_("At most %(count)s rows", count=MAX_GRID_ROWS), "rules")
    body = dict(base["body"])
    names = {
        "when": [d["name"] for d in body["inputs"]],
        "then": [d["name"] for d in body["outputs"]],
    }
    as_lists = _written_as_lists(body.get("rules") or [])
    cleaned = []
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise GridRefused(_("Row %(row)s is not a row", row=number), f"rules[{number}]")
        rule: dict = {}
        for side, columns in names.items():
            cells = row.get(side) or {}
            if not isinstance(cells, dict):
                raise GridRefused(_("Row %(row)s is not a row", row=number), f"rules[{number}]")
            rule[side] = {}
            for name in columns:
                value = cells.get(name, "-")
                if not isinstance(value, str) or len(value) > MAX_CELL:
                    raise GridRefused(
                        _(
                            "Row %(row)s, column %(column)s: a cell is a short text",
                            row=number,
                            column=name,
                        ),
                        f"rules[{number}].{name}",
                    )
                rule[side][name] = value.strip() or "-"
        if as_lists:  # as the document was written, so a comparison shows only real changes
            rule = {side: [rule[side][name] for name in names[side]] for side in names}
        for extra in ("id", "description"):
            if isinstance(row.get(extra), str) and row[extra].strip():
                rule[extra] = row[extra].strip()[:200]
        cleaned.append(rule)
    body["rules"] = cleaned
    policy = payload.get("hit_policy", body.get("hit_policy", "first"))
    if policy not in rules.HIT_POLICIES:
        raise GridRefused(_("Unknown hit policy"), "hit_policy")
    body["hit_policy"] = policy
    return {**base, "body": body}


def _written_as_lists(rules_: list) -> bool:
    """Whether a table's rows write their cells as lists in declaration order."""
    first = next((r for r in rules_ if isinstance(r, dict)), None)
    return first is not None and isinstance(first.get("when", first.get("then")), list)


def grid_submission(base: dict, form) -> tuple[dict, list[str]]:
    """The document the grid's form describes, and why it cannot be saved: rows that cannot
    be read, schema errors naming the field, cells the rules engine refuses."""
    try:
        payload = json.loads(form.get("table", ""))
    except ValueError:
        return base, [_("The table could not be read: reload the page")]
    try:
        data = grid_data(base, payload if isinstance(payload, dict) else None)
    except GridRefused as refused:
        return base, [refused.message]
    data["version"] = (form.get("version") or "").strip()
    title = (form.get("title") or "").strip()
    if title:
        data["title"] = title[:255]
    lang = _lang()
    problems = [p.message for p in schema_problems("document", data, "grid", "grid", {}, lang)]
    if not problems:
        problems = [e["message"] for e in table_view(data, lang, use="live")["errors"]]
    return data, problems


class PackUploadView(BaseView):
    """Upload a zipped pack, read the plan in business words (documents added and changed,
    tables gaining columns, test cases), then install it — for the platform (platform admins)
    or for the user's own tenant."""

    route_base = "/packs"
    default_view = "upload"

    @expose("/upload", methods=["GET", "POST"])
    @has_access
    def upload(self):
        from app.configuration import uploads

        if request.method == "POST":
            try:
                token = uploads.unpack(request.files["pack"])
                return redirect(url_for(".review", token=token))
            except (KeyError, uploads.UploadError) as exc:
                flash(_("Upload refused: %(reason)s", reason=str(exc)), "danger")
        return self.render_template("configuration/pack_upload.html")

    @expose("/review/<token>", methods=["GET", "POST"])
    @has_access
    def review(self, token: str):
        from app.configuration import uploads
        from app.configuration.install import install_pack, plan_install
        from app.configuration.presenting_plan import plan_in_words

        tenant_id = _user_tenant()
        if request.method == "POST" and request.form.get("action") == "cancel":
            uploads.discard(token)
            flash(_("Upload cancelled: nothing was installed"), "info")
            return redirect(url_for(".upload"))
        try:
            source = read_pack(uploads.pack_folder(token))
        except (uploads.UploadError, PackError) as exc:
            uploads.discard(token)
            flash(str(exc), "danger")
            return redirect(url_for(".upload"))
        if request.method == "POST":
            try:
                plan = install_pack(db.session, source, tenant_id, g.user.username)
            except (PackError, ScopeViolation) as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                uploads.discard(token)
                flash(
                    _("Installed %(pack)s %(version)s", pack=plan.pack, version=plan.version),
                    "success",
                )
                return redirect(url_for("InstalledPackView.list"))
        plan = plan_install(db.session, source, tenant_id)
        words = plan_in_words(db.session, plan, source, tenant_id, _lang())
        db.session.rollback()
        return self.render_template(
            "configuration/pack_review.html", plan=plan, words=words, token=token
        )


class RuleSimulatorView(BaseView):
    """Try a decision table or rule set — its current version or a draft of it: inputs from its
    declaration, the answer and the trace ("why this number?"), and save the inputs as a test
    case. A draft tried here can be published from here."""

    route_base = "/rules"
    default_view = "simulator"

    @expose("/simulator/", methods=["GET", "POST"])
    @has_access
    def simulator(self):
        documents = simulator.rule_documents(db.session)
        chosen = request.values.get("document", type=int)
        document = next((d for d in documents if d.id == chosen), None)
        context = {
            "documents": documents,
            "document": document,
            "outcome": None,
            "form": None,
            "version": None,
            "can_publish": _may("publish", "DocumentVersionView"),
        }
        if document is not None:
            wanted = request.values.get("version", type=int)
            version = version_or_404(document, wanted) if wanted else document.current_version
            context["version"] = version
            compiled = simulator.compile_document(db.session, document, version=version)
            context["form"] = rules.form(compiled)
            inputs = {
                spec["name"]: request.form.get(spec["name"], "")
                for spec in context["form"]["inputs"]
            }
            context["inputs"] = inputs
            if request.method == "POST":
                given = _present(inputs)
                outcome = simulator.simulate(db.session, document, given, _lang(), version=version)
                context["outcome"] = outcome
                if outcome["ok"] and request.form.get("save"):
                    self._save_case(document, given, request.form.get("case_name"), version)
        return self.render_template("configuration/simulator.html", **context)

    def _save_case(self, document: Document, inputs: dict, name: str | None, version) -> None:
        try:
            draft = simulator.save_case_as_draft(
                db.session,
                document,
                inputs,
                name or _("Simulator case"),
                g.user.username,
                version=version,
            )
        except ScopeViolation:
            db.session.rollback()
            flash(_("You may not change this document"), "danger")
        else:
            flash(_("Saved as a test case in draft %(version)s", version=draft.version), "success")


def _present(inputs: dict) -> dict:
    return {k: v for k, v in inputs.items() if v not in ("", None)}


def as_yaml(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
