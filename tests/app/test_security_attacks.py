"""Issue 14's probe, replayed: self-escalation to platform admin (form, REST API, CLI), lock-out
abuse by anonymous wrong passwords, and session cookies that outlive their logout. Each test
attacks the way the probe did and has a control that shows the legitimate path still works."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from sqlalchemy import select, update

from app import create_app
from app.audit.models import AuditAction, AuditRecord
from app.customers.models import Customer
from app.extensions import db
from app.security.models import DealerUser, LoginThrottle
from app.security.throttle import account_key, locked_sources
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import PASSWORD, IsolatedClient, api_token, build_world, login

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def strict(app):
    """The app as a browser meets it in production: every form needs its CSRF token."""
    strict_app = create_app("test", {"WTF_CSRF_ENABLED": True})
    strict_app.test_client_class = IsolatedClient
    return strict_app


def _client(application, address: str = "127.0.0.1"):
    """A browser at `address`; each request in its own context, as in production."""
    application.test_client_class = IsolatedClient
    client = application.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _csrf(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    return CSRF.search(page.get_data(as_text=True)).group(1)


def _browser_login(client, username: str, password: str = PASSWORD):
    token = _csrf(client, "/login/")
    return client.post(
        "/login/", data={"username": username, "password": password, "csrf_token": token}
    )


def _user(username: str) -> DealerUser:
    with use_scope(system_scope()):
        db.session.expire_all()
        return db.session.scalar(select(DealerUser).where(DealerUser.username == username))


def _roles_of(username: str) -> set[str]:
    return {role.name for role in _user(username).roles}


def _role_id(app, name: str) -> int:
    with use_scope(system_scope()):
        return app.appbuilder.sm.find_role(name).id


def _edit_form(user: DealerUser, roles: list[int], **changes) -> dict:
    """The user edit form as the browser posts it."""
    form = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "email": user.email,
        "phone": "",
        "org_node": str(user.org_node_id),
        "roles": [str(r) for r in roles],
        "active": "y",
        "locked_until": "",
    }
    form.update(changes)
    return form


def _other_tenant_customer(app) -> tuple[int, str]:
    other = build_world(app)
    with use_scope(system_scope()):
        customer = db.session.scalars(
            select(Customer).where(Customer.tenant_id == other.tenant_id)
        ).first()
        return customer.id, customer.name


def _audit(username: str, action: str) -> list[dict]:
    with use_scope(system_scope()):
        rows = db.session.scalars(
            select(AuditRecord)
            .where(AuditRecord.username == username, AuditRecord.action == action)
            .order_by(AuditRecord.id)
        )
        return [json.loads(r.detail or "{}") for r in rows]


# --- 1. escalation ------------------------------------------------------------------------------


def test_tenant_admin_cannot_make_themselves_platform_admin_through_the_form(app, strict):
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    username = world.users["admin"]
    foreign_id, foreign_name = _other_tenant_customer(app)
    me = _user(username)
    client = _client(strict)
    _browser_login(client, username)
    token = _csrf(client, f"/users/edit/{me.id}")
    attack = _edit_form(
        me, [_role_id(app, "platform_admin"), _role_id(app, "tenant_admin")], csrf_token=token
    )
    page = client.post(f"/users/edit/{me.id}", data=attack, follow_redirects=True)
    assert page.status_code == 200
    assert _roles_of(username) == {"tenant_admin"}
    text = page.get_data(as_text=True)
    assert "platform admin" in text or "平台管理员" in text or "自己的角色" in text
    # Afterwards: the session still works, and is still a tenant admin's.
    assert client.get("/org/tree/").status_code == 200
    assert client.get("/api/v1/security/users/").status_code in (401, 403)
    assert client.get(f"/customerview/show/{foreign_id}").status_code != 200
    assert foreign_name not in client.get("/customerview/list/").get_data(as_text=True)
    # Control: editing one's own details without touching roles still works.
    token = _csrf(client, f"/users/edit/{me.id}")
    own = _edit_form(me, [_role_id(app, "tenant_admin")], csrf_token=token, first_name="改名")
    client.post(f"/users/edit/{me.id}", data=own)
    assert _user(username).first_name == "改名"


def test_tenant_admin_grants_only_roles_within_their_own_rights(app, client):
    world = build_world(
        app, {"admin": ("tenant_admin", "hq"), "desk": ("insurance_desk", "store_a")}
    )
    desk = _user(world.users["desk"])
    login(client, world.users["admin"])
    for role in ("platform_admin", "implementer"):  # above a tenant admin's own rights
        client.post(f"/users/edit/{desk.id}", data=_edit_form(desk, [_role_id(app, role)]))
        assert _roles_of(desk.username) == {"insurance_desk"}, role
    # Control: a store role is within the admin's rights.
    client.post(f"/users/edit/{desk.id}", data=_edit_form(desk, [_role_id(app, "store_manager")]))
    assert _roles_of(desk.username) == {"store_manager"}


def test_tenant_admin_cannot_touch_another_tenants_users_or_move_one_there(app, client):
    world = build_world(app, {"admin": ("tenant_admin", "hq"), "desk": ("insurance_desk", "hq")})
    other = build_world(app, {"desk": ("insurance_desk", "store_a")})
    foreign = _user(other.users["desk"])
    login(client, world.users["admin"])
    desk_role = [_role_id(app, "insurance_desk")]
    response = client.post(
        f"/users/edit/{foreign.id}", data=_edit_form(foreign, desk_role, first_name="x")
    )
    assert response.status_code in (302, 404)
    assert _user(foreign.username).first_name == foreign.first_name
    mine = _user(world.users["desk"])
    client.post(
        f"/users/edit/{mine.id}", data=_edit_form(mine, desk_role, org_node=str(other.store_a))
    )
    moved = _user(mine.username)
    assert (moved.tenant_id, moved.org_node_id) == (world.tenant_id, world.hq)


def test_the_security_rest_api_judges_grants_against_the_rights_held_before(app, client):
    """A user who may open every screen and API (the scope probe's role) but is not a platform
    admin: the REST API is the path the form's check did not cover."""
    world = build_world(
        app, {"probe": ("scope_probe", "hq"), "desk": ("insurance_desk", "store_a")}
    )
    probe, desk = _user(world.users["probe"]), _user(world.users["desk"])
    headers = {"Authorization": f"Bearer {api_token(client, probe.username)}"}
    platform, own = _role_id(app, "platform_admin"), _role_id(app, "scope_probe")
    response = client.put(
        f"/api/v1/security/users/{probe.id}", json={"roles": [platform, own]}, headers=headers
    )
    assert response.status_code == 403, response.get_data(as_text=True)
    assert _roles_of(probe.username) == {"scope_probe"}
    response = client.put(
        f"/api/v1/security/users/{desk.id}", json={"roles": [platform]}, headers=headers
    )
    assert response.status_code == 403
    response = client.post(
        "/api/v1/security/users/",
        json={
            "first_name": "越",
            "last_name": "权",
            "username": f"{world.code}.api-escalate",
            "email": f"{world.code}.api-escalate@test.local",
            "password": "Strong-Pass-2026",
            "active": True,
            "roles": [platform],
        },
        headers=headers,
    )
    assert response.status_code == 403
    assert _user(f"{world.code}.api-escalate") is None
    # Roles are shared by every tenant: their permissions and members are the platform's.
    admin_role = _role_id(app, "tenant_admin")
    with use_scope(system_scope()):
        before = {p.id for p in app.appbuilder.sm.find_role("tenant_admin").permissions}
        extra = app.appbuilder.sm.find_role("platform_admin").permissions[0].id
    response = client.post(
        f"/api/v1/security/roles/{admin_role}/permissions",
        json={"permission_view_menu_ids": [*before, extra]},
        headers=headers,
    )
    assert response.status_code == 403
    response = client.put(
        f"/api/v1/security/roles/{platform}/users", json={"user_ids": [probe.id]}, headers=headers
    )
    assert response.status_code == 403
    response = client.post(
        "/api/v1/security/groups/",
        json={"name": f"{world.code}-g", "label": "g", "roles": [platform], "users": [probe.id]},
        headers=headers,
    )
    assert response.status_code == 403
    with use_scope(system_scope()):
        db.session.expire_all()
        after = {p.id for p in app.appbuilder.sm.find_role("tenant_admin").permissions}
    assert after == before and _roles_of(probe.username) == {"scope_probe"}
    # Control: a role within the caller's rights, for another user of the tenant.
    response = client.put(
        f"/api/v1/security/users/{desk.id}",
        json={"roles": [_role_id(app, "store_manager")]},
        headers=headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _roles_of(desk.username) == {"store_manager"}


def test_tenant_admin_jwt_is_refused_by_the_security_api(app, client):
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    me = _user(world.users["admin"])
    headers = {"Authorization": f"Bearer {api_token(client, me.username)}"}
    response = client.put(
        f"/api/v1/security/users/{me.id}",
        json={"roles": [_role_id(app, "platform_admin")]},
        headers=headers,
    )
    assert response.status_code in (401, 403)
    assert _roles_of(me.username) == {"tenant_admin"}
    foreign_id, _name = _other_tenant_customer(app)
    assert client.get(f"/api/v1/customer/{foreign_id}", headers=headers).status_code == 404


def test_role_screens_refuse_a_non_platform_editor(app, client):
    world = build_world(app, {"probe": ("scope_probe", "hq")})
    login(client, world.users["probe"])
    with use_scope(system_scope()):
        role = app.appbuilder.sm.find_role("tenant_admin")
        before = sorted(p.id for p in role.permissions)
        everything = sorted(p.id for p in app.appbuilder.sm.find_role("platform_admin").permissions)
    response = client.post(
        f"/roles/edit/{role.id}",
        data={"name": "tenant_admin", "permissions": [str(p) for p in everything]},
    )
    assert response.status_code == 403
    assert client.get(f"/roles/action/copyrole/{role.id}").status_code == 403
    with use_scope(system_scope()):
        db.session.expire_all()
        role = app.appbuilder.sm.find_role("tenant_admin")
        assert sorted(p.id for p in role.permissions) == before


def _platform_admin(app, name: str) -> str:
    from werkzeug.security import generate_password_hash

    sm = app.appbuilder.sm
    with use_scope(system_scope("tests")):
        user = sm.user_model(
            username=name,
            first_name="平台",
            last_name="管理员",
            email=f"{name}@test.local",
            active=True,
            roles=[sm.find_role("platform_admin")],
        )
        user.password = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        db.session.add(user)
        db.session.commit()
    return name


def test_the_platform_admin_still_edits_roles_but_never_makes_a_tenant_user_platform_admin(
    app, client
):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    admin = _platform_admin(app, f"{world.code.lower()}.platform")
    sm = app.appbuilder.sm
    with use_scope(system_scope("tests")):
        spare = sm.add_role(f"{world.code}-spare")
        permission = sm.find_role("insurance_desk").permissions[0].id
        spare_id = spare.id
        db.session.commit()
    login(client, admin)
    client.post(
        f"/roles/edit/{spare_id}",
        data={"name": f"{world.code}-spare", "permissions": [str(permission)]},
    )
    with use_scope(system_scope()):
        db.session.expire_all()
        assert [p.id for p in sm.find_role(f"{world.code}-spare").permissions] == [permission]
    desk = _user(world.users["desk"])
    client.post(f"/users/edit/{desk.id}", data=_edit_form(desk, [_role_id(app, "platform_admin")]))
    assert _roles_of(desk.username) == {"insurance_desk"}
    client.post(f"/users/edit/{desk.id}", data=_edit_form(desk, [_role_id(app, "finance")]))
    assert _roles_of(desk.username) == {"finance"}  # control


def test_the_cli_never_makes_a_tenant_user_platform_admin(app):
    world = build_world(app, {"admin": ("tenant_admin", "hq"), "desk": ("insurance_desk", "hq")})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "grant", world.users["admin"], "platform_admin"])
    assert result.exit_code != 0
    assert "platform admin" in result.output or "平台管理员" in result.output
    assert _roles_of(world.users["admin"]) == {"tenant_admin"}
    # Control: the operator may give a tenant role.
    result = runner.invoke(args=["users", "grant", world.users["desk"], "store_manager"])
    assert result.exit_code == 0, result.output
    assert _roles_of(world.users["desk"]) == {"insurance_desk", "store_manager"}


