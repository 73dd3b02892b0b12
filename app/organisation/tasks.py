"""Background tasks of the organisation capability."""

from __future__ import annotations

from app.extensions import db
from app.jobs import task
from app.organisation.services import store_summary


@task("organisation.store_summary")
def store_summary_task() -> dict[str, dict[str, int]]:
    """Counts per store, over what the requester sees (jobs run in the requester's scope)."""
    return store_summary(db.session)
