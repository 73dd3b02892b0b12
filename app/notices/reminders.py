"""Reminders on entity dates, from metadata: a `message_template` with `channel: in_app` whose
`schedule.anchor` is a date field of an entity (`employee.licence_expiry`) raises, every day, a
notice to each of its `recipients` (fields of the record naming a login, followed through
references: `employee.user`, `employee.superior.user`) for every record whose date is due.

Nothing here knows what an employee or a licence is: the pack that declares the entity and the
template declares the reminder; without the pack there is no reminder.

When a record is due:
- `offset_days` ≤ 0 (before the date): from `offset_days` days before it up to the day itself —
  the licence expiring within 30 days is reminded every run in that window, once per person
  (the notice's dedupe key holds the date, so a renewed licence is reminded again next time);
- `offset_days` > 0 (after the date): on that day, or within CATCH_UP_DAYS after it when a run
  was missed.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.configuration.lookup import documents_in_force
from app.configuration.records import permission
from app.configuration.runtime import REGISTRY, EntityRuntime
from app.messaging.templates import render_template
from app.notices.models import Notice
from app.security.models import DealerUser

CATCH_UP_DAYS = 7
USER_TARGETS = ("user",)


def due_window(offset_days: int, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The anchor dates due for a reminder on `today`."""
    if offset_days <= 0:
        return today, today + datetime.timedelta(days=-offset_days)
    last = today - datetime.timedelta(days=offset_days)
    return last - datetime.timedelta(days=CATCH_UP_DAYS), last


def in_app_templates(session: Session, tenant_id: int, today: datetime.date) -> list[Any]:
    found = []
    for version in documents_in_force(session, "message_template", tenant_id, today):
        body = version.body
        if body.get("channel") == "in_app" and (body.get("schedule") or {}).get("anchor"):
            found.append(version)
    return found


def raise_reminders(session: Session, tenant_id: int, today: datetime.date) -> dict[str, int]:
    """Raise the tenant's due reminders; template key → notices raised. Run in a scope that
    sees the whole tenant (the daily job runs in the platform's); rows are filtered by tenant."""
    raised: dict[str, int] = {}
    for version in in_app_templates(session, tenant_id, today):
        body, key = version.body, version.document.key
        entity_name, _, field_name = body["schedule"]["anchor"].partition(".")
        runtime = REGISTRY.get(session, entity_name, tenant_id)
        spec = runtime.definition.field(field_name) if runtime else None
        if spec is None or spec.get("type") != "date":
            continue
        low, high = due_window(int(body["schedule"]["offset_days"]), today)
        model = runtime.model
        column = getattr(model, field_name)
        rows = session.scalars(
            select(model)
            .where(model.tenant_id == tenant_id, column >= low, column <= high)
            .order_by(model.id)
        ).all()
        count = 0
        for row in rows:
            count += _notify_record(session, runtime, row, version, body, key)
        raised[key] = count
    return raised


def _notify_record(session, runtime: EntityRuntime, row, version, body, key: str) -> int:
    anchor = getattr(row, body["schedule"]["anchor"].partition(".")[2])
    values = {
        variable["name"]: _formatted(
            resolve(session, runtime, row, variable.get("source") or variable["name"]),
            variable.get("format"),
        )
        for variable in body.get("variables", [])
    }
    text = render_template(version.data, values)
    title = body.get("subject") or version.title or version.document.title or key
    made = 0
    link = f"/entities/{runtime.definition.name}/{row.id}/"
    for user_id in recipients(session, runtime, row, body.get("recipients", [])):
        # the record is linked for those who may open it (HR, a manager), not for the person
        # reminded when their role may not read the entity
        may_read = permission(runtime, session.get(DealerUser, user_id)) is not None
        made += _add_notice(
            session,
            Notice(
                tenant_id=row.tenant_id,
                org_node_id=row.org_node_id,
                user_id=user_id,
                kind=key,
                dedupe_key=f"{key}:{runtime.definition.table}:{row.id}:{anchor.isoformat()}",
                title=title[:200],
                body=text,
                link=link if may_read else None,
                due_date=anchor,
            ),
        )
    return made


def _add_notice(session: Session, notice: Notice) -> int:
    exists = session.scalar(
        select(Notice.id).where(
            Notice.user_id == notice.user_id, Notice.dedupe_key == notice.dedupe_key
        )
    )
    if exists is not None:
        return 0
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
    except IntegrityError:  # raised at the same moment by another run: already there
        return 0
    return 1


def recipients(session: Session, runtime: EntityRuntime, row, paths: Iterable[str]) -> list[int]:
    """The active logins of the record's tenant named by `paths` (a login's id, as a user
    reference holds it, or its user name), each once."""
    found: list[int] = []
    for path in paths:
        login = resolve(session, runtime, row, path)
        if isinstance(login, str) and login.strip():  # a field holding the user name
            user = session.scalar(
                select(DealerUser).where(
                    DealerUser.username == login.strip(), DealerUser.tenant_id == row.tenant_id
                )
            )
        elif isinstance(login, int) and not isinstance(login, bool):
            user = session.get(DealerUser, login)
        else:
            continue
        usable = user is not None and user.active and user.tenant_id == row.tenant_id
        if usable and user.id not in found:
            found.append(user.id)
    return found


def resolve(session: Session, runtime: EntityRuntime, row, path: str) -> Any:
    """The value at `path` from the record: `employee.name` is the record's `name`;
    `employee.superior.user` follows the reference `superior` to its record and reads `user`.
    A path that does not start with the entity's name reads from the record itself. None when
    any step is empty or unknown."""
    parts = path.split(".")
    if parts[0] == runtime.definition.name and len(parts) > 1:
        parts = parts[1:]
    current, current_runtime = row, runtime
    for index, part in enumerate(parts):
        spec = current_runtime.definition.field(part)
        if spec is None or current is None:
            return None
        value = getattr(current, part, None)
        if index == len(parts) - 1:
            return value
        target = spec.get("target")
        if spec.get("type") != "reference" or not target or target in USER_TARGETS:
            return None
        next_runtime = REGISTRY.get(session, target, row.tenant_id)
        if next_runtime is None or value is None:
            return None
        current, current_runtime = session.get(next_runtime.model, value), next_runtime
    return None


def _formatted(value: Any, fmt: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if fmt == "masked" and isinstance(value, str) and len(value) > 4:
        return "*" * (len(value) - 4) + value[-4:]
    return str(value)