# --- 3. lock-out abuse ---------------------------------------------------------------------------


def _hammer(client, username: str, times: int) -> None:
    for _ in range(times):
        login(client, username, "wrong-password")


def _logged_in(client) -> bool:
    return client.get("/org/tree/").status_code == 200


def test_a_lock_from_one_address_does_not_lock_the_user_out_of_another(app):
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    username = world.users["admin"]
    attacker, owner = _client(app, "203.0.113.9"), _client(app, "198.51.100.20")
    _hammer(attacker, username, app.config["LOGIN_LOCKOUT_ATTEMPTS"])
    login(attacker, username)
    assert not _logged_in(attacker)
    login(owner, username)
    assert _logged_in(owner)
    alerts = _audit(username, AuditAction.LOCKED_OUT)
    assert alerts and alerts[-1]["source"] == "203.0.113.9" and alerts[-1]["alert"] is True


def test_a_forged_forwarded_for_header_does_not_dodge_the_lock(app):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    username = world.users["desk"]
    attacker = _client(app, "203.0.113.10")
    for n in range(app.config["LOGIN_LOCKOUT_ATTEMPTS"]):
        attacker.post(
            "/login/",
            data={"username": username, "password": "wrong"},
            headers={"X-Forwarded-For": f"10.9.9.{n}"},
        )
    with use_scope(system_scope()):
        assert locked_sources(db.session, account_key(username)) == ["203.0.113.10"]


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_source(app):
    proxied = create_app("test", {"TRUSTED_PROXY_COUNT": 1})
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    username = world.users["desk"]
    proxy = _client(proxied, "10.0.0.2")
    for _ in range(app.config["LOGIN_LOCKOUT_ATTEMPTS"]):
        proxy.post(
            "/login/",
            data={"username": username, "password": "wrong"},
            headers={"X-Forwarded-For": "forged.by.client, 192.0.2.50"},
        )
    with use_scope(system_scope()):
        assert locked_sources(db.session, account_key(username)) == ["192.0.2.50"]
    proxy.post(  # another client behind the same proxy
        "/login/",
        data={"username": username, "password": PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.51"},
    )
    assert _logged_in(proxy)


def test_after_the_lock_expires_one_wrong_password_does_not_lock_again(app):
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    username = world.users["admin"]
    attacker = _client(app, "203.0.113.11")
    _hammer(attacker, username, app.config["LOGIN_LOCKOUT_ATTEMPTS"])
    _expire_locks(username)  # the lock period has passed
    _hammer(attacker, username, 1)  # the probe's "one wrong attempt per lock period"
    with use_scope(system_scope()):
        assert locked_sources(db.session, account_key(username)) == []
        row = db.session.scalar(
            select(LoginThrottle).where(LoginThrottle.username == account_key(username))
        )
        assert row.failures == 1
    login(attacker, username)
    assert _logged_in(attacker)


def _expire_locks(username: str, column: str = "locked_until") -> None:
    """Move the lock (or the delay) into the past, as the clock would."""
    past = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(seconds=1)
    with use_scope(system_scope()):
        db.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.username == account_key(username))
            .values({column: past})
        )
        db.session.commit()


