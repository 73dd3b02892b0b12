"""Jobs in the console: list, detail with the error, and retry of failed ones."""

from __future__ import annotations

from flask import flash, redirect
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.jobs.models import JobRecord, JobStatus
from app.jobs.queue import retry
from app.web.base import DealerModelApi, DealerModelView, labelled

# Labels of the stored values (plain strings, not enums): the list shows 失败, not "failed".
JOB_STATUS_LABELS = {
    JobStatus.QUEUED: "排队中",
    JobStatus.RUNNING: "运行中",
    JobStatus.DONE: "已完成",
    JobStatus.FAILED: "失败",
}
BACKEND_LABELS = {"rq": "Redis 队列", "inline": "请求内执行"}


class JobRecordView(DealerModelView):
    datamodel = SQLAInterface(JobRecord)
    base_permissions = ["can_list", "can_show", "can_export", "retry"]
    list_title = show_title = _l("Background jobs")
    label_columns = {
        "task": _l("Task"),
        "status": _l("Status"),
        "backend": _l("Backend"),
        "attempts": _l("Attempts"),
        "requested_by": _l("Requested by"),
        "created_at": _l("Created (UTC)"),
        "finished_at": _l("Finished (UTC)"),
        "arguments": _l("Arguments"),
        "result": _l("Result"),
        "error": _l("Error"),
    }
    list_columns = ["id", "task", "status", "backend", "attempts", "requested_by", "created_at"]
    show_columns = [*list_columns, "finished_at", "arguments", "result", "error"]
    search_columns = ["task", "status", "requested_by", "created_at"]
    formatters_columns = {
        "status": labelled(JOB_STATUS_LABELS),
        "backend": labelled(BACKEND_LABELS),
    }
    base_order = ("id", "desc")

    @action("retry", _l("Retry"), _l("Retry the selected failed jobs?"), "fa-repeat", multiple=True)
    def retry(self, items):
        items = items if isinstance(items, list) else [items]
        failed = [job for job in items if job.status == JobStatus.FAILED]
        for job in failed:
            retry(job)
        flash(_("%(n)d failed job(s) queued again", n=len(failed)), "info")
        return redirect(self.get_redirect())


class JobRecordApi(DealerModelApi):
    resource_name = "job"
    datamodel = SQLAInterface(JobRecord)
    include_route_methods = {"get", "get_list", "info"}
    list_columns = show_columns = [
        "id",
        "task",
        "status",
        "backend",
        "attempts",
        "requested_by",
        "created_at",
        "finished_at",
        "result",
        "error",
    ]


def register(appbuilder) -> None:
    appbuilder.add_view(
        JobRecordView,
        "Jobs",
        label=_l("Background jobs"),
        icon="fa-tasks",
        category="System",
    )
    appbuilder.add_api(JobRecordApi)
