"""Customers and vehicles. Identifiers are checked on assignment, whatever path the data takes."""

from __future__ import annotations

import datetime
import decimal
import enum

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.columns import enum_type
from app.identifiers import check_mobile, check_plate, check_resident_id, check_uscc, check_vin
from app.organisation.models import Brand, OrgNode
from app.tenancy.mixins import TenantScoped


class CustomerKind(enum.StrEnum):
    PERSON = "person"
    COMPANY = "company"


class FuelType(enum.StrEnum):
    PETROL = "petrol"
    DIESEL = "diesel"
    HYBRID = "hybrid"
    PLUGIN_HYBRID = "plugin_hybrid"
    ELECTRIC = "electric"


class VehicleUsage(enum.StrEnum):
    """使用性质: what the tariff and the carriers' underwriting rules ask about a vehicle."""

    PRIVATE = "private"
    NON_COMMERCIAL = "non_commercial"
    COMMERCIAL = "commercial"


# 交强险 vehicle classes, as the compulsory_motor product and its tariff tables name them.
VEHICLE_CLASSES = (
    "家庭自用汽车",
    "企业非营业客车",
    "机关非营业客车",
    "营业客车",
    "非营业货车",
    "营业货车",
    "摩托车",
)
USAGE_LABELS = {
    VehicleUsage.PRIVATE: _l("Private"),
    VehicleUsage.NON_COMMERCIAL: _l("Non-commercial"),
    VehicleUsage.COMMERCIAL: _l("Commercial"),
}

CUSTOMER_KIND_LABELS = {CustomerKind.PERSON: _l("Person"), CustomerKind.COMPANY: _l("Company")}
FUEL_LABELS = {
    FuelType.PETROL: _l("Petrol"),
    FuelType.DIESEL: _l("Diesel"),
    FuelType.HYBRID: _l("Hybrid"),
    FuelType.PLUGIN_HYBRID: _l("Plug-in hybrid"),
    FuelType.ELECTRIC: _l("Electric"),
}


class Customer(TenantScoped, Model):
    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[CustomerKind] = mapped_column(
        enum_type(CustomerKind, 16),
        default=CustomerKind.PERSON,
    )
    id_number: Mapped[str | None] = mapped_column(String(18), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    mobile: Mapped[str | None] = mapped_column(String(11), index=True)
    address: Mapped[str | None] = mapped_column(String(255))
    birthday: Mapped[datetime.date | None] = mapped_column(Date)
    # 客户归属: the user who looks after the customer; handed over when they leave (app/handover).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), index=True)

    org_node: Mapped[OrgNode] = relationship()
    vehicles: Mapped[list[Vehicle]] = relationship(back_populates="customer")

    def __repr__(self) -> str:
        return self.name

    @validates("id_number")
    def _check_id_number(self, key, value):
        return check_resident_id(value) if value else None

    @validates("credit_code")
    def _check_credit_code(self, key, value):
        return check_uscc(value) if value else None

    @validates("mobile")
    def _check_mobile(self, key, value):
        return check_mobile(value) if value else None


class Vehicle(TenantScoped, Model):
    __tablename__ = "vehicle"
    __table_args__ = (
        UniqueConstraint("tenant_id", "plate"),
        UniqueConstraint("tenant_id", "vin"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plate: Mapped[str | None] = mapped_column(String(10), index=True)
    vin: Mapped[str] = mapped_column(String(17), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id"))
    model_name: Mapped[str | None] = mapped_column(String(64))
    register_date: Mapped[datetime.date | None] = mapped_column(Date)
    seats: Mapped[int] = mapped_column(Integer, default=5)
    displacement: Mapped[decimal.Decimal | None] = mapped_column(Numeric(4, 2), comment="litres")
    fuel: Mapped[FuelType] = mapped_column(
        enum_type(FuelType, 16),
        default=FuelType.PETROL,
    )
    purchase_price: Mapped[decimal.Decimal | None] = mapped_column(Numeric(12, 2))
    vehicle_class: Mapped[str] = mapped_column(
        String(16), default=VEHICLE_CLASSES[0], comment="交强险车辆种类"
    )
    tonnage: Mapped[decimal.Decimal | None] = mapped_column(Numeric(6, 2), comment="t")
    is_new: Mapped[bool] = mapped_column(Boolean, default=False, comment="新车 (not registered)")
    usage: Mapped[VehicleUsage] = mapped_column(
        enum_type(VehicleUsage, 16), default=VehicleUsage.PRIVATE
    )

    customer: Mapped[Customer | None] = relationship(back_populates="vehicles")
    brand: Mapped[Brand | None] = relationship()
    org_node: Mapped[OrgNode] = relationship()

    def __repr__(self) -> str:
        return self.plate or self.vin

    @validates("plate")
    def _check_plate(self, key, value):
        return check_plate(value) if value else None

    @validates("vin")
    def _check_vin(self, key, value):
        return check_vin(value)

    @validates("vehicle_class")
    def _check_vehicle_class(self, key, value):
        if value not in VEHICLE_CLASSES:
            raise ValueError(f"vehicle class must be one of {', '.join(VEHICLE_CLASSES)}")
        return value
