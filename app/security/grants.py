"""Who may grant which role: judged on every write of users, roles and groups, at flush.

The check runs in SQLAlchemy's `before_flush`, so the user form, Flask-AppBuilder's security REST
API, the CLI and any later code path meet the same rules. It never trusts the actor's loaded
`roles`: on a self-edit that object already holds the roles being submitted. The rights the actor
held before the request are read from the association tables instead, which a flush has not yet
changed (and every earlier flush of the request passed this same check).

Rules:
- a user of a tenant can never hold the platform admin role (whatever the path, CLI included);
- nobody changes their own roles or groups;
- a user who is not a platform admin may grant or revoke a role only when it is not the platform
  admin role and every permission of it is one of their own; may edit only users of their own
  tenant whose current roles they could themselves grant; and may not change roles, groups,
  permissions or view menus at all (they are shared by every tenant).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import has_request_context
from flask_appbuilder.security.sqla.models import (
    Group,
    Permission,
    PermissionView,
    Role,
    User,
    ViewMenu,
    assoc_group_role,
    assoc_permissionview_role,
    assoc_user_group,
    assoc_user_role,
)
from flask_babel import gettext as _
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from app.security.roles import PLATFORM_ADMIN
from app.tenancy.scope import current_scope

# Permissions that only deliver notifications about data the holder can already read (the
# 进店提醒 pop-up polls arrivals). A tenant admin does not get the pop-up, but may still give the
# store roles that carry it.
GRANT_NEUTRAL_PERMISSIONS = {("can_get", "ArrivalAlertView")}

SECURITY_DEFINITIONS = (Role, Group, Permission, ViewMenu, PermissionView)


class GrantRefused(PermissionError):
    """A write would give someone rights the actor may not give, or touch the actor's own."""


@dataclass(frozen=True)
class Actor:
    """Who is writing, as the database knew them before this request's changes."""

    user_id: int | None
    is_platform: bool
    tenant_id: int | None
    role_ids: frozenset[int]
    permission_ids: frozenset[int]

    @property
    def is_system(self) -> bool:
        """The platform's own work: CLI commands, start-up, migrations."""
        return self.user_id is None and self.is_platform


_installed = False


def install_grant_guard() -> None:
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _check_flush)
    _installed = True


# --- reading what the database held before the request ----------------------------------------


def held_role_ids(session: Session, user_id: int | None, groups: bool = True) -> set[int]:
    """Role ids the user holds in the database: directly, and through groups unless told not."""
    if user_id is None:
        return set()
    with session.no_autoflush:
        direct = set(
            session.execute(
                select(assoc_user_role.c.role_id).where(assoc_user_role.c.user_id == user_id)
            ).scalars()
        )
        if not groups:
            return direct
        grouped = session.execute(
            select(assoc_group_role.c.role_id)
            .join(assoc_user_group, assoc_user_group.c.group_id == assoc_group_role.c.group_id)
            .where(assoc_user_group.c.user_id == user_id)
        ).scalars()
        return {*direct, *grouped}


def role_permission_ids(session: Session, role_ids: Iterable[int]) -> set[int]:
    ids = list(role_ids)
    if not ids:
        return set()
    with session.no_autoflush:
        return set(
            session.execute(
                select(assoc_permissionview_role.c.permission_view_id).where(
                    assoc_permissionview_role.c.role_id.in_(ids)
                )
            ).scalars()
        )


def _platform_role_id(session: Session) -> int | None:
    with session.no_autoflush:
        return session.execute(
            select(Role.__table__.c.id).where(Role.__table__.c.name == PLATFORM_ADMIN)
        ).scalar()


