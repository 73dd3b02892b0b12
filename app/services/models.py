"""A service contract: one service package (a `service_package` document version) sold to a
customer for a vehicle, with its own contract number, price and term."""

from __future__ import annotations

import datetime
import decimal
import enum
from typing import Any

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit.models import utcnow
from app.columns import enum_type
from app.customers.models import Customer, Vehicle
from app.organisation.models import OrgNode
from app.tenancy.mixins import TenantScoped


class ContractStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


CONTRACT_STATUS_LABELS = {
    ContractStatus.ACTIVE: _l("In force"),
    ContractStatus.CANCELLED: _l("Cancelled"),
}


class ServiceContract(TenantScoped, Model):
    __tablename__ = "service_contract"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_no: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id"), index=True)
    package_key: Mapped[str] = mapped_column(String(64))
    package_version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"), index=True)
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(14, 2))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    start_date: Mapped[datetime.date] = mapped_column(Date)
    end_date: Mapped[datetime.date] = mapped_column(Date)
    status: Mapped[ContractStatus] = mapped_column(
        enum_type(ContractStatus, 16), default=ContractStatus.ACTIVE
    )
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()
    vehicle: Mapped[Vehicle | None] = relationship()
    org_node: Mapped[OrgNode] = relationship()

    def __repr__(self) -> str:
        return f"服务合同 {self.contract_no}"
