"""REST APIs of the configuration engine: `/api/v1/<entity>/` for every published entity (with
its OpenAPI document), lineage of a record, and live validation of a document."""

from __future__ import annotations

import io

from flask import Blueprint, current_app, g, jsonify, request, send_file
from flask_jwt_extended import current_user, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_wtf.csrf import ValidationError, validate_csrf
from jwt.exceptions import PyJWTError
from werkzeug.routing import BaseConverter

from app.configuration import attachments, masking, records, related, spreadsheets
from app.configuration.hooks import forget_told, told_saver
from app.configuration.openapi import entity_openapi
from app.configuration.reading import (
    REFUSED,
    PackError,
    Problem,
    parse_document,
    schema_problems,
)
from app.configuration.runtime import REGISTRY, EntityRuntime
from app.errors import answer as refusal_answer
from app.extensions import db
from app.web.paging import check_paging

blueprint = Blueprint("entity_api", __name__, url_prefix="/api/v1")
MAX_PAGE_SIZE = 500
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@blueprint.before_request
def _csrf_for_cookie_calls():
    """A call authenticated by the session cookie must carry the page's CSRF token in
    X-CSRFToken: a browser sends the cookie on any site's behalf, never a bearer token."""
    if request.method in SAFE_METHODS or "Authorization" in request.headers:
        return None
    if _user() is None:
        return None  # the route answers 401
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except ValidationError as exc:
        return _error(403, f"CSRF check failed: {exc}; send the page's csrf-token as X-CSRFToken")
    return None


def _user():
    """The bearer token's user when the request carries one, else the session's."""
    if "Authorization" not in request.headers:
        user = getattr(g, "user", None)
        return user if user is not None and getattr(user, "is_authenticated", False) else None
    try:
        verify_jwt_in_request()
        return current_user
    except (JWTExtendedException, PyJWTError):
        return None


def _error(status: int, message, **extra):
    return jsonify({"message": message, **extra}), status


def _entity(name: str, need: str = "read") -> tuple[EntityRuntime | None, tuple | None]:
    user = _user()
    if user is None:
        return None, _error(401, "authentication required")
    runtime = REGISTRY.get(db.session, name, getattr(user, "tenant_id", None))
    if runtime is not None and not has_api(runtime):
        runtime = None  # `api: false`: the entity has no REST API at all
    allowed = records.permission(runtime, user) if runtime else None
    if runtime is None or allowed is None or (need == "write" and allowed != "write"):
        return None, _error(404, "Not found")
    return runtime, None


def _record(name: str, record_id: int, access: str = "read"):
    """(runtime, record, None) for a record the caller may reach with `access`, else
    (.., .., the error answer): the entity's refusal, or 404 for a record outside their scope."""
    runtime, error = _entity(name, access)
    if error:
        return runtime, None, error
    record = records.get_record(db.session, runtime, record_id)
    if record is None:
        return runtime, None, _error(404, "Not found")
    return runtime, record, None


@blueprint.get("/<entity:name>/")
def list_records(name: str):
    runtime, error = _entity(name)
    if error:
        return error
    args = request.args.to_dict()
    try:
        page, size = int(args.pop("page", 0)), int(args.pop("page_size", 20))
    except ValueError:
        return _error(400, {"page": ["must be whole numbers"]})
    check_paging(page, size)
    size = min(size, MAX_PAGE_SIZE)
    search = args.pop("q", "")
    try:
        hidden = masking.hidden_fields(runtime.definition, _user())
        count, rows = records.list_records(db.session, runtime, search, args, page, size, hidden)
    except records.RecordErrors as exc:
        return _error(400, exc.errors)
    loaded = records.load_related(db.session, runtime, rows)
    result = [_shown(runtime, row, loaded) for row in rows]
    _audit_shown(runtime, rows, "api list")
    return jsonify({"count": count, "ids": [r["id"] for r in result], "result": result})


@blueprint.post("/<entity:name>/")
def create_record(name: str):
    runtime, error = _entity(name, "write")
    if error:
        return error
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _error(400, "send a JSON object")
    record, refusal = _saved(
        lambda: records.create_record(db.session, runtime, data, _user().username, user=_user())
    )
    if refusal:
        return refusal
    return jsonify(_saved_answer(runtime, record)), 201


def _saved(save):
    """Run a save; a refusal is answered by app.errors (bad fields or a store or reference
    outside the scope: 422 naming them; a duplicate: 409) and nothing is kept."""
    forget_told()
    try:
        return save(), None
    except Exception as exc:
        forget_told()
        refused = refusal_answer(exc)
        if refused is None:
            raise
        return None, refused


