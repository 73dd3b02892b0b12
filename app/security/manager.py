"""Our security manager: Flask-AppBuilder's, with tenants, throttled and audited logins, sessions
that end server-side, and role grants judged against the rights held before the request."""

from __future__ import annotations

import logging

from flask import current_app, g, has_request_context, session
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import (
    Group,
    Permission,
    PermissionView,
    Role,
    User,
    ViewMenu,
    assoc_permissionview_role,
)
from flask_login import user_logged_in
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from app.audit.models import AuditAction
from app.audit.recorder import record_event
from app.security import api as security_api
from app.security import throttle
from app.security import views as security_views
from app.security.grants import install_grant_guard
from app.security.models import DealerUser
from app.tenancy.scope import system_scope, use_scope
from app.tenancy.web import enter_user_scope

log = logging.getLogger(__name__)

# The user's session epoch as it was at login, kept in the (signed) session cookie.
EPOCH_KEY = "_dc_epoch"
# The permissions of the current user's roles, read once per request (flask.g).
PERMISSIONS_KEY = "_dc_role_permissions"
SECURITY_OBJECTS = (User, Role, Group, Permission, ViewMenu, PermissionView)


class DealerSecurityManager(SecurityManager):
    user_model = DealerUser
    userdbmodelview = security_views.DealerUserView
    rolemodelview = security_views.RoleModelView
    groupmodelview = security_views.UserGroupModelView
    user_api = security_api.UserApi
    role_api = security_api.RoleApi
    group_api = security_api.GroupApi
    view_menu_api = security_api.ViewMenuApi
    permission_view_menu_api = security_api.PermissionViewMenuApi

    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        install_grant_guard()
        _install_epoch_bump()
        user_logged_in.connect(_remember_epoch, current_app._get_current_object(), weak=False)

    def register_views(self):
        """Flask-AppBuilder's security screens, and 角色与权限: the roles by capability and
        action (app/security/role_editor.py)."""
        super().register_views()
        if not current_app.config.get("FAB_ADD_SECURITY_VIEWS", True):
            return
        from app.security.role_editor import RoleEditorView

        self.appbuilder.add_view(
            RoleEditorView,
            "Roles and permissions",
            label="角色与权限",
            icon="fa-id-card",
            category="Security",
        )

    # Identity look-ups happen before anyone's scope is known; they run in the platform's scope
    # and return only the user being identified.
    def load_user(self, pk):
        """The user of a session cookie, unless the session predates their last logout or
        password change."""
        with use_scope(system_scope()):
            user = super().load_user(pk)
        if user is None or not has_request_context():
            return user
        if session.get(EPOCH_KEY) != (user.session_epoch or 0):
            return None
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        with use_scope(system_scope()):
            user = self.get_user_by_id(int(jwt_data["sub"]))
        if user is None or not user.is_active:
            return None
        # A token issued before the user's last logout or password change is refused.
        if jwt_data.get("epoch") != (user.session_epoch or 0):
            return None
        g.user = user
        # API calls authenticate here, after before_request: enter the user's scope now.
        enter_user_scope(user)
        return user

    def exist_permission_on_roles(self, view_name: str, permission_name: str, role_ids) -> bool:
        """Flask-AppBuilder asks the database once per check, and a page checks ~50 times (the
        menu, the buttons, the view itself). In a request the roles' permissions are read once
        and kept for the rest of it (forgotten when security definitions change in it)."""
        if not has_request_context():
            return super().exist_permission_on_roles(view_name, permission_name, role_ids)
        return (view_name, permission_name) in self._roles_permissions(role_ids)

    def is_item_public(self, permission_name, view_name) -> bool:
        """Every API call and anonymous page asks this; FAB loads the Public role and each of
        its permissions as objects for it. In a request it is one query, kept like the rest."""
        if not has_request_context():
            return super().is_item_public(permission_name, view_name)
        public = self._request_permissions(Role.name == self.auth_role_public, "public")
        return (view_name, permission_name) in public

    def _roles_permissions(self, role_ids) -> frozenset[tuple[str, str]]:
        key = frozenset(role_ids)
        return self._request_permissions(assoc_permissionview_role.c.role_id.in_(key), key)

    def _request_permissions(self, roles_condition, key) -> frozenset[tuple[str, str]]:
        """(view menu, permission) pairs of the roles matching `roles_condition`, read once
        per request under `key`."""
        cache = g.setdefault(PERMISSIONS_KEY, {})
        if key not in cache:
            cache[key] = frozenset(
                self.session.execute(
                    select(ViewMenu.name, Permission.name)
                    .join(PermissionView, PermissionView.view_menu_id == ViewMenu.id)
                    .join(Permission, PermissionView.permission_id == Permission.id)
                    .join(
                        assoc_permissionview_role,
                        assoc_permissionview_role.c.permission_view_id == PermissionView.id,
                    )
                    .join(Role, Role.id == assoc_permissionview_role.c.role_id)
                    .where(roles_condition)
                ).all()
            )
        return cache[key]

    def create_jwt_manager(self, app):
        jwt_manager = super().create_jwt_manager(app)
        jwt_manager.additional_claims_loader(self._token_claims)
        return jwt_manager

    def _token_claims(self, identity) -> dict:
        with use_scope(system_scope()):
            user = self.get_user_by_id(int(identity))
        return {"epoch": (user.session_epoch or 0) if user is not None else -1}

    def find_user(self, username=None, email=None):
        with use_scope(system_scope()):
            return super().find_user(username=username, email=email)

    def update_user(self, user, commit: bool = True):
        with use_scope(system_scope()):
            return super().update_user(user, commit=commit)

    def get_first_user(self):
        with use_scope(system_scope()):
            return super().get_first_user()

    def noop_user_update(self, user) -> None:
        with use_scope(system_scope()):
            super().noop_user_update(user)

    # --- logins ---------------------------------------------------------------------------------

    def auth_user_db(self, username, password):
        """Flask-AppBuilder's password check, behind the per-account-and-source throttle. The form
        and the API login (/api/v1/security/login) both come here."""
        if not username or len(username) > throttle.MAX_NAME:
            return None
        source = throttle.client_source()
        with use_scope(system_scope(username)):
            user = self.find_user(username=username) or self.find_user(email=username)
            key = throttle.account_key(user.username if user else username)
            refused = throttle.refusal(self.session, key, source)
            if refused is not None:
                self.session.commit()  # an expired lock's reset stays even though we refuse
                self._audit_login(AuditAction.LOGIN_FAILED, user, username, refused.reason, source)
                return None
            reason = self._refusal_before_password(user)
            if reason:
                self._audit_login(AuditAction.LOGIN_FAILED, user, username, reason, source)
                return None
            authenticated = super().auth_user_db(username, password)
            if authenticated is not None:
                throttle.record_success(self.session, key, source)
                self.session.commit()
                return authenticated
            self._count_failure(user, username, key, source)
            return None

    @staticmethod
    def _refusal_before_password(user) -> str:
        if user is not None and user.is_locked():
            return "locked by an administrator"
        if user is not None and user.tenant is not None and not user.tenant.active:
            return "tenant inactive"
        return ""

    def _count_failure(self, user, username: str, key: str, source: str) -> None:
        failures, locked_until = throttle.record_failure(self.session, key, source)
        self.session.commit()
        if locked_until is None:
            reason = "wrong password" if user is not None else "unknown user"
            self._audit_login(AuditAction.LOGIN_FAILED, user, username, reason, source)
            return
        minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
        # The alert: an audit event an operator can watch for, and a warning in the log.
        self._audit_login(
            AuditAction.LOCKED_OUT,
            user,
            username,
            f"{minutes} min",
            source,
            alert=True,
            failures=failures,
        )
        log.warning(
            "SECURITY ALERT: login of %s from %s locked for %s min after %s failures",
            username,
            source,
            minutes,
            failures,
        )

    def on_user_login(self, user) -> None:
        self._audit_login(AuditAction.LOGIN, user, user.username)

    def on_user_login_failed(self, user) -> None:
        """Counted and audited in auth_user_db, where the source is known."""

    def on_user_logout(self, user) -> None:
        """End every session and API token of the user, not only this cookie."""
        with use_scope(system_scope(user.username)):
            user.session_epoch = (user.session_epoch or 0) + 1
            self.session.commit()
        session.pop(EPOCH_KEY, None)
        self._audit_login(AuditAction.LOGOUT, user, user.username)

    def end_sessions(self, user) -> None:
        """Log the user out everywhere (the CLI's `users logout`)."""
        user.session_epoch = (user.session_epoch or 0) + 1

    def _audit_login(
        self, action: str, user, username: str, reason: str = "", source: str = "", **extra
    ) -> None:
        detail = {k: v for k, v in {"reason": reason, "source": source, **extra}.items() if v}
        db_session = self.session
        with use_scope(system_scope()):
            record_event(
                db_session,
                action,
                username=username,
                user_id=user.id if user else None,
                tenant_id=user.tenant_id if user else None,
                org_node_id=user.org_node_id if user else None,
                entity="ab_user",
                detail=detail or None,
            )
            db_session.commit()


