"""The rule simulator's services: which rule documents a user may try, a form of their declared
inputs, a traced evaluation, and saving the tried inputs as a test case (a new draft)."""

from __future__ import annotations

import json

from packaging.version import Version
from sqlalchemy import select
from sqlalchemy.orm import Session

import rules
from app.configuration.cases import RULE_KINDS
from app.configuration.models import Document, DocumentVersion, VersionStatus


def rule_documents(session: Session) -> list[Document]:
    """Published decision tables and rule sets the current scope sees."""
    return session.scalars(
        select(Document)
        .where(Document.kind.in_(RULE_KINDS), Document.current_version_id.is_not(None))
        .order_by(Document.kind, Document.key)
    ).all()


def compile_document(session: Session, document: Document):
    """The document's current version, compiled with every visible rule document beside it so
    the rule sets' steps and look-ups resolve."""
    library = rules.Library(d.current_version.data for d in rule_documents(session))
    return library.get(document.key, document.current_version.version)


def simulate(session: Session, document: Document, inputs: dict, lang: str) -> dict:
    return rules.simulate(compile_document(session, document), inputs, lang)


def next_patch(version: str) -> str:
    parsed = Version(version)
    return f"{parsed.major}.{parsed.minor}.{parsed.micro + 1}"


def save_case_as_draft(
    session: Session, document: Document, inputs: dict, name: str, actor: str
) -> DocumentVersion:
    """Append the case to a copy of the current version and keep it as a draft to publish."""
    compiled = compile_document(session, document)
    data = rules.save_case(document.current_version.data, compiled, inputs, name)
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