def _saved_answer(runtime: EntityRuntime, record) -> dict:
    """A saved record's answer, with what its hooks told the saver (`_notices`, once)."""
    answer = {"id": record.id, "result": _shown(runtime, record)}
    notices = told_saver()
    if notices:
        answer["_notices"] = notices
    return answer


@blueprint.get("/<entity:name>/<int:record_id>")
def get_record(name: str, record_id: int):
    runtime, record, error = _record(name, record_id)
    if error:
        return error
    _audit_shown(runtime, [record], "api get")
    result = _shown(runtime, record)
    if runtime.definition.body.get("related"):
        sections = related.related_sections(db.session, runtime, record, _user())
        result["_related"] = {section["key"]: section["rows"] for section in sections}
        totals = {section["key"]: section["totals"] for section in sections if section["totals"]}
        if totals:
            result["_totals"] = totals
    return jsonify({"id": record.id, "result": result})


@blueprint.put("/<entity:name>/<int:record_id>")
def update_record(name: str, record_id: int):
    runtime, record, error = _record(name, record_id, "write")
    if error:
        return error
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _error(400, "send a JSON object")
    record, refusal = _saved(
        lambda: records.update_record(db.session, runtime, record, data, user=_user())
    )
    if refusal:
        return refusal
    return jsonify(_saved_answer(runtime, record))


@blueprint.delete("/<entity:name>/<int:record_id>")
def delete_record(name: str, record_id: int):
    runtime, record, error = _record(name, record_id, "write")
    if error:
        return error
    records.delete_record(db.session, record, runtime)
    return jsonify({"message": "deleted"})


@blueprint.post("/<entity:name>/<int:record_id>/_transition")
def transition(name: str, record_id: int):
    """Move a record to another state: `{"to": "<state>"}` (409 when the transition is not
    declared or not the caller's role's)."""
    runtime, record, error = _record(name, record_id, "write")
    if error:
        return error
    if not runtime.definition.states:
        return _error(404, "Not found")
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("to"), str):
        return _error(400, {"to": ["send the new state as to"]})
    values = {k: v for k, v in data.items() if k != "to"}
    values[runtime.definition.states["field"]] = data["to"]
    record, refusal = _saved(
        lambda: records.update_record(db.session, runtime, record, values, user=_user())
    )
    if refusal:
        return refusal
    return jsonify(_saved_answer(runtime, record))


@blueprint.post("/<entity:name>/<int:record_id>/files/<field_name>")
def upload_file(name: str, record_id: int, field_name: str):
    """Upload one file (multipart `file`) to an attachment or photo field of a record."""
    runtime, record, error = _record(name, record_id, "write")
    if error:
        return error
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _error(400, {"file": ["send the file as multipart field file"]})
    data = upload.read(attachments.HARD_MAX_MB * attachments.MB + 1)

    def save():
        saved = attachments.save_file(
            db.session, runtime, record, field_name, upload.filename, data, _user().username
        )
        db.session.commit()
        return saved

    saved, refusal = _saved(save)
    if refusal:
        return refusal
    return jsonify({"id": saved.id, "result": _file_json(runtime, record, saved)}), 201