def _remember_epoch(_sender, user, **_extra) -> None:
    """At login (the form; API logins carry it in the token instead)."""
    session[EPOCH_KEY] = user.session_epoch or 0


_epoch_bump_installed = False


def _install_epoch_bump() -> None:
    global _epoch_bump_installed
    if not _epoch_bump_installed:
        event.listen(Session, "before_flush", _bump_epoch_on_password_change)
        event.listen(Session, "after_flush", _forget_request_permissions)
        _epoch_bump_installed = True


def _bump_epoch_on_password_change(db_session: Session, _context, _instances) -> None:
    """A new password ends every session and token of the user, whichever path set it (the
    reset screens, the REST API, the CLI); the session that changed its own password stays."""
    for user in db_session.dirty:
        if not isinstance(user, DealerUser):
            continue
        if not inspect(user).attrs["password"].history.has_changes():
            continue
        user.session_epoch = (user.session_epoch or 0) + 1
        if has_request_context() and session.get("_user_id") == str(user.id):
            session[EPOCH_KEY] = user.session_epoch


def _forget_request_permissions(db_session: Session, _context) -> None:
    """A request that changes roles, permissions or users checks later rights afresh."""
    if not has_request_context() or PERMISSIONS_KEY not in g:
        return
    changed = (*db_session.new, *db_session.dirty, *db_session.deleted)
    if any(isinstance(obj, SECURITY_OBJECTS) for obj in changed):
        g.pop(PERMISSIONS_KEY, None)
