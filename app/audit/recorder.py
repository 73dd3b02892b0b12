"""Writes audit records: data changes from the ORM's flush, and named events (login, export).

Data changes are captured in `after_flush`, where new rows have their keys and attribute history
still holds the old values, and written on the flush's own connection, so a change and its audit
record commit or roll back together.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import json
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from app.audit.models import AuditAction, AuditRecord, utcnow
from app.tenancy.mixins import Scoped
from app.tenancy.scope import current_scope

MASKED = "******"
# The most characters of one value the trail keeps; a longer value is cut with a marker, so an
# oversized write cannot store a second large copy in the audit table.
MAX_VALUE_CHARS = 2000
SECRET_COLUMNS = {"password", "token_hash", "secret"}
# Columns that change on every login; auditing them would bury the real changes.
NOISE_COLUMNS = {"last_login", "login_count", "fail_login_count", "changed_on", "changed_by_fk"}
NOT_AUDITED_TABLES = {
    "audit_record",
    "job_record",
    "monitor_status",  # the probes' latest readings, rewritten every run
    "ab_permission",
    "ab_view_menu",
    "ab_permission_view",
    "ab_register_user",
}
# Collections whose changes are permission changes.
PERMISSION_COLLECTIONS = {"ab_role": ("permissions",), "ab_user": ("roles", "groups")}

_installed = False


def install_recorder() -> None:
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _refuse_audit_changes)
    event.listen(Session, "after_flush", _record_changes)
    _installed = True


def to_json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def _dump(values: dict[str, Any] | None) -> str | None:
    if values is None:
        return None
    return json.dumps(values, ensure_ascii=False, sort_keys=True)


def _actor() -> tuple[int | None, str, str | None]:
    user = getattr(g, "user", None) if has_request_context() else None
    ip = request.remote_addr if has_request_context() else None
    if user is not None and getattr(user, "is_authenticated", False):
        return user.id, user.username, ip
    scope = current_scope()
    return (scope.user_id if scope else None), (scope.username if scope else "anonymous"), ip


def _shown(column: str, value: Any) -> Any:
    if column in SECRET_COLUMNS and value is not None:
        return MASKED
    return capped(to_json_value(value))


def capped(value: Any) -> Any:
    """`value`, or its first MAX_VALUE_CHARS characters and a marker saying how long it was."""
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return f"{value[:MAX_VALUE_CHARS]}…[truncated: {len(value):,} characters]"
    return value


def _row_values(obj) -> dict[str, Any]:
    state = inspect(obj)
    return {
        attr.key: _shown(attr.key, state.dict.get(attr.key))
        for attr in state.mapper.column_attrs
        if attr.key not in NOISE_COLUMNS
    }


def _changed_values(obj) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        if attr.key in NOISE_COLUMNS:
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        before[attr.key] = _shown(attr.key, history.deleted[0] if history.deleted else None)
        after[attr.key] = _shown(attr.key, history.added[0] if history.added else None)
    return before, after


def _collection_changes(obj) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    before, after = {}, {}
    for key in PERMISSION_COLLECTIONS.get(state.mapper.local_table.name, ()):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        current = [str(x) for x in (history.unchanged or [])] + [str(x) for x in history.added]
        previous = [str(x) for x in (history.unchanged or [])] + [str(x) for x in history.deleted]
        before[key], after[key] = sorted(previous), sorted(current)
    return before, after


def _owner(obj) -> tuple[int | None, int | None]:
    from app.organisation.models import OrgNode, Tenant

    if isinstance(obj, Tenant):
        return obj.id, None
    if isinstance(obj, OrgNode):
        return obj.tenant_id, obj.id
    if isinstance(obj, Scoped):
        return getattr(obj, "tenant_id", None), getattr(obj, "org_node_id", None)
    return None, None


def _record_id(obj) -> str:
    # New rows are not yet "persistent" in after_flush, so read the key from the instance.
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return ",".join(str(part) for part in key if part is not None)


def _audited(obj) -> bool:
    table = getattr(inspect(obj).mapper, "local_table", None)
    return table is not None and table.name not in NOT_AUDITED_TABLES


def _refuse_audit_changes(session: Session, flush_context, instances) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditRecord):
            raise PermissionError("audit records are append-only")


def _record_changes(session: Session, flush_context) -> None:
    rows = []
    for obj in session.new:
        if _audited(obj):
            rows.append(_change_row(obj, AuditAction.INSERT, None, _row_values(obj)))
    for obj in session.dirty:
        if not _audited(obj):
            continue
        before, after = _changed_values(obj)
        perm_before, perm_after = _collection_changes(obj)
        if before:
            rows.append(_change_row(obj, AuditAction.UPDATE, before, after))
        if perm_before:
            rows.append(_change_row(obj, AuditAction.PERMISSION_CHANGE, perm_before, perm_after))
    for obj in session.deleted:
        if _audited(obj):
            rows.append(_change_row(obj, AuditAction.DELETE, _row_values(obj), None))
    if rows:
        session.connection().execute(insert(AuditRecord.__table__), rows)


def _change_row(obj, action: str, before, after) -> dict[str, Any]:
    user_id, username, ip = _actor()
    tenant_id, node_id = _owner(obj)
    return {
        "created_at": utcnow(),
        "action": action,
        "entity": inspect(obj).mapper.local_table.name,
        "record_id": _record_id(obj),
        "user_id": user_id,
        "username": username,
        "ip": ip,
        "tenant_id": tenant_id,
        "org_node_id": node_id,
        "before": _dump(before),
        "after": _dump(after),
        "detail": None,
    }


def record_event(
    session: Session,
    action: str,
    *,
    username: str = "",
    user_id: int | None = None,
    tenant_id: int | None = None,
    org_node_id: int | None = None,
    entity: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a named event (login, lock-out, export) in the session's transaction."""
    actor_id, actor_name, ip = _actor()
    session.execute(
        insert(AuditRecord.__table__).values(
            created_at=utcnow(),
            action=action,
            entity=entity,
            record_id=None,
            user_id=user_id if user_id is not None else actor_id,
            username=username or actor_name,
            ip=ip,
            tenant_id=tenant_id,
            org_node_id=org_node_id,
            before=None,
            after=None,
            detail=_dump(detail),
        )
    )
