"""Jobs of orders: issuing a paid order, run in the background (rq) or inline without Redis."""

from __future__ import annotations

from app.extensions import db
from app.jobs.queue import task
from app.orders.models import OrderStatus


@task("orders.issue")
def issue_paid_order(order_id: int) -> dict:
    """Issue a paid order; a carrier that fails leaves the order 出单失败 for a retry."""
    from app.orders.services import get_order, issue_order

    order = get_order(db.session, order_id)
    if order.status in (OrderStatus.PAID, OrderStatus.ISSUE_FAILED):
        issue_order(db.session, order)
    return {"order_no": order.order_no, "status": str(order.status)}
