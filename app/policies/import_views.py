"""The console screen of the book import: upload a file, see every refused row (row, column,
message) and the counts, download the row-error workbook, then import — all rows when all are
good, or only the good rows when the operator ticks the box.

The uploaded file waits under STORAGE_PATH/imports/policies/<token> between the check and the
import, with a note of who uploaded it; only that user may import or download its errors."""

from __future__ import annotations

import io
import json
import re
import secrets
from pathlib import Path

from flask import abort, current_app, g, request, send_file
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from sqlalchemy import select

from app.errors import as_domain_error
from app.extensions import db
from app.organisation.models import NodeKind, OrgNode
from app.policies import importing

TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
SUFFIXES = {".csv", ".xlsx", ".txt"}


def _folder() -> Path:
    folder = Path(current_app.config["STORAGE_PATH"]) / "imports" / "policies"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _mapping_keys() -> list[str]:
    import datetime

    from app.configuration.lookup import documents_in_force

    keys = {
        version.data["key"]
        for version in documents_in_force(
            db.session,
            "policy_import_mapping",
            getattr(g.user, "tenant_id", None),
            datetime.date.today(),
        )
    }
    keys |= {path.stem for path in importing.CORE_MAPPINGS.glob("*.yaml")}
    return sorted(keys)


def _stores() -> list[tuple[str, str]]:
    nodes = db.session.scalars(
        select(OrgNode).where(OrgNode.kind == NodeKind.STORE).order_by(OrgNode.code)
    ).all()
    return [(n.code, f"{n.name}（{n.code}）") for n in nodes]


class PolicyImportView(BaseView):
    route_base = "/policies/import"
    default_view = "index"

    def _page(self, status: int = 200, **values):
        html = self.render_template(
            "policies/import.html",
            mappings=_mapping_keys(),
            stores=_stores(),
            **{"summary": None, "token": None, "error": None, "chosen": {}, **values},
        )
        return html, status

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        return self._page()

    @expose("/check", methods=["POST"])
    @has_access
    @permission_name("upload")
    def check(self):
        upload = request.files.get("file")
        chosen = {
            "mapping": request.form.get("mapping", "standard_book"),
            "store": request.form.get("store") or None,
        }
        if upload is None or not upload.filename:
            return self._page(422, error="请选择要导入的文件（.xlsx 或 .csv）", chosen=chosen)
        suffix = Path(upload.filename).suffix.lower()
        if suffix not in SUFFIXES:
            return self._page(422, error="只支持 .xlsx 或 .csv 文件", chosen=chosen)
        token = secrets.token_urlsafe(24)
        path = _folder() / f"{token}{suffix}"
        upload.save(path)
        note = {
            "user_id": g.user.id,
            "filename": upload.filename,
            "suffix": suffix,
            **chosen,
        }
        (_folder() / f"{token}.json").write_text(json.dumps(note, ensure_ascii=False))
        try:
            summary = self._importer(note).check(path)
        except Exception as exc:
            return self._refused(exc, chosen)
        if summary.errors:
            (_folder() / f"{token}.errors.xlsx").write_bytes(importing.error_workbook(summary))
        return self._page(summary=summary, token=token, chosen=chosen)

    @expose("/run", methods=["POST"])
    @has_access
    @permission_name("upload")
    def run(self):
        token = request.form.get("token", "")
        note, path = self._upload(token)
        accept = request.form.get("accept_good_rows") == "on"
        try:
            summary = self._importer(note).import_rows(path, accept_good_rows=accept)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            return self._refused(exc, note)
        if summary.imported:
            for leftover in _folder().glob(f"{token}*"):
                leftover.unlink(missing_ok=True)
        return self._page(summary=summary, token=None if summary.imported else token, chosen=note)

    @expose("/errors/<token>")
    @has_access
    @permission_name("upload")
    def errors(self, token: str):
        self._upload(token)
        workbook = _folder() / f"{token}.errors.xlsx"
        if not workbook.exists():
            abort(404)
        return send_file(
            io.BytesIO(workbook.read_bytes()),
            as_attachment=True,
            download_name="保单导入错误.xlsx",
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )

    def _upload(self, token: str) -> tuple[dict, Path]:
        if not TOKEN.match(token or ""):
            abort(404)
        note_path = _folder() / f"{token}.json"
        if not note_path.exists():
            abort(404)
        note = json.loads(note_path.read_text())
        if note.get("user_id") != g.user.id:
            abort(404)
        path = _folder() / f"{token}{note['suffix']}"
        if not path.exists():
            abort(404)
        return note, path

    def _importer(self, note: dict) -> importing.PolicyImporter:
        mapping = importing.load_mapping(
            db.session, note["mapping"], getattr(g.user, "tenant_id", None)
        )
        return importing.PolicyImporter(
            db.session,
            mapping,
            default_store=note.get("store") or None,
            tenant_id=getattr(g.user, "tenant_id", None),
            source_name=note.get("filename", ""),
        )

    def _refused(self, exc: Exception, chosen: dict):
        error = as_domain_error(exc)
        if error is None:
            raise exc
        db.session.rollback()
        return self._page(422, error=error.message("zh"), chosen=chosen)
