"""Entering and leaving the user's scope around each request."""

from __future__ import annotations

from flask import Flask, g

from app.tenancy.scope import reset_scope, scope_for, set_scope, system_scope, use_scope


def enter_user_scope(user) -> None:
    """Make `user`'s scope current for the rest of this request."""
    scope = None
    if user is not None and getattr(user, "is_authenticated", False):
        with use_scope(system_scope()):
            scope = scope_for(user)
    token = set_scope(scope)
    g.setdefault("_dc_scope_tokens", []).append(token)


def leave_scopes(_exc=None) -> None:
    for token in reversed(g.pop("_dc_scope_tokens", [])):
        reset_scope(token)


def init_request_scope(app: Flask) -> None:
    @app.before_request
    def _scope_from_session_user() -> None:
        enter_user_scope(getattr(g, "user", None))

    app.teardown_request(leave_scopes)
