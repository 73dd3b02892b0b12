"""One family of domain errors, and the one place that turns any refusal into an answer.

Domain code raises a `DomainError` subclass (or one of the older errors listed in
`as_domain_error`, which are translated here). The web tier answers it once:

- REST APIs (paths under ``/api/``) answer JSON in Flask-AppBuilder's error shape, plus a
  stable code and the field: ``{"message": ..., "code": "conflict", "field": "plate"}``. When
  several fields are wrong, ``message`` is ``{field: [message, ...]}`` like FAB's own 422.
- Screens flash the message, or mark the field on the form (`form_error`).

Messages carry English and Chinese; the language follows the request (`request_language`): the
console's locale for screens, ``Accept-Language`` for APIs (English by default, so API clients
and logs keep the English wording).

`init_errors(app)` registers the handlers; Flask-AppBuilder's REST APIs catch every exception
themselves, so `app.web.base.DealerModelApi` sends what they catch through `answer` as well.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, flash, jsonify, redirect, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# A message is one text for both languages or an (english, chinese) pair.
Text = str | tuple[str, str]


def _pick(text: Text, lang: str) -> str:
    if isinstance(text, tuple):
        english, chinese = text
        return chinese if lang == "zh" else english
    return text


class DomainError(Exception):
    """A refusal the user can act on: an HTTP status, a stable `code`, where (field, row,
    column) and a message in English and Chinese. Subclasses fix the status."""

    status = 400
    code = "bad_request"
    default_chinese = "请求有误"

    def __init__(
        self,
        message: str = "",
        chinese: str = "",
        *,
        field: str | None = None,
        row: int | None = None,
        column: str | None = None,
        code: str | None = None,
        errors: Mapping[str, Text] | None = None,
    ) -> None:
        self.english = message or type(self).__doc__.split("\n")[0].strip(" .")
        self.chinese = chinese or (message or self.default_chinese)
        self.field = field
        self.row = row
        self.column = column
        self.errors = dict(errors or {})
        if code:
            self.code = code
        super().__init__(self.english)

    def message(self, lang: str = "en") -> str:
        return self.chinese if lang == "zh" else self.english

    def field_messages(self, lang: str = "en") -> dict[str, str]:
        """Field → message for every field named, in `lang`."""
        named = {name: _pick(text, lang) for name, text in self.errors.items()}
        if self.field and self.field not in named:
            named[self.field] = self.message(lang)
        return named

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message(lang), "code": self.code}
        if self.errors:
            body["message"] = {k: [v] for k, v in self.field_messages(lang).items()}
        body["field"] = self.field or next(iter(self.errors), None)
        if self.row is not None:
            body["row"] = self.row
        if self.column is not None:
            body["column"] = self.column
        return body


class BadInput(DomainError):
    """The request is malformed."""

    status = 400
    code = "bad_input"
    default_chinese = "请求格式不正确"


class ValidationFailed(DomainError):
    """A value is not acceptable."""

    status = 422
    code = "validation_failed"
    default_chinese = "输入的值不正确"


class NotFound(DomainError):
    """Not found."""

    status = 404
    code = "not_found"
    default_chinese = "记录不存在"


class Forbidden(DomainError):
    """Forbidden."""

    status = 403
    code = "forbidden"
    default_chinese = "无权进行此操作"


class Conflict(DomainError):
    """The request conflicts with what is stored (a duplicate, something already done)."""

    status = 409
    code = "conflict"
    default_chinese = "与已有数据冲突（重复或已处理）"


class TooLarge(DomainError):
    """The request is too large."""

    status = 413
    code = "too_large"
    default_chinese = "请求内容过大"


class Unavailable(DomainError):
    """A service we depend on is unavailable; try again later."""

    status = 503
    code = "unavailable"
    default_chinese = "服务暂不可用，请稍后再试"


# --- translating the older errors of the ground and the engines --------------------------------


def as_domain_error(exc: BaseException) -> DomainError | None:
    """`exc` as a DomainError, or None when it is not a refusal (a bug: answer 500)."""
    if isinstance(exc, DomainError):
        return exc
    for kind, translate in _translators():
        if isinstance(exc, kind):
            return translate(exc)
    return None


def _translators():
    # Imported here: the ground and the engines must not import the web tier at load time,
    # and this module is imported by them.
    from sqlalchemy.exc import DataError, IntegrityError

    from app.configuration.entities import FieldError
    from app.configuration.reading import PackError
    from app.configuration.records import RecordErrors
    from app.configuration.uploads import UploadError
    from app.identifiers import InvalidIdentifier
    from app.tenancy.scope import ScopeViolation
    from rules.errors import RuleError

    return (
        (ScopeViolation, _from_scope_violation),
        (InvalidIdentifier, _from_identifier),
        (IntegrityError, from_integrity_error),
        (DataError, _from_data_error),
        (RecordErrors, _from_record_errors),
        (FieldError, _from_field_error),
        (RuleError, _from_rule_error),
        (PackError, _from_pack_error),
        (UploadError, lambda exc: ValidationFailed(str(exc), code="bad_upload")),
        (ValueError, _from_value_error),
        (RecursionError, lambda exc: BadInput("input nested too deeply", "输入嵌套层级过深")),
        (OverflowError, lambda exc: BadInput("a number is out of range", "数值超出范围")),
    )


def _from_scope_violation(exc) -> DomainError:
    # "Not found, not forbidden": a reference or a store outside the writer's scope is answered
    # like a missing one, so the answer does not tell which ids exist elsewhere.
    field = getattr(exc, "field", None) or "org_node_id"
    return ValidationFailed(
        f"{field}: not found in your scope",
        f"{field}：在您的权限范围内不存在",
        field=field,
        code="out_of_scope",
    )


def _from_identifier(exc) -> DomainError:
    return ValidationFailed(
        str(exc),
        exc.message("zh"),
        field=getattr(exc, "field", None) or validated_attribute(exc),
        code="invalid_identifier",
    )


def _from_value_error(exc) -> DomainError | None:
    """A model's `@validates` method refusing a value (a ValueError while SQLAlchemy sets the
    attribute) is a refusal naming that attribute; any other ValueError is a bug."""
    field = validated_attribute(exc)
    if field is None:
        return None
    return ValidationFailed(f"{field}: {exc}", f"{field}：{exc}", field=field)


def validated_attribute(exc: BaseException) -> str | None:
    """The model attribute whose `@validates` method raised `exc`, if it was one: SQLAlchemy
    runs validators from its attribute events, whose frame holds the attribute's key."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name in _VALIDATOR_EVENTS and frame.f_globals.get("__name__") == (
            "sqlalchemy.orm.util"
        ):
            key = frame.f_locals.get("key")
            found = key if isinstance(key, str) else found
        tb = tb.tb_next
    return found


