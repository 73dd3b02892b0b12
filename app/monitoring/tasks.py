"""The probe job: `monitoring.probe`, enqueued from the page's 立即探测 button, by
`flask monitoring watch` every minute, or by cron through `flask monitoring probe`."""

from __future__ import annotations

from app.extensions import db
from app.jobs import task
from app.tenancy.scope import system_scope, use_scope


@task("monitoring.probe")
def probe_task() -> dict:
    """Every probe, in the platform's scope (probes read every tenant's carriers and cameras);
    the answer holds counts only, so the requester learns nothing of other tenants."""
    from app.monitoring.services import run_probes

    with use_scope(system_scope("job:monitoring.probe")):
        run = run_probes(db.session)
    return {
        "targets": len(run.readings),
        "down": sum(1 for r in run.readings if r.ok is False),
        "opened": len(run.opened),
        "closed": len(run.closed),
        "seconds": round(run.seconds, 2),
    }
