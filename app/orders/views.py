"""Screens of orders and service contracts: read-only lists (orders are written by the desk),
each with its detail page; a service contract prints as a PDF."""

from __future__ import annotations

from flask import Response
from flask_appbuilder import expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import lazy_gettext as _l

from app.audit.models import AuditAction
from app.audit.recorder import record_event
from app.errors import NotFound
from app.extensions import db
from app.orders.models import ORDER_STATUS_LABELS, Order
from app.quoting.models import TERMINAL_LABELS
from app.services.models import CONTRACT_STATUS_LABELS, ServiceContract
from app.web.base import DealerModelView, labelled

ORDER_LABELS = {
    "order_no": _l("Order number"),
    "customer": _l("Customer"),
    "vehicle": _l("Vehicle"),
    "status": _l("Status"),
    "premium_total": _l("Premium"),
    "vehicle_tax_total": _l("Vehicle tax"),
    "services_total": _l("Service packages"),
    "total": _l("Total"),
    "terminal": _l("Terminal"),
    "salesperson_name": _l("Salesperson"),
    "created_at": _l("Created (UTC)"),
    "paid_at": _l("Paid (UTC)"),
    "issued_at": _l("Issued (UTC)"),
    "last_error": _l("Last error"),
    "org_node": _l("Store"),
}
CONTRACT_LABELS = {
    "contract_no": _l("Contract number"),
    "title": _l("Service package"),
    "customer": _l("Customer"),
    "vehicle": _l("Vehicle"),
    "price": _l("Price"),
    "start_date": _l("Start date"),
    "end_date": _l("End date"),
    "status": _l("Status"),
    "org_node": _l("Store"),
    "created_at": _l("Created (UTC)"),
}


class OrderView(DealerModelView):
    datamodel = SQLAInterface(Order)
    list_title = _l("Orders")
    show_title = _l("Order")
    label_columns = ORDER_LABELS
    base_permissions = ["can_list", "can_show"]
    list_columns = [
        "order_no",
        "customer",
        "vehicle",
        "status",
        "total",
        "terminal",
        "created_at",
        "org_node",
    ]
    show_columns = [
        "order_no",
        "customer",
        "vehicle",
        "status",
        "premium_total",
        "vehicle_tax_total",
        "services_total",
        "total",
        "terminal",
        "salesperson_name",
        "created_at",
        "paid_at",
        "issued_at",
        "last_error",
        "org_node",
    ]
    search_columns = ["order_no", "status", "created_at", "org_node"]
    base_order = ("created_at", "desc")
    formatters_columns = {
        "status": labelled(ORDER_STATUS_LABELS),
        "terminal": labelled(TERMINAL_LABELS),
    }


class ServiceContractView(DealerModelView):
    datamodel = SQLAInterface(ServiceContract)
    list_title = _l("Service contracts")
    show_title = _l("Service contract")
    label_columns = CONTRACT_LABELS
    base_permissions = ["can_list", "can_show"]
    list_columns = [
        "contract_no",
        "title",
        "customer",
        "vehicle",
        "price",
        "start_date",
        "end_date",
        "status",
        "org_node",
    ]
    show_columns = list_columns + ["created_at"]
    search_columns = ["contract_no", "title", "start_date", "org_node"]
    base_order = ("created_at", "desc")
    formatters_columns = {"status": labelled(CONTRACT_STATUS_LABELS)}

    @expose("/pdf/<int:pk>")
    @has_access
    @permission_name("show")
    def pdf(self, pk: int):
        from app.services.printing import render_contract_pdf

        contract = db.session.get(ServiceContract, pk)
        if contract is None:
            raise NotFound(f"no service contract {pk}", f"服务合同 {pk} 不存在")
        content = render_contract_pdf(contract, _category_names(contract))
        record_event(
            db.session,
            AuditAction.EXPORT,
            tenant_id=contract.tenant_id,
            org_node_id=contract.org_node_id,
            entity="service_contract",
            detail={"id": pk, "contract_no": contract.contract_no, "format": "pdf"},
        )
        db.session.commit()
        return Response(
            content,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{contract.contract_no}.pdf"'},
        )


def _category_names(contract: ServiceContract) -> dict[str, str]:
    """Service category code → Chinese name, from the catalogue the package names."""
    from app.configuration.lookup import document_in_force

    package = document_in_force(
        db.session,
        "service_package",
        contract.package_key,
        contract.tenant_id,
        contract.start_date,
    )
    if package is None:
        return {}
    catalogue = document_in_force(
        db.session,
        "service_catalog",
        package.body["catalog"],
        contract.tenant_id,
        contract.start_date,
    )
    if catalogue is None:
        return {}
    return {
        c["code"]: c.get("name", {}).get("zh", c["code"])
        for c in catalogue.body.get("categories", [])
    }
