"""REST API of orders: bind quoted lines and service packages, pay, issue.

POST /api/v1/order/                 bind (201); 409 when the quote expired or is bound already
GET  /api/v1/order/<id>             the order, its items, payments and policies
POST /api/v1/order/<id>/pay         a QR code to pay (the gateway calls back)
POST /api/v1/order/<id>/issue       issue (or retry issuing) a paid order
POST /api/v1/payment/callback       the payment gateway's signed callback (no login: the
                                    signature is the credential)
"""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose
from flask_appbuilder.security.decorators import protect

from app.extensions import db
from app.orders import presenting, services
from app.orders.models import OrderStatus
from app.quoting.api import RecordApi
from app.tenancy.scope import current_scope, system_scope, use_scope


class OrderApi(RecordApi):
    resource_name = "order"
    openapi_spec_tag = "Orders"
    class_permission_name = "OrderApi"
    method_permission_name = {"create": "post", "show": "get", "pay": "post", "issue": "post"}

    @expose("/", methods=["POST"])
    @protect()
    def create(self):
        """Bind quoted lines (and service packages) into one order.
        ---
        post:
          summary: Bundle and bind
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [quote_id, items]
                  properties:
                    quote_id: {type: integer}
                    items:
                      type: array
                      items:
                        type: object
                        required: [answer_id]
                        properties:
                          answer_id: {type: integer}
                          lines: {type: array, items: {type: string}}
                    service_packages: {type: array, items: {type: string}}
          responses:
            201: {description: "bound, awaiting payment"}
            409: {description: "expired quote, refused, or already bound"}
            422: {description: a field is wrong; the answer names it}
            503: {description: a carrier could not bind now; retry}
        """
        order = services.create_order(db.session, current_scope(), request.get_json(silent=True))
        db.session.commit()
        return self.response(201, **presenting.order_data(order))

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    def show(self, pk: int):
        """An order.
        ---
        get:
          summary: An order with its items, payments and policies
          parameters:
          - record_id
          responses:
            200: {description: the order}
            404: {description: no such order in your scope}
        """
        return self.response(200, **presenting.order_data(services.get_order(db.session, pk)))

    @expose("/<int:pk>/pay", methods=["POST"])
    @protect()
    def pay(self, pk: int):
        """Start paying an order.
        ---
        post:
          summary: A QR code to pay the order
          parameters:
          - record_id
          responses:
            200: {description: the payment with its QR payload}
            404: {description: no such order in your scope}
            409: {description: the order is not awaiting payment}
        """
        order = services.get_order(db.session, pk)
        payment = services.start_payment(db.session, order)
        db.session.commit()
        return self.response(200, **presenting.payment_data(payment))

    @expose("/<int:pk>/issue", methods=["POST"])
    @protect()
    def issue(self, pk: int):
        """Issue a paid order, or retry the lines that failed.
        ---
        post:
          summary: Issue (idempotent)
          parameters:
          - record_id
          responses:
            200: {description: the order after issuing}
            404: {description: no such order in your scope}
            409: {description: the order is not paid}
        """
        order = services.get_order(db.session, pk)
        if order.status != OrderStatus.ISSUED:
            services.issue_order(db.session, order)
            db.session.commit()
        return self.response(200, **presenting.order_data(order))


class PaymentCallbackApi(BaseApi):
    resource_name = "payment"
    openapi_spec_tag = "Orders"
    csrf_exempt = True

    @expose("/callback", methods=["POST"])
    def callback(self):
        """The gateway's signed callback; a replay changes nothing.
        ---
        post:
          summary: Payment gateway callback
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [payload, signature]
                  properties:
                    payload: {type: object}
                    signature: {type: string}
          responses:
            200: {description: accepted (or already accepted)}
            404: {description: no such payment}
            422: {description: bad signature or payload}
        """
        from app.errors import ValidationFailed

        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("payload"), dict):
            raise ValidationFailed("payload is required", "缺少回调内容", field="payload")
        with use_scope(system_scope("payment-gateway")):
            payment = services.payment_callback(
                db.session, body["payload"], str(body.get("signature", ""))
            )
            db.session.commit()
            order = payment.order
            if order.status == OrderStatus.PAID:
                services.issue_after_payment(order)
            return self.response(200, status=str(payment.status), order_id=payment.order_id)
