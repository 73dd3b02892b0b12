"""Masking of personal data in low-code entities (DOMAIN.md: personal data is shown masked unless
the role may see it, and every unmasked view or export is audited).

A field is masked when its document says `mask: true`; phone and resident_id fields are masked
unless it says `mask: false`. Users whose roles are in UNMASK_ROLES see the values, and each
answer that shows them (a record's page, a list, an API answer, an export) writes an audit
record naming the entity, the fields and the records shown."""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from app.audit.recorder import record_event
from app.security.roles import INSURANCE_DESK, PLATFORM_ADMIN, RENEWAL_SPECIALIST, TENANT_ADMIN

# The roles whose work needs a customer's full phone or ID number: the insurance desk writes
# policies, renewal specialists call customers, admins correct records.
UNMASK_ROLES = frozenset({PLATFORM_ADMIN, TENANT_ADMIN, INSURANCE_DESK, RENEWAL_SPECIALIST})
MASKED_BY_DEFAULT = frozenset({"phone", "resident_id"})
VIEW_UNMASKED = "view_unmasked"  # audit action of an answer that showed masked fields in full
MASK = "*"


def masked_fields(definition) -> list[str]:
    """The names of the entity's fields that are masked for users who may not unmask."""
    return [
        spec["name"]
        for spec in definition.fields
        if spec.get("mask", spec["type"] in MASKED_BY_DEFAULT)
    ]


def may_unmask(user) -> bool:
    roles = {role.name for role in (getattr(user, "roles", None) or [])}
    return bool(roles & UNMASK_ROLES)


def hidden_fields(definition, user) -> set[str]:
    """The fields `user` sees masked (none when their role may see them)."""
    return set() if may_unmask(user) else set(masked_fields(definition))


def mask_value(value: Any) -> Any:
    """A value with its middle starred: 138****5678, 110***********1234; short or non-text
    values are starred whole. None stays None, so "empty" still reads as empty."""
    if value is None or value == "":
        return value
    if isinstance(value, decimal.Decimal | int | float | datetime.date | bool):
        return MASK * 6
    text = str(value)
    if len(text) >= 11:
        return text[:3] + MASK * (len(text) - 7) + text[-4:]
    if len(text) >= 6:
        return text[:1] + MASK * (len(text) - 2) + text[-1:]
    return MASK * len(text)


def audit_unmasked(
    session: Session,
    definition,
    user,
    record_ids: Iterable[Any],
    how: str,
    shown: Iterable[str] | None = None,
) -> None:
    """Audit an answer that showed the entity's masked fields (those among `shown`, default all)
    in full to `user`; nothing is written when none was shown or no record was."""
    fields = [f for f in masked_fields(definition) if shown is None or f in set(shown)]
    ids = [str(record_id) for record_id in record_ids]
    if not fields or not ids or not may_unmask(user):
        return
    record_event(
        session,
        VIEW_UNMASKED,
        tenant_id=getattr(user, "tenant_id", None),
        org_node_id=getattr(user, "org_node_id", None),
        entity=definition.table,
        detail={"how": how, "fields": fields, "records": ids},
    )
