"""Console screens under 状态监控: the plugins page (plugins loaded, plugins that failed to load,
the tenant's carriers and whether each can be used, a button to pull downloads now), the
download work queue, and carrier credentials (entered once, never shown again)."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from app.audit.models import utcnow
from app.carriers.models import (
    DOWNLOAD_KIND_LABELS,
    DOWNLOAD_STATUS_LABELS,
    CarrierCredential,
    CarrierDownloadItem,
    DownloadStatus,
)
from app.carriers.registry import registry
from app.carriers.services import STATE_LABELS, carrier_statuses, fingerprint
from app.extensions import db
from app.web.base import DealerModelView, labelled

CAPABILITY_LABELS = {
    "quote": "报价",
    "bind": "核保",
    "issue": "出单",
    "endorse": "批改",
    "cancel": "退保",
    "confirm": "承保确认",
    "claim_lookup": "理赔查询",
    "policy_download": "保单下载",
    "statement_download": "对账单下载",
    "claim_download": "赔案下载",
}


def status_context(user, sm) -> dict:
    """What the plugins-and-carriers panels show (the 状态监控 page includes them): the plugins
    loaded, the ones that failed with their error, and the user's tenant's carriers."""
    found = registry()
    tenant_id = getattr(user, "tenant_id", None)
    statuses = carrier_statuses(db.session, tenant_id) if tenant_id else []
    waiting = 0
    if tenant_id:
        waiting = (
            db.session.query(CarrierDownloadItem)
            .filter(CarrierDownloadItem.status == DownloadStatus.UNMATCHED)
            .count()
        )
    return dict(
        carriers=sorted(found.carriers.values(), key=lambda p: p.plugin.code),
        payments=sorted(found.payments.values(), key=lambda p: p.code),
        errors=found.errors,
        statuses=statuses,
        state_labels=STATE_LABELS,
        capability_labels=CAPABILITY_LABELS,
        waiting=waiting,
        has_tenant=bool(tenant_id),
        can_pull=bool(tenant_id) and sm.has_access("can_add", "CarrierStatusView"),
    )


# Where the pull form may send the user back to (the form says which page it was on).
RETURN_TO = {"monitoring": "MonitoringView.index", "status": "CarrierStatusView.status"}


class CarrierStatusView(BaseView):
    """插件与保险公司: what is loaded, what failed, and the tenant's carriers. Its panels are part
    of the 状态监控 page; this page keeps them on their own (and the pull button's endpoint)."""

    route_base = "/carriers"
    default_view = "status"

    @expose("/status/")
    @has_access
    @permission_name("list")
    def status(self):
        return self.render_template(
            "carriers/status.html", **status_context(g.user, self.appbuilder.sm)
        )

    @expose("/pull/", methods=["POST"])
    @has_access
    @permission_name("add")
    def pull(self):
        """Start the download job for the user's tenant (in the user's scope)."""
        from app.carriers import tasks  # noqa: F401 - registers the task
        from app.jobs import enqueue

        back = url_for(RETURN_TO.get(request.form.get("back", ""), RETURN_TO["status"]))
        if not getattr(g.user, "tenant_id", None):
            flash("平台管理员没有所属租户，无法下载保险公司数据", "warning")
            return redirect(back)
        days = request.form.get("days", "7")
        days = int(days) if days.isdigit() and 0 < int(days) <= 90 else 7
        record = enqueue("carriers.pull_downloads", days=days)
        flash(
            f"已开始下载保险公司数据（后台任务 #{record.id}），完成后可在“待处理下载”中查看", "info"
        )
        return redirect(back)


def _status_label(value) -> str:
    return labelled(DOWNLOAD_STATUS_LABELS)(value)


class CarrierDownloadItemView(DealerModelView):
    """待处理下载: rows of carrier downloads we could not match, resolved by someone."""

    datamodel = SQLAInterface(CarrierDownloadItem)
    base_permissions = ["can_list", "can_show", "can_edit", "can_export"]
    list_title = show_title = edit_title = "待处理的保险公司下载"
    label_columns = {
        "created_at": "下载时间 (UTC)",
        "carrier_key": "保险公司",
        "kind": "类别",
        "reference": "单号",
        "summary": "摘要",
        "reason": "未匹配原因",
        "status": "状态",
        "resolved_by": "处理人",
        "resolved_at": "处理时间 (UTC)",
        "note": "处理说明",
        "payload": "下载内容",
        "org_node": "所属机构",
    }
    list_columns = ["created_at", "carrier_key", "kind", "reference", "reason", "status"]
    show_columns = [*list_columns, "summary", "payload", "resolved_by", "resolved_at", "note"]
    edit_columns = ["status", "note"]
    search_columns = ["carrier_key", "kind", "reference", "status", "created_at"]
    formatters_columns = {
        "kind": labelled(DOWNLOAD_KIND_LABELS),
        "status": _status_label,
    }
    base_order = ("id", "desc")

    def pre_update(self, item: CarrierDownloadItem) -> None:
        if item.status == DownloadStatus.UNMATCHED:
            item.resolved_by, item.resolved_at = None, None
        else:
            item.resolved_by = getattr(g.user, "username", "")
            item.resolved_at = utcnow()


class CarrierCredentialView(DealerModelView):
    """保险公司凭据: a secret is typed once; afterwards only its fingerprint is shown."""

    datamodel = SQLAInterface(CarrierCredential)
    base_permissions = ["can_list", "can_add", "can_edit", "can_delete"]
    list_title = add_title = edit_title = "保险公司凭据"
    label_columns = {
        "carrier_key": "保险公司键",
        "name": "凭据名",
        "fingerprint": "指纹",
        "reference": "在 carrier 文档中引用",
        "created_at": "录入时间 (UTC)",
        "created_by": "录入人",
        "replaced_at": "更换时间 (UTC)",
        "value": "密钥（保存后不再显示）",
        "org_node": "所属机构",
    }
    description_columns = {
        "carrier_key": "carrier 文档的键，如 picc",
        "name": "如 api_key、signing_secret",
        "value": "只写：保存后任何界面、导出、日志与接口都不再显示",
    }
    list_columns = ["carrier_key", "name", "reference", "fingerprint", "created_by", "created_at"]
    add_columns = ["carrier_key", "name", "value"]
    edit_columns = ["value"]
    search_columns = ["carrier_key", "name"]
    add_form_extra_fields = {
        "value": PasswordField(
            "密钥（保存后不再显示）", validators=[DataRequired(), Length(1, 4096)]
        )
    }
    edit_form_extra_fields = add_form_extra_fields

    def _take_secret(self, item: CarrierCredential) -> None:
        from app.carriers.services import _fernet

        value = item.__dict__.pop("value", None) or ""
        item.secret = _fernet().encrypt(value.encode()).decode()
        item.fingerprint = fingerprint(value)

    def pre_add(self, item: CarrierCredential) -> None:
        self._take_secret(item)
        item.created_by = getattr(g.user, "username", "")
        item.created_at = utcnow()

    def pre_update(self, item: CarrierCredential) -> None:
        self._take_secret(item)
        item.replaced_at = utcnow()


def register(appbuilder) -> None:
    from app.carriers import permissions  # noqa: F401 - merges the capability's permissions

    # Its panels are on the 状态监控 page (app/monitoring); the page itself stays reachable.
    appbuilder.add_view_no_menu(CarrierStatusView)
    appbuilder.add_view(
        CarrierDownloadItemView,
        "CarrierDownloads",
        label="待处理下载",
        icon="fa-inbox",
        category="System",
    )
    appbuilder.add_view(
        CarrierCredentialView,
        "CarrierCredentials",
        label="保险公司凭据",
        icon="fa-key",
        category="System",
    )
