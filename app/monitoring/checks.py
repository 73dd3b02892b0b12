"""The built-in probes: the platform's database, the job queue, scheduled jobs, plugins that
failed to load, each tenant's carriers, the payment gateways and the camera agents."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator

from flask import current_app
from sqlalchemy import func, select, text

from app.monitoring.probes import ProbeContext, Reading, timed
from app.web.formatting import local_time

# Scheduled tasks (run by cron through `flask …` or the job queue): task → (label, every minutes).
# A capability adds its own with `register_schedule`.
SCHEDULES: dict[str, tuple[str, int]] = {
    "carriers.pull_downloads": ("保险公司保单、对账单与赔案下载", 60),
}


def register_schedule(task: str, label: str, every_minutes: int) -> None:
    SCHEDULES[task] = (label, int(every_minutes))


def _store_provinces(session, tenant_id: int | None = None) -> tuple[str, ...]:
    """Provinces of the stores (of one tenant, or of every tenant)."""
    from app.organisation.models import City, NodeKind, OrgNode

    query = (
        select(City.province)
        .join(OrgNode, OrgNode.city_id == City.id)
        .where(OrgNode.kind == NodeKind.STORE, OrgNode.active.is_(True))
        .distinct()
    )
    if tenant_id is not None:
        query = query.where(OrgNode.tenant_id == tenant_id)
    return tuple(sorted(p for p in session.scalars(query) if p))


def _tenants(session):
    from app.organisation.models import OrgNode, Tenant

    rows = session.execute(
        select(Tenant.id, Tenant.name, OrgNode.id)
        .join(OrgNode, (OrgNode.tenant_id == Tenant.id) & OrgNode.parent_id.is_(None))
        .where(Tenant.active.is_(True))
        .order_by(Tenant.id)
    )
    return list(rows)


# --- the platform -------------------------------------------------------------------------------


def check_database(context: ProbeContext) -> Iterator[Reading]:
    _, latency = timed(lambda: context.session.execute(text("SELECT 1")).scalar())
    backend = context.session.get_bind().dialect.name
    yield Reading("platform", "database", "数据库", True, f"{backend} 可用", latency)


def _redis():
    from redis import Redis

    url = current_app.config.get("REDIS_URL")
    return Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3) if url else None


def queue_facts(session) -> dict:
    """Depth, workers and failures of the job queue, for the probe and the page."""
    from app.jobs.models import JobRecord, JobStatus

    facts = {
        "backend": "rq" if current_app.config.get("REDIS_URL") else "inline",
        "queue": current_app.config.get("JOB_QUEUE", ""),
        "depth": None,
        "workers": None,
        "rq_failed": None,
        "failed": session.scalar(
            select(func.count(JobRecord.id)).where(JobRecord.status == JobStatus.FAILED)
        ),
        "running": session.scalar(
            select(func.count(JobRecord.id)).where(JobRecord.status == JobStatus.RUNNING)
        ),
        "error": "",
    }
    connection = _redis()
    if connection is None:
        return facts
    from rq import Queue, Worker

    try:
        connection.ping()
        queue = Queue(facts["queue"], connection=connection)
        facts["depth"] = queue.count
        facts["workers"] = len(Worker.all(queue=queue))
        facts["rq_failed"] = queue.failed_job_registry.count
    except Exception as error:  # noqa: BLE001 - an unreachable Redis is the finding
        facts["error"] = f"Redis 无法连接：{type(error).__name__}: {error}"[:500]
    return facts


def check_queue(context: ProbeContext) -> Iterator[Reading]:
    facts, latency = timed(lambda: queue_facts(context.session))
    if facts["backend"] == "inline":
        yield Reading(
            "queue", "jobs", "后台任务队列", True, "未配置 Redis：任务在请求内直接执行", latency
        )
        return
    if facts["error"]:
        yield Reading("queue", "jobs", "后台任务队列", False, facts["error"], latency)
        return
    ok = not (facts["depth"] and not facts["workers"])
    detail = f"排队 {facts['depth']} 个，工作进程 {facts['workers']} 个"
    if not ok:
        detail = f"队列中有 {facts['depth']} 个任务，但没有工作进程（请运行 make worker）"
    yield Reading("queue", "jobs", "后台任务队列", ok, detail, latency, extra=facts)


def _job_tenant(record) -> int | None:
    """The tenant a run was for: its requester's, or the one a platform run names (cron runs
    `flask carriers pull`, which enqueues one job per tenant in the platform's scope)."""
    if record.tenant_id is not None:
        return record.tenant_id
    try:
        named = json.loads(record.arguments or "{}").get("tenant_id")
    except (ValueError, AttributeError):
        return None
    return named if isinstance(named, int) else None