_VALIDATOR_EVENTS = {"set_", "append", "bulk_set"}


def _from_data_error(exc) -> DomainError:
    # The database refused a value of the wrong type or range (a filter on a date column with
    # "abc", an id past 64 bits); the statement never ran.
    return BadInput("a value has the wrong type or is out of range", "某个值的类型或范围不正确")


def _from_record_errors(exc) -> DomainError:
    errors = {
        name: (exc.errors[name], exc.chinese.get(name, exc.errors[name])) for name in exc.errors
    }
    return ValidationFailed("some fields are wrong", "部分字段有误", errors=errors)


def _from_field_error(exc) -> DomainError:
    return ValidationFailed(exc.message, exc.chinese, field=exc.field)


def _from_rule_error(exc) -> DomainError:
    return ValidationFailed(exc.message("en"), exc.message("zh"), code=f"rule.{exc.code}")


def _from_pack_error(exc) -> DomainError:
    return ValidationFailed(str(exc), code="bad_pack")


SCOPE_COLUMNS = {"tenant_id", "org_node_id"}
_SQLITE_COLUMNS = re.compile(r"constraint failed: (.+)$")
_POSTGRES_KEY = re.compile(r"Key \(([^)]*)\)")


def from_integrity_error(exc) -> DomainError:
    """A unique violation → 409 naming the field; a missing value or a dangling reference → 422.
    Works from PostgreSQL's diagnostics and from SQLite's message."""
    orig = getattr(exc, "orig", exc)
    text = str(orig)
    sqlstate = getattr(orig, "sqlstate", None) or ""
    field = _integrity_field(orig, text)
    if sqlstate == "23505" or "UNIQUE constraint failed" in text:
        return Conflict(
            f"{field or 'record'}: already exists",
            f"{field or '记录'}：已存在",
            field=field,
            code="duplicate",
        )
    if sqlstate == "23502" or "NOT NULL constraint failed" in text:
        return ValidationFailed(
            f"{field}: is required", f"{field}：必填", field=field, code="required"
        )
    if sqlstate == "23503" or "FOREIGN KEY constraint failed" in text:
        return ValidationFailed(
            f"{field or 'reference'}: not found",
            f"{field or '引用'}：不存在",
            field=field,
            code="dangling_reference",
        )
    return ValidationFailed("a value breaks a rule of the table", "某个值违反了数据约束")


