"""Relations shown inline on both sides. A reference field to another entity shows the target
record's title (its `title_field`) with a link; an entity's `related:` list shows, on each of
its records, the records of other entities (or rows of their child tables) pointing at it.
Only what the user may see is shown: the other entity's permission, the tenant guard's scope
and the other entity's masks all apply."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.configuration.entities import to_json
from app.configuration.forms import user_title
from app.configuration.masking import hidden_fields, mask_value
from app.configuration.runtime import REGISTRY, EntityRuntime

MAX_RELATED = 200
MAX_TOTALLED = 20_000  # rows a `totals:` line adds up (a record's lifetime of courses, lines…)


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
            query = (
                select(child_model, other.model)
                .join(other.model, other.model.id == child_model.parent_id)
                .where(getattr(child_model, item["field"]) == record.id)
                .order_by(other.model.id.desc())
            )

            def fetch(query, limit):
                return [(parent, row) for row, parent in session.execute(query.limit(limit))]
        else:
            child_specs = []
            query = (
                select(other.model)
                .where(getattr(other.model, item["field"]) == record.id)
                .order_by(other.model.id.desc())
            )

            def fetch(query, limit):
                return [(row, None) for row in session.scalars(query.limit(limit))]

        pairs = fetch(query, MAX_RELATED)
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

        totals = []
        if item.get("totals"):
            every = pairs if len(pairs) < MAX_RELATED else fetch(query, MAX_TOTALLED)
            totals = related_totals(item["totals"], every, available, hidden, table, child_names)
        sections.append(
            {
                "totals": totals,
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


def _period(within: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    year = today.year - (1 if within == "last_year" else 0)
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def related_totals(
    totals: list[dict],
    pairs: list[tuple[Any, Any]],
    available: list[dict],
    hidden: set[str],
    table: str | None,
    child_names: set[str],
) -> list[dict]:
    """The `totals:` lines of a related section: the sum of a column (or the number of rows)
    over the related rows matching `where` (column: value) and, with `period`, whose date
    column falls in this or last calendar year; held against `minimum` when given. Computed
    when shown (this year moves), over the rows the reader sees. A line naming a column the
    other entity does not have, or one masked for the reader, is not shown."""
    by_name = {s["name"]: s for s in available}
    today = datetime.date.today()
    lines = []
    for line in totals:
        period = line.get("period") or {}
        wanted = [line.get("sum"), *(line.get("where") or {}), period.get("field")]
        names = [n for n in wanted if n]
        if any(n not in by_name for n in names):
            continue
        masked = {n for n in names if (f"{table}.{n}" if n in child_names else n) in hidden}
        if masked:
            continue

        def read(parent, row, name):
            return getattr(row if row is not None and name in child_names else parent, name)

        start, end = _period(period.get("within", "this_year"), today) if period else (None, None)
        value = decimal.Decimal(0)
        for parent, row in pairs:
            if any(read(parent, row, k) != v for k, v in (line.get("where") or {}).items()):
                continue
            if period:
                day = read(parent, row, period["field"])
                if not isinstance(day, datetime.date) or not start <= day <= end:
                    continue
            if line.get("sum"):
                amount = read(parent, row, line["sum"])
                value += decimal.Decimal(str(amount)) if amount not in (None, "") else 0
            else:
                value += 1
        minimum = line.get("minimum")
        lines.append(
            {
                "label": line["label"],
                "value": format(value.normalize(), "f"),  # 36.5, 40 (never 4E+1)
                "minimum": minimum,
                "met": None if minimum is None else value >= decimal.Decimal(str(minimum)),
            }
        )
    return lines
