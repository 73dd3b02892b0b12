"""Relations shown inline on both sides. A reference field to another entity shows the target
record's title (its `title_field`) with a link; an entity's `related:` list shows, on each of
its records, the records of other entities (or rows of their child tables) pointing at it.
Only what the user may see is shown: the other entity's permission, the tenant guard's scope
and the other entity's masks all apply."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.configuration.entities import to_json
from app.configuration.forms import user_title
from app.configuration.masking import hidden_fields, mask_value
from app.configuration.runtime import REGISTRY, EntityRuntime

MAX_RELATED = 200


def title_field(runtime: EntityRuntime) -> str | None:
    definition = runtime.definition
    named = definition.body.get("title_field")
    if named and definition.field(named):
        return named
    text = [f for f in definition.column_fields if f["type"] in ("string", "plate", "vin")]
    return text[0]["name"] if text else None


def title_of(runtime: EntityRuntime, row, hidden: set[str] | None = None) -> str:
    name = title_field(runtime)
    value = getattr(row, name, None) if name else None
    if name and hidden and name in hidden:
        value = mask_value(value)
    return f"{value} (#{row.id})" if value not in (None, "") else f"#{row.id}"


class ReferenceTitles:
    """Titles of referenced entity records, "title (#id)", for exports (an import reads them
    back); a record the user cannot see, or a core model's, stays its id."""

    def __init__(self, session: Session, user):
        self.session, self.user = session, user
        self.cache: dict[tuple[str, Any], Any] = {}

    def title(self, spec: dict, value: Any) -> Any:
        key = (spec["target"], value)
        if key not in self.cache and spec["target"] == "user":
            login = _user(self.session, value)
            self.cache[key] = f"{login.username} (#{login.id})" if login is not None else value
        if key not in self.cache:
            target = reference_target(self.session, spec, getattr(self.user, "tenant_id", None))
            row = self.session.get(target.model, value) if target is not None else None
            hidden = hidden_fields(target.definition, self.user) if target is not None else set()
            self.cache[key] = title_of(target, row, hidden) if row is not None else value
        return self.cache[key]


def reference_target(session: Session, spec: dict, tenant_id) -> EntityRuntime | None:
    """The entity a reference field points at, when it points at an entity."""
    if spec.get("type") != "reference":
        return None
    return REGISTRY.get(session, spec["target"], tenant_id)


def references_shown(session: Session, runtime: EntityRuntime, record, user) -> dict[str, dict]:
    """Field → {"entity", "id", "title"} for each reference to an entity record the user
    may see (a record outside their scope is not found, so shows as its bare id)."""
    from app.configuration.records import permission

    tenant_id = getattr(user, "tenant_id", None)
    shown = {}
    for spec in runtime.definition.column_fields:
        if spec.get("type") == "reference" and spec.get("target") == "user":
            login = _user(session, getattr(record, spec["name"], None))
            if login is not None:
                shown[spec["name"]] = {"entity": None, "id": login.id, "title": user_title(login)}
            continue
        target = reference_target(session, spec, tenant_id)
        value = getattr(record, spec["name"], None)
        if target is None or value is None or permission(target, user) is None:
            continue
        row = session.get(target.model, value)
        if row is not None:
            hidden = hidden_fields(target.definition, user)
            shown[spec["name"]] = {
                "entity": target.definition.name,
                "id": row.id,
                "title": title_of(target, row, hidden),
            }
    return shown


def _user(session: Session, user_id: Any):
    """A referenced login the reader sees (the tenant guard scopes the read), else None."""
    from app.security.models import DealerUser

    return session.get(DealerUser, user_id) if isinstance(user_id, int) else None


def related_sections(session: Session, runtime: EntityRuntime, record, user) -> list[dict]:
    """The `related:` sections of a record: for each, the other entity's records (or child
    rows) whose reference field holds this record's id, as the user may see them."""
    from app.configuration.records import permission

    sections = []
    for item in runtime.definition.body.get("related", []):
        other = REGISTRY.get(session, item["entity"], getattr(user, "tenant_id", None))
        if other is None or permission(other, user) is None:
            continue
        hidden = hidden_fields(other.definition, user)
        table = item.get("table")
        parent_specs = other.definition.column_fields
        if table:
            table_spec = other.definition.field(table)
            if table_spec is None or table_spec["type"] != "table":
                continue
            child_model = other.model.__children__[table]
            child_specs = table_spec["fields"]
            found = session.execute(
                select(child_model, other.model)
                .join(other.model, other.model.id == child_model.parent_id)
                .where(getattr(child_model, item["field"]) == record.id)
                .order_by(other.model.id.desc())
                .limit(MAX_RELATED)
            ).all()
            pairs = [(parent, row) for row, parent in found]
        else:
            child_specs = []
            rows = session.scalars(
                select(other.model)
                .where(getattr(other.model, item["field"]) == record.id)
                .order_by(other.model.id.desc())
                .limit(MAX_RELATED)
            ).all()
            pairs = [(row, None) for row in rows]
        # A column is a field of the child row (when the reference is in a table) or of the
        # record holding it: a course's name beside the attendee's score.
        child_names = {s["name"] for s in child_specs}
        available = [*child_specs, *(s for s in parent_specs if s["name"] not in child_names)]
        default = [s["name"] for s in available if s["name"] != item["field"]][:5]
        wanted = item.get("columns") or default
        columns = [s for name in wanted for s in available if s["name"] == name]

        def value(parent, row, spec, table=table, child_names=child_names, hidden=hidden):
            if row is not None and spec["name"] in child_names:
                return _value(getattr(row, spec["name"]), f"{table}.{spec['name']}", hidden)
            return _value(getattr(parent, spec["name"]), spec["name"], hidden)

        sections.append(
            {
                "key": item.get("key") or item["entity"] + (f".{table}" if table else ""),
                "label": item.get("label") or other.definition.body["label"],
                "entity": other.definition.name,
                "columns": columns,
                "rows": [
                    {
                        "id": parent.id,
                        "title": title_of(other, parent, hidden),
                        "values": {s["name"]: value(parent, row, s) for s in columns},
                    }
                    for parent, row in pairs
                ],
            }
        )
    return sections


def _value(value: Any, name: str, hidden: set[str]) -> Any:
    value = to_json(value)
    return mask_value(value) if name in hidden else value
