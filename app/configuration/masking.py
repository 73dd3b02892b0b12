"""Masking of personal data in low-code entities (DOMAIN.md: personal data is shown masked unless
the role may see it, and every unmasked view or export is audited).

A field is masked when its document says `mask: true` or `mask: {except_roles: [...]}`; the
personal-data types (phone, mobile, id_number, resident_id, bank_card) are masked unless it says
`mask: false`. Users whose roles are in UNMASK_ROLES (or the field's except_roles) see the
values, and each answer that shows them (a record's page, a list, an API answer, an export)
writes an audit record naming the entity, the fields and the records shown."""

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
VIEW_UNMASKED = "view_unmasked"  # audit action of an answer that showed masked fields in full
MASK = "*"


def _is_masked(spec: dict) -> bool:
    from app.configuration.field_types import field_type

    mask = spec.get("mask")
    if mask is None:
        return field_type(spec["type"]).masked
    return mask is not False


def unmask_roles(spec: dict) -> frozenset[str]:
    """The roles that see the field in full: `mask: {except_roles: [...]}` names them (the
    platform admin always sees); `mask: true` means the default UNMASK_ROLES."""
    mask = spec.get("mask")
    if isinstance(mask, dict):
        return frozenset({PLATFORM_ADMIN, *mask.get("except_roles", [])})
    return UNMASK_ROLES


def masked_fields(definition) -> list[str]:
    """The names of the entity's masked fields (for some role), child fields as
    "<table field>.<field>"."""
    names = []
    for spec in definition.fields:
        if spec["type"] == "table":
            names += [f"{spec['name']}.{c['name']}" for c in spec["fields"] if _is_masked(c)]
        elif _is_masked(spec):
            names.append(spec["name"])
    return names


def _specs(definition) -> dict[str, dict]:
    found = {}
    for spec in definition.fields:
        found[spec["name"]] = spec
        if spec["type"] == "table":
            found.update({f"{spec['name']}.{c['name']}": c for c in spec["fields"]})
    return found


def _roles(user) -> set[str]:
    return {role.name for role in (getattr(user, "roles", None) or [])}


def may_unmask(user, spec: dict | None = None) -> bool:
    """Whether `user` sees the field `spec` in full (any field masked by default, without it)."""
    roles = unmask_roles(spec) if spec is not None else UNMASK_ROLES
    return bool(_roles(user) & roles)


def hidden_fields(definition, user) -> set[str]:
    """The fields `user` sees masked (child fields as "<table field>.<field>")."""
    specs = _specs(definition)
    return {name for name in masked_fields(definition) if not may_unmask(user, specs[name])}


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
    hidden = hidden_fields(definition, user)
    wanted = None if shown is None else set(shown)
    fields = [
        f
        for f in masked_fields(definition)
        if f not in hidden and (wanted is None or f in wanted or f.split(".")[0] in wanted)
    ]
    ids = [str(record_id) for record_id in record_ids]
    if not fields or not ids:
        return
    record_event(
        session,
        VIEW_UNMASKED,
        tenant_id=getattr(user, "tenant_id", None),
        org_node_id=getattr(user, "org_node_id", None),
        entity=definition.table,
        detail={"how": how, "fields": fields, "records": ids},
    )
