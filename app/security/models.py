"""Flask-AppBuilder's user, extended with the tenant and org node it belongs to."""

from __future__ import annotations

import datetime

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, relationship
from sqlalchemy.sql.elements import ColumnElement

from app.organisation.models import OrgNode, Tenant
from app.tenancy.mixins import Scoped, load_node, user_scope_clause
from app.tenancy.scope import Scope, ScopeViolation


class DealerUser(Scoped, User):
    """A user of one tenant, placed on one org node; platform admins have no tenant."""

    __tablename__ = "ab_user"
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"), index=True)
    org_node_id: Mapped[int | None] = mapped_column(ForeignKey("org_node.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    # An administrator's lock of the whole account (the automatic lock-out is per source, in
    # LoginThrottle).
    locked_until: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    # Stored in the session cookie at login and compared on every request: logging out or
    # changing the password bumps it, so every copy of an older cookie (and every older API
    # token) stops working at once.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    tenant: Mapped[Tenant | None] = relationship(foreign_keys=[tenant_id])
    org_node: Mapped[OrgNode | None] = relationship(foreign_keys=[org_node_id])

    @classmethod
    def scope_clause(cls, tenant_id: int, node_path: str) -> ColumnElement[bool]:
        return user_scope_clause(cls, tenant_id, node_path)

    def check_write(self, session: Session, scope: Scope, is_new: bool) -> None:
        if scope.unrestricted:
            if self.org_node_id is not None and self.tenant_id is None:
                self.tenant_id = load_node(session, self.org_node_id).tenant_id
            return
        if self.tenant_id is None:
            self.tenant_id = scope.tenant_id
        if self.org_node_id is None:
            self.org_node_id = scope.node_id
        node = load_node(session, self.org_node_id)
        if node is None or node.tenant_id != self.tenant_id:
            raise ScopeViolation(f"user {self.username}: org node is outside your scope")

    def login_lock(self) -> str:
        """For the user list: the addresses locked out of this account, or the admin's lock."""
        from app.security.throttle import account_key, locked_sources

        if self.is_locked():
            return str(_l("Locked by an administrator"))
        session = object_session(self)
        return ", ".join(locked_sources(session, account_key(self.username))) if session else ""

    def is_locked(self, now: datetime.datetime | None = None) -> bool:
        now = now or datetime.datetime.now()
        return self.locked_until is not None and self.locked_until > now


class LoginThrottle(Model):
    """Failed logins of one typed user name from one client address: the progressive delay and
    the lock-out. Keyed by the name as typed (unknown names are throttled like real ones, so the
    answers do not tell which accounts exist) and the source, so an attacker at one address cannot
    lock the real user out from another. Written before anyone is identified: not tenant data."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("username", "source", name="uq_login_throttle_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(256), index=True)
    source: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    retry_after: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    locked_until: Mapped[datetime.datetime | None] = mapped_column(DateTime)
