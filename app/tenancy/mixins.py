"""The scoped mixins. `Scoped` is the marker the ORM guard filters on; each concrete kind says in
`scope_clause` how a row is matched against a tenant and an org path, and in `check_write` which
writes the current scope may make."""

from __future__ import annotations

from sqlalchemy import ForeignKey, and_, literal_column, select
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from app.tenancy.scope import Scope, ScopeViolation


class Scoped:
    """Marker for every model whose rows belong to a tenant."""

    @classmethod
    def scope_clause(cls, tenant_id: int, node_path: str) -> ColumnElement[bool]:
        # SQLAlchemy calls the guard's criteria once with the marker itself while analysing the
        # lambda; the clause must use both values (so they become bound parameters) and match
        # nothing.
        if cls is Scoped:
            return and_(
                literal_column("1") == literal_column("0"),
                literal_column("0") == tenant_id,
                literal_column("''") == node_path,
            )
        raise NotImplementedError(f"{cls.__name__} must say how its rows are scoped")

    def check_write(self, session: Session, scope: Scope, is_new: bool) -> None:
        raise NotImplementedError(f"{type(self).__name__} must say which writes are allowed")


def nodes_under(node_path: str):
    """Ids of the org nodes at `node_path` and below."""
    from app.organisation.models import OrgNode

    return select(OrgNode.id).where(OrgNode.path.startswith(node_path))


def load_node(session: Session, node_id: int | None):
    """The org node, as far as the current scope can see it (None when out of scope)."""
    from app.organisation.models import OrgNode

    return session.get(OrgNode, node_id) if node_id is not None else None


class TenantScoped(Scoped):
    """Ordinary business data: belongs to a tenant and to one org node of it. A user sees the rows
    of their node and below. Set `__scope_optional__ = True` for platform-level rows (audit, jobs)
    that may have no tenant; those are seen by the platform only."""

    __scope_optional__ = False

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("tenant.id"), index=True, nullable=cls.__scope_optional__)

    @declared_attr
    def org_node_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("org_node.id"), index=True, nullable=cls.__scope_optional__)

    @classmethod
    def scope_clause(cls, tenant_id: int, node_path: str) -> ColumnElement[bool]:
        return (cls.tenant_id == tenant_id) & cls.org_node_id.in_(nodes_under(node_path))

    def check_write(self, session: Session, scope: Scope, is_new: bool) -> None:
        if not scope.unrestricted:
            if self.tenant_id is None:
                self.tenant_id = scope.tenant_id
            if self.org_node_id is None:
                self.org_node_id = scope.node_id
        if self.org_node_id is None:
            if self.__scope_optional__ and self.tenant_id is None:
                return
            raise ScopeViolation(f"{type(self).__name__}: org node (org_node_id) is required")
        node = load_node(session, self.org_node_id)
        if node is None:
            raise ScopeViolation(
                f"{type(self).__name__}: org node {self.org_node_id} is outside your scope"
            )
        if self.tenant_id is None:
            self.tenant_id = node.tenant_id
        if node.tenant_id != self.tenant_id:
            raise ScopeViolation(
                f"{type(self).__name__}: org node {node.id} belongs to another tenant"
            )


def user_scope_clause(cls, tenant_id: int, node_path: str) -> ColumnElement[bool]:
    """Users of the tenant on the node and below. Written over the table's columns so it also
    filters queries made through Flask-AppBuilder's base `User` class."""
    columns = cls.__table__.c
    return (columns.tenant_id == tenant_id) & columns.org_node_id.in_(nodes_under(node_path))


class SharedScoped(TenantScoped):
    """Configuration rows (packs, documents): either the platform's (no tenant: read by every
    tenant, written only by the platform) or one tenant's, read by all of that tenant (a store
    works under its group's products) and written only from the node that owns them."""

    __scope_optional__ = True

    @classmethod
    def scope_clause(cls, tenant_id: int, node_path: str) -> ColumnElement[bool]:
        return (cls.tenant_id == tenant_id) | cls.tenant_id.is_(None)

    def check_write(self, session: Session, scope: Scope, is_new: bool) -> None:
        if self.tenant_id is None and not scope.unrestricted:
            if is_new and scope.tenant_id is not None:
                self.tenant_id, self.org_node_id = scope.tenant_id, scope.node_id
            else:
                raise ScopeViolation(f"{type(self).__name__}: platform rows are the platform's")
        super().check_write(session, scope, is_new)
