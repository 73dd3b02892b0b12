"""The security baseline: lock-out, audited logins, password policy, CSRF, headers, session
timeout, rate limits, and no escalation to platform admin."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from app import create_app
from app.audit.models import AuditAction, AuditRecord
from app.extensions import db
from app.security.models import DealerUser
from app.security.passwords import password_problems
from app.security.throttle import account_key, locked_sources
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import PASSWORD, build_world, login


def _actions(username: str) -> list[str]:
    with use_scope(system_scope()):
        return list(
            db.session.scalars(
                select(AuditRecord.action)
                .where(AuditRecord.username == username)
                .order_by(AuditRecord.id)
            )
        )


def _is_logged_in(client) -> bool:
    return client.get("/api/v1/security/csrf_token/").status_code != 401 and (
        client.get("/org/tree/").status_code == 200
    )


def test_wrong_logins_are_counted_audited_and_lock_the_account(app, client):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    username = world.users["desk"]
    limit = app.config["LOGIN_LOCKOUT_ATTEMPTS"]
    for _ in range(limit):
        login(client, username, "wrong-password")
    with use_scope(system_scope()):
        user = db.session.scalar(select(DealerUser).where(DealerUser.username == username))
        assert user.fail_login_count == limit
        assert locked_sources(db.session, account_key(username)) == ["127.0.0.1"]
    login(client, username, PASSWORD)  # the right password, but locked
    assert client.get("/org/tree/").status_code != 200
    actions = _actions(username)
    assert actions.count(AuditAction.LOGIN_FAILED) == limit  # limit-1 wrong + 1 while locked
    assert AuditAction.LOCKED_OUT in actions
    assert AuditAction.LOGIN not in actions


def test_a_successful_login_is_audited_and_resets_the_count(app, client):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    username = world.users["desk"]
    login(client, username, "wrong-password")
    login(client, username, PASSWORD)
    assert client.get("/org/tree/").status_code == 200
    assert _actions(username)[-2:] == [AuditAction.LOGIN_FAILED, AuditAction.LOGIN]
    with use_scope(system_scope()):
        user = db.session.scalar(select(DealerUser).where(DealerUser.username == username))
        assert user.fail_login_count == 0


def test_an_unknown_user_login_is_audited(app, client):
    login(client, "nobody.at.all", "whatever")
    with use_scope(system_scope()):
        record = db.session.scalars(
            select(AuditRecord)
            .where(AuditRecord.username == "nobody.at.all")
            .order_by(AuditRecord.id.desc())
        ).first()
    assert record.action == AuditAction.LOGIN_FAILED
    assert json.loads(record.detail) == {"reason": "unknown user", "source": "127.0.0.1"}


@pytest.mark.parametrize(
    "password, ok",
    [("short1A!", False), ("alllowercaseletters", False), ("Long-enough-2026", True)],
)
def test_password_policy(password, ok, app):
    with app.test_request_context():
        assert (password_problems(password) == []) is ok


def test_weak_password_is_refused_by_the_user_form(app, client):
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    login(client, world.users["admin"])
    with use_scope(system_scope()):
        role_id = app.appbuilder.sm.find_role("insurance_desk").id
    response = client.post(
        "/users/add",
        data={
            "first_name": "新",
            "last_name": "员工",
            "username": f"{world.code}.weak",
            "email": f"{world.code}.weak@test.local",
            "org_node": str(world.store_a),
            "roles": [str(role_id)],
            "active": "y",
            "password": "abc",
            "conf_password": "abc",
        },
    )
    assert response.status_code == 200
    assert "Password must have" in response.get_data(as_text=True) or "密码" in response.get_data(
        as_text=True
    )
    with use_scope(system_scope()):
        assert app.appbuilder.sm.find_user(username=f"{world.code}.weak") is None


def test_tenant_admin_cannot_grant_platform_admin(app, client):
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    login(client, world.users["admin"])
    with use_scope(system_scope()):
        platform_role = app.appbuilder.sm.find_role("platform_admin").id
    client.post(
        "/users/add",
        data={
            "first_name": "越",
            "last_name": "权",
            "username": f"{world.code}.escalate",
            "email": f"{world.code}.escalate@test.local",
            "org_node": str(world.store_a),
            "roles": [str(platform_role)],
            "active": "y",
            "password": "Strong-Pass-2026",
            "conf_password": "Strong-Pass-2026",
        },
    )
    with use_scope(system_scope()):
        assert app.appbuilder.sm.find_user(username=f"{world.code}.escalate") is None


def test_security_headers_and_idle_session(app, client):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    response = login(client, world.users["desk"])
    page = client.get("/org/tree/")
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert header in page.headers
    assert page.headers["X-Frame-Options"] == "DENY"
    cookie = response.headers.get("Set-Cookie", "")
    assert "Expires=" in cookie and "HttpOnly" in cookie
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 30 * 60


@pytest.fixture(scope="module")
def strict_app(app):
    """The app as production runs it: CSRF on, login rate-limited."""
    strict = create_app(
        "test",
        {
            "WTF_CSRF_ENABLED": True,
            "AUTH_RATE_LIMITED": True,
            "RATELIMIT_ENABLED": True,
            "AUTH_RATE_LIMIT": "3 per minute",
        },
    )
    return strict


def test_forms_need_a_csrf_token(strict_app, app):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    client = strict_app.test_client()
    form = {"username": world.users["desk"], "password": PASSWORD}
    client.post("/login/", data=form)
    assert client.get("/org/tree/").status_code != 200  # no token: not logged in
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login/", data={**form, "csrf_token": token})
    assert client.get("/org/tree/").status_code == 200


def test_login_is_rate_limited(strict_app):
    client = strict_app.test_client()
    codes = [
        client.post(
            "/api/v1/security/login",
            json={"username": "x", "password": "y", "provider": "db"},
        ).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [401, 401, 401] and 429 in codes[3:]
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = {"username": "x", "password": "y", "csrf_token": token}
    pages = [client.post("/login/", data=form).status_code for _ in range(5)]
    assert 429 in pages
