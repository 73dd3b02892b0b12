"""The entities this process serves. Each web or worker process keeps its own registry of entity
models and rebuilds it when the metadata epoch (bumped by every publish) has moved, checking at
most once a second — so a publish reaches every process within about a second, with no restart
and no request failing while the registry is swapped."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.configuration.entities import EntityDefinition, build_model
from app.configuration.models import Document, MetadataEpoch
from app.tenancy.scope import system_scope, use_scope

CHECK_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class EntityRuntime:
    definition: EntityDefinition
    model: type
    document_key: str
    version_id: int


class EntityRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._epoch: int | None = None
        self._checked_at = 0.0
        self._entities: dict[tuple[int | None, str], EntityRuntime] = {}

    def refresh(self, session: Session, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked_at < CHECK_EVERY_SECONDS:
            return
        with use_scope(system_scope()):
            epoch = session.scalar(select(MetadataEpoch.epoch).where(MetadataEpoch.id == 1))
            self._checked_at = now
            if epoch == self._epoch and not force:
                return
            entities = self._load(session)
        with self._lock:
            self._entities, self._epoch = entities, epoch

    def _load(self, session: Session) -> dict[tuple[int | None, str], EntityRuntime]:
        documents = session.scalars(
            select(Document).where(
                Document.kind == "entity", Document.current_version_id.is_not(None)
            )
        ).all()
        loaded = {}
        for document in documents:
            version = document.current_version
            body = version.body
            definition = EntityDefinition(body["name"], document.tenant_id, body, version.id)
            loaded[(document.tenant_id, body["name"])] = EntityRuntime(
                definition, build_model(definition), document.key, version.id
            )
        return loaded

    def get(self, session: Session, name: str, tenant_id: int | None) -> EntityRuntime | None:
        """The entity `name` for a user of `tenant_id`: the tenant's own, else the platform's."""
        self.refresh(session)
        entities = self._entities
        return entities.get((tenant_id, name)) or entities.get((None, name))

    def visible(
        self, session: Session, tenant_id: int | None, all_tenants: bool = False
    ) -> list[EntityRuntime]:
        self.refresh(session)
        entities = self._entities
        names = sorted(
            {name for (owner, name) in entities if all_tenants or owner in (None, tenant_id)}
        )
        found = [self.get(session, name, tenant_id) for name in names]
        return [e for e in found if e is not None]


REGISTRY = EntityRegistry()