def _integrity_field(orig, text: str) -> str | None:
    diag = getattr(orig, "diag", None)
    columns: list[str] = []
    if diag is not None:
        if getattr(diag, "column_name", None):
            return diag.column_name
        match = _POSTGRES_KEY.search(getattr(diag, "message_detail", None) or "")
        if match:
            columns = [c.strip() for c in match.group(1).split(",")]
    else:
        match = _SQLITE_COLUMNS.search(text.splitlines()[0] if text else "")
        if match:
            columns = [c.strip().split(".")[-1] for c in match.group(1).split(",")]
    named = [c for c in columns if c not in SCOPE_COLUMNS] or columns
    return named[-1] if named else None


# --- answering ----------------------------------------------------------------------------------


def request_language() -> str:
    """ "zh" or "en": the console's locale on screens, Accept-Language (default English) on APIs."""
    if is_api_request():
        best = request.accept_languages.best_match(["en", "zh"], default="en")
        return "zh" if best.startswith("zh") else "en"
    from flask_babel import get_locale

    locale = get_locale()
    return "zh" if locale is None or str(locale).startswith("zh") else "en"


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def api_answer(error: DomainError) -> Response:
    response = jsonify(error.to_json(request_language()))
    response.status_code = error.status
    return response


def answer(exc: BaseException) -> Response | None:
    """The answer to `exc` for the current request, or None when it is not a refusal. Rolls the
    session back: a refused write leaves nothing behind and the connection usable."""
    error = as_domain_error(exc)
    if error is None:
        return None
    _rollback()
    if is_api_request():
        return api_answer(error)
    return screen_answer(error)


def screen_answer(error: DomainError) -> Response:
    """A refusal met outside a form: flash it and go back, or show it on a page of its own."""
    message = error.message(request_language())
    if request.method != "GET" and request.referrer:
        flash(message, "danger")
        return redirect(request.referrer)
    return Response(_error_page(error.status, message), status=error.status)


# What a screen says for each status: a title and a sentence, in English and Chinese.
STATUS_TEXTS: dict[int, tuple[Text, Text]] = {
    400: (
        ("Bad request", "请求有误"),
        ("The request could not be understood.", "请求的格式不正确，请返回重试。"),
    ),
    401: (("Please log in", "请先登录"), ("Log in to see this page.", "登录后才能查看此页面。")),
    403: (
        ("No access", "无权访问"),
        ("Your role does not allow this page.", "您的角色无权查看此页面，如需开通请联系管理员。"),
    ),
    404: (
        ("Page not found", "页面不存在"),
        (
            "This page or record does not exist, or is outside what you may see.",
            "此页面或记录不存在，或不在您的查看范围内。",
        ),
    ),
    405: (
        ("Not allowed", "不支持此操作"),
        ("This page does not accept that.", "此页面不支持该操作方式。"),
    ),
    413: (
        ("Too large", "内容过大"),
        ("What was sent is too large.", "提交的内容过大，请缩小后重试。"),
    ),
    429: (("Too many requests", "操作过于频繁"), ("Please wait and try again.", "请稍候再试。")),
    500: (
        ("Something went wrong", "系统出错了"),
        (
            "The error was recorded. Try again; if it keeps happening, tell your administrator.",
            "错误已记录。请稍后重试；如果问题持续，请联系管理员。",
        ),
    ),
    503: (("Unavailable", "服务暂不可用"), ("Please try again later.", "请稍后再试。")),
}


def status_texts(status: int, lang: str) -> tuple[str, str]:
    """(title, sentence) for `status` in `lang`: of the status, else of its class (4xx, 5xx)."""
    texts = STATUS_TEXTS.get(status) or STATUS_TEXTS[500 if status >= 500 else 400]
    return _pick(texts[0], lang), _pick(texts[1], lang)


def _error_page(status: int, message: str | None = None) -> str:
    from flask import current_app

    title, sentence = status_texts(status, request_language())
    appbuilder = current_app.appbuilder
    try:
        return render_template(
            "dealercover/error.html",
            status=status,
            title=title,
            message=message or sentence,
            appbuilder=appbuilder,
            base_template=appbuilder.base_template,
        )
    except Exception:  # the page itself failed (a broken database behind the menu): plain text
        log.exception("error page for %s could not be rendered", status)
        _rollback()
        return f"<!DOCTYPE html><title>{status}</title><h1>{status} {title}</h1><p>{sentence}</p>"


