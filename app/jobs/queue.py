"""Enqueue and run tasks.

A task is a plain function registered with `@task("name")`, taking JSON-able keyword arguments.
It runs in the scope of whoever enqueued it, so a job sees exactly what its requester sees.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from typing import Any

from flask import current_app, has_app_context

from app.audit.models import utcnow
from app.extensions import db
from app.jobs.models import JobRecord, JobStatus
from app.tenancy.scope import Scope, current_scope, system_scope, use_scope

log = logging.getLogger(__name__)

TASKS: dict[str, Callable[..., Any]] = {}


def task(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        if name in TASKS and TASKS[name] is not func:
            raise ValueError(f"task {name!r} is registered twice")
        TASKS[name] = func
        return func

    return register


def enqueue(name: str, **arguments: Any) -> JobRecord:
    """Record the job and hand it to rq, or run it here when there is no Redis."""
    if name not in TASKS:
        raise KeyError(f"unknown task {name!r}")
    scope = current_scope() or system_scope()
    record = JobRecord(
        task=name,
        arguments=json.dumps(arguments, ensure_ascii=False, sort_keys=True),
        requested_by_id=scope.user_id,
        requested_by=scope.username,
        tenant_id=scope.tenant_id,
        org_node_id=scope.node_id,
        backend="rq" if current_app.config.get("REDIS_URL") else "inline",
    )
    db.session.add(record)
    db.session.commit()
    _dispatch(record)
    return record


def retry(record: JobRecord) -> JobRecord:
    record.status = JobStatus.QUEUED
    record.error = None
    db.session.commit()
    _dispatch(record)
    return record


def _dispatch(record: JobRecord) -> None:
    if record.backend == "rq":
        rq_queue().enqueue(run_job, record.id, job_timeout=3600)
    else:
        run_job(record.id)


def rq_queue():
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(current_app.config["REDIS_URL"])
    return Queue(current_app.config["JOB_QUEUE"], connection=connection)


def run_job(job_id: int) -> None:
    """Entry point on the worker (or inline): run the task in its requester's scope."""
    if has_app_context():
        _run(job_id)
    else:
        with worker_app().app_context():
            _run(job_id)


_worker_app = None


def worker_app():
    """The app of an rq worker process, built once per process."""
    global _worker_app
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
    return _worker_app


def _run(job_id: int) -> None:
    with use_scope(system_scope()):
        record = db.session.get(JobRecord, job_id)
        if record is None:
            log.error("job %s not found", job_id)
            return
        record.status, record.started_at = JobStatus.RUNNING, utcnow()
        record.attempts = (record.attempts or 0) + 1
        db.session.commit()
        scope = _requester_scope(record)
        name, arguments = record.task, json.loads(record.arguments or "{}")
    try:
        with use_scope(scope):
            result = TASKS[name](**arguments)
            db.session.commit()
    except Exception:
        db.session.rollback()
        _finish(job_id, JobStatus.FAILED, error=traceback.format_exc(limit=20))
        log.exception("job %s (%s) failed", job_id, name)
        return
    _finish(job_id, JobStatus.DONE, result=json.dumps(result, ensure_ascii=False, default=str))


def _finish(job_id: int, status: str, result: str | None = None, error: str | None = None):
    with use_scope(system_scope()):
        record = db.session.get(JobRecord, job_id)
        record.status, record.finished_at = status, utcnow()
        record.result, record.error = result, error
        db.session.commit()


def _requester_scope(record: JobRecord) -> Scope:
    from app.security.models import DealerUser
    from app.tenancy.scope import scope_for

    if record.requested_by_id is None:
        return system_scope(record.requested_by or "system")
    user = db.session.get(DealerUser, record.requested_by_id)
    return scope_for(user) if user is not None else system_scope(record.requested_by)
