"""The daily reminder job: `notices.daily_reminders` raises one tenant's due in-app reminders
(`flask notices remind` enqueues one per tenant and is what cron runs once a day)."""

from __future__ import annotations

import datetime

from app.extensions import db
from app.jobs import task
from app.tenancy.scope import current_scope, system_scope, use_scope


@task("notices.daily_reminders")
def daily_reminders(tenant_id: int, on: str | None = None) -> dict[str, int]:
    """Reminders of `tenant_id` due on `on` (ISO date; default today). Read tenant-wide: the
    people to remind and their managers may sit anywhere in the tenant."""
    from app.notices.reminders import raise_reminders

    scope = current_scope()
    if scope is not None and not scope.unrestricted and scope.tenant_id != tenant_id:
        raise PermissionError("a tenant's reminders are raised by the platform or that tenant")
    today = datetime.date.fromisoformat(on) if on else datetime.date.today()
    with use_scope(system_scope("job:notices.daily_reminders")):
        raised = raise_reminders(db.session, tenant_id, today)
        db.session.flush()
    return raised


def _watch() -> None:
    """状态监控 watches the daily run (a tenant's last run older than three days is overdue)."""
    from app.monitoring.checks import register_schedule

    register_schedule("notices.daily_reminders", "到期提醒（执业证等）", 24 * 60)


_watch()