def test_a_success_resets_the_count(app):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    username, limit = world.users["desk"], app.config["LOGIN_LOCKOUT_ATTEMPTS"]
    client = _client(app, "198.51.100.21")
    _hammer(client, username, limit - 1)
    login(client, username)
    assert _logged_in(client)
    client.get("/logout/")
    _hammer(client, username, limit - 1)  # would be the limit-th and later failures without reset
    login(client, username)
    assert _logged_in(client)


def test_the_api_login_is_throttled_the_same_way(app):
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    username = world.users["admin"]
    attacker, owner = _client(app, "203.0.113.12"), _client(app, "198.51.100.22")
    body = {"username": username, "password": "wrong", "provider": "db"}
    codes = [
        attacker.post("/api/v1/security/login", json=body).status_code
        for _ in range(app.config["LOGIN_LOCKOUT_ATTEMPTS"])
    ]
    assert codes == [401] * len(codes)
    right = {**body, "password": PASSWORD}
    assert attacker.post("/api/v1/security/login", json=right).status_code == 401
    assert owner.post("/api/v1/security/login", json=right).status_code == 200
    # The form at the attacker's address is locked too: one lock per account and source.
    login(attacker, username)
    assert not _logged_in(attacker)


def test_unknown_names_are_throttled_like_real_ones(app):
    attacker = _client(app, "203.0.113.13")
    _hammer(attacker, "nobody.at.all.x", app.config["LOGIN_LOCKOUT_ATTEMPTS"])
    with use_scope(system_scope()):
        assert locked_sources(db.session, account_key("nobody.at.all.x")) == ["203.0.113.13"]


