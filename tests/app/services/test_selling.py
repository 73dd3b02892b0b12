"""Dealer service packages after payment: the contract is made from the package version the
order item was sold with, whatever was published since; and it prints as a Chinese PDF through
the shared printing module."""

from __future__ import annotations

import copy
import datetime
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.configuration.install import publish_version, save_draft
from app.configuration.models import Document
from app.customers.models import Vehicle
from app.errors import Conflict
from app.extensions import db
from app.orders.models import ItemKind, Order, OrderItem
from app.orders.services import SERVICE_LINE
from app.quoting.models import QuoteSession
from app.security import roles as r
from app.services.printing import render_contract_pdf
from app.services.selling import sign_contract
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import build_world, install_for
from tests.app.quoting.helpers import install_core

PACKS = Path(__file__).resolve().parents[3] / "metadata" / "packs"


@pytest.fixture(scope="module")
def world(app):
    install_core(app)
    world = build_world(app, {"desk": (r.INSURANCE_DESK, "store_a")})
    install_for(app, world, str(PACKS / "demo"))
    return world


def _sold_order(world, version: str) -> tuple[int, int]:
    """A paid order of store A selling new_car_care `version` (what binding records)."""
    vehicle = db.session.scalars(
        select(Vehicle).where(Vehicle.org_node_id == world.store_a).order_by(Vehicle.id)
    ).first()
    scope = {"tenant_id": world.tenant_id, "org_node_id": world.store_a}
    quote = QuoteSession(
        **scope,
        reference=uuid.uuid4().hex[:20].upper(),
        customer_id=vehicle.customer_id,
        vehicle_id=vehicle.id,
        start_date=datetime.date.today(),
        request={},
        carriers=[],
    )
    order = Order(
        **scope,
        order_no=f"DD{uuid.uuid4().hex[:16].upper()}",
        quote_session=quote,
        customer_id=vehicle.customer_id,
        vehicle_id=vehicle.id,
        total=Decimal("1980.00"),
    )
    item = OrderItem(
        **scope,
        order=order,
        kind=ItemKind.SERVICE,
        line=SERVICE_LINE,
        product_key="new_car_care",
        title="新车无忧包",
        price=Decimal("1980.00"),
        idempotency_key=uuid.uuid4().hex,
        details={"version": version},
    )
    db.session.add_all([quote, order, item])
    db.session.commit()
    return order.id, item.id


def test_contract_uses_the_sold_version_even_if_a_newer_one_refuses_the_sale(app, world):
    with app.app_context(), use_scope(system_scope("tests")):
        order_id, item_id = _sold_order(world, "1.0.0")
        # After payment and before issuing, the dealer publishes 1.1.0: other items, a higher
        # price, and no longer sold in this store. A re-check would refuse the paid package.
        document = db.session.scalar(
            select(Document).where(
                Document.tenant_id == world.tenant_id,
                Document.kind == "service_package",
                Document.key == "new_car_care",
            )
        )
        data = copy.deepcopy(document.current_version.data)
        sold_items = data["body"]["items"]
        data["version"] = "1.1.0"
        data["body"]["items"] = [{"category": "maintenance_basic", "quantity": 8}]
        data["body"]["price"] = "2980.00"
        data["body"]["stores"] = ["NOWHERE"]
        data["effective_from"] = datetime.date.today().isoformat()
        publish_version(db.session, save_draft(db.session, document, data, "tests"), "tests")

        order, item = db.session.get(Order, order_id), db.session.get(OrderItem, item_id)
        contract = sign_contract(db.session, order, item)
        db.session.commit()
        assert contract.package_version == "1.0.0"
        assert contract.items == sold_items
        assert contract.price == Decimal("1980.00")
        assert contract.title == "新车无忧包"
        assert contract.tenant_id == world.tenant_id and contract.org_node_id == world.store_a
        assert 364 <= (contract.end_date - contract.start_date).days <= 365  # 12 months

        pdf = render_contract_pdf(contract, {"maintenance_basic": "基础保养"})
        assert pdf.startswith(b"%PDF") and len(pdf) > 2000


def test_a_sold_version_that_does_not_exist_is_a_conflict_not_a_crash(app, world):
    with app.app_context(), use_scope(system_scope("tests")):
        order_id, item_id = _sold_order(world, "9.9.9")
        order, item = db.session.get(Order, order_id), db.session.get(OrderItem, item_id)
        with pytest.raises(Conflict) as refused:
            sign_contract(db.session, order, item)
        assert "9.9.9" in refused.value.message("zh")
        db.session.rollback()
