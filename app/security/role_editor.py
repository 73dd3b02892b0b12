"""角色与权限: roles read and edited by capability and action ("保单：查看、批改") instead of
Flask-AppBuilder's list of view and menu names.

Roles are shared by every tenant. The built-in roles are the policy of app/security/roles.py
(synchronised at every start): they are shown, and copied into a new role to be changed. A new
role is written through the grant guard (app/security/grants.py) like every other path: only a
platform admin may define or change a role; a tenant's business admin reads the roles in words
and sees which of them they may give to their own users (those within their own rights).
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.security import capabilities as caps
from app.security.grants import GrantRefused, current_actor, may_grant
from app.security.roles import (
    ALL_ROLES,
    PLATFORM_ADMIN,
    SELF_SERVICE,
    menu_pairs,
    permission_views,
)
from app.security.views import role_label

MAX_NAME = 64


def role_pairs(role) -> set[tuple[str, str]]:
    return {
        (pv.permission.name, pv.view_menu.name)
        for pv in role.permissions
        if pv.permission.name != "menu_access"
    }


def users_holding(session, role_id: int) -> int:
    """How many users in the reader's scope hold the role (the guard scopes the count)."""
    from flask_appbuilder.security.sqla.models import assoc_user_role

    from app.security.models import DealerUser

    return session.scalar(
        select(func.count(DealerUser.id))
        .join(assoc_user_role, assoc_user_role.c.user_id == DealerUser.id)
        .where(assoc_user_role.c.role_id == role_id)
    )


def chosen_actions(form) -> list[caps.Action]:
    """The actions ticked on the form; an unknown one is refused naming it."""
    actions = []
    for ident in form.getlist("actions"):
        action = caps.action_by_id(ident)
        if action is None:
            raise ValidationFailed(
                f"actions: unknown action {ident!r}", f"权限：未知的操作 {ident}", field="actions"
            )
        actions.append(action)
    return actions


def write_role(appbuilder, role, actions: list[caps.Action]) -> None:
    """Give the role exactly the chosen actions' permissions (and the menu entries of the screens
    they open, and everyone's self-service), keeping pairs no action stands for. The grant
    guard judges the write at flush; a refusal is answered 403 with its reason."""
    sm = appbuilder.sm
    with sm.session.no_autoflush:  # the guard judges the whole write once, at the commit
        catalogue = caps.catalogue_of(sm)
        wanted = set().union(*(a.pairs(catalogue) for a in actions)) if actions else set()
        if role.id is not None:
            wanted |= role_pairs(role) - caps.covered(catalogue)
        wanted |= SELF_SERVICE & catalogue
        wanted |= menu_pairs(appbuilder, wanted)
        by_pair = permission_views(sm)
        found = [by_pair.get(pair) for pair in sorted(wanted)]
        role.permissions = [pv for pv in found if pv is not None]
    try:
        sm.session.commit()
    except GrantRefused as refused:
        sm.session.rollback()
        raise Forbidden(str(refused), str(refused), field="role") from refused


