"""Commands (services that change the organisation): creating tenants and their headquarters."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.organisation.models import NodeKind, OrgNode, Tenant, TenantKind


def ensure_headquarters(session: Session, tenant: Tenant) -> OrgNode:
    """Every tenant has one root node, its headquarters (总部); create it when missing."""
    root = session.scalar(
        select(OrgNode).where(OrgNode.tenant_id == tenant.id, OrgNode.parent_id.is_(None))
    )
    if root is None:
        root = OrgNode(
            tenant_id=tenant.id, kind=NodeKind.HEADQUARTERS, code="HQ", name=f"{tenant.name}总部"
        )
        session.add(root)
        session.flush()
    return root


def create_tenant(session: Session, code: str, name: str, kind: TenantKind) -> Tenant:
    tenant = Tenant(code=code, name=name, kind=kind, active=True)
    session.add(tenant)
    session.flush()
    ensure_headquarters(session, tenant)
    return tenant
