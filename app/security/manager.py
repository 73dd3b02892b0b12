"""Our security manager: Flask-AppBuilder's, with tenants, lock-out and audited logins."""

from __future__ import annotations

import datetime
import logging

from flask import current_app
from flask_appbuilder.security.sqla.manager import SecurityManager

from app.audit.models import AuditAction
from app.audit.recorder import record_event
from app.security.models import DealerUser
from app.security.views import DealerUserView
from app.tenancy.scope import system_scope, use_scope
from app.tenancy.web import enter_user_scope

log = logging.getLogger(__name__)


class DealerSecurityManager(SecurityManager):
    user_model = DealerUser
    userdbmodelview = DealerUserView

    # Identity look-ups happen before anyone's scope is known; they run in the platform's scope
    # and return only the user being identified.
    def load_user(self, pk):
        with use_scope(system_scope()):
            return super().load_user(pk)

    def load_user_jwt(self, _jwt_header, jwt_data):
        with use_scope(system_scope()):
            user = super().load_user_jwt(_jwt_header, jwt_data)
        # API calls authenticate here, after before_request: enter the user's scope now.
        enter_user_scope(user)
        return user

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

    def auth_user_db(self, username, password):
        with use_scope(system_scope(username or "anonymous")):
            user = self.find_user(username=username) if username else None
            if user is not None and user.is_locked():
                self._audit_login(AuditAction.LOGIN_FAILED, user, username, "locked")
                return None
            if user is not None and user.tenant is not None and not user.tenant.active:
                self._audit_login(AuditAction.LOGIN_FAILED, user, username, "tenant inactive")
                return None
            authenticated = super().auth_user_db(username, password)
            if authenticated is None and user is None and username:
                self._audit_login(AuditAction.LOGIN_FAILED, None, username, "unknown user")
            return authenticated

    def on_user_login(self, user) -> None:
        self._audit_login(AuditAction.LOGIN, user, user.username)

    def on_user_login_failed(self, user) -> None:
        limit = current_app.config["LOGIN_LOCKOUT_ATTEMPTS"]
        if (user.fail_login_count or 0) >= limit:
            minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
            user.locked_until = datetime.datetime.now() + datetime.timedelta(minutes=minutes)
            with use_scope(system_scope()):
                self.session.commit()
            self._audit_login(AuditAction.LOCKED_OUT, user, user.username, f"{minutes} min")
            log.warning("user %s locked out after %s failed logins", user.username, limit)
        else:
            self._audit_login(AuditAction.LOGIN_FAILED, user, user.username, "wrong password")

    def on_user_logout(self, user) -> None:
        self._audit_login(AuditAction.LOGOUT, user, user.username)

    def _audit_login(self, action: str, user, username: str, reason: str = "") -> None:
        session = self.session
        with use_scope(system_scope()):
            record_event(
                session,
                action,
                username=username,
                user_id=user.id if user else None,
                tenant_id=user.tenant_id if user else None,
                org_node_id=user.org_node_id if user else None,
                entity="ab_user",
                detail={"reason": reason} if reason else None,
            )
            session.commit()