def _neutral_permission_ids(session: Session) -> set[int]:
    pv, p, v = PermissionView.__table__, Permission.__table__, ViewMenu.__table__
    ids = set()
    with session.no_autoflush:
        for permission, view in GRANT_NEUTRAL_PERMISSIONS:
            ids.update(
                session.execute(
                    select(pv.c.id)
                    .join(p, p.c.id == pv.c.permission_id)
                    .join(v, v.c.id == pv.c.view_menu_id)
                    .where(p.c.name == permission, v.c.name == view)
                ).scalars()
            )
    return ids


def _db_tenant_of(session: Session, user_id: int) -> int | None:
    with session.no_autoflush:
        return session.execute(
            select(User.__table__.c.tenant_id).where(User.__table__.c.id == user_id)
        ).scalar()


def current_actor(session: Session) -> Actor | None:
    """The writing user as the database knew them; a system actor outside requests; None for an
    anonymous request (which may grant nothing)."""
    scope = current_scope()
    if scope is None or scope.user_id is None:
        if scope is None and has_request_context():
            return None
        if scope is not None and not scope.unrestricted:
            return None
        return Actor(None, True, None, frozenset(), frozenset())
    role_ids = held_role_ids(session, scope.user_id)
    platform_id = _platform_role_id(session)
    return Actor(
        user_id=scope.user_id,
        is_platform=platform_id in role_ids,
        tenant_id=_db_tenant_of(session, scope.user_id),
        role_ids=frozenset(role_ids),
        permission_ids=frozenset(role_permission_ids(session, role_ids)),
    )


# --- the judgement ------------------------------------------------------------------------------


def may_grant(session: Session, actor: Actor, role_id: int) -> bool:
    """Whether the actor may give (or take away) the role."""
    if actor.is_platform:
        return True
    if role_id == _platform_role_id(session):
        return False
    needed = role_permission_ids(session, [role_id]) - _neutral_permission_ids(session)
    return needed <= actor.permission_ids


def _role_name(session: Session, role_id: int) -> str:
    with session.no_autoflush:
        name = session.execute(
            select(Role.__table__.c.name).where(Role.__table__.c.id == role_id)
        ).scalar()
    from app.security.roles import ROLE_LABELS

    return str(ROLE_LABELS.get(name, name or role_id))


def _collection_ids(obj, key: str) -> tuple[set[int], bool]:
    """Ids now in a collection of `obj`, and whether the flush changes that collection."""
    state = inspect(obj)
    history = state.attrs[key].history
    changed = history.has_changes()
    items = list(getattr(obj, key) or []) if changed or state.transient or state.pending else []
    return {item.id for item in items if item.id is not None}, changed


def _refuse(message: str) -> None:
    raise GrantRefused(message)


def check_user_write(session: Session, actor: Actor | None, user, deleting: bool = False) -> None:
    """Judge one user row about to be written (new, changed or deleted)."""
    state = inspect(user)
    is_new = state.transient or state.pending
    before = set() if is_new else held_role_ids(session, user.id, groups=False)
    after, roles_changed = _collection_ids(user, "roles")
    if not roles_changed and not is_new:
        after = set(before)
    _groups, groups_changed = _collection_ids(user, "groups")
    if deleting:
        after, roles_changed = set(), bool(before)
    _check_no_platform_in_tenant(session, user, after, deleting)
    if actor is None:
        _refuse(_("Roles: an anonymous request may not change users"))
    if actor.is_system:
        return
    is_self = user.id is not None and user.id == actor.user_id
    if is_self and (roles_changed and after != before or groups_changed):
        _refuse(_("Roles: nobody may change their own roles; ask another administrator"))
    if actor.is_platform:
        return
    if groups_changed or (is_new and user.groups):
        _refuse(_("Groups: only a platform admin may change group membership"))
    _check_same_tenant(session, actor, user, is_new)
    if not is_self:
        for role_id in before:
            if not may_grant(session, actor, role_id):
                _refuse(
                    _(
                        "Roles: %(user)s holds %(role)s, which you may not give: only someone "
                        "who may give it can change this user",
                        user=user.username,
                        role=_role_name(session, role_id),
                    )
                )
    for role_id in after ^ before:
        if not may_grant(session, actor, role_id):
            _refuse(
                _(
                    "Roles: you may not grant or revoke %(role)s (it is above your own rights)",
                    role=_role_name(session, role_id),
                )
            )


