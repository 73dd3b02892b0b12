"""`flask monitoring …`: run the probes once (what cron runs) or keep running them."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from app.extensions import db
from app.tenancy.scope import system_scope, use_scope

monitoring_cli = AppGroup("monitoring", help="Status monitoring: probes and incidents.")


def _probe_once(kinds: tuple[str, ...]) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from app.audit.models import utcnow
    from app.monitoring.models import STATE_LABELS
    from app.monitoring.probes import KIND_LABELS
    from app.monitoring.services import (
        incident_facts,
        note_platform_down,
        record_platform_outage,
        run_probes,
        words,
    )

    with use_scope(system_scope("cli:monitoring")):
        try:
            run = run_probes(db.session, only=set(kinds) or None)
            outage = record_platform_outage(db.session, utcnow())  # reached it again
        except SQLAlchemyError as error:
            db.session.rollback()
            detail = f"数据库不可达：{type(error).__name__}: {error}".splitlines()[0][:500]
            since = note_platform_down(utcnow(), detail)
            click.echo(f"DOWN     平台  数据库  [platform]  {detail}")
            click.echo(f"the database has been unreachable since {since:%Y-%m-%d %H:%M:%S} UTC")
            return 1
        if outage is not None:
            click.echo(
                f"incident #{outage.id} recorded: the database was down for "
                f"{words(outage.duration())} ({incident_facts(outage)['rule']})",
                err=True,
            )
        for reading in run.readings:
            state = "ok" if reading.ok else ("DOWN" if reading.ok is False else "unknown")
            where = f"tenant {reading.tenant_id}" if reading.tenant_id else "platform"
            click.echo(
                f"{state:8} {KIND_LABELS.get(reading.kind, reading.kind)}  {reading.label}  "
                f"[{where}]  {reading.detail}"
            )
        for incident in run.opened:
            click.echo(f"incident #{incident.id} opened: {incident.label}", err=True)
        for incident in run.closed:
            facts = incident_facts(incident)
            click.echo(
                f"incident #{incident.id} closed after {words(facts['duration'])}: "
                f"{incident.label}",
                err=True,
            )
        for incident in run.breached:
            click.echo(
                f"incident #{incident.id} REACHED the regulator's threshold "
                f"({incident_facts(incident)['rule']}): {incident.label}",
                err=True,
            )
    down = sum(1 for r in run.readings if r.ok is False)
    click.echo(
        f"{len(run.readings)} targets, {down} down ({STATE_LABELS['down']}), {run.seconds:.2f} s"
    )
    return down


@monitoring_cli.command("probe")
@click.option("--kind", "kinds", multiple=True, help="Only probes of this kind (repeatable).")
def probe(kinds: tuple[str, ...]) -> None:
    """Run the probes once, record the readings and incidents; exit 1 when a target is down."""
    down = _probe_once(kinds)
    if down:
        raise SystemExit(1)


@monitoring_cli.command("watch")
@click.option("--every", default=60, show_default=True, help="Seconds between runs.")
def watch(every: int) -> None:
    """Run the probes every EVERY seconds until stopped (the in-process scheduler)."""
    while True:
        try:
            _probe_once(())
        except Exception as error:  # noqa: BLE001 - keep watching; the next run may succeed
            db.session.rollback()
            click.echo(f"probe run failed: {error}", err=True)
        time.sleep(max(int(every), 5))
