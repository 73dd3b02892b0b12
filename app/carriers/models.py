"""Carrier credentials (write-only secrets) and the download work queue.

Both belong to a tenant and an org node. A credential's value is kept only encrypted, in the
column `secret` — the audit recorder masks every column of that name — and no screen, export or
API reads it back: the platform decrypts it only to hand it to a plugin's client."""

from __future__ import annotations

import datetime
import enum

from flask_appbuilder import Model
from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.models import utcnow
from app.columns import enum_type
from app.tenancy.mixins import TenantScoped


class CarrierCredential(TenantScoped, Model):
    """One secret (an API key, a signing secret) of one carrier document of a tenant, referred
    to from the document as `secret:<id>`."""

    __tablename__ = "carrier_credential"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "carrier_key", "name", name="uq_carrier_credential_tenant_key_name"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    carrier_key: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(64))
    secret: Mapped[str] = mapped_column(Text, comment="Fernet token; never shown")
    fingerprint: Mapped[str] = mapped_column(
        String(16), comment="keyed hash prefix, to tell two apart"
    )
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    replaced_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)

    def __repr__(self) -> str:
        return f"{self.carrier_key}.{self.name}"

    @property
    def reference(self) -> str:
        return f"secret:{self.id}"


class DownloadKind(enum.StrEnum):
    POLICY = "policy"
    STATEMENT = "statement"
    CLAIM = "claim"


class DownloadStatus(enum.StrEnum):
    UNMATCHED = "unmatched"
    RESOLVED = "resolved"
    IGNORED = "ignored"


# Chinese labels (the console is zh_CN first; these screens have no English catalogue yet).
DOWNLOAD_KIND_LABELS = {
    DownloadKind.POLICY: "保单下载",
    DownloadKind.STATEMENT: "对账单",
    DownloadKind.CLAIM: "赔案下载",
}
DOWNLOAD_STATUS_LABELS = {
    DownloadStatus.UNMATCHED: "待处理",
    DownloadStatus.RESOLVED: "已处理",
    DownloadStatus.IGNORED: "已忽略",
}


class CarrierDownloadItem(TenantScoped, Model):
    """A row of a carrier's download that could not be matched to our records, waiting for
    someone to resolve it. One row per (carrier, kind, reference): pulling again never adds
    the same row twice."""

    __tablename__ = "carrier_download_item"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "carrier_key",
            "kind",
            "reference",
            name="uq_carrier_download_item_reference",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[DownloadKind] = mapped_column(enum_type(DownloadKind))
    carrier_key: Mapped[str] = mapped_column(String(128), index=True)
    reference: Mapped[str] = mapped_column(String(128), comment="policy no., claim no. or line key")
    summary: Mapped[str] = mapped_column(String(255), default="")
    payload: Mapped[str] = mapped_column(Text, comment="the downloaded row as JSON")
    reason: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[DownloadStatus] = mapped_column(
        enum_type(DownloadStatus), default=DownloadStatus.UNMATCHED, index=True
    )
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    resolved_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"{self.carrier_key}:{self.kind}:{self.reference}"
