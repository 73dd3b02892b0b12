"""Flask-AppBuilder's user, extended with the tenant and org node it belongs to."""

from __future__ import annotations

import datetime

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
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
    locked_until: Mapped[datetime.datetime | None] = mapped_column(DateTime)

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

    def is_locked(self, now: datetime.datetime | None = None) -> bool:
        now = now or datetime.datetime.now()
        return self.locked_until is not None and self.locked_until > now
