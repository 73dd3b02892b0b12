"""角色与权限: roles in words by capability and action, a new role written through the grant
guard (only the platform defines roles), and what each built-in role needs: a desk clerk does not
open the configuration documents."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditRecord
from app.extensions import db
from app.security import capabilities as caps
from app.security.roles import (
    INSURANCE_DESK,
    PLATFORM_ADMIN,
    ROLE_POLICY,
    SELF_SERVICE,
    allowed_pairs,
)
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import build_world, login

ADMIN, ADMIN_PASSWORD = "roles.admin", "Roles-Pass-2026!"
CONFIGURATION_PAGES = (
    "/documentview/list/",
    "/documentversionview/list/",
    "/installedpackview/list/",
    "/rules/simulator/",
)


@pytest.fixture(scope="module")
def world(app):
    world = build_world(
        app,
        {
            "admin": ("tenant_admin", "hq"),
            "desk": ("insurance_desk", "store_a"),
            "finance": ("finance", "hq"),
            "probe": ("scope_probe", "hq"),  # every permission, but a tenant's user
        },
    )
    with use_scope(system_scope()):
        sm = app.appbuilder.sm
        if sm.find_user(username=ADMIN) is None:
            sm.add_user(ADMIN, "平台", "管理员", "roles@test.local", sm.find_role(PLATFORM_ADMIN),
                        ADMIN_PASSWORD)  # fmt: skip
    return world


def _catalogue(app):
    with use_scope(system_scope()):
        return caps.catalogue_of(app.appbuilder.sm)


def _role_pairs(app, name):
    with use_scope(system_scope()):
        db.session.expire_all()
        role = app.appbuilder.sm.find_role(name)
        return (
            None
            if role is None
            else {(p.permission.name, p.view_menu.name) for p in role.permissions}
        )


def test_every_permission_a_built_in_role_holds_reads_as_a_capability(app, world):
    catalogue = _catalogue(app)
    covered = caps.covered(catalogue)
    for role in ROLE_POLICY:
        left = allowed_pairs(role, catalogue) - covered - SELF_SERVICE
        assert left == set(), f"{role}: add these to app/security/capabilities.py: {left}"


def test_a_desk_clerk_reads_as_words_and_has_no_configuration_documents(app, world):
    catalogue = _catalogue(app)
    desk = _role_pairs(app, INSURANCE_DESK)
    words = caps.in_words(desk, catalogue)
    assert "保单：查看、批改、查看证件号与电话" in words
    assert "出单：查看订单、报价出单" in words
    assert not any(line.startswith("配置中心：") and "查看配置文档" in line for line in words)
    assert "配置中心：自定义数据" in words  # each entity document decides who may read it
    finance = caps.in_words(_role_pairs(app, "finance"), catalogue)
    assert any(line.startswith("配置中心：查看配置文档") for line in finance)


def test_a_desk_clerk_cannot_open_the_configuration_pages(app, client, world):
    login(client, world.users["desk"])
    for path in CONFIGURATION_PAGES:
        answer = client.get(path)
        assert answer.status_code in (302, 403), path
        assert "/login" in answer.headers.get("Location", "/login") or answer.status_code == 403
    assert client.get("/entities/").status_code == 200  # custom data stays open
    assert client.get("/roleeditor/").status_code in (302, 403)
    client.get("/logout/")
    login(client, world.users["admin"])
    for path in CONFIGURATION_PAGES:
        assert client.get(path).status_code == 200, path


def test_a_business_admin_reads_the_roles_in_words_and_sees_what_they_may_give(app, client, world):
    login(client, world.users["admin"])
    page = client.get("/roleeditor/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "角色与权限" in text and "保单：查看" in text
    assert 'data-role="insurance_desk"' in text and "insurance_desk</" not in text
    desk_row = text.split('data-role="insurance_desk"', 1)[1].split("</tr>", 1)[0]
    assert "可分配" in desk_row
    platform_row = text.split('data-role="platform_admin"', 1)[1].split("</tr>", 1)[0]
    assert "可分配" not in platform_row
    with use_scope(system_scope()):
        desk_id = app.appbuilder.sm.find_role(INSURANCE_DESK).id
    shown = client.get(f"/roleeditor/{desk_id}/").get_data(as_text=True)
    assert 'value="policies.view"' in shown and "disabled" in shown and "dc-save-role" not in shown
    assert client.get("/roleeditor/new").status_code in (302, 403)  # no right to define roles
    refused = client.post(
        "/roleeditor/new", data={"name": "越权角色", "actions": ["policies.view"]}
    )
    assert refused.status_code in (302, 403)
    assert _role_pairs(app, "越权角色") is None


def test_the_grant_guard_refuses_a_tenant_user_holding_every_permission(app, client, world):
    login(client, world.users["probe"])
    answer = client.post(
        "/roleeditor/new", data={"name": "探针角色", "actions": ["policies.view", "system.audit"]}
    )
    assert answer.status_code == 403
    assert _role_pairs(app, "探针角色") is None


def test_the_platform_defines_a_role_by_capability_and_action(app, client, world):
    login(client, ADMIN, ADMIN_PASSWORD)
    form = client.get("/roleeditor/new").get_data(as_text=True)
    assert 'name="name"' in form and 'value="issuing.quote"' in form
    answer = client.post(
        "/roleeditor/new",
        data={"name": "续保主管", "actions": ["policies.view", "customers.view", "issuing.quote"]},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    pairs = _role_pairs(app, "续保主管")
    catalogue = _catalogue(app)
    assert ("can_list", "PolicyView") in pairs and ("can_add", "DeskView") in pairs
    assert ("can_edit", "PolicyView") not in pairs and ("can_list", "DocumentView") not in pairs
    assert SELF_SERVICE & catalogue <= pairs
    assert any(p == "menu_access" for p, _ in pairs)  # its screens appear in its menu
    words = caps.in_words(pairs, catalogue)
    assert "保单：查看" in words and "客户与车辆：查看" in words
    with use_scope(system_scope()):
        role_id = app.appbuilder.sm.find_role("续保主管").id
        audited = db.session.scalars(
            select(AuditRecord).where(AuditRecord.entity == "ab_role")
        ).all()
    assert any(r.record_id == str(role_id) for r in audited)

    answer = client.post(
        f"/roleeditor/{role_id}/", data={"actions": ["policies.view", "policies.endorse"]}
    )
    assert answer.status_code == 302
    pairs = _role_pairs(app, "续保主管")
    assert ("can_edit", "PolicyView") in pairs and ("can_add", "DeskView") not in pairs

    bad = client.post(f"/roleeditor/{role_id}/", data={"actions": ["policies.fly"]})
    assert bad.status_code == 422 and "policies.fly" in bad.get_data(as_text=True)
    twice = client.post("/roleeditor/new", data={"name": "续保主管"})
    assert twice.status_code == 409 and "已存在" in twice.get_data(as_text=True)
    with use_scope(system_scope()):
        desk_id = app.appbuilder.sm.find_role(INSURANCE_DESK).id
    built_in = client.post(f"/roleeditor/{desk_id}/", data={"actions": ["policies.view"]})
    assert built_in.status_code == 409 and "复制为新角色" in built_in.get_data(as_text=True)
    copy = client.get(f"/roleeditor/new?from={desk_id}").get_data(as_text=True)
    assert "（副本）" in copy and 'value="policies.endorse"\n                  checked' in copy

    with use_scope(system_scope()):
        sm = app.appbuilder.sm
        holder = sm.find_user(username=world.users["finance"])
        holder.roles = [*holder.roles, sm.find_role("续保主管")]
        db.session.commit()
    held = client.post(f"/roleeditor/{role_id}/delete")
    assert held.status_code == 409 and "仍有 1 位用户" in held.get_data(as_text=True)
    with use_scope(system_scope()):
        holder = app.appbuilder.sm.find_user(username=world.users["finance"])
        holder.roles = [r for r in holder.roles if r.name != "续保主管"]
        db.session.commit()
    assert client.post(f"/roleeditor/{role_id}/delete").status_code == 302
    assert _role_pairs(app, "续保主管") is None
