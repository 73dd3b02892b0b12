"""`flask notices remind`: enqueue the daily reminder job for every active tenant (run by cron
once a day, e.g. `30 7 * * *`)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.tenancy.scope import system_scope, use_scope

notices_cli = AppGroup("notices", help="In-app notices and reminders.")


@notices_cli.command("remind")
@click.option("--tenant", "tenant_code", default=None, help="Tenant code (default: every tenant).")
@click.option("--date", "on", default=None, help="As if today were this ISO date.")
def remind(tenant_code: str | None, on: str | None) -> None:
    """Enqueue notices.daily_reminders per tenant; prints what each raised."""
    from app.jobs import enqueue
    from app.notices import tasks  # noqa: F401 - registers the task
    from app.organisation.models import Tenant

    with use_scope(system_scope("cli:notices-remind")):
        query = select(Tenant).where(Tenant.active.is_(True)).order_by(Tenant.code)
        if tenant_code:
            query = query.where(Tenant.code == tenant_code)
        for tenant in db.session.scalars(query).all():
            record = enqueue("notices.daily_reminders", tenant_id=tenant.id, on=on)
            click.echo(f"{tenant.code}: job {record.id} {record.status} {record.result or ''}")
