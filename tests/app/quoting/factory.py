"""Rows of quoting, orders and dealer services in each store of a test world, written directly
(no carrier is asked): the scoping tests need every scoped model on both sides of the wall."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from sqlalchemy import select

from app.customers.models import Vehicle
from app.extensions import db
from app.orders.models import ItemKind, Order, OrderItem, Payment
from app.quoting.models import AnswerStatus, CarrierQuote, QuoteSession
from app.services.models import ServiceContract
from app.tenancy.scope import system_scope, use_scope


def add_quoting_rows(world) -> None:
    with use_scope(system_scope("tests")):
        for store in (world.store_a, world.store_b):
            vehicle = db.session.scalars(
                select(Vehicle).where(Vehicle.org_node_id == store).order_by(Vehicle.id)
            ).first()
            scope = {"tenant_id": world.tenant_id, "org_node_id": store}
            quote = QuoteSession(
                **scope,
                reference=uuid.uuid4().hex[:20].upper(),
                customer_id=vehicle.customer_id,
                vehicle_id=vehicle.id,
                start_date=datetime.date.today(),
                request={},
                carriers=["picc"],
            )
            answer = CarrierQuote(
                **scope,
                session=quote,
                carrier_key="picc",
                carrier_name="中国人保财险",
                status=AnswerStatus.OK,
                lines=[],
                total=Decimal("855.00"),
            )
            order = Order(
                **scope,
                order_no=f"DD{uuid.uuid4().hex[:16].upper()}",
                quote_session=quote,
                customer_id=vehicle.customer_id,
                vehicle_id=vehicle.id,
                total=Decimal("855.00"),
            )
            item = OrderItem(
                **scope,
                order=order,
                kind=ItemKind.INSURANCE,
                carrier_quote=answer,
                carrier_key="picc",
                line="compulsory_motor",
                title="中国人保财险 交强险",
                premium=Decimal("855.00"),
                idempotency_key=uuid.uuid4().hex,
            )
            payment = Payment(
                **scope,
                order=order,
                provider="payment_sandbox",
                payment_ref=uuid.uuid4().hex[:20].upper(),
                amount=Decimal("855.00"),
            )
            contract = ServiceContract(
                **scope,
                contract_no=f"FW{uuid.uuid4().hex[:16].upper()}",
                package_key="new_car_care",
                package_version="1.0.0",
                title="新车无忧包",
                customer_id=vehicle.customer_id,
                vehicle_id=vehicle.id,
                price=Decimal("1980.00"),
                items=[],
                start_date=datetime.date.today(),
                end_date=datetime.date.today() + datetime.timedelta(days=364),
            )
            db.session.add_all([quote, answer, order, item, payment, contract])
        db.session.commit()
