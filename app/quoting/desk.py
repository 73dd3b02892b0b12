"""The desk screen 报价出单: find or create the customer and vehicle, choose products and
carriers, watch the quotes arrive, bundle, pay by QR code and issue, on a PC or a phone.

The page is one template and one script (app/static/desk.js); the script talks JSON to the
endpoints below, which call the same services as the REST API. These endpoints are screen
endpoints: the session cookie and the page's CSRF token authenticate them (CSRFProtect checks
every POST), unlike the JWT REST API."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from flask import Response, current_app, jsonify, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, has_access_api, permission_name
from sqlalchemy import or_, select

from app.customers.models import FUEL_LABELS, VEHICLE_CLASSES, Customer, FuelType, Vehicle
from app.errors import ValidationFailed, api_answer, as_domain_error
from app.extensions import db
from app.identifiers import half_width
from app.orders import presenting as order_presenting
from app.orders import services as orders
from app.orders.models import OrderStatus
from app.organisation.models import NodeKind, OrgNode
from app.quoting import presenting, services
from app.tenancy.scope import current_scope

SEARCH_LIMIT = 20


def json_endpoint(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer a refusal as JSON naming the field (the script marks it), never as a page."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Exception as exc:
            error = as_domain_error(exc)
            if error is None:
                raise
            db.session.rollback()
            return api_answer(error)

    return wrapper


class DeskView(BaseView):
    route_base = "/desk"
    default_view = "index"

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        return self.render_template(
            "quoting/desk.html",
            stores=_stores_of_user(),
            vehicle_classes=VEHICLE_CLASSES,
            fuels=list(FuelType),
            fuel_label=lambda fuel: FUEL_LABELS[fuel],
            today=datetime.date.today(),
        )

    @expose("/catalogue")
    @has_access_api
    @permission_name("list")
    @json_endpoint
    def catalogue(self):
        """Products in force (with their coverages and form) and the carriers enabled."""
        from app.quoting.catalogue import desk_catalogue

        scope = current_scope()
        tenant_id = scope.tenant_id or _first_tenant_of_user()
        return jsonify(desk_catalogue(db.session, tenant_id, datetime.date.today()))

    @expose("/find")
    @has_access_api
    @permission_name("list")
    @json_endpoint
    def find(self):
        """Customers and vehicles by plate, VIN, name or mobile (full-width typing accepted)."""
        text = half_width(request.args.get("q", "")).strip().upper()[:40]
        if len(text) < 2:
            raise ValidationFailed("type at least 2 characters", "请至少输入 2 个字符", field="q")
        like = f"%{text}%"
        vehicles = db.session.scalars(
            select(Vehicle)
            .outerjoin(Customer, Vehicle.customer_id == Customer.id)
            .where(
                or_(
                    Vehicle.plate.like(like),
                    Vehicle.vin.like(like),
                    Customer.name.like(f"%{request.args.get('q', '').strip()[:40]}%"),
                    Customer.mobile.like(like),
                )
            )
            .order_by(Vehicle.id.desc())
            .limit(SEARCH_LIMIT)
        ).all()
        return jsonify(result=[_vehicle_data(v) for v in vehicles])

    @expose("/customer", methods=["POST"])
    @has_access_api
    @permission_name("add")
    @json_endpoint
    def create_customer(self):
        """A new customer and vehicle, identifiers checked (full-width typing normalised)."""
        data = request.get_json(silent=True) or {}
        vehicle = _new_customer_vehicle(data)
        db.session.commit()
        return jsonify(result=_vehicle_data(vehicle)), 201

    @expose("/quote", methods=["POST"])
    @has_access_api
    @permission_name("add")
    @json_endpoint
    def quote(self):
        scope = current_scope()
        started = services.start_quote(db.session, scope, request.get_json(silent=True))
        db.session.commit()
        services.launch(current_app._get_current_object(), scope, started)
        data = presenting.quote_data(services.refresh(db.session, started.quote))
        db.session.commit()
        return jsonify(data), 202

    @expose("/quote/<int:pk>")
    @has_access_api
    @permission_name("list")
    @json_endpoint
    def quote_status(self, pk: int):
        quote = services.refresh(db.session, services.get_quote(db.session, pk), True)
        data = presenting.quote_data(quote)
        db.session.commit()  # answers marked 超时 by refresh
        return jsonify(data)

    @expose("/quote/<int:pk>/packages")
    @has_access_api
    @permission_name("list")
    @json_endpoint
    def packages(self, pk: int):
        from app.services.selling import packages_on_sale

        quote = services.get_quote(db.session, pk)
        lines = set(request.args.get("lines", "").split(","))
        found = packages_on_sale(db.session, quote, lines)
        return jsonify(result=[presenting.package_data(p) for p in found])

    @expose("/order", methods=["POST"])
    @has_access_api
    @permission_name("add")
    @json_endpoint
    def order(self):
        order = orders.create_order(db.session, current_scope(), request.get_json(silent=True))
        db.session.commit()
        return jsonify(order_presenting.order_data(order)), 201

    @expose("/order/<int:pk>")
    @has_access_api
    @permission_name("list")
    @json_endpoint
    def order_status(self, pk: int):
        from app.quoting.catalogue import order_documents

        order = orders.get_order(db.session, pk)
        data = order_presenting.order_data(order)
        data["documents"] = order_documents(order)
        return jsonify(data)

    @expose("/order/<int:pk>/pay", methods=["POST"])
    @has_access_api
    @permission_name("add")
    @json_endpoint
    def pay(self, pk: int):
        payment = orders.start_payment(db.session, orders.get_order(db.session, pk))
        db.session.commit()
        return jsonify(order_presenting.payment_data(payment))

    @expose("/order/<int:pk>/sandbox-pay", methods=["POST"])
    @has_access_api
    @permission_name("add")
    @json_endpoint
    def sandbox_pay(self, pk: int):
        """The sandbox gateway only: pay as the customer's bank would, then issue."""
        order = orders.get_order(db.session, pk)
        payment = orders.sandbox_pay(db.session, order)
        db.session.commit()
        if order.status == OrderStatus.PAID:
            orders.issue_after_payment(order)
        return jsonify(order_presenting.payment_data(payment))

    @expose("/order/<int:pk>/issue", methods=["POST"])
    @has_access_api
    @permission_name("add")
    @json_endpoint
    def issue(self, pk: int):
        order = orders.get_order(db.session, pk)
        orders.issue_order(db.session, order)
        db.session.commit()
        return jsonify(order_presenting.order_data(order))

    @expose("/qr.svg")
    @has_access_api
    @permission_name("list")
    def qr(self):
        """The payment QR code as SVG, drawn here (nothing is fetched from outside)."""
        import io

        import segno

        data = request.args.get("data", "")[:512]
        if not data:
            return Response("", status=400)
        buffer = io.BytesIO()
        segno.make(data, error="m").save(buffer, kind="svg", scale=5, border=2)
        return Response(buffer.getvalue(), mimetype="image/svg+xml")


