"""The rule simulator's services: which rule documents a user may try, a form of their declared
inputs, a traced evaluation, and saving the tried inputs as a test case (a new draft).

A document is tried in its current version, beside the other rule documents in force on the day
asked (today by default) for the document's tenant — or the user's, for a platform document — so
its steps and look-ups resolve to what a quote of that day would use."""

from __future__ import annotations

import datetime
import json

from packaging.version import Version
from sqlalchemy import select
from sqlalchemy.orm import Session

import rules
from app.configuration.kinds import rule_kinds
from app.configuration.lookup import rule_versions_in_force
from app.configuration.models import Document, DocumentVersion, VersionStatus
from app.tenancy.scope import current_scope


def rule_documents(session: Session) -> list[Document]:
    """Published decision tables and rule sets the current scope sees."""
    return session.scalars(
        select(Document)
        .where(Document.kind.in_(rule_kinds()), Document.current_version_id.is_not(None))
        .order_by(Document.kind, Document.key)
    ).all()


def compile_document(
    session: Session,
    document: Document,
    on: datetime.date | None = None,
    version: DocumentVersion | None = None,
):
    """The document's current version (or `version` of it, a draft being tried), compiled
    with the rule documents in force on `on` beside it so the rule sets' steps and look-ups
    resolve."""
    tried = version or document.current_version
    if tried.document_id != document.id:
        raise ValueError("the version tried must be one of the document's")
    scope = current_scope()
    tenant_id = document.tenant_id if document.tenant_id is not None else scope and scope.tenant_id
    beside = rule_versions_in_force(session, tenant_id, on or datetime.date.today())
    beside = [v for v in beside if v.document_id != document.id]
    # the version tried goes last: its key's latest
    library = rules.Library([*(v.data for v in beside), tried.data])
    return library.get(document.key, tried.data.get("version"))


def simulate(
    session: Session,
    document: Document,
    inputs: dict,
    lang: str,
    on: datetime.date | None = None,
    version: DocumentVersion | None = None,
) -> dict:
    return rules.simulate(compile_document(session, document, on, version), inputs, lang)


def next_patch(version: str) -> str:
    parsed = Version(version)
    return f"{parsed.major}.{parsed.minor}.{parsed.micro + 1}"


def save_case_as_draft(
    session: Session,
    document: Document,
    inputs: dict,
    name: str,
    actor: str,
    version: DocumentVersion | None = None,
) -> DocumentVersion:
    """Append the case to a copy of the version tried (the current one by default) and keep it
    as a draft to publish."""
    tried = version or document.current_version
    compiled = compile_document(session, document, version=tried)
    data = rules.save_case(tried.data, compiled, inputs, name)
    base = document.draft or document.current_version
    data["version"] = next_patch(max(base.version, document.current_version.version, key=Version))
    draft = DocumentVersion(
        document=document,
        tenant_id=document.tenant_id,
        org_node_id=document.org_node_id,
        version=data["version"],
        status=VersionStatus.DRAFT,
        title=data.get("title", ""),
        content=json.dumps(data, ensure_ascii=False),
        created_by=actor,
    )
    session.add(draft)
    session.commit()
    return draft
