"""An order bundles what the customer buys in one go: insurance lines from one or more carriers'
quotes and the dealer's service packages. It is bound, paid once, then issued line by line.

Issuing is idempotent per item: the item's `idempotency_key` goes to the carrier with every issue
call, so a retry after a lost answer gets the same policy back, never a second one."""

from __future__ import annotations

import datetime
import decimal
import enum
from typing import Any

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit.models import utcnow
from app.columns import enum_type
from app.customers.models import Customer, Vehicle
from app.organisation.models import OrgNode
from app.quoting.models import CarrierQuote, QuoteSession, Terminal
from app.tenancy.mixins import TenantScoped

MONEY = Numeric(14, 2)


class OrderStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    ISSUING = "issuing"
    ISSUED = "issued"
    ISSUE_FAILED = "issue_failed"
    CANCELLED = "cancelled"


ORDER_STATUS_LABELS = {
    OrderStatus.AWAITING_PAYMENT: _l("Awaiting payment"),
    OrderStatus.PAID: _l("Paid"),
    OrderStatus.ISSUING: _l("Issuing"),
    OrderStatus.ISSUED: _l("Issued"),
    OrderStatus.ISSUE_FAILED: _l("Issue failed, retry"),
    OrderStatus.CANCELLED: _l("Cancelled"),
}


class ItemKind(enum.StrEnum):
    INSURANCE = "insurance"
    SERVICE = "service"


class ItemStatus(enum.StrEnum):
    BOUND = "bound"
    ISSUED = "issued"
    FAILED = "failed"


ITEM_STATUS_LABELS = {
    ItemStatus.BOUND: _l("Bound"),
    ItemStatus.ISSUED: _l("Issued"),
    ItemStatus.FAILED: _l("Failed, retry"),
}


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"


PAYMENT_STATUS_LABELS = {
    PaymentStatus.PENDING: _l("Awaiting payment"),
    PaymentStatus.PAID: _l("Paid"),
    PaymentStatus.FAILED: _l("Payment failed"),
}


class Order(TenantScoped, Model):
    __tablename__ = "sales_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32), unique=True)
    quote_session_id: Mapped[int | None] = mapped_column(ForeignKey("quote_session.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"), index=True)
    salesperson_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    salesperson_name: Mapped[str | None] = mapped_column(String(64))
    terminal: Mapped[Terminal] = mapped_column(enum_type(Terminal, 16), default=Terminal.PC)
    status: Mapped[OrderStatus] = mapped_column(
        enum_type(OrderStatus, 24), default=OrderStatus.AWAITING_PAYMENT
    )
    premium_total: Mapped[decimal.Decimal] = mapped_column(MONEY, default=decimal.Decimal(0))
    vehicle_tax_total: Mapped[decimal.Decimal] = mapped_column(MONEY, default=decimal.Decimal(0))
    services_total: Mapped[decimal.Decimal] = mapped_column(MONEY, default=decimal.Decimal(0))
    total: Mapped[decimal.Decimal] = mapped_column(MONEY, default=decimal.Decimal(0))
    issue_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    paid_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    issued_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)

    customer: Mapped[Customer] = relationship()
    vehicle: Mapped[Vehicle | None] = relationship()
    org_node: Mapped[OrgNode] = relationship()
    quote_session: Mapped[QuoteSession | None] = relationship()
    items: Mapped[list[OrderItem]] = relationship(back_populates="order", order_by="OrderItem.id")
    payments: Mapped[list[Payment]] = relationship(back_populates="order", order_by="Payment.id")

    def __repr__(self) -> str:
        return f"订单 {self.order_no}"


class OrderItem(TenantScoped, Model):
    """One insurance line of one carrier's quote, or one service package. A carrier quote's line
    can be bound into one order only: the unique key is what makes two simultaneous binds of the
    same quote end in one policy."""

    __tablename__ = "sales_order_item"
    __table_args__ = (UniqueConstraint("carrier_quote_id", "line"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    kind: Mapped[ItemKind] = mapped_column(enum_type(ItemKind, 16))
    carrier_quote_id: Mapped[int | None] = mapped_column(ForeignKey("carrier_quote.id"))
    carrier_key: Mapped[str | None] = mapped_column(String(64))
    line: Mapped[str] = mapped_column(String(64))
    product_key: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(128))
    premium: Mapped[decimal.Decimal] = mapped_column(MONEY, default=decimal.Decimal(0))
    vehicle_tax: Mapped[decimal.Decimal] = mapped_column(MONEY, default=decimal.Decimal(0))
    price: Mapped[decimal.Decimal] = mapped_column(MONEY, default=decimal.Decimal(0))
    business_type: Mapped[str | None] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[ItemStatus] = mapped_column(enum_type(ItemStatus, 16), default=ItemStatus.BOUND)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    policy_id: Mapped[int | None] = mapped_column(Integer, index=True)
    service_contract_id: Mapped[int | None] = mapped_column(Integer, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))

    order: Mapped[Order] = relationship(back_populates="items")
    carrier_quote: Mapped[CarrierQuote | None] = relationship()

    @property
    def amount(self) -> decimal.Decimal:
        return (self.premium or 0) + (self.vehicle_tax or 0) + (self.price or 0)


class Payment(TenantScoped, Model):
    """A payment through a payment gateway plugin. The gateway's reference is unique, so a replayed
    callback finds the payment already paid and changes nothing."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    payment_ref: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[decimal.Decimal] = mapped_column(MONEY)
    status: Mapped[PaymentStatus] = mapped_column(
        enum_type(PaymentStatus, 16), default=PaymentStatus.PENDING
    )
    qr_payload: Mapped[str | None] = mapped_column(String(512))
    callbacks: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    paid_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)

    order: Mapped[Order] = relationship(back_populates="payments")