def form_error(form, exc: BaseException) -> bool:
    """Show a refusal on a WTForms form: on its field when the form has it, else as a flash.
    Returns False (and shows nothing) when `exc` is not a refusal, so the caller re-raises."""
    error = as_domain_error(exc)
    if error is None:
        return False
    _rollback()
    lang = request_language()
    named = error.field_messages(lang)
    shown = False
    for name, message in named.items():
        field = getattr(form, name, None) if form is not None else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), message]
            shown = True
    if not shown:
        flash(error.message(lang), "danger")
    return True


def _rollback() -> None:
    from app.extensions import db

    try:
        db.session.rollback()
    except Exception:  # a broken connection must not hide the refusal
        log.exception("rollback after a refused request failed")


def init_errors(app: Flask) -> None:
    """Register the one mapping of refusals to answers. Called once from `create_app`.

    Only refusals are handled: a bug still reaches Flask's 500 (JSON on APIs), and propagates
    in tests."""
    for kind in (DomainError, *(kind for kind, _ in _translators())):
        app.register_error_handler(kind, answer_or_raise)
    app.register_error_handler(HTTPException, _http_answer)
    app.before_request(refuse_impossible_ids)
    app.before_request(refuse_unknown_actions)


ID_LIMIT = 2**63  # BIGINT's range on PostgreSQL, INTEGER's on SQLite


def refuse_impossible_ids() -> None:
    """An id in the path that no row can have (past 64 bits, or not a number where the model's
    key is) is simply not found: answered 404 before any query, on every screen and API.

    Flask-AppBuilder's routes take `<pk>` as text; our own take `<int:...>`, which werkzeug
    does not bound."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, bool):
            continue
        is_id = isinstance(value, int) or (name == "pk" and _integer_keyed_view())
        if is_id and not _possible_id(value):
            raise NotFound()


def refuse_unknown_actions() -> None:
    """Flask-AppBuilder's `action/<name>/<pk>` and `action_post` look the action up and call
    it without checking it exists: a name the view does not have was an AttributeError (500).
    Answered here instead: not found in the path, a bad `action` field in a form."""
    endpoint = request.endpoint or ""
    if not endpoint.endswith((".action", ".action_post")):
        return
    from flask import current_app

    view = getattr(current_app.view_functions.get(endpoint), "__self__", None)
    actions = getattr(view, "actions", None)
    if actions is None:
        return
    if endpoint.endswith(".action"):
        if (request.view_args or {}).get("name") not in actions:
            raise NotFound()
    elif request.form.get("action") not in actions:
        raise BadInput("action: no such action", "action：没有这个操作", field="action")


def _possible_id(value) -> bool:
    text = str(value).strip()
    if not re.fullmatch(r"-?\d{1,19}", text):
        return False
    return -ID_LIMIT <= int(text) < ID_LIMIT


def _integer_keyed_view() -> bool:
    from flask import current_app
    from sqlalchemy import Integer

    view = getattr(current_app.view_functions.get(request.endpoint), "__self__", None)
    datamodel = getattr(view, "datamodel", None)
    if datamodel is None:
        return True  # our own `<pk>` routes are all integer keys
    table = datamodel.obj.__table__
    return all(isinstance(column.type, Integer) for column in table.primary_key.columns)


def answer_or_raise(exc: BaseException) -> Response:
    mapped = answer(exc)
    if mapped is None:  # a subclass that is not a refusal after all
        raise exc
    return mapped


def _http_answer(exc: HTTPException):
    """werkzeug's own answers (404, 405, 413, 500 …): a page of the console on screens, in the
    user's language; JSON in the same shape as our refusals on APIs."""
    if exc.code is None or exc.code < 400:
        return exc
    if not is_api_request():
        if exc.code == 500:
            _rollback()
        words = getattr(exc, "words", None)  # our own refusals say why (request_limits)
        message = words.get("en" if request_language() == "en" else "zh") if words else None
        response = Response(_error_page(exc.code, message), status=exc.code, mimetype="text/html")
        for name, value in exc.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value  # Allow (405), Retry-After (429, 503)
        return response
    if exc.code == 500:
        log.error("unhandled error on %s %s", request.method, request.path)
        _rollback()
    code = {
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        500: "internal",
    }.get(exc.code, "http")
    response = jsonify({"message": exc.description or exc.name, "code": code, "field": None})
    response.status_code = exc.code
    return response