def schedule_facts(session, recent: int = 500) -> list[dict]:
    """The last run of each scheduled task, per tenant it ran for (and the platform's own)."""
    from app.jobs.models import JobRecord

    found = []
    for task_name, (label, every) in sorted(SCHEDULES.items()):
        latest: dict[int | None, JobRecord] = {}
        rows = session.scalars(
            select(JobRecord)
            .where(JobRecord.task == task_name)
            .order_by(JobRecord.id.desc())
            .limit(recent)
        )
        for row in rows:
            latest.setdefault(_job_tenant(row), row)
        if not latest:
            found.append(
                {"task": task_name, "label": label, "every": every, "last": None, "tenant": None}
            )
        for tenant, row in sorted(latest.items(), key=lambda item: item[0] or 0):
            found.append(
                {"task": task_name, "label": label, "every": every, "last": row, "tenant": tenant}
            )
    return found


def check_schedules(context: ProbeContext) -> Iterator[Reading]:
    from app.jobs.models import JobStatus

    roots = {tenant_id: root_id for tenant_id, _name, root_id in _tenants(context.session)}
    for fact in schedule_facts(context.session):
        last, every, tenant = fact["last"], fact["every"], fact["tenant"]
        name = fact["task"]
        label = f"{fact['label']}（每 {every} 分钟）"
        if last is None:
            yield Reading("schedule", name, label, None, "从未运行")
            continue
        ran_at = last.finished_at or last.started_at or last.created_at
        overdue = context.now - ran_at > datetime.timedelta(minutes=3 * every)
        if last.status == JobStatus.FAILED:
            ok, detail = False, f"上次运行失败（任务 #{last.id}）"
        elif overdue:
            ok, detail = False, f"已逾期：上次运行于 {local_time(ran_at)}"
        else:
            ok, detail = True, f"上次运行：任务 #{last.id}（{last.status}）"
        yield Reading(
            "schedule",
            name,
            label,
            ok,
            detail,
            tenant_id=tenant if tenant in roots else None,
            org_node_id=roots.get(tenant),
            reportable=False,
            extra={"job_id": last.id, "ran_at": ran_at},
        )


# --- plugins and gateways -----------------------------------------------------------------------


def check_plugins(context: ProbeContext) -> Iterator[Reading]:
    from app.carriers.registry import registry

    for error in registry().errors:
        yield Reading(
            "plugin",
            error.name,
            f"插件 {error.name}",
            False,
            f"加载失败：{error.summary}"[:1000],
            reportable=False,
        )


def carrier_health(client, timeout: float) -> tuple[bool, str, int | None]:
    """(ok, detail, latency) of one carrier client's health call, asked twice before it counts
    as down: one slow or busy answer is not an outage."""
    from app.carriers.contract import CarrierError

    ok, detail, latency = False, "无应答", None
    for _attempt in range(2):
        try:
            health, latency = timed(lambda: client.health(timeout))
        except CarrierError as error:
            detail = "；".join(error.reasons) or str(error)
            continue
        except Exception as error:  # noqa: BLE001 - a plugin's bug is the finding
            detail = f"{type(error).__name__}: {error}"[:1000]
            continue
        ok, detail = bool(health.ok), health.detail
        latency = health.latency_ms if health.latency_ms is not None else latency
        if ok:
            break
    return ok, detail, latency


