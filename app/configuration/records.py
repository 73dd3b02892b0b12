"""Records of low-code entities: the services the generic screens and REST API share.
Every query goes through the ORM, so the tenant guard scopes it; every change is audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.configuration.computed import compute_values
from app.configuration.entities import FieldError, coerce_value, default_value, to_json
from app.configuration.hooks import HookCall, run_hooks
from app.configuration.masking import mask_value
from app.configuration.models import Lineage
from app.configuration.runtime import REGISTRY, EntityRuntime
from app.configuration.states import check_change, check_new, transition_taken
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
        if spec is not None and spec not in runtime.definition.column_fields:
            raise RecordErrors({name: "cannot be filtered on"})
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
            not in (
                "date",
                "datetime",
                "integer",
                "decimal",
                "money",
                "boolean",
                "reference",
                "table",
                "attachment",
                "photo",
            )
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


# Keys a client may send back as it got them: system columns, computed and file fields, the
# inline relations. They are not written.
READ_ONLY_KEYS = {*SYSTEM_FIELDS, "_related", "_totals", "_notices"}
MAX_CHILD_ROWS = 500


def logins_by_name(session: Session, runtime: EntityRuntime, data: dict[str, Any]) -> dict:
    """A `target: user` reference may be sent as the login's user name (what people know):
    it is looked up among the users the writer sees, and refused naming the field when none
    is found. An id is left for the tenant guard to check at the flush."""
    from app.security.models import DealerUser

    named = {
        spec["name"]: data[spec["name"]]
        for spec in runtime.definition.column_fields
        if spec.get("target") == "user"
        and isinstance(data.get(spec["name"]), str)
        and data[spec["name"]].strip()
        and not data[spec["name"]].strip().isdigit()
    }
    if not named:
        return data
    found, errors, chinese = {}, {}, {}
    for name, username in named.items():
        user_id = session.scalar(
            select(DealerUser.id).where(
                DealerUser.username == username.strip(), DealerUser.tenant_id.is_not(None)
            )
        )
        if user_id is None:
            errors[name] = f"no user {username!r} in your scope"
            chinese[name] = f"找不到用户「{username}」，或不在您的权限范围内"
        found[name] = user_id
    if errors:
        raise RecordErrors(errors, chinese)
    return {**data, **found}


def clean_values(
    runtime: EntityRuntime, data: dict[str, Any], partial: bool = False
) -> dict[str, Any]:
    """Submitted values as typed values; RecordErrors names every bad field. Computed fields
    are not taken (they are recomputed), nor are file fields (uploaded apart)."""
    values, errors, chinese = {}, {}, {}
    for spec in runtime.definition.column_fields:
        name = spec["name"]
        if spec.get("compute") or (partial and name not in data):
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
    for spec in runtime.definition.table_fields:
        if spec["name"] not in data:
            continue
        try:
            values[spec["name"]] = clean_rows(spec, data[spec["name"]])
        except RecordErrors as exc:
            errors.update(exc.errors)
            chinese.update(exc.chinese)
    known = {f["name"] for f in runtime.definition.fields} | READ_ONLY_KEYS
    for name in sorted(set(data) - known):
        errors[name], chinese[name] = "is not a field of this entity", "不是此数据类型的字段"
    if errors:
        raise RecordErrors(errors, chinese)
    return values


def clean_rows(spec: dict, rows: Any) -> list[dict[str, Any]]:
    """The rows of a `table` field: a list of objects, each cell checked; errors are named
    `field[row].column` (rows counted from 1, as people count them)."""
    name = spec["name"]
    limit = min(spec.get("max_rows", MAX_CHILD_ROWS), MAX_CHILD_ROWS)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise RecordErrors({name: "must be a list of objects"}, {name: "应为若干行"})
    if len(rows) > limit:
        raise RecordErrors({name: f"at most {limit} rows"}, {name: f"最多 {limit} 行"})
    if len(rows) < spec.get("min_rows", 0):
        raise RecordErrors(
            {name: f"at least {spec['min_rows']} rows"}, {name: f"至少 {spec['min_rows']} 行"}
        )
    cleaned, errors, chinese = [], {}, {}
    children = {c["name"]: c for c in spec["fields"]}
    for number, row in enumerate(rows, start=1):
        values = {}
        for child in spec["fields"]:
            where = f"{name}[{number}].{child['name']}"
            try:
                if child.get("compute"):
                    continue
                values[child["name"]] = coerce_value(child, row.get(child["name"]))
            except FieldError as exc:
                errors[where], chinese[where] = exc.message, exc.chinese
        for key in sorted(set(row) - set(children) - {"id", "position"}):
            where = f"{name}[{number}].{key}"
            errors[where], chinese[where] = "is not a field of this table", "不是此表格的字段"
        cleaned.append(values)
    if errors:
        raise RecordErrors(errors, chinese)
    return cleaned


def child_rows(session: Session, runtime: EntityRuntime, record, field_name: str) -> list:
    model = runtime.model.__children__[field_name]
    return list(
        session.scalars(
            select(model).where(model.parent_id == record.id).order_by(model.position, model.id)
        )
    )


def _rows_as_values(session, runtime, record) -> dict[str, list[dict]]:
    return {
        spec["name"]: [
            {c["name"]: getattr(row, c["name"]) for c in spec["fields"]}
            for row in child_rows(session, runtime, record, spec["name"])
        ]
        for spec in runtime.definition.table_fields
    }


def _write_rows(session, runtime, record, field_name: str, rows: list[dict]) -> None:
    """Replace the rows of a table field (the parent's tenant and org node on each row)."""
    model = runtime.model.__children__[field_name]
    for old in child_rows(session, runtime, record, field_name):
        session.delete(old)
    for position, values in enumerate(rows):
        session.add(
            model(
                **values,
                parent_id=record.id,
                position=position,
                tenant_id=record.tenant_id,
                org_node_id=record.org_node_id,
            )
        )


def _compute(session, runtime, record, values: dict, rows: dict) -> None:
    """Recompute the computed fields from the record as it will be saved."""
    definition = runtime.definition
    if not any(f.get("compute") for f in definition.fields):
        return
    merged = {f["name"]: getattr(record, f["name"], None) for f in definition.column_fields}
    merged.update({k: v for k, v in values.items() if k in merged})
    current_rows = _rows_as_values(session, runtime, record) if record.id else {}
    current_rows.update(rows)
    compute_values(definition, merged, current_rows)
    for spec in definition.column_fields:
        if spec.get("compute"):
            values[spec["name"]] = merged[spec["name"]]


def _split(runtime: EntityRuntime, values: dict) -> tuple[dict, dict]:
    tables = {f["name"] for f in runtime.definition.table_fields}
    rows = {k: v for k, v in values.items() if k in tables}
    return {k: v for k, v in values.items() if k not in tables}, rows


def create_record(
    session: Session,
    runtime: EntityRuntime,
    data: dict[str, Any],
    username: str,
    user=None,
    commit: bool = True,
):
    """A new record from submitted values: checked, its state an initial one, its computed
    fields computed, its child rows written; audited by the flush. `commit=False` leaves the
    transaction open (an import commits all its rows at once)."""
    values, rows = _split(runtime, clean_values(runtime, logins_by_name(session, runtime, data)))
    check_new(runtime.definition, values)
    record = runtime.model(created_by=username)
    if data.get("org_node_id"):
        record.org_node_id = _node_id(data["org_node_id"])
    _compute(session, runtime, record, values, rows)
    for name, value in values.items():
        setattr(record, name, value)
    session.add(record)
    session.flush()
    for name, child_values in rows.items():
        _write_rows(session, runtime, record, name, child_values)
    after_create = runtime.definition.body.get("hooks", {}).get("after_create", [])
    if after_create:
        session.flush()
        run_hooks(after_create, HookCall(session, runtime, record, None, None, user))
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
    session.flush()
    if commit:
        session.commit()
    return record


def _node_id(raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise RecordErrors(
            {"org_node_id": "must be the id of a store"}, {"org_node_id": "应为门店编号"}
        ) from None


def update_record(
    session: Session, runtime: EntityRuntime, record, data: dict[str, Any], user=None
):
    """Change a record: only the fields sent; a state change must be a declared transition the
    user's role may take; computed fields recomputed; child rows replaced when sent."""
    data = logins_by_name(session, runtime, data)
    values, rows = _split(runtime, clean_values(runtime, data, partial=True))
    check_change(runtime.definition, record, values, user)
    state_field = (runtime.definition.states or {}).get("field")
    before = getattr(record, state_field) if state_field else None
    _compute(session, runtime, record, values, rows)
    for name, value in values.items():
        setattr(record, name, value)
    if data.get("org_node_id"):
        record.org_node_id = _node_id(data["org_node_id"])
    session.flush()
    for name, child_values in rows.items():
        _write_rows(session, runtime, record, name, child_values)
    for spec in runtime.definition.table_fields:  # rows follow their record to its store
        if spec["name"] not in rows:
            for row in child_rows(session, runtime, record, spec["name"]):
                row.org_node_id = record.org_node_id
    if runtime.definition.file_fields:
        from app.configuration.attachments import move_files

        move_files(session, runtime, record)
    taken = transition_taken(
        runtime.definition, before, getattr(record, state_field) if state_field else None
    )
    if taken and taken.get("hooks"):
        session.flush()
        call = HookCall(session, runtime, record, before, taken["to"], user)
        run_hooks(taken["hooks"], call)
    after_update = runtime.definition.body.get("hooks", {}).get("after_update", [])
    if after_update:
        session.flush()
        after = getattr(record, state_field) if state_field else None
        run_hooks(after_update, HookCall(session, runtime, record, before, after, user))
    session.commit()
    return record


def delete_record(session: Session, record, runtime: EntityRuntime | None = None) -> None:
    """Delete a record with its child rows and files (all audited)."""
    if runtime is not None:
        from app.configuration.attachments import delete_files_of

        for spec in runtime.definition.table_fields:
            for row in child_rows(session, runtime, record, spec["name"]):
                session.delete(row)
        delete_files_of(session, runtime, record)
    session.delete(record)
    session.commit()


@dataclass
class Loaded:
    """The child rows (table field → record id → rows) and files (record id → files) of a
    page of records."""

    rows: dict[str, dict[int, list]] = dc_field(default_factory=dict)
    files: dict[int, list] = dc_field(default_factory=dict)


def load_related(session: Session, runtime: EntityRuntime, records) -> Loaded:
    """Child rows and files of `records` in one query per table field and one for files."""
    from app.configuration.models import EntityAttachment

    ids = [r.id for r in records]
    loaded = Loaded()
    for spec in runtime.definition.table_fields:
        model = runtime.model.__children__[spec["name"]]
        found: dict[int, list] = {}
        if ids:
            for row in session.scalars(
                select(model)
                .where(model.parent_id.in_(ids))
                .order_by(model.parent_id, model.position, model.id)
            ):
                found.setdefault(row.parent_id, []).append(row)
        loaded.rows[spec["name"]] = found
    if runtime.definition.file_fields and ids:
        for attachment in session.scalars(
            select(EntityAttachment)
            .where(
                EntityAttachment.record_table == runtime.definition.table,
                EntityAttachment.record_id.in_(ids),
            )
            .order_by(EntityAttachment.id)
        ):
            loaded.files.setdefault(attachment.record_id, []).append(attachment)
    return loaded


def record_to_dict(
    runtime: EntityRuntime,
    record,
    hidden: set[str] | frozenset[str] = frozenset(),
    session: Session | None = None,
    file_url=None,
    loaded: Loaded | None = None,
) -> dict[str, Any]:
    """The record as JSON values, the `hidden` fields masked (app.configuration.masking); with
    a session, its child rows and its files (`file_url(file)` makes their addresses), read
    from `loaded` (load_related: a page of records in two queries per table) when given."""
    result = {name: to_json(getattr(record, name)) for name in SYSTEM_FIELDS}
    for spec in runtime.definition.column_fields:
        value = to_json(getattr(record, spec["name"]))
        result[spec["name"]] = mask_value(value) if spec["name"] in hidden else value
    if session is None:
        return result
    for spec in runtime.definition.table_fields:
        result[spec["name"]] = [
            {
                "id": row.id,
                **{
                    c["name"]: (
                        mask_value(to_json(getattr(row, c["name"])))
                        if f"{spec['name']}.{c['name']}" in hidden
                        else to_json(getattr(row, c["name"]))
                    )
                    for c in spec["fields"]
                },
            }
            for row in (
                loaded.rows[spec["name"]].get(record.id, [])
                if loaded is not None
                else child_rows(session, runtime, record, spec["name"])
            )
        ]
    if runtime.definition.file_fields:
        from app.configuration.attachments import files_of

        files = (
            loaded.files.get(record.id, [])
            if loaded is not None
            else files_of(session, runtime, record)
        )
        for spec in runtime.definition.file_fields:
            result[spec["name"]] = [
                {
                    "id": f.id,
                    "name": f.filename,
                    "size": f.size,
                    "content_type": f.content_type,
                    "url": file_url(f) if file_url else None,
                }
                for f in files
                if f.field == spec["name"]
            ]
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
