"""A desk's quote request and each carrier's answer to it.

A `QuoteSession` is one request from the desk: one customer, one vehicle (none for non-motor
alone), the product lines and coverages chosen, and the carriers asked. Each carrier's answer is a
`CarrierQuote`, written as it arrives, so the desk sees results appear one by one. Premiums are
always the server's own: a price sent by a client is never stored here."""

from __future__ import annotations

import datetime
import decimal
import enum
from typing import Any

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit.models import utcnow
from app.columns import enum_type
from app.customers.models import Customer, Vehicle
from app.organisation.models import OrgNode
from app.tenancy.mixins import TenantScoped

MONEY = Numeric(14, 2)


class Terminal(enum.StrEnum):
    PC = "pc"
    PHONE = "phone"


TERMINAL_LABELS = {Terminal.PC: _l("PC"), Terminal.PHONE: _l("Phone")}


class QuoteStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"


QUOTE_STATUS_LABELS = {QuoteStatus.RUNNING: _l("Quoting"), QuoteStatus.DONE: _l("Quoted")}


class AnswerStatus(enum.StrEnum):
    PENDING = "pending"
    OK = "ok"
    REFUSED = "refused"
    FAILED = "failed"
    TIMEOUT = "timeout"


ANSWER_STATUS_LABELS = {
    AnswerStatus.PENDING: _l("Waiting"),
    AnswerStatus.OK: _l("Quoted"),
    AnswerStatus.REFUSED: _l("Refused"),
    AnswerStatus.FAILED: _l("Failed"),
    AnswerStatus.TIMEOUT: _l("Timed out"),
}


class QuoteSession(TenantScoped, Model):
    __tablename__ = "quote_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"), index=True)
    start_date: Mapped[datetime.date] = mapped_column(Date)
    # What was asked: lines (product, coverages, form values), history, carriers.
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    carriers: Mapped[list[str]] = mapped_column(JSON)
    terminal: Mapped[Terminal] = mapped_column(enum_type(Terminal, 16), default=Terminal.PC)
    status: Mapped[QuoteStatus] = mapped_column(
        enum_type(QuoteStatus, 16), default=QuoteStatus.RUNNING
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)

    customer: Mapped[Customer] = relationship()
    vehicle: Mapped[Vehicle | None] = relationship()
    org_node: Mapped[OrgNode] = relationship()
    answers: Mapped[list[CarrierQuote]] = relationship(
        back_populates="session", order_by="CarrierQuote.id"
    )

    def __repr__(self) -> str:
        return f"报价 {self.reference}"


class CarrierQuote(TenantScoped, Model):
    """One carrier's answer: its lines (premium per coverage), totals, validity and lineage."""

    __tablename__ = "carrier_quote"
    __table_args__ = (UniqueConstraint("session_id", "carrier_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("quote_session.id"), index=True)
    carrier_key: Mapped[str] = mapped_column(String(64))
    carrier_name: Mapped[str] = mapped_column(String(64))
    status: Mapped[AnswerStatus] = mapped_column(
        enum_type(AnswerStatus, 16), default=AnswerStatus.PENDING
    )
    carrier_quote_ref: Mapped[str | None] = mapped_column(String(64))
    lines: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    total_premium: Mapped[decimal.Decimal | None] = mapped_column(MONEY)
    vehicle_tax: Mapped[decimal.Decimal | None] = mapped_column(MONEY)
    total: Mapped[decimal.Decimal | None] = mapped_column(MONEY)
    last_year_total: Mapped[decimal.Decimal | None] = mapped_column(MONEY)
    valid_until: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    reasons: Mapped[list[str] | None] = mapped_column(JSON)
    # Read when an order is issued, never by the desk's poll: loaded on first access.
    lineage: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)

    session: Mapped[QuoteSession] = relationship(back_populates="answers")

    def __repr__(self) -> str:
        return f"{self.carrier_name} {self.status.value}"

    def expired(self, now: datetime.datetime | None = None) -> bool:
        return self.valid_until is None or (now or utcnow()) > self.valid_until

    def line(self, line_code: str) -> dict[str, Any] | None:
        return next((x for x in self.lines or [] if x.get("line") == line_code), None)
