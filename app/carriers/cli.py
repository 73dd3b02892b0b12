"""`flask carriers …`: the plugins loaded (and those that failed), pulling downloads (what cron
runs), and entering a credential without it ever being shown."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.tenancy.scope import system_scope, use_scope

carriers_cli = AppGroup("carriers", help="Carrier plugins, downloads and credentials.")


def _tenants(code: str | None):
    from app.organisation.models import Tenant

    query = select(Tenant).where(Tenant.active.is_(True)).order_by(Tenant.code)
    if code:
        query = query.where(Tenant.code == code)
    tenants = list(db.session.scalars(query))
    if code and not tenants:
        raise click.ClickException(f"no tenant {code}")
    return tenants


@carriers_cli.command("plugins")
def plugins() -> None:
    """List the plugins loaded and the ones that failed to load."""
    from app.carriers.registry import registry

    found = registry()
    for code, loaded in sorted(found.carriers.items()):
        plugin = loaded.plugin
        click.echo(f"carrier  {code:16} {plugin.version:8} {loaded.source}")
    for code, gateway in sorted(found.payments.items()):
        click.echo(f"payment  {code:16} {gateway.version:8}")
    for error in found.errors:
        click.echo(f"FAILED   {error.name:16} {error.source}: {error.summary}", err=True)


@carriers_cli.command("pull")
@click.option("--tenant", "tenant_code", default=None, help="Tenant code (default: every tenant).")
@click.option("--days", default=7, show_default=True, help="Days of downloads to pull.")
def pull(tenant_code: str | None, days: int) -> None:
    """Enqueue the download job (carriers.pull_downloads) per tenant; prints what ran."""
    from app.carriers import tasks  # noqa: F401 - registers the task
    from app.jobs import enqueue
    from app.jobs.models import JobRecord

    answers = []
    with use_scope(system_scope("cli:carriers-pull")):
        for tenant in _tenants(tenant_code):
            record = enqueue("carriers.pull_downloads", tenant_id=tenant.id, days=days)
            db.session.expire_all()
            record = db.session.get(JobRecord, record.id)
            answers.append(
                {
                    "tenant": tenant.code,
                    "job": record.id,
                    "status": str(getattr(record.status, "value", record.status)),
                    "result": json.loads(record.result) if record.result else None,
                }
            )
    click.echo(json.dumps(answers, ensure_ascii=False, indent=2))


@carriers_cli.command("credential")
@click.argument("carrier_key")
@click.argument("name")
@click.option("--tenant", "tenant_code", required=True)
@click.password_option("--value", prompt="密钥 / secret", confirmation_prompt=True)
def credential(carrier_key: str, name: str, tenant_code: str, value: str) -> None:
    """Store a carrier's secret encrypted; prints the reference for the carrier document."""
    from app.carriers.services import store_credential
    from app.organisation.models import OrgNode

    with use_scope(system_scope("cli:carriers-credential")):
        tenant = _tenants(tenant_code)[0]
        root = db.session.scalar(
            select(OrgNode.id).where(OrgNode.tenant_id == tenant.id, OrgNode.parent_id.is_(None))
        )
        row = store_credential(db.session, carrier_key, name, value, "cli", tenant.id, root)
        db.session.commit()
        click.echo(f'credentials: {{{name}: "{row.reference}"}}')
