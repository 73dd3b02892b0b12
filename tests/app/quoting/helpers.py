"""Shared set-up of the quoting tests: the core pack for the platform, a priced vehicle, a quote
request, and paying through the sandbox gateway as its callback would."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from app.customers.models import Vehicle
from app.extensions import db
from app.tenancy.scope import system_scope, use_scope

PACKS = Path(__file__).resolve().parents[3] / "metadata" / "packs"


def install_core(app) -> None:
    """The core pack at platform level, once per test database."""
    from app.configuration.install import find_installed_pack, install_pack
    from app.configuration.reading import read_pack
    from app.configuration.runtime import REGISTRY

    with use_scope(system_scope("tests")):
        if find_installed_pack(db.session, "core", None) is None:
            install_pack(db.session, read_pack(PACKS / "core"), None, "tests")
            db.session.commit()
            REGISTRY.refresh(db.session, force=True)


def first_vehicle(app, store_id: int) -> dict:
    """The store's first vehicle, given what pricing needs (price, displacement, a 2023 date)."""
    import datetime

    with use_scope(system_scope("tests")):
        vehicle = db.session.scalars(
            select(Vehicle).where(Vehicle.org_node_id == store_id).order_by(Vehicle.id)
        ).first()
        vehicle.purchase_price = Decimal("200000.00")
        vehicle.displacement = Decimal("1.60")
        vehicle.register_date = datetime.date(2023, 5, 1)
        vehicle.is_new = False
        db.session.commit()
        return {
            "vehicle_id": vehicle.id,
            "customer_id": vehicle.customer_id,
            "is_new": vehicle.is_new,
        }


def quote_body(vehicle: dict, carriers=("picc", "pingan", "cpic")) -> dict:
    return {
        "customer_id": vehicle["customer_id"],
        "vehicle_id": vehicle["vehicle_id"],
        "carriers": list(carriers) if carriers else None,
        "history": {"claims_last_year": 0, "claim_free_years": 2, "jqx_record": "A1"},
        "lines": [
            {"product": "compulsory_motor"},
            {
                "product": "commercial_motor",
                "coverages": [
                    {"code": "own_damage"},
                    {"code": "third_party", "sum_insured": "1000000.00"},
                ],
            },
        ],
    }


def pay_in_sandbox(app, client, payment: dict, order_no: str, forge: bool = False):
    """Post the sandbox gateway's signed callback for `payment` (as its bank would)."""
    import datetime

    from app.payments.contract import PaymentIntent
    from app.payments.gateways import payment_client

    with app.app_context():
        intent = PaymentIntent(
            payment_ref=payment["payment_ref"],
            order_ref=order_no,
            amount=Decimal(payment["amount"]),
            qr_payload=payment["qr_payload"],
            expires_at=datetime.datetime.now(),
        )
        payload, signature = payment_client().simulate_callback(intent)
    if forge:
        payload = {**payload, "amount": "0.01"}
    return client.post(
        "/api/v1/payment/callback", json={"payload": payload, "signature": signature}
    )


def run_queued_jobs(app) -> None:
    """With Redis, jobs wait for a worker: run one in this process until the queue is empty."""
    if not app.config.get("REDIS_URL"):
        return
    from redis import Redis
    from rq import SimpleWorker

    connection = Redis.from_url(app.config["REDIS_URL"])
    SimpleWorker([app.config["JOB_QUEUE"]], connection=connection).work(burst=True)
