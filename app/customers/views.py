"""Screens and REST APIs of customers and vehicles."""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from app.customers.models import CUSTOMER_KIND_LABELS, FUEL_LABELS, Customer, Vehicle
from app.identifiers.forms import ValidIdentifier
from app.web.base import DealerModelApi, DealerModelView, labelled

CUSTOMER_LABELS = {
    "name": _l("Name"),
    "kind": _l("Customer kind"),
    "id_number": _l("Resident ID"),
    "credit_code": _l("Social credit code"),
    "mobile": _l("Mobile"),
    "address": _l("Address"),
    "birthday": _l("Birthday"),
    "org_node": _l("Store"),
    "vehicles": _l("Vehicles"),
}
VEHICLE_LABELS = {
    "plate": _l("Plate"),
    "vin": _l("VIN"),
    "customer": _l("Customer"),
    "brand": _l("Brand"),
    "model_name": _l("Model"),
    "register_date": _l("Registration date"),
    "seats": _l("Seats"),
    "displacement": _l("Displacement (L)"),
    "fuel": _l("Fuel"),
    "purchase_price": _l("Purchase price"),
    "org_node": _l("Store"),
}


class VehicleView(DealerModelView):
    datamodel = SQLAInterface(Vehicle)
    list_title = _l("Vehicles")
    show_title = add_title = edit_title = _l("Vehicle")
    label_columns = VEHICLE_LABELS
    list_columns = ["plate", "vin", "customer", "brand", "model_name", "register_date", "org_node"]
    add_columns = edit_columns = [
        "org_node",
        "customer",
        "plate",
        "vin",
        "brand",
        "model_name",
        "register_date",
        "seats",
        "displacement",
        "fuel",
        "purchase_price",
    ]
    show_columns = add_columns
    search_columns = ["plate", "vin", "customer", "brand", "model_name", "org_node"]
    validators_columns = {"plate": [ValidIdentifier("plate")], "vin": [ValidIdentifier("vin")]}
    formatters_columns = {"fuel": labelled(FUEL_LABELS)}


class CustomerView(DealerModelView):
    datamodel = SQLAInterface(Customer)
    list_title = _l("Customers")
    show_title = add_title = edit_title = _l("Customer")
    label_columns = CUSTOMER_LABELS
    list_columns = ["name", "kind", "mobile", "org_node"]
    add_columns = edit_columns = [
        "org_node",
        "name",
        "kind",
        "id_number",
        "credit_code",
        "mobile",
        "address",
        "birthday",
    ]
    show_columns = add_columns
    search_columns = ["name", "mobile", "id_number", "org_node"]
    validators_columns = {
        "id_number": [ValidIdentifier("resident_id")],
        "credit_code": [ValidIdentifier("uscc")],
        "mobile": [ValidIdentifier("mobile")],
    }
    formatters_columns = {"kind": labelled(CUSTOMER_KIND_LABELS)}
    related_views = [VehicleView]


class CustomerApi(DealerModelApi):
    resource_name = "customer"
    datamodel = SQLAInterface(Customer)
    list_columns = ["id", "name", "kind", "mobile", "org_node_id", "tenant_id"]
    show_columns = [*list_columns, "id_number", "credit_code", "address", "birthday"]
    add_columns = edit_columns = [
        "org_node_id",
        "name",
        "kind",
        "id_number",
        "credit_code",
        "mobile",
        "address",
        "birthday",
    ]


class VehicleApi(DealerModelApi):
    resource_name = "vehicle"
    datamodel = SQLAInterface(Vehicle)
    list_columns = ["id", "plate", "vin", "customer_id", "brand_id", "model_name", "org_node_id"]
    show_columns = [
        *list_columns,
        "tenant_id",
        "register_date",
        "seats",
        "displacement",
        "fuel",
        "purchase_price",
    ]
    add_columns = edit_columns = [
        "org_node_id",
        "customer_id",
        "plate",
        "vin",
        "brand_id",
        "model_name",
        "register_date",
        "seats",
        "displacement",
        "fuel",
        "purchase_price",
    ]


def register(appbuilder) -> None:
    category = "Issuing"
    appbuilder.add_view(
        CustomerView,
        "Customers",
        label=_l("Customers"),
        icon="fa-users",
        category=category,
    )
    appbuilder.add_view(
        VehicleView, "Vehicles", label=_l("Vehicles"), icon="fa-car", category=category
    )
    appbuilder.add_api(CustomerApi)
    appbuilder.add_api(VehicleApi)