def check_carriers(context: ProbeContext) -> Iterator[Reading]:
    """Every carrier document in force of every tenant: usable (plugin, configuration,
    credentials), and answering its health call. The calls go out side by side (they touch no
    database), so one slow carrier does not hold up the others."""
    from concurrent.futures import ThreadPoolExecutor

    from app.carriers.services import carrier_statuses, enabled_carriers

    session, today = context.session, context.now.date()
    pending = []  # (reading fields, client or None, problem)
    for tenant_id, _tenant_name, root_id in _tenants(session):
        provinces = _store_provinces(session, tenant_id)
        clients = {c.key: c.client for c in enabled_carriers(session, tenant_id, today)}
        for status in carrier_statuses(session, tenant_id, today):
            if status.state == "disabled":
                continue
            fields = dict(
                kind="carrier",
                name=status.key,
                label=f"{status.name}（{status.key}）",
                tenant_id=tenant_id,
                org_node_id=root_id,
                provinces=provinces,
                reportable=True,
            )
            client = clients.get(status.key) if status.state == "ready" else None
            pending.append((fields, client, "；".join(status.problems) or "不可用"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = [
            pool.submit(carrier_health, client, context.timeout) if client is not None else None
            for _fields, client, _problem in pending
        ]
        for (fields, _client, problem), answer in zip(pending, answers, strict=True):
            if answer is None:
                yield Reading(ok=False, detail=problem, **fields)
                continue
            ok, detail, latency = answer.result()
            yield Reading(ok=ok, detail=detail, latency_ms=latency, **fields)


def check_payments(context: ProbeContext) -> Iterator[Reading]:
    from app.carriers.registry import registry
    from app.payments.gateways import payment_client

    for code, gateway in sorted(registry().payments.items()):
        label = f"{gateway.name}（{code}）"
        try:
            client, latency = timed(lambda code=code: payment_client(code))
            health = getattr(client, "health", None)
            if callable(health):
                answer, latency = timed(lambda h=health: h(context.timeout))
                ok, detail = bool(answer.ok), answer.detail
            else:
                ok, detail = True, "已加载，可创建支付"
        except Exception as error:  # noqa: BLE001 - the gateway's failure is the finding
            ok, detail, latency = False, f"{type(error).__name__}: {error}"[:1000], None
        yield Reading("payment", code, label, ok, detail, latency)


def check_cameras(context: ProbeContext) -> Iterator[Reading]:
    from sqlalchemy.orm import selectinload

    from app.cameras.models import Camera, CameraStatus
    from app.organisation.models import OrgNode

    cameras = context.session.scalars(
        select(Camera)
        .where(Camera.active.is_(True))
        .options(selectinload(Camera.org_node).selectinload(OrgNode.city))
        .order_by(Camera.tenant_id, Camera.code)
    )
    for camera in cameras:
        store = camera.org_node
        where = dict(
            tenant_id=camera.tenant_id,
            org_node_id=camera.org_node_id,
            provinces=(store.province,) if store and store.province else (),
            reportable=False,
            extra={"last_seen": camera.last_heartbeat_at},
        )
        label = f"{store.name if store else ''} {camera.name}（{camera.code}）".strip()
        if camera.last_heartbeat_at is None:
            yield Reading("camera", camera.code, label, None, "尚未连接", **where)
            continue
        seen = local_time(camera.last_heartbeat_at)
        if camera.status(context.now) == CameraStatus.ONLINE:
            yield Reading("camera", camera.code, label, True, f"最近心跳 {seen}", **where)
        else:
            yield Reading("camera", camera.code, label, False, f"离线：最近心跳 {seen}", **where)


BUILTIN = (
    ("platform", "database", check_database, "数据库"),
    ("queue", "jobs", check_queue, "后台任务队列"),
    ("schedule", "schedules", check_schedules, "定时任务"),
    ("plugin", "plugins", check_plugins, "插件"),
    ("carrier", "carriers", check_carriers, "保险公司"),
    ("payment", "payments", check_payments, "支付网关"),
    ("camera", "cameras", check_cameras, "摄像头代理"),
)
