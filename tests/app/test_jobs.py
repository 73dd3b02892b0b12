"""Jobs run in-process without Redis and on rq with real Redis; failures are kept and retried."""

from __future__ import annotations

import json
import os

import pytest

from app.extensions import db
from app.jobs import enqueue, retry, task
from app.jobs.models import JobRecord, JobStatus
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import build_world, login, scope_of

ATTEMPTS: dict[str, int] = {}


@task("tests.fails_first_time")
def fails_first_time(key: str) -> str:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] == 1:
        raise RuntimeError("carrier timed out")
    return f"ok after {ATTEMPTS[key]}"


def _reload(job_id):
    with use_scope(system_scope()):
        db.session.expire_all()
        return db.session.get(JobRecord, job_id)


def test_job_runs_in_process_in_the_requesters_scope(app):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    app.config["REDIS_URL"], saved = "", app.config["REDIS_URL"]
    try:
        with use_scope(scope_of(world.users["desk"])):
            job = enqueue("organisation.store_summary")
    finally:
        app.config["REDIS_URL"] = saved
    job = _reload(job.id)
    assert job.backend == "inline" and job.status == JobStatus.DONE
    assert json.loads(job.result) == {"SA": {"customers": 2, "vehicles": 2}}
    assert job.tenant_id == world.tenant_id and job.org_node_id == world.store_a


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="embedded default: no Redis")
def test_job_runs_on_rq_with_real_redis(app):
    from redis import Redis
    from rq import SimpleWorker

    world = build_world(app, {"manager": ("region_manager", "region")})
    app.config["REDIS_URL"] = os.environ["REDIS_URL"]
    app.config["JOB_QUEUE"] = f"test-{world.code}"
    with use_scope(scope_of(world.users["manager"])):
        job = enqueue("organisation.store_summary")
    assert _reload(job.id).status == JobStatus.QUEUED
    connection = Redis.from_url(os.environ["REDIS_URL"])
    worker = SimpleWorker([app.config["JOB_QUEUE"]], connection=connection)
    assert worker.work(burst=True)
    job = _reload(job.id)
    assert job.backend == "rq" and job.status == JobStatus.DONE, job.error
    assert json.loads(job.result) == {
        "SA": {"customers": 2, "vehicles": 2},
        "SB": {"customers": 2, "vehicles": 2},
    }


def test_a_failed_job_keeps_its_error_and_can_be_retried_from_the_console(app, client):
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    app.config["REDIS_URL"], saved = "", app.config["REDIS_URL"]
    try:
        with use_scope(scope_of(world.users["admin"])):
            job = enqueue("tests.fails_first_time", key=world.code)
        job = _reload(job.id)
        assert job.status == JobStatus.FAILED and "carrier timed out" in job.error
        login(client, world.users["admin"])
        page = client.get(f"/jobrecordview/show/{job.id}")
        assert "carrier timed out" in page.get_data(as_text=True)
        response = client.post(
            "/jobrecordview/action_post", data={"action": "retry", "rowid": [job.id]}
        )
        assert response.status_code == 302
        assert response.headers["Location"] != "."  # "." is FAB's access-denied redirect
    finally:
        app.config["REDIS_URL"] = saved
    job = _reload(job.id)
    assert job.status == JobStatus.DONE and job.attempts == 2
    assert json.loads(job.result) == "ok after 2"


def test_retry_helper_requeues(app):
    world = build_world(app)
    app.config["REDIS_URL"], saved = "", app.config["REDIS_URL"]
    try:
        with use_scope(system_scope()):
            job = enqueue("tests.fails_first_time", key=world.code + "x")
            assert _reload(job.id).status == JobStatus.FAILED
            retry(db.session.get(JobRecord, job.id))
    finally:
        app.config["REDIS_URL"] = saved
    assert _reload(job.id).status == JobStatus.DONE


def test_unknown_task_is_refused(app):
    with use_scope(system_scope()), pytest.raises(KeyError, match="unknown task"):
        enqueue("no.such.task")