def _tenant_of(session: Session, user) -> int | None:
    """The user's tenant after this write. Flask-AppBuilder's REST API works on its base User
    class, which does not map our tenant column: read the row then."""
    if "tenant_id" in inspect(user).mapper.columns:
        return user.tenant_id
    return None if user.id is None else _db_tenant_of(session, user.id)


def _check_no_platform_in_tenant(session: Session, user, role_ids: set[int], deleting: bool):
    if deleting or _tenant_of(session, user) is None:
        return
    platform_id = _platform_role_id(session)
    group_roles = {role.id for group in (user.groups or []) for role in (group.roles or [])}
    if platform_id is not None and platform_id in role_ids | group_roles:
        _refuse(_("Roles: a user of a tenant cannot be a platform admin"))


def _check_same_tenant(session: Session, actor: Actor, user, is_new: bool) -> None:
    tenants = {_tenant_of(session, user)}
    if not is_new:
        tenants.add(_db_tenant_of(session, user.id))
    if tenants != {actor.tenant_id} or actor.tenant_id is None:
        _refuse(_("Org node: you may only manage users of your own tenant"))


def _check_role_write(session: Session, actor: Actor | None, role) -> None:
    """Role-side changes: users added to or removed from a role."""
    state = inspect(role)
    definition_changed = state.transient or state.pending or _definition_changed(role)
    if actor is None or (not actor.is_platform and definition_changed):
        _refuse(_("Roles: only a platform admin may change a role or its permissions"))
    history = state.attrs["user"].history
    platform_id = _platform_role_id(session)
    for user in [*history.added, *history.deleted]:
        in_tenant = _tenant_of(session, user) is not None
        if role.id == platform_id and user in history.added and in_tenant:
            _refuse(_("Roles: a user of a tenant cannot be a platform admin"))
        if actor.is_system:
            continue
        if user.id == actor.user_id:
            _refuse(_("Roles: nobody may change their own roles; ask another administrator"))
        if not actor.is_platform and not may_grant(session, actor, role.id):
            _refuse(
                _(
                    "Roles: you may not grant or revoke %(role)s (it is above your own rights)",
                    role=role.name,
                )
            )


def _definition_changed(obj) -> bool:
    """A change to what a role or group means (its columns, permissions or roles), as opposed to
    the change of membership a user edit makes through the backref."""
    state = inspect(obj)
    membership = {"user", "users", "groups"} if isinstance(obj, Role) else {"users"}
    for attr in state.mapper.attrs:
        if attr.key in membership:
            continue
        if state.attrs[attr.key].history.has_changes():
            return True
    return False


def _check_flush(session: Session, _flush_context, _instances) -> None:
    users = [o for o in session.new | session.dirty if isinstance(o, User)]
    deleted_users = [o for o in session.deleted if isinstance(o, User)]
    definitions = [
        o
        for o in (*session.new, *session.dirty, *session.deleted)
        if isinstance(o, SECURITY_DEFINITIONS)
    ]
    if not (users or deleted_users or definitions):
        return
    with session.no_autoflush:
        users = [u for u in users if u in session.new or session.is_modified(u)]
        actor = current_actor(session)
        for user in users:
            check_user_write(session, actor, user)
        for user in deleted_users:
            check_user_write(session, actor, user, deleting=True)
        for obj in definitions:
            if isinstance(obj, Role) and obj not in session.deleted:
                _check_role_write(session, actor, obj)
            elif actor is None or not actor.is_platform:
                if obj in session.dirty and not _definition_changed(obj):
                    continue
                _refuse(_("Roles: only a platform admin may change roles, groups or permissions"))