def _stores_of_user() -> list[OrgNode]:
    return list(
        db.session.scalars(
            select(OrgNode)
            .where(OrgNode.kind == NodeKind.STORE, OrgNode.active.is_(True))
            .order_by(OrgNode.code)
        )
    )


def _first_tenant_of_user() -> int | None:
    store = next(iter(_stores_of_user()), None)
    return store.tenant_id if store else None


def _vehicle_data(vehicle: Vehicle) -> dict[str, Any]:
    customer = vehicle.customer
    return {
        "vehicle_id": vehicle.id,
        "customer_id": customer.id if customer else None,
        "customer_name": customer.name if customer else "",
        "mobile": _masked_mobile(customer.mobile if customer else None),
        "plate": vehicle.plate,
        "vin": vehicle.vin,
        "model": " ".join(
            x for x in [vehicle.brand.name if vehicle.brand else "", vehicle.model_name or ""] if x
        ),
        "seats": vehicle.seats,
        "store": vehicle.org_node.name if vehicle.org_node else "",
        "is_new": bool(vehicle.is_new),
    }


def _masked_mobile(mobile: str | None) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}" if mobile and len(mobile) == 11 else ""


def _new_customer_vehicle(data: dict[str, Any]) -> Vehicle:
    if not isinstance(data, dict):
        raise ValidationFailed("the request must be a JSON object", "请求须为 JSON 对象")
    store = _store(data.get("org_node_id"))
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 64:
        raise ValidationFailed(
            "name is required (at most 64 characters)", "客户姓名必填（最多 64 字）", field="name"
        )
    customer = Customer(
        tenant_id=store.tenant_id,
        org_node_id=store.id,
        name=name,
        id_number=_text(data, "id_number") or None,
        mobile=_text(data, "mobile") or None,
    )
    vehicle = Vehicle(
        tenant_id=store.tenant_id,
        org_node_id=store.id,
        customer=customer,
        plate=_text(data, "plate") or None,
        vin=_text(data, "vin"),
        seats=_integer(data, "seats", 5, 1, 60),
        displacement=_decimal(data, "displacement", "0", "20"),
        fuel=_fuel(data.get("fuel")),
        purchase_price=_decimal(data, "purchase_price", "1000", "100000000"),
        register_date=_date(data, "register_date"),
        vehicle_class=_vehicle_class(data.get("vehicle_class")),
        is_new=bool(data.get("is_new")),
    )
    if not vehicle.vin:
        raise ValidationFailed("vin is required", "车架号必填", field="vin")
    db.session.add_all([customer, vehicle])
    db.session.flush()
    return vehicle


