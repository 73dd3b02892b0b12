"""Tenants and the organisation tree.

A tenant is a dealer group, an OEM or an intermediary. Under it hangs one root node (总部) and
below that regions, brand regions, areas and stores. Each node keeps a materialised path
("/1/4/9/") so "this node and below" is one indexed prefix match.
"""

from __future__ import annotations

import enum

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    event,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from app.columns import enum_type
from app.tenancy.mixins import Scoped
from app.tenancy.scope import Scope, ScopeViolation


class TenantKind(enum.StrEnum):
    DEALER_GROUP = "dealer_group"
    OEM = "oem"
    INTERMEDIARY = "intermediary"


TENANT_KIND_LABELS = {
    TenantKind.DEALER_GROUP: _l("Dealer group"),
    TenantKind.OEM: _l("OEM"),
    TenantKind.INTERMEDIARY: _l("Intermediary"),
}


class NodeKind(enum.StrEnum):
    HEADQUARTERS = "headquarters"
    REGION = "region"
    BRAND_REGION = "brand_region"
    AREA = "area"
    STORE = "store"


NODE_KIND_LABELS = {
    NodeKind.HEADQUARTERS: _l("Headquarters"),
    NodeKind.REGION: _l("Region"),
    NodeKind.BRAND_REGION: _l("Brand region"),
    NodeKind.AREA: _l("Area"),
    NodeKind.STORE: _l("Store"),
}

# Which kinds may hang under which: the tree reads top-down, levels may be skipped.
ALLOWED_CHILDREN = {
    NodeKind.HEADQUARTERS: {NodeKind.REGION, NodeKind.BRAND_REGION, NodeKind.AREA, NodeKind.STORE},
    NodeKind.REGION: {NodeKind.BRAND_REGION, NodeKind.AREA, NodeKind.STORE},
    NodeKind.BRAND_REGION: {NodeKind.AREA, NodeKind.STORE},
    NodeKind.AREA: {NodeKind.STORE},
    NodeKind.STORE: set(),
}


class Brand(Model):
    """Reference data shared by all tenants (上海大众, 一汽丰田, …)."""

    __tablename__ = "brand"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    maker: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:
        return self.name


class City(Model):
    """Reference data shared by all tenants: a prefecture-level city and its province."""

    __tablename__ = "city"
    __table_args__ = (UniqueConstraint("province", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True, comment="行政区划代码")
    province: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(32))

    def __repr__(self) -> str:
        return f"{self.province}{self.name}" if self.province != self.name else self.name


class Tenant(Scoped, Model):
    __tablename__ = "tenant"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[TenantKind] = mapped_column(enum_type(TenantKind, 32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    nodes: Mapped[list[OrgNode]] = relationship(back_populates="tenant", viewonly=True)

    def __repr__(self) -> str:
        return self.name

    @classmethod
    def scope_clause(cls, tenant_id: int, node_path: str) -> ColumnElement[bool]:
        return cls.id == tenant_id

    def check_write(self, session: Session, scope: Scope, is_new: bool) -> None:
        if scope.unrestricted:
            return
        if is_new or self.id != scope.tenant_id:
            raise ScopeViolation("only the platform may create or change other tenants")

    @property
    def root(self) -> OrgNode | None:
        return next((n for n in self.nodes if n.parent_id is None), None)


class OrgNode(Scoped, Model):
    __tablename__ = "org_node"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_node.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), index=True, default="")
    kind: Mapped[NodeKind] = mapped_column(enum_type(NodeKind, 32))
    code: Mapped[str] = mapped_column(String(32), comment="店代码 for stores")
    name: Mapped[str] = mapped_column(String(128))
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id"))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    tenant: Mapped[Tenant] = relationship(back_populates="nodes")
    parent: Mapped[OrgNode | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgNode]] = relationship(back_populates="parent", order_by="OrgNode.code")
    brand: Mapped[Brand | None] = relationship()
    city: Mapped[City | None] = relationship()

    def __repr__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def province(self) -> str | None:
        return self.city.province if self.city else None

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)

    @classmethod
    def scope_clause(cls, tenant_id: int, node_path: str) -> ColumnElement[bool]:
        return (cls.tenant_id == tenant_id) & cls.path.startswith(node_path)

    def check_write(self, session: Session, scope: Scope, is_new: bool) -> None:
        parent = self.parent if self.parent is not None else _load(session, self.parent_id)
        if self.parent_id is not None and parent is None:
            raise ScopeViolation(f"org node {self.code}: parent is outside your scope")
        if parent is None:
            if not scope.unrestricted:
                raise ScopeViolation("only the platform may create a tenant's root node")
            if self.kind != NodeKind.HEADQUARTERS:
                raise ValueError("the root node of a tenant must be its headquarters")
        else:
            if parent.tenant_id != self.tenant_id and self.tenant_id is not None:
                raise ScopeViolation(f"org node {self.code}: parent belongs to another tenant")
            self.tenant_id = parent.tenant_id
            if self.kind not in ALLOWED_CHILDREN[parent.kind]:
                raise ValueError(f"a {self.kind.value} cannot sit under a {parent.kind.value}")
        if self.kind == NodeKind.STORE and self.brand_id is None and self.brand is None:
            raise ValueError(f"store {self.code}: a store needs a brand")
        if not is_new and not scope.unrestricted and self.id == scope.node_id:
            _refuse_moving_own_node(session, self)


def _load(session: Session, node_id: int | None) -> OrgNode | None:
    return session.get(OrgNode, node_id) if node_id is not None else None


def _refuse_moving_own_node(session: Session, node: OrgNode) -> None:
    from sqlalchemy import inspect

    if inspect(node).attrs.parent_id.history.has_changes():
        raise ScopeViolation("you cannot move the node your own scope hangs from")


@event.listens_for(OrgNode, "after_insert")
def _set_path_after_insert(mapper, connection, node: OrgNode) -> None:
    parent_path = "/"
    if node.parent_id is not None:
        parent_path = connection.scalar(select(OrgNode.path).where(OrgNode.id == node.parent_id))
    path = f"{parent_path}{node.id}/"
    connection.execute(update(OrgNode.__table__).where(OrgNode.id == node.id).values(path=path))
    from sqlalchemy.orm.attributes import set_committed_value

    set_committed_value(node, "path", path)


@event.listens_for(OrgNode, "after_update")
def _move_subtree(mapper, connection, node: OrgNode) -> None:
    from sqlalchemy import func, inspect

    history = inspect(node).attrs.parent_id.history
    if not history.has_changes():
        return
    old_path = node.path
    parent_path = connection.scalar(select(OrgNode.path).where(OrgNode.id == node.parent_id))
    if parent_path is None or parent_path.startswith(old_path):
        raise ValueError(f"org node {node.code} cannot move under its own subtree")
    new_path = f"{parent_path}{node.id}/"
    table = OrgNode.__table__
    connection.execute(
        update(table)
        .where(table.c.path.startswith(old_path))
        .values(path=new_path + func.substr(table.c.path, len(old_path) + 1))
    )
    from sqlalchemy.orm.attributes import set_committed_value

    set_committed_value(node, "path", new_path)
