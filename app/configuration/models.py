"""Installed packs, documents and their immutable published versions, and lineage."""

from __future__ import annotations

import datetime
import json
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.audit.models import utcnow
from app.tenancy.mixins import SharedScoped, TenantScoped


class VersionStatus:
    DRAFT = "draft"
    PUBLISHED = "published"


class InstalledPack(SharedScoped, Model):
    """A pack installed for the whole platform (no tenant) or for one tenant."""

    __tablename__ = "config_pack"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    manifest: Mapped[str] = mapped_column(Text, comment="pack.yaml as JSON")
    installed_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    installed_by: Mapped[str] = mapped_column(String(128), default="")

    def __repr__(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def requires(self) -> dict[str, str]:
        return json.loads(self.manifest).get("requires", {})


class Document(SharedScoped, Model):
    """A configured thing (a product, a fee agreement, an entity…), identified by kind and key
    within its owner. Its content lives in versions."""

    __tablename__ = "config_document"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    key: Mapped[str] = mapped_column(String(128), index=True)
    pack_id: Mapped[int | None] = mapped_column(ForeignKey("config_pack.id"))
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("config_document_version.id", use_alter=True)
    )

    pack: Mapped[InstalledPack | None] = relationship()
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document",
        foreign_keys="DocumentVersion.document_id",
        order_by="DocumentVersion.id",
    )
    current_version: Mapped[DocumentVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )

    def __repr__(self) -> str:
        return f"{self.kind}:{self.key}"

    @property
    def draft(self) -> DocumentVersion | None:
        return next((v for v in reversed(self.versions) if v.status == VersionStatus.DRAFT), None)

    def version_at(self, day: datetime.date) -> DocumentVersion | None:
        """The published version in force on `day` (the rule is app.configuration.lookup's)."""
        from app.configuration.lookup import version_in_force

        return version_in_force(self, day)


class DocumentVersion(SharedScoped, Model):
    """One version of a document. Immutable once published: edits make a new draft."""

    __tablename__ = "config_document_version"
    __table_args__ = (UniqueConstraint("document_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("config_document.id"), index=True)
    version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=VersionStatus.DRAFT, index=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    content: Mapped[str] = mapped_column(Text, comment="the whole document as JSON")
    effective_from: Mapped[datetime.date | None] = mapped_column(Date)
    source_file: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    published_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    published_by: Mapped[str | None] = mapped_column(String(128))

    document: Mapped[Document] = relationship(back_populates="versions", foreign_keys=[document_id])

    def __repr__(self) -> str:
        return f"{self.document.kind}:{self.document.key}@{self.version}"

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.content)

    @property
    def body(self) -> dict[str, Any]:
        return self.data["body"]


class Lineage(TenantScoped, Model):
    """Which document versions produced a record: "why is this fee 704.63?" is answered by
    replaying them."""

    __tablename__ = "config_lineage"
    __scope_optional__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_table: Mapped[str] = mapped_column(String(64), index=True)
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    document_version_id: Mapped[int] = mapped_column(ForeignKey("config_document_version.id"))
    purpose: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)

    document_version: Mapped[DocumentVersion] = relationship()


class EntityAttachment(TenantScoped, Model):
    """A file of an entity record's `attachment` or `photo` field, stored under STORAGE_PATH
    (app.configuration.attachments). It has the record's tenant and org node, so it is seen by
    exactly those who see the record."""

    __tablename__ = "entity_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_table: Mapped[str] = mapped_column(String(64), index=True)
    record_id: Mapped[int] = mapped_column(Integer, index=True)
    field: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), comment="path under STORAGE_PATH")
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(128))


class MetadataEpoch(Model):
    """One row counting publishes: every web process compares it with the epoch it built its
    entity screens from, and rebuilds when it moved."""

    __tablename__ = "config_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer, default=0)


@event.listens_for(Session, "before_flush")
def _published_versions_are_immutable(session: Session, flush_context, instances) -> None:
    for obj in session.dirty:
        if not isinstance(obj, DocumentVersion):
            continue
        state = inspect(obj)
        was_published = state.attrs.status.history.deleted == [VersionStatus.PUBLISHED] or (
            obj.status == VersionStatus.PUBLISHED and not state.attrs.status.history.has_changes()
        )
        changed = [
            a.key
            for a in state.mapper.column_attrs
            if a.key not in ("status",) and state.attrs[a.key].history.has_changes()
        ]
        if was_published and changed:
            raise PermissionError(
                f"{obj!r} is published and cannot change ({', '.join(changed)}); edit a draft"
            )
    for obj in session.deleted:
        if isinstance(obj, DocumentVersion) and obj.status == VersionStatus.PUBLISHED:
            raise PermissionError(f"{obj!r} is published and cannot be deleted")