def test_a_second_admin_unlocks_from_the_user_list_and_it_is_audited(app):
    world = build_world(app, {"admin": ("tenant_admin", "hq"), "desk": ("insurance_desk", "hq")})
    desk, admin = world.users["desk"], world.users["admin"]
    attacker = _client(app, "203.0.113.14")
    _hammer(attacker, desk, app.config["LOGIN_LOCKOUT_ATTEMPTS"])
    admin_client = _client(app, "198.51.100.23")
    login(admin_client, admin)
    listing = admin_client.get("/users/list/").get_data(as_text=True)
    assert "203.0.113.14" in listing  # the lock shows in the user list
    desk_id = _user(desk).id
    response = admin_client.post("/users/action_post", data={"action": "unlock", "rowid": desk_id})
    assert response.status_code == 302
    with use_scope(system_scope()):
        assert locked_sources(db.session, account_key(desk)) == []
    unlocks = _audit(desk, AuditAction.UNLOCK)
    assert unlocks and unlocks[-1]["by"] == admin and unlocks[-1]["sources"] == ["203.0.113.14"]
    login(attacker, desk)
    assert _logged_in(attacker)
    # Nobody lifts their own lock: lock the admin from one address, try from another.
    _hammer(_client(app, "203.0.113.15"), admin, app.config["LOGIN_LOCKOUT_ATTEMPTS"])
    admin_client.post("/users/action_post", data={"action": "unlock", "rowid": _user(admin).id})
    with use_scope(system_scope()):
        assert locked_sources(db.session, account_key(admin)) == ["203.0.113.15"]


