"""Reading the organisation tree as the current user may see it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.customers.models import Customer, Vehicle
from app.organisation.models import OrgNode, Tenant


@dataclass
class TreeNode:
    node: OrgNode
    children: list[TreeNode] = field(default_factory=list)


def visible_forest(session: Session) -> list[tuple[Tenant | None, list[TreeNode]]]:
    """Per tenant, the top-most nodes the current scope sees, with their subtrees."""
    nodes = session.scalars(select(OrgNode).order_by(OrgNode.path)).all()
    by_id = {n.id: TreeNode(n) for n in nodes}
    tops: dict[int, list[TreeNode]] = {}
    for item in by_id.values():
        parent = by_id.get(item.node.parent_id)
        if parent is not None:
            parent.children.append(item)
        else:
            tops.setdefault(item.node.tenant_id, []).append(item)
    tenants = {t.id: t for t in session.scalars(select(Tenant)).all()}
    return [(tenants.get(tid), roots) for tid, roots in sorted(tops.items())]


def store_summary(session: Session) -> dict[str, dict[str, int]]:
    """Customers and vehicles per store, over what the current scope sees."""
    summary: dict[str, dict[str, int]] = {}
    for model, key in ((Customer, "customers"), (Vehicle, "vehicles")):
        rows = session.execute(
            select(OrgNode.code, func.count(model.id))
            .join(OrgNode, OrgNode.id == model.org_node_id)
            .group_by(OrgNode.code)
        )
        for code, count in rows:
            summary.setdefault(code, {"customers": 0, "vehicles": 0})[key] = count
    return summary