def _store(value: Any) -> OrgNode:
    scope = current_scope()
    if value in (None, "") and scope and scope.node_id:
        node = db.session.get(OrgNode, scope.node_id)
        if node is not None and node.kind == NodeKind.STORE:
            return node
    number = services.record_id(value)
    node = db.session.get(OrgNode, number) if number else None
    if node is None or node.kind != NodeKind.STORE:
        raise ValidationFailed("org_node_id: choose a store", "请选择门店", field="org_node_id")
    return node


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(f"{name} must be text", f"{name} 须为文本", field=name)
    return half_width(value or "").strip().upper()


def _integer(data: dict, name: str, default: int, low: int, high: int) -> int:
    value = data.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise ValidationFailed(
            f"{name} must be a whole number", f"{name} 须为整数", field=name
        ) from None
    if not low <= number <= high:
        raise ValidationFailed(
            f"{name} must be {low}–{high}", f"{name} 须在 {low}–{high} 之间", field=name
        )
    return number


def _decimal(data: dict, name: str, low: str, high: str) -> Decimal | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(f"{name} must be a number", f"{name} 须为数字", field=name) from None
    if not number.is_finite() or not Decimal(low) <= number <= Decimal(high):
        raise ValidationFailed(f"{name} is out of range", f"{name} 超出范围", field=name)
    return number


def _date(data: dict, name: str) -> datetime.date | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        day = datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(
            f"{name} must be a date", f"{name} 日期格式有误", field=name
        ) from None
    if not datetime.date(1980, 1, 1) <= day <= datetime.date.today():
        raise ValidationFailed(f"{name} is out of range", f"{name} 超出范围", field=name)
    return day


def _fuel(value: Any) -> FuelType:
    try:
        return FuelType(value or FuelType.PETROL)
    except ValueError:
        raise ValidationFailed("fuel is not a known fuel", "能源类型有误", field="fuel") from None


def _vehicle_class(value: Any) -> str:
    if value in (None, ""):
        return VEHICLE_CLASSES[0]
    if value not in VEHICLE_CLASSES:
        raise ValidationFailed(
            "vehicle_class is not a known class", "车辆种类有误", field="vehicle_class"
        )
    return value
