"""Bounds on what a request may carry, checked before anything reads the body.

- Size: every request body is limited to REQUEST_MAX_BYTES (Flask's MAX_CONTENT_LENGTH, 16 MB
  by default). An endpoint that needs more (a pack upload, a policy import) names its own limit,
  either in the REQUEST_BODY_LIMITS setting (endpoint → bytes, or the name of the setting that
  holds them) or with the `body_limit` decorator. A larger body is answered 413 with a message
  saying the limit, before any of it is parsed.
- JSON nesting: a JSON body nested deeper than JSON_MAX_DEPTH (64) levels is answered 400
  before any view parses it (Python's parser would recurse until it gives up with a 500).
- JSON shape: every reader of a JSON body here wants an object, so a body that is JSON but not
  an object (`[1]`, `"x"`, `1e999`) is answered 400 naming `body`, in JSON. Unchecked, Flask-WTF
  turned it into a form's fields (a TypeError on every screen's form) and FAB's APIs choked
  on it (500). A body that is not JSON at all is left to the views, which already refuse it.
- JSON as a form: Flask-WTF reads a JSON object posted to a screen as the form's fields, values
  and all; a browser only ever sends text, and WTForms' validators (Length, our identifier
  checks) assumed it, so `{"plate": 12345}` was a TypeError. The values are read as text, so
  the form names the field that is wrong.

The check runs first among the before-request functions, ahead of the CSRF check that parses
forms, so the per-endpoint limit is the one in force when the body is read.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Flask, Response, current_app, request
from flask_wtf import FlaskForm
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

from app.errors import BadInput, TooLarge, api_answer, is_api_request

F = TypeVar("F", bound=Callable)

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# A JSON string (with its escapes) or one bracket: brackets inside strings are not nesting.
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def body_limit(limit: int | str) -> Callable[[F], F]:
    """Let one view accept bodies up to `limit` bytes (or the setting named `limit`)."""

    def mark(view: F) -> F:
        view.max_body_bytes = limit
        return view

    return mark


def limit_for_endpoint(endpoint: str | None) -> int:
    """The body limit in force for `endpoint`, in bytes."""
    config = current_app.config
    default = int(config["MAX_CONTENT_LENGTH"])
    if endpoint is None:
        return default
    limit = config.get("REQUEST_BODY_LIMITS", {}).get(endpoint)
    if limit is None:
        view = current_app.view_functions.get(endpoint)
        limit = getattr(view, "max_body_bytes", None)
    if limit is None:
        return default
    return int(config[limit]) if isinstance(limit, str) else int(limit)


def json_depth(data: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (0 for a scalar)."""
    if data.count(b"[") + data.count(b"{") == 0:
        return 0
    depth = deepest = 0
    for match in _JSON_TOKENS.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def check_request_limits() -> Response | None:
    if request.method not in BODY_METHODS:
        return None
    limit = limit_for_endpoint(request.endpoint)
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    if request.is_json:
        return _check_json()
    return None


def _refusal(domain: type, plain: type[HTTPException], english: str, chinese: str, code: str):
    """APIs answer in the domain errors' JSON (app/errors.py); screens get the console's error
    page with the reason in the user's language (`words`)."""
    if is_api_request():
        return domain(english, chinese, code=code)
    refusal = plain(description=f"{chinese} ({english})")
    refusal.words = {
        "zh": chinese,
        "en": english,
    }  # the console's error page says it in one language
    return refusal


def _too_large(limit: int) -> Exception:
    shown = _megabytes(limit)
    return _refusal(
        TooLarge,
        RequestEntityTooLarge,
        f"the request is larger than the {shown} accepted here",
        f"请求过大：此处最多接受 {shown}",
        "too_large",
    )


def _check_json() -> Response | None:
    try:
        data = request.get_data(cache=False)
    except RequestEntityTooLarge:  # a body without Content-Length, cut at the limit
        raise _too_large(request.max_content_length) from None
    _put_back(data)
    limit = int(current_app.config["JSON_MAX_DEPTH"])
    if json_depth(data) > limit:
        raise _refusal(
            BadInput,
            BadRequest,
            f"the JSON body is nested deeper than {limit} levels",
            f"JSON 内容嵌套超过 {limit} 层",
            "too_deep",
        )
    if not _json_object_or_not_json(data):
        # Answered in JSON on screens too: the only callers sending JSON there are our scripts.
        return api_answer(
            BadInput(
                "the JSON body must be an object",
                "JSON 内容必须是一个对象 {…}",
                field="body",
                code="not_an_object",
            )
        )
    return None


def _json_object_or_not_json(data: bytes) -> bool:
    try:
        parsed = json.loads(data)
    except (ValueError, RecursionError):
        return True  # not JSON: the view's own refusal says so
    return isinstance(parsed, dict)


def _put_back(data: bytes) -> None:
    """Give the view the body as if unread: a fresh input stream rather than cached bytes, so
    a view that lowers `request.max_content_length` itself (the camera API) still has its own
    limit enforced when it reads."""
    request.environ["wsgi.input"] = io.BytesIO(data)
    request.__dict__.pop("stream", None)  # werkzeug's cached_property, rebuilt on next use


def _as_text(value) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False)


def _json_form_as_text(wrap_formdata):
    """Flask-WTF's `wrap_formdata`, with a JSON body's values turned into the text a browser
    would have sent."""

    @wraps(wrap_formdata)
    def wrapped(meta, form, formdata):
        data = wrap_formdata(meta, form, formdata)
        if isinstance(data, MultiDict) and request.is_json and not request.form:
            return ImmutableMultiDict([(k, _as_text(v)) for k, v in data.items(multi=True)])
        return data

    wrapped.reads_json_as_text = True
    return wrapped


def init_request_limits(app: Flask) -> None:
    """Register the check ahead of every other before-request function."""
    app.before_request_funcs.setdefault(None, []).insert(0, check_request_limits)
    meta = FlaskForm.Meta
    if not getattr(meta.wrap_formdata, "reads_json_as_text", False):  # once per process
        meta.wrap_formdata = _json_form_as_text(meta.wrap_formdata)