def test_the_cli_unlocks_and_audits(app):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    desk = world.users["desk"]
    _hammer(_client(app, "203.0.113.16"), desk, app.config["LOGIN_LOCKOUT_ATTEMPTS"])
    result = app.test_cli_runner().invoke(args=["users", "unlock", desk])
    assert result.exit_code == 0, result.output
    assert "203.0.113.16" in result.output
    with use_scope(system_scope()):
        assert locked_sources(db.session, account_key(desk)) == []
    assert _audit(desk, AuditAction.UNLOCK)[-1]["by"].startswith("cli:")


def test_wrong_passwords_earn_a_growing_delay_without_a_password_check(app):
    slow = create_app("test", {"LOGIN_DELAY_SECONDS": 1})
    slow.test_client_class = IsolatedClient
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    username = world.users["desk"]
    client = _client(slow, "203.0.113.17")
    login(client, username, "wrong-password")
    login(client, username)  # the right password, inside the delay: not even checked
    assert not _logged_in(client)
    assert _audit(username, AuditAction.LOGIN_FAILED)[-1]["reason"] == "too fast"
    with use_scope(system_scope()):
        row = db.session.scalar(
            select(LoginThrottle).where(LoginThrottle.username == account_key(username))
        )
        assert row.failures == 1  # a refusal inside the delay is not counted
        first_delay = row.retry_after - row.last_failure_at
    _expire_locks(username, "retry_after")
    login(client, username, "wrong-password")
    with use_scope(system_scope()):
        db.session.expire_all()
        row = db.session.scalar(
            select(LoginThrottle).where(LoginThrottle.username == account_key(username))
        )
        assert row.failures == 2 and row.retry_after - row.last_failure_at == 2 * first_delay
    _expire_locks(username, "retry_after")
    login(client, username)
    assert _logged_in(client)


