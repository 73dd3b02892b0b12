"""The document versions in force on a date: what a quote, a fee or a renewal dated that day uses.

A published version is in force from its `effective_from` date. One naming no date starts the
day it was published — except a document's first version, which also applies to any earlier day
(there is nothing older to apply, and history such as last year's policies is priced with it).
On a given day the version in force is the one that started most recently (the later
publication when two start the same day); a version starting after the day is not used. A
tenant's own document overrides the platform's of the same kind and key on the days the tenant's
document has a version in force; before that the platform's applies.

Reads through the ORM, so the tenant guard applies: call it in a scope that sees the tenant's
documents (the tenant's users, a job of theirs, or the system scope)."""

from __future__ import annotations

import datetime
import threading
from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

import rules
from app.configuration.kinds import rule_kinds
from app.configuration.models import Document, DocumentVersion, VersionStatus

LIBRARY_CACHE_SIZE = 32  # compiled libraries kept, one per distinct set of versions in force
_LIBRARIES: OrderedDict[tuple[int, ...], rules.Library] = OrderedDict()
_LIBRARIES_LOCK = threading.Lock()


def starts_on(version: DocumentVersion, first: bool = False) -> datetime.date:
    """The first day `version` is in force (`first`: it is its document's first version)."""
    if version.effective_from is not None:
        return version.effective_from
    if first or version.published_at is None:
        return datetime.date.min
    return version.published_at.date()


def versions_in_force(document: Document, on: datetime.date) -> list[DocumentVersion]:
    """The document's published versions started on or before `on`, the one in force last."""
    published = sorted(
        (v for v in document.versions if v.status == VersionStatus.PUBLISHED), key=lambda v: v.id
    )
    starts = {v.id: starts_on(v, first=index == 0) for index, v in enumerate(published)}
    started = [v for v in published if starts[v.id] <= on]
    return sorted(started, key=lambda v: (starts[v.id], v.id))


def version_in_force(document: Document, on: datetime.date) -> DocumentVersion | None:
    started = versions_in_force(document, on)
    return started[-1] if started else None


def _documents(
    session: Session, kinds: Iterable[str], tenant_id: int | None, key: str | None = None
) -> list[Document]:
    owners = Document.tenant_id.is_(None)
    if tenant_id is not None:
        owners = or_(owners, Document.tenant_id == tenant_id)
    query = (
        select(Document)
        .where(Document.kind.in_(list(kinds)), owners)
        .options(selectinload(Document.versions))
    )
    if key is not None:
        query = query.where(Document.key == key)
    return list(session.scalars(query))


def _overriding(documents: list[Document], on: datetime.date) -> dict[tuple[str, str], Document]:
    """(kind, key) → the document that applies on `on`: the tenant's when it has a version in
    force, else the platform's."""
    chosen: dict[tuple[str, str], Document] = {}
    for document in sorted(documents, key=lambda d: d.tenant_id is not None):
        if document.tenant_id is not None and version_in_force(document, on) is None:
            continue
        chosen[(document.kind, document.key)] = document
    return chosen


def document_in_force(
    session: Session, kind: str, key: str, tenant_id: int | None, on: datetime.date
) -> DocumentVersion | None:
    """The version of document `kind`/`key` a tenant (None: the platform) uses on `on`."""
    chosen = _overriding(_documents(session, [kind], tenant_id, key), on).get((kind, key))
    return version_in_force(chosen, on) if chosen is not None else None


def documents_in_force(
    session: Session, kind: str, tenant_id: int | None, on: datetime.date
) -> list[DocumentVersion]:
    """Every document of `kind` a tenant uses on `on`, one version each, by key."""
    chosen = _overriding(_documents(session, [kind], tenant_id), on)
    found = [version_in_force(document, on) for _, document in sorted(chosen.items())]
    return [version for version in found if version is not None]


def rule_versions_in_force(
    session: Session, tenant_id: int | None, on: datetime.date
) -> list[DocumentVersion]:
    """Every version of the decision tables and rule sets a tenant uses on `on` started by then
    (a product may pin one), each key's version in force after its older ones."""
    chosen = _overriding(_documents(session, rule_kinds(), tenant_id), on)
    return [
        version
        for _, document in sorted(chosen.items())
        for version in versions_in_force(document, on)
    ]


def rules_library_in_force(
    session: Session, tenant_id: int | None, on: datetime.date
) -> rules.Library:
    """The decision tables and rule sets a tenant uses on `on`, as a rules library whose latest
    version of each key is the one in force.

    Published versions never change, so the compiled library is kept for the same set of
    versions and shared (between requests and carrier threads): it is compiled whole before it
    is handed out and must only be read — never `add` to it (build your own Library from
    `rule_versions_in_force` for that)."""
    versions = rule_versions_in_force(session, tenant_id, on)
    identity = tuple(version.id for version in versions)
    with _LIBRARIES_LOCK:
        library = _LIBRARIES.get(identity)
        if library is not None:
            _LIBRARIES.move_to_end(identity)
            return library
    library = rules.Library(version.data for version in versions)
    library.check_all()  # compile every document now, so readers never compile concurrently
    with _LIBRARIES_LOCK:
        _LIBRARIES[identity] = library
        while len(_LIBRARIES) > LIBRARY_CACHE_SIZE:
            _LIBRARIES.popitem(last=False)
    return library
