"""The audit trail in the console and over the API: read-only, filterable."""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from app.audit.models import AuditRecord
from app.web.base import DealerModelApi, DealerModelView

AUDIT_LABELS = {
    "created_at": _l("Time (UTC)"),
    "action": _l("Action"),
    "entity": _l("Table"),
    "record_id": _l("Record"),
    "username": _l("User"),
    "ip": _l("IP"),
    "before": _l("Before"),
    "after": _l("After"),
    "detail": _l("Detail"),
    "tenant_id": _l("Tenant"),
    "org_node_id": _l("Org node"),
}


class AuditRecordView(DealerModelView):
    datamodel = SQLAInterface(AuditRecord)
    base_permissions = ["can_list", "can_show", "can_export"]
    list_title = show_title = _l("Audit trail")
    label_columns = AUDIT_LABELS
    list_columns = ["created_at", "action", "entity", "record_id", "username", "ip"]
    show_columns = [*list_columns, "tenant_id", "org_node_id", "before", "after", "detail"]
    search_columns = ["created_at", "action", "entity", "record_id", "username", "ip"]
    base_order = ("id", "desc")
    page_size = 50


class AuditRecordApi(DealerModelApi):
    resource_name = "audit_record"
    datamodel = SQLAInterface(AuditRecord)
    include_route_methods = {"get", "get_list", "info"}
    list_columns = show_columns = [
        "id",
        "created_at",
        "action",
        "entity",
        "record_id",
        "username",
        "ip",
        "tenant_id",
        "org_node_id",
        "before",
        "after",
        "detail",
    ]
    search_columns = ["action", "entity", "record_id", "username", "created_at"]
    base_order = ("id", "desc")


def register(appbuilder) -> None:
    appbuilder.add_view(
        AuditRecordView,
        "Audit trail",
        label=_l("Audit trail"),
        icon="fa-history",
        category="System",
    )
    appbuilder.add_api(AuditRecordApi)
