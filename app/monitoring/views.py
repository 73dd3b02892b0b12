"""状态监控: the one page an operator keeps open (it refreshes itself every 30 seconds)."""

from __future__ import annotations

import datetime
from itertools import groupby

from flask import flash, g, redirect, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from sqlalchemy import func, select

from app.audit.models import utcnow
from app.errors import Conflict, NotFound
from app.extensions import db
from app.jobs.models import JobRecord, JobStatus
from app.jobs.views import JOB_STATUS_LABELS
from app.monitoring.models import STATE_LABELS, Incident, MonitorStatus, ProbeState
from app.monitoring.probes import KIND_LABELS
from app.monitoring.services import incident_facts, words
from app.organisation.models import Tenant
from app.tenancy.scope import current_scope
from app.web.formatting import local_time

REFRESH_SECONDS = 30
KIND_ORDER = list(KIND_LABELS)


# What the failed-jobs table calls each task (its code stays in the job's detail page).
TASK_LABELS = {
    "carriers.pull_downloads": "保险公司数据下载",
    "monitoring.probe": "状态探测",
    "notices.daily_reminders": "每日提醒",
    "orders.issue": "支付后出单",
    "organisation.store_summary": "门店汇总",
}


def epoch_ms(value: datetime.datetime) -> int:
    return int(value.replace(tzinfo=datetime.UTC).timestamp() * 1000)


class MonitoringView(BaseView):
    route_base = "/monitoring"
    default_view = "index"

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        from app.carriers.views import status_context
        from app.monitoring.checks import queue_facts, schedule_facts

        session, now = db.session, utcnow()
        statuses = list(session.scalars(select(MonitorStatus)))
        statuses.sort(key=lambda s: (_kind_rank(s.kind), s.tenant_id or 0, s.label))
        groups = [
            (kind, KIND_LABELS.get(kind, kind), list(rows))
            for kind, rows in groupby(statuses, key=lambda s: s.kind)
        ]
        open_incidents = list(
            session.scalars(
                select(Incident).where(Incident.closed_at.is_(None)).order_by(Incident.opened_at)
            )
        )
        history = list(
            session.scalars(
                select(Incident)
                .where(Incident.closed_at.is_not(None))
                .order_by(Incident.closed_at.desc())
                .limit(20)
            )
        )
        failed_jobs = list(
            session.scalars(
                select(JobRecord)
                .where(JobRecord.status == JobStatus.FAILED)
                .order_by(JobRecord.id.desc())
                .limit(10)
            )
        )
        last_run = session.scalar(select(func.max(MonitorStatus.checked_at)))
        scope = current_scope()
        # The platform sees every tenant's targets: each says whose it is.
        tenant_names = (
            dict(session.execute(select(Tenant.id, Tenant.name)).all())
            if scope is not None and scope.unrestricted
            else {}
        )
        sm = self.appbuilder.sm
        return self.render_template(
            "monitoring/index.html",
            now=now,
            groups=groups,
            down=sum(1 for s in statuses if s.state == ProbeState.DOWN),
            probe_labels=STATE_LABELS,
            kind_labels=KIND_LABELS,
            open_incidents=[(i, incident_facts(i, now)) for i in open_incidents],
            history=[(i, incident_facts(i, now)) for i in history],
            queue=queue_facts(session),
            schedules=schedule_facts(session),
            failed_jobs=failed_jobs,
            job_labels=JOB_STATUS_LABELS,
            task_labels=TASK_LABELS,
            last_run=last_run,
            refresh=REFRESH_SECONDS,
            can_probe=sm.has_access("can_add", "MonitoringView"),
            can_retry=sm.has_access("can_edit", "MonitoringView"),
            can_see_jobs=sm.has_access("can_show", "JobRecordView"),
            local_time=local_time,
            epoch_ms=epoch_ms,
            words=words,
            back="monitoring",
            tenant_names=tenant_names,
            **status_context(g.user, sm),
        )

    @expose("/probe/", methods=["POST"])
    @has_access
    @permission_name("add")
    def probe(self):
        """Run the probes now (a job: on the queue with Redis, in this request without)."""
        from app.jobs import enqueue
        from app.monitoring import tasks  # noqa: F401 - registers the task

        record = enqueue("monitoring.probe")
        flash(f"已开始探测（后台任务 #{record.id}）", "info")
        return redirect(url_for("MonitoringView.index"))

    @expose("/jobs/<int:job_id>/retry/", methods=["POST"])
    @has_access
    @permission_name("edit")
    def retry_job(self, job_id: int):
        """Queue a failed job again (one of the user's scope: another's is not found)."""
        from app.jobs import retry

        record = db.session.scalar(select(JobRecord).where(JobRecord.id == job_id))
        if record is None:
            raise NotFound(f"job {job_id}", f"后台任务 #{job_id} 不存在", field="job_id")
        if record.status != JobStatus.FAILED:
            raise Conflict(
                f"job {job_id} is {record.status}, not failed",
                f"后台任务 #{job_id} 不是失败状态，无需重试",
                field="job_id",
            )
        retry(record)
        flash(f"后台任务 #{job_id} 已重新排队", "info")
        return redirect(url_for("MonitoringView.index") + "#dc-jobs")


def _kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def register(appbuilder) -> None:
    from app.monitoring import (
        permissions,  # noqa: F401 - merges the capability's permissions
        tasks,  # noqa: F401 - registers the probe job
    )

    appbuilder.add_view(
        MonitoringView,
        "Monitoring",
        label="状态监控",
        icon="fa-heartbeat",
        category="System",
    )
