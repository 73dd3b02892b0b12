"""The audit trail in the console and over the API: read-only, filterable."""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.audit.models import AuditAction, AuditRecord
from app.web.base import DealerModelApi, DealerModelView

AUDIT_LABELS = {
    "created_at": _l("Time"),
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


ACTION_LABELS = {
    AuditAction.INSERT: _l("Added"),
    AuditAction.UPDATE: _l("Changed"),
    AuditAction.DELETE: _l("Deleted"),
    AuditAction.LOGIN: _l("Logged in"),
    AuditAction.LOGIN_FAILED: _l("Failed login"),
    AuditAction.LOCKED_OUT: _l("Locked out"),
    AuditAction.LOGOUT: _l("Logged out"),
    AuditAction.PERMISSION_CHANGE: _l("Permissions changed"),
    AuditAction.EXPORT: _l("Exported"),
    AuditAction.UNLOCK: _l("Unlocked"),
}
# What each table holds, as its people call it; a table missing here shows its name as code.
TABLE_LABELS = {
    "ab_user": _l("User"),
    "ab_role": _l("Role"),
    "brand": _l("Brand"),
    "camera": _l("Camera"),
    "camera_event": _l("Camera event"),
    "carrier_credential": _l("Carrier credential"),
    "carrier_download_item": _l("Carrier download"),
    "carrier_quote": _l("Carrier quote"),
    "city": _l("City"),
    "config_document": _l("Configuration document"),
    "config_document_version": _l("Configuration document version"),
    "config_pack": _l("Configuration pack"),
    "customer": _l("Customer"),
    "endorsement": _l("Endorsement"),
    "entity_attachment": _l("Attachment"),
    "handover_record": _l("Hand-over"),
    "job_record": _l("Background job"),
    "monitor_incident": _l("Incident"),
    "notice": _l("Notice"),
    "org_node": _l("Organisation node"),
    "payment": _l("Payment"),
    "policy": _l("Policy"),
    "policy_coverage": _l("Policy coverage"),
    "policy_document": _l("Policy document"),
    "quote_session": _l("Quote"),
    "sales_order": _l("Order"),
    "sales_order_item": _l("Order item"),
    "service_contract": _l("Service contract"),
    "tenant": _l("Tenant"),
    "vehicle": _l("Vehicle"),
}


def action_label(action: str | None) -> str:
    return str(ACTION_LABELS.get(action, action or ""))


def table_label(table: str | None):
    if not table:
        return ""
    label = TABLE_LABELS.get(table)
    return str(label) if label is not None else Markup("<code>%s</code>") % table


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
    formatters_columns = {"action": action_label, "entity": table_label}


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