@blueprint.get("/<entity:name>/<int:record_id>/files/<int:file_id>")
def download_file(name: str, record_id: int, file_id: int):
    runtime, error = _entity(name)
    if error:
        return error
    record = records.get_record(db.session, runtime, record_id)
    found = attachments.get_file(db.session, runtime, record, file_id) if record else None
    if found is None:
        return _error(404, "Not found")
    response = send_file(
        io.BytesIO(attachments.read_bytes(found)),
        mimetype=found.content_type,
        as_attachment=True,
        download_name=found.filename,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.delete("/<entity:name>/<int:record_id>/files/<int:file_id>")
def delete_file(name: str, record_id: int, file_id: int):
    runtime, error = _entity(name, "write")
    if error:
        return error
    record = records.get_record(db.session, runtime, record_id)
    found = attachments.get_file(db.session, runtime, record, file_id) if record else None
    if found is None:
        return _error(404, "Not found")
    attachments.delete_file(db.session, found)
    db.session.commit()
    return jsonify({"message": "deleted"})


@blueprint.post("/<entity:name>/_import")
def import_records(name: str):
    """Import an Excel workbook of records (multipart `file`, `mode` all | good_rows): 200 with
    the count when all went in, 422 with every row and column named otherwise."""
    runtime, error = _entity(name, "write")
    if error:
        return error
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _error(400, {"file": ["send the workbook as multipart field file"]})
    data = upload.read(spreadsheets.MAX_IMPORT_BYTES + 1)
    mode = request.form.get("mode", "all")
    result, refusal = _saved(
        lambda: spreadsheets.import_records(db.session, runtime, data, _user(), mode)
    )
    if refusal:
        return refusal
    return jsonify(result.as_json()), 200 if result.ok else 422


def _file_json(runtime: EntityRuntime, record, found) -> dict:
    return {
        "id": found.id,
        "name": found.filename,
        "size": found.size,
        "content_type": found.content_type,
        "url": _file_url(runtime, record)(found),
    }


def _file_url(runtime: EntityRuntime, record):
    name = runtime.definition.name
    return lambda found: f"/api/v1/{name}/{record.id}/files/{found.id}"


@blueprint.get("/<entity:name>/_openapi")
def openapi(name: str):
    runtime, error = _entity(name)
    if error:
        return error
    return jsonify(entity_openapi(runtime))


@blueprint.get("/lineage/<table>/<record_id>")
def lineage(table: str, record_id: str):
    """The documents behind a record, for a user who may read the entity and see the record."""
    user = _user()
    if user is None:
        return _error(401, "authentication required")
    runtime = records.entity_of_table(db.session, table)
    if runtime is None or not has_api(runtime) or records.permission(runtime, user) is None:
        return _error(404, "Not found")
    if not (record_id.isascii() and record_id.isdigit()) or len(record_id) > 18:
        return _error(404, "Not found")
    if records.get_record(db.session, runtime, int(record_id)) is None:  # outside the scope
        return _error(404, "Not found")
    return jsonify({"result": records.lineage_of(db.session, table, record_id)})


def has_api(runtime: EntityRuntime) -> bool:
    return runtime.definition.body.get("api", True) is not False


def _shown(runtime: EntityRuntime, record, loaded=None) -> dict:
    """The record as the caller may see it: masked fields starred unless their role may not."""
    hidden = masking.hidden_fields(runtime.definition, _user())
    return records.record_to_dict(
        runtime,
        record,
        hidden,
        session=db.session,
        file_url=_file_url(runtime, record),
        loaded=loaded,
    )


def _audit_shown(runtime: EntityRuntime, rows, how: str) -> None:
    """Every answer that showed masked fields in full is audited (DOMAIN.md)."""
    masking.audit_unmasked(db.session, runtime.definition, _user(), [r.id for r in rows], how)
    db.session.commit()


@blueprint.post("/documents/validate")
def validate_document():
    """Live validation for the document editor: the same problems the CLI reports."""
    if _user() is None:
        return _error(401, "authentication required")
    payload = request.get_json(silent=True)
    payload = payload if isinstance(payload, dict) else {}
    text, file = payload.get("text", ""), payload.get("file", "document.yaml")
    if not isinstance(text, str) or not isinstance(file, str):
        return _error(400, {"text": ["send the document as a string"]})
    problems = document_problems(text, file, _lang())
    answer = {"ok": not problems, "problems": [_problem_json(p) for p in problems]}
    # Input refused unread (too large, too deep, anchors) is the client's error: 422.
    refused = any(p.message.startswith(REFUSED) for p in problems)
    return jsonify(answer), 422 if refused else 200


def document_problems(text: str, file: str, lang: str = "en") -> list[Problem]:
    """The problems of one document's text, read by the one safe reader, then its schema (in
    Chinese, naming the field, for `lang` "zh")."""
    try:
        data, lines = parse_document(text, "editor", file)
    except PackError as exc:
        return exc.problems
    return schema_problems("document", data, "editor", file, lines, lang)


def _lang() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return "en" if locale and locale.language == "en" else "zh"


def _problem_json(problem: Problem) -> dict:
    return {
        "line": problem.line,
        "path": problem.path,
        "message": problem.message,
        "text": str(problem),
    }


class EntityNameConverter(BaseConverter):
    """An entity name as the entity schema allows it (lower snake case, from a letter), so
    `/api/v1/_openapi` and other names starting with "_" are left to Flask-AppBuilder."""

    regex = r"[a-z][a-z0-9_]{0,62}"


def register_api(appbuilder) -> None:
    # FAB's own APIs (/api/v1/customer/ …) have static paths and win over `<name>`; entity names
    # may not be those of built-in models (the entity schema refuses them).
    current_app.url_map.converters["entity"] = EntityNameConverter
    current_app.register_blueprint(blueprint)
    csrf = current_app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(blueprint)