# --- 11. sessions end on the server --------------------------------------------------------------


def _copy_session(source, target) -> None:
    cookie = source.get_cookie("session")
    target.set_cookie("session", cookie.value)


def test_a_session_cookie_copied_before_logout_is_dead_after_it(app):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    owner, thief = _client(app), _client(app)
    login(owner, world.users["desk"])
    _copy_session(owner, thief)
    assert _logged_in(thief)  # the copy works while the session lives (the test can fail)
    owner.get("/logout/")
    replay = thief.get("/org/tree/")
    assert replay.status_code == 302 and "/login/" in replay.headers["Location"]
    assert thief.get("/api/v1/customer/", headers={"Accept": "application/json"}).status_code == 401
    # Logging in again starts a new session that works.
    login(owner, world.users["desk"])
    assert _logged_in(owner)


def test_a_password_change_ends_other_sessions_and_tokens(app):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    username = world.users["desk"]
    owner, thief = _client(app), _client(app)
    login(owner, username)
    _copy_session(owner, thief)
    token = api_token(thief, username)
    with use_scope(system_scope()):
        app.appbuilder.sm.reset_password(_user(username).id, "Another-Pass-2026")
    assert not _logged_in(thief)
    headers = {"Authorization": f"Bearer {token}"}
    assert thief.get("/api/v1/customer/", headers=headers).status_code == 401


def test_api_tokens_are_refused_after_logout(app):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    username = world.users["desk"]
    client = _client(app)
    response = client.post(
        "/api/v1/security/login",
        json={"username": username, "password": PASSWORD, "provider": "db", "refresh": True},
    )
    tokens = response.get_json()
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    refresh = {"Authorization": f"Bearer {tokens['refresh_token']}"}
    assert client.get("/api/v1/customer/", headers=access).status_code == 200
    browser = _client(app)
    login(browser, username)
    browser.get("/logout/")  # logging out ends every session and token of the user
    assert client.get("/api/v1/customer/", headers=access).status_code == 401
    assert client.post("/api/v1/security/refresh", headers=refresh).status_code == 401
    result = app.test_cli_runner().invoke(args=["users", "logout", username])
    assert result.exit_code == 0, result.output


def test_changing_ones_own_password_keeps_this_session_and_ends_the_copies(app):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    username = world.users["desk"]
    owner, thief = _client(app), _client(app)
    login(owner, username)
    _copy_session(owner, thief)
    new = "Changed-Pass-2026!"
    response = owner.post("/resetmypassword/form", data={"password": new, "conf_password": new})
    assert response.status_code == 302
    assert _logged_in(owner)
    assert not _logged_in(thief)
    login(_client(app), username, new)  # the new password is the one in force
    assert _audit(username, AuditAction.LOGIN)
