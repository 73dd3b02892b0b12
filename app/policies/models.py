"""The policy book: policies, their coverage lines, endorsements (批改 and 退保) and generated
documents. Every later capability (fees, reconciliation, reports, renewals, claims) reads these
tables, so they carry the facts those need as columns, with snapshots of names that may change
later (carrier name, salesperson, plate) taken at issuance.

Money is Numeric(…, 2) and Decimal in Python; 不含税保费 is rounded per coverage line and the
policy's figure is the sum of the rounded lines (see services.excl_vat)."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit.models import utcnow
from app.columns import enum_type
from app.customers.models import Customer, Vehicle
from app.organisation.models import OrgNode
from app.policies.labels import (
    BusinessType,
    DocumentKind,
    EndorsementKind,
    EndorsementStatus,
    IssuingTerminal,
    PolicyLine,
    PolicySource,
    PolicyStatus,
)
from app.tenancy.mixins import TenantScoped

MONEY = Numeric(12, 2)
ZERO = decimal.Decimal("0.00")


class Policy(TenantScoped, Model):
    __tablename__ = "policy"
    __table_args__ = (
        # A carrier's number is unique within the tenant that holds the policy: unique across
        # tenants would let one tenant probe another's numbers through a refused import.
        # Also the index by tenant and carrier (its first two columns): no separate one.
        UniqueConstraint("tenant_id", "carrier_key", "policy_no", name="uq_policy_number"),
        Index("ix_policy_tenant_end_date", "tenant_id", "end_date"),
        Index("ix_policy_tenant_start_date", "tenant_id", "start_date"),
        Index("ix_policy_tenant_issued_at", "tenant_id", "issued_at"),
        Index("ix_policy_tenant_created_at", "tenant_id", "created_at"),
        Index("ix_policy_tenant_status", "tenant_id", "status"),
        Index("ix_policy_tenant_plate", "tenant_id", "plate"),
        Index("ix_policy_tenant_insured", "tenant_id", "insured_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_no: Mapped[str] = mapped_column(String(40), index=True)
    carrier_key: Mapped[str] = mapped_column(String(64), comment="carrier document key")
    carrier_name: Mapped[str] = mapped_column(String(64), default="", comment="snapshot")
    line: Mapped[PolicyLine] = mapped_column(enum_type(PolicyLine, 32))
    product_key: Mapped[str | None] = mapped_column(String(64))
    product_version: Mapped[str | None] = mapped_column(String(32))
    business_type: Mapped[BusinessType] = mapped_column(enum_type(BusinessType, 32))
    # 新保/续保/转保 from the vehicle's history, kept apart from business_type, which a combined
    # issuance turns into 联单第一联/联单其他联 for the fee agreements.
    history_type: Mapped[BusinessType] = mapped_column(
        enum_type(BusinessType, 32), default=BusinessType.NEW
    )
    source: Mapped[PolicySource] = mapped_column(
        enum_type(PolicySource, 32), default=PolicySource.DESK
    )
    issuing_terminal: Mapped[IssuingTerminal] = mapped_column(
        enum_type(IssuingTerminal, 32), default=IssuingTerminal.PC
    )
    status: Mapped[PolicyStatus] = mapped_column(
        enum_type(PolicyStatus, 32), default=PolicyStatus.PENDING_CONFIRMATION
    )
    compulsory_only: Mapped[bool] = mapped_column(Boolean, default=False)

    salesperson_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), index=True)
    salesperson_name: Mapped[str | None] = mapped_column(String(64))
    practitioner_no: Mapped[str | None] = mapped_column(String(40), comment="执业证编号")

    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer.id"), index=True, comment="投保人"
    )
    insured_name: Mapped[str] = mapped_column(String(128))
    insured_id_number: Mapped[str | None] = mapped_column(String(18))
    insured_mobile: Mapped[str | None] = mapped_column(String(11))

    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"), index=True)
    vehicle_is_new: Mapped[bool] = mapped_column(Boolean, default=False)
    plate: Mapped[str | None] = mapped_column(String(10))
    vin: Mapped[str | None] = mapped_column(String(17), index=True)

    start_date: Mapped[datetime.date] = mapped_column(Date)
    end_date: Mapped[datetime.date] = mapped_column(Date)
    issued_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, comment="UTC")
    confirmed_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, comment="UTC")
    cancelled_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, comment="UTC")

    premium_incl_tax: Mapped[decimal.Decimal] = mapped_column(MONEY, default=ZERO)
    premium_excl_tax: Mapped[decimal.Decimal] = mapped_column(MONEY, default=ZERO)
    vat_amount: Mapped[decimal.Decimal] = mapped_column(MONEY, default=ZERO)
    vehicle_tax: Mapped[decimal.Decimal] = mapped_column(MONEY, default=ZERO, comment="车船税")
    sum_insured: Mapped[decimal.Decimal | None] = mapped_column(Numeric(14, 2))

    renews_policy_id: Mapped[int | None] = mapped_column(ForeignKey("policy.id"), index=True)
    previous_carrier_key: Mapped[str | None] = mapped_column(String(64))
    # The order table arrives with quoting (0009); a plain column until then.
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    quote_ref: Mapped[str | None] = mapped_column(String(64))
    lineage: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, comment="document versions, explain and rule trace summary"
    )

    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(128))

    org_node: Mapped[OrgNode] = relationship()
    customer: Mapped[Customer | None] = relationship()
    vehicle: Mapped[Vehicle | None] = relationship()
    renews: Mapped[Policy | None] = relationship(remote_side=[id])
    coverages: Mapped[list[PolicyCoverage]] = relationship(
        back_populates="policy", order_by="PolicyCoverage.id", cascade="all, delete-orphan"
    )
    endorsements: Mapped[list[Endorsement]] = relationship(
        back_populates="policy", order_by="Endorsement.id", cascade="all, delete-orphan"
    )
    documents: Mapped[list[PolicyDocument]] = relationship(
        back_populates="policy", order_by="PolicyDocument.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return self.policy_no

    @property
    def carrier(self) -> str:
        """The carrier as the list shows it (its name at issuance)."""
        return self.carrier_name or self.carrier_key

    @property
    def term_days(self) -> int:
        return (self.end_date - self.start_date).days


class PolicyCoverage(TenantScoped, Model):
    __tablename__ = "policy_coverage"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    sum_insured: Mapped[decimal.Decimal | None] = mapped_column(Numeric(14, 2))
    premium_incl_tax: Mapped[decimal.Decimal] = mapped_column(MONEY, default=ZERO)
    premium_excl_tax: Mapped[decimal.Decimal] = mapped_column(MONEY, default=ZERO)

    policy: Mapped[Policy] = relationship(back_populates="coverages")

    def __repr__(self) -> str:
        return self.name


class Endorsement(TenantScoped, Model):
    """A 批改 or a 退保: a signed premium change on a date, which fees and statements read."""

    __tablename__ = "endorsement"
    __table_args__ = (
        UniqueConstraint("policy_id", "endorsement_no", name="uq_endorsement_number"),
        Index("ix_endorsement_tenant_effective", "tenant_id", "effective_date"),
        Index("ix_endorsement_tenant_created", "tenant_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id", ondelete="CASCADE"), index=True)
    endorsement_no: Mapped[str] = mapped_column(String(48), index=True)
    kind: Mapped[EndorsementKind] = mapped_column(enum_type(EndorsementKind, 32))
    effective_date: Mapped[datetime.date] = mapped_column(Date)
    premium_change_incl_tax: Mapped[decimal.Decimal] = mapped_column(MONEY, default=ZERO)
    premium_change_excl_tax: Mapped[decimal.Decimal] = mapped_column(MONEY, default=ZERO)
    vehicle_tax_change: Mapped[decimal.Decimal] = mapped_column(MONEY, default=ZERO)
    reason: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="before / after")
    status: Mapped[EndorsementStatus] = mapped_column(
        enum_type(EndorsementStatus, 32), default=EndorsementStatus.EFFECTIVE
    )
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(128))

    policy: Mapped[Policy] = relationship(back_populates="endorsements")

    def __repr__(self) -> str:
        return self.endorsement_no


class PolicyDocument(TenantScoped, Model):
    """A generated file of a policy (电子保单 PDF), stored under STORAGE_PATH."""

    __tablename__ = "policy_document"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_type(DocumentKind, 32))
    filename: Mapped[str] = mapped_column(String(128))
    storage_key: Mapped[str] = mapped_column(String(255), comment="path under STORAGE_PATH")
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(128))

    policy: Mapped[Policy] = relationship(back_populates="documents")

    def __repr__(self) -> str:
        return self.filename