class RoleEditorView(BaseView):
    route_base = "/roleeditor"
    default_view = "index"

    def _role(self, role_id: int) -> Role:
        role = self.appbuilder.sm.session.get(Role, role_id)
        if role is None:
            raise NotFound(f"role {role_id}", f"角色 #{role_id} 不存在", field="role_id")
        return role

    def _names(self, role) -> dict:
        return {
            "label": role_label(role.name),
            "builtin": role.name in ALL_ROLES,
            "platform": role.name == PLATFORM_ADMIN,
        }

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        sm = self.appbuilder.sm
        session = sm.session
        catalogue = caps.catalogue_of(sm)
        actor = current_actor(session)
        rows = []
        order = {name: n for n, name in enumerate(ALL_ROLES)}
        roles = sorted(
            session.scalars(select(Role)), key=lambda r: (order.get(r.name, len(order)), r.name)
        )
        for role in roles:
            if role.name in (sm.auth_role_public, "scope_probe"):
                continue
            held = role_pairs(role)
            rows.append(
                {
                    "role": role,
                    **self._names(role),
                    "words": (
                        ["全部权限"]
                        if role.name == PLATFORM_ADMIN
                        else caps.in_words(held, catalogue)
                    ),
                    "users": users_holding(session, role.id),
                    "grantable": actor is not None and may_grant(session, actor, role.id),
                }
            )
        return self.render_template(
            "security/role_list.html",
            rows=rows,
            is_platform=actor is not None and actor.is_platform,
            can_add=sm.has_access("can_add", "RoleEditorView"),
            can_users=sm.has_access("can_list", "DealerUserView"),
        )

    @expose("/<int:role_id>/")
    @has_access
    @permission_name("show")
    def show(self, role_id: int):
        return self._form(self._role(role_id))

    def _form(self, role: Role | None, source: Role | None = None, name: str = ""):
        sm = self.appbuilder.sm
        catalogue = caps.catalogue_of(sm)
        held = role_pairs(source or role) if (source or role) is not None else set()
        editable = role is None or role.name not in ALL_ROLES
        other = sorted(held - caps.covered(catalogue) - SELF_SERVICE)
        return self.render_template(
            "security/role_form.html",
            role=role,
            source=source,
            source_label=role_label(source.name) if source is not None else "",
            name=name or (role.name if role is not None else ""),
            names=self._names(role) if role is not None else None,
            groups=caps.describe(held, catalogue),
            other=other,
            editable=editable,
            can_write=sm.has_access("can_edit" if role else "can_add", "RoleEditorView"),
            can_add=sm.has_access("can_add", "RoleEditorView"),
            can_delete=role is not None
            and editable
            and sm.has_access("can_delete", "RoleEditorView"),
            users=users_holding(sm.session, role.id) if role is not None else 0,
        )

    @expose("/new", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    def add(self):
        sm = self.appbuilder.sm
        if request.method == "GET":
            source_id = request.args.get("from", "")
            source = self._role(int(source_id)) if source_id.isdigit() else None
            name = f"{role_label(source.name)}（副本）" if source is not None else ""
            return self._form(None, source, name)
        name = (request.form.get("name") or "").strip()
        if not name or len(name) > MAX_NAME:
            raise ValidationFailed(
                f"name: 1 to {MAX_NAME} characters",
                f"角色名称：须为 1–{MAX_NAME} 个字符",
                field="name",
            )
        if sm.find_role(name) is not None or name in ALL_ROLES:
            raise Conflict(f"name: role {name} exists", f"角色名称：{name} 已存在", field="name")
        actions = chosen_actions(request.form)
        role = Role(name=name)
        sm.session.add(role)
        write_role(self.appbuilder, role, actions)
        flash(f"已创建角色“{name}”", "info")
        return redirect(url_for("RoleEditorView.show", role_id=role.id))

    @expose("/<int:role_id>/", methods=["POST"])
    @has_access
    @permission_name("edit")
    def edit(self, role_id: int):
        role = self._role(role_id)
        if role.name in ALL_ROLES:
            raise Conflict(
                f"role {role.name} is built in",
                "内置角色随系统版本维护，不能直接修改：请“复制为新角色”后修改",
                field="role_id",
            )
        write_role(self.appbuilder, role, chosen_actions(request.form))
        flash(f"已保存角色“{role.name}”的权限", "info")
        return redirect(url_for("RoleEditorView.show", role_id=role.id))

    @expose("/<int:role_id>/delete", methods=["POST"])
    @has_access
    @permission_name("delete")
    def delete(self, role_id: int):
        sm = self.appbuilder.sm
        role = self._role(role_id)
        if role.name in ALL_ROLES:
            raise Conflict(f"role {role.name} is built in", "内置角色不能删除", field="role_id")
        if role.user:
            raise Conflict(
                f"role {role.name} is held by {len(role.user)} users",
                f"角色“{role.name}”仍有 {len(role.user)} 位用户，请先为他们更换角色",
                field="role_id",
            )
        name = role.name
        sm.session.delete(role)
        try:
            sm.session.commit()
        except GrantRefused as refused:
            sm.session.rollback()
            raise Forbidden(str(refused), str(refused), field="role") from refused
        flash(f"已删除角色“{name}”", "info")
        return redirect(url_for("RoleEditorView.index"))
