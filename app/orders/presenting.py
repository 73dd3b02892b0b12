"""Orders as the API and the screens show them: codes with Chinese labels, money as strings."""

from __future__ import annotations

from typing import Any

from app.orders.models import (
    ITEM_STATUS_LABELS,
    ORDER_STATUS_LABELS,
    PAYMENT_STATUS_LABELS,
    Order,
    Payment,
)
from app.quoting.presenting import money


def order_data(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "order_no": order.order_no,
        "status": str(order.status),
        "status_label": str(ORDER_STATUS_LABELS[order.status]),
        "quote_id": order.quote_session_id,
        "customer_id": order.customer_id,
        "vehicle_id": order.vehicle_id,
        "premium_total": money(order.premium_total),
        "vehicle_tax_total": money(order.vehicle_tax_total),
        "services_total": money(order.services_total),
        "total": money(order.total),
        "last_error": order.last_error,
        "items": [
            {
                "id": item.id,
                "kind": str(item.kind),
                "carrier_key": item.carrier_key,
                "line": item.line,
                "title": item.title,
                "premium": money(item.premium),
                "vehicle_tax": money(item.vehicle_tax),
                "price": money(item.price),
                "business_type": item.business_type,
                "status": str(item.status),
                "status_label": str(ITEM_STATUS_LABELS[item.status]),
                "policy_id": item.policy_id,
                "service_contract_id": item.service_contract_id,
                "last_error": item.last_error,
            }
            for item in order.items
        ],
        "payments": [payment_data(p) for p in order.payments],
    }


def payment_data(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "payment_ref": payment.payment_ref,
        "provider": payment.provider,
        "amount": money(payment.amount),
        "status": str(payment.status),
        "status_label": str(PAYMENT_STATUS_LABELS[payment.status]),
        "qr_payload": payment.qr_payload,
    }
