"""Records of low-code entities: the services the generic screens and REST API share.
Every query goes through the ORM, so the tenant guard scopes it; every change is audited."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.configuration.entities import FieldError, coerce_value, default_value, to_json
from app.configuration.masking import mask_value
from app.configuration.models import Lineage
from app.configuration.runtime import REGISTRY, EntityRuntime
from app.security.roles import PLATFORM_ADMIN

ENTITY_TABLE_NAME = re.compile(r"^x(?P<tenant>\d{0,18})_(?P<name>[a-z][a-z0-9_]{0,62})$")
SYSTEM_FIELDS = ("id", "org_node_id", "created_at", "created_by", "changed_at")


class RecordErrors(ValueError):
    """Field → message for every field that is wrong (English in `errors` for the API, Chinese
    in `chinese` for the console); nothing was saved."""

    def __init__(self, errors: dict[str, str], chinese: dict[str, str] | None = None):
        self.errors = errors
        self.chinese = chinese or errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))

    def messages(self, lang: str) -> dict[str, str]:
        return self.chinese if lang == "zh" else self.errors


def permission(runtime: EntityRuntime, user) -> str | None:
    """ "write", "read" or None for `user` on the entity, from the document's permissions."""
    roles = {r.name for r in (getattr(user, "roles", None) or [])}
    if PLATFORM_ADMIN in roles:
        return "write"
    granted = {runtime.definition.body.get("permissions", {}).get(role) for role in roles}
    if "write" in granted:
        return "write"
    return "read" if "read" in granted else None


def list_records(
    session: Session,
    runtime: EntityRuntime,
    search: str = "",
    filters: dict[str, str] | None = None,
    page: int = 0,
    page_size: int = 20,
    hidden: set[str] | frozenset[str] = frozenset(),
) -> tuple[int, list]:
    """A page of records and their count. The `hidden` (masked) fields can be neither filtered
    nor searched, so a user who sees them starred cannot guess them by trying values."""
    model = runtime.model
    query = select(model)
    for name, value in (filters or {}).items():
        spec = runtime.definition.field(name)
        if spec is None and name != "org_node_id":
            raise RecordErrors({name: "is not a field of this entity"})
        if name in hidden:
            raise RecordErrors({name: "is masked for your role and cannot be filtered on"})
        coerced = int(value) if spec is None else coerce_value({**spec, "required": False}, value)
        query = query.where(getattr(model, name) == coerced)
    if search:
        text_fields = [
            getattr(model, f)
            for f in runtime.definition.body.get("search_fields", [])
            if f not in hidden
            and (runtime.definition.field(f) or {}).get("type")
            not in ("date", "datetime", "integer", "decimal", "money", "boolean", "reference")
        ]
        if text_fields:
            query = query.where(or_(*[column.contains(search) for column in text_fields]))
    count = session.scalar(select(func.count()).select_from(query.subquery()))
    order = runtime.definition.body.get("order_by") or {"field": "id", "direction": "desc"}
    column = getattr(model, order["field"])
    query = query.order_by(column.desc() if order.get("direction") == "desc" else column.asc())
    rows = session.scalars(query.offset(page * page_size).limit(page_size)).all()
    return count, rows


def get_record(session: Session, runtime: EntityRuntime, record_id: int):
    return session.get(runtime.model, record_id)


def clean_values(
    runtime: EntityRuntime, data: dict[str, Any], partial: bool = False
) -> dict[str, Any]:
    """Submitted values as typed values; RecordErrors names every bad field."""
    values, errors, chinese = {}, {}, {}
    for spec in runtime.definition.fields:
        name = spec["name"]
        if partial and name not in data:
            continue
        try:
            raw = data.get(name)
            values[name] = (
                default_value(spec)
                if raw in (None, "") and not partial and spec.get("default") is not None
                else coerce_value(spec, raw)
            )
        except FieldError as exc:
            errors[name], chinese[name] = exc.message, exc.chinese
    unknown = set(data) - {f["name"] for f in runtime.definition.fields} - {"org_node_id", "id"}
    for name in sorted(unknown):
        errors[name], chinese[name] = "is not a field of this entity", "不是此数据类型的字段"
    if errors:
        raise RecordErrors(errors, chinese)
    return values


def create_record(session: Session, runtime: EntityRuntime, data: dict[str, Any], username: str):
    values = clean_values(runtime, data)
    record = runtime.model(**values, created_by=username)
    if data.get("org_node_id"):
        record.org_node_id = int(data["org_node_id"])
    session.add(record)
    session.flush()
    session.add(
        Lineage(
            record_table=runtime.definition.table,
            record_id=str(record.id),
            document_version_id=runtime.version_id,
            purpose="schema",
            tenant_id=record.tenant_id,
            org_node_id=record.org_node_id,
        )
    )
    session.commit()
    return record


def update_record(session: Session, runtime: EntityRuntime, record, data: dict[str, Any]):
    for name, value in clean_values(runtime, data, partial=True).items():
        setattr(record, name, value)
    if data.get("org_node_id"):
        record.org_node_id = int(data["org_node_id"])
    session.commit()
    return record


def delete_record(session: Session, record) -> None:
    session.delete(record)
    session.commit()


def record_to_dict(
    runtime: EntityRuntime, record, hidden: set[str] | frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The record as JSON values, the `hidden` fields masked (app.configuration.masking)."""
    result = {name: to_json(getattr(record, name)) for name in SYSTEM_FIELDS}
    for spec in runtime.definition.fields:
        value = to_json(getattr(record, spec["name"]))
        result[spec["name"]] = mask_value(value) if spec["name"] in hidden else value
    return result


def entity_of_table(session: Session, table: str) -> EntityRuntime | None:
    """The entity whose records live in `table` (x_<name> for the platform's, x<tenant>_<name>
    for a tenant's). Who may see it is for the caller to check."""
    found = ENTITY_TABLE_NAME.match(table)
    if found is None:
        return None
    owner = int(found["tenant"]) if found["tenant"] else None
    runtime = REGISTRY.get(session, found["name"], owner)
    return runtime if runtime is not None and runtime.definition.table == table else None


def lineage_of(session: Session, table: str, record_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Lineage).where(Lineage.record_table == table, Lineage.record_id == str(record_id))
    ).all()
    return [
        {
            "purpose": row.purpose,
            "kind": row.document_version.document.kind,
            "key": row.document_version.document.key,
            "version": row.document_version.version,
            "document_version_id": row.document_version_id,
            "effective_from": to_json(row.document_version.effective_from),
            "published_at": to_json(row.document_version.published_at),
            "recorded_at": to_json(row.created_at),
        }
        for row in rows
    ]
