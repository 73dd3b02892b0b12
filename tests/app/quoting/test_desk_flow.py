"""The desk's whole flow through the REST API, on the demo pack's sandbox carriers: quote many
carriers at once, bind, pay through the sandbox gateway's signed callback, issue; and every way
it must refuse (bad fields, another tenant's or store's records, expired quotes, double binds,
replayed callbacks, prices sent by the client)."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.orders.models import Order, Payment
from app.policies.models import Policy
from app.quoting.models import CarrierQuote
from app.security import roles as r
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import api_token, build_world, install_for
from tests.app.quoting.helpers import (
    first_vehicle,
    install_core,
    pay_in_sandbox,
    quote_body,
    run_queued_jobs,
)

PACKS = Path(__file__).resolve().parents[3] / "metadata" / "packs"
CARRIERS = ["picc", "pingan", "cpic"]


@pytest.fixture(scope="module")
def world(app):
    install_core(app)
    world = build_world(
        app,
        {
            "desk": (r.INSURANCE_DESK, "store_a"),
            "deskb": (r.INSURANCE_DESK, "store_b"),
            "admin": (r.TENANT_ADMIN, "hq"),
        },
    )
    install_for(app, world, str(PACKS / "demo"))
    return world


@pytest.fixture(scope="module")
def other(app):
    install_core(app)
    other = build_world(app, {"desk": (r.INSURANCE_DESK, "store_a")})
    install_for(app, other, str(PACKS / "demo"))
    return other


def bearer(client, world, who="desk"):
    return {"Authorization": f"Bearer {api_token(client, world.users[who])}"}


def start(client, headers, body, wait=True):
    return client.post(f"/api/v1/quote/{'?wait=1' if wait else ''}", json=body, headers=headers)


def test_one_request_quotes_every_carrier_and_prices_by_the_tariff(app, client, world):
    vehicle = first_vehicle(app, world.store_a)
    headers = bearer(client, world)
    answer = start(client, headers, quote_body(vehicle, carriers=None))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    quote = answer.get_json()
    assert quote["progress"]["answered"] == quote["progress"]["asked"] >= 14
    quoted = [a for a in quote["answers"] if a["status"] == "ok"]
    assert len(quoted) >= 10
    for carrier in quoted:
        compulsory = next(x for x in carrier["lines"] if x["line"] == "compulsory_motor")
        # 上海 is scheme E; A1 (no at-fault accident last year) is -10%: 950 × 0.9.
        assert compulsory["premium"] == "855.00"
        commercial = next(x for x in carrier["lines"] if x["line"] == "commercial_motor")
        assert Decimal(commercial["premium"]) == sum(
            Decimal(c["premium"]) for c in commercial["coverages"]
        )
        assert carrier["total"] == str(
            sum(Decimal(x["premium"]) + Decimal(x["vehicle_tax"] or 0) for x in carrier["lines"])
        )
    factors = {a["carrier_key"]: a["total"] for a in quoted}
    assert len(set(factors.values())) > 1, "each carrier prices with its own coefficient"
    shown = client.get(f"/api/v1/quote/{quote['id']}", headers=headers)
    assert shown.status_code == 200 and shown.get_json()["id"] == quote["id"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"customer_id": 999999999}, "customer_id"),
        ({"customer_id": "x"}, "customer_id"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"start_date": "1999-01-01"}, "start_date"),
        ({"lines": []}, "lines"),
        ({"lines": [{"product": "no_such_product"}]}, "lines[0].product"),
        ({"carriers": ["no_such_carrier"]}, "carriers"),
        ({"history": {"claims_last_year": -1}}, "claims_last_year"),
        ({"history": {"claims_last_year": {"a": 1}}}, "claims_last_year"),
        ({"terminal": "fax"}, "terminal"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(app, client, world, change, field):
    vehicle = first_vehicle(app, world.store_a)
    body = {**quote_body(vehicle), **change}
    answer = start(client, bearer(client, world), body)
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert answer.get_json()["field"] == field


def test_another_tenants_or_sibling_stores_records_are_not_found_alike(app, client, world, other):
    own = first_vehicle(app, world.store_a)
    sibling = first_vehicle(app, world.store_b)
    foreign = first_vehicle(app, other.store_a)
    headers = bearer(client, world)
    answers = [
        start(client, headers, quote_body(sibling)),
        start(client, headers, quote_body(foreign)),
        start(client, headers, {**quote_body(own), "customer_id": 2**31 - 1}),
    ]
    assert [a.status_code for a in answers] == [422, 422, 422]
    assert len({a.get_json()["message"] for a in answers}) == 1
    quote = start(client, headers, quote_body(own, carriers=CARRIERS)).get_json()
    assert (
        client.get(f"/api/v1/quote/{quote['id']}", headers=bearer(client, other)).status_code == 404
    )
    assert (
        client.get(
            f"/api/v1/quote/{quote['id']}", headers=bearer(client, world, "deskb")
        ).status_code
        == 404
    )


def test_bind_pay_issue_gives_policies_with_lineage(app, client, world):
    vehicle = first_vehicle(app, world.store_a)
    headers = bearer(client, world)
    quote = start(client, headers, quote_body(vehicle, carriers=CARRIERS)).get_json()
    chosen = next(a for a in quote["answers"] if a["status"] == "ok")
    bound = client.post(
        "/api/v1/order/",
        json={
            "quote_id": quote["id"],
            "items": [{"answer_id": chosen["id"], "premium": "1.00"}],
            "service_packages": ["new_car_care"] if vehicle["is_new"] else [],
            "total": "1.00",
        },
        headers=headers,
    )
    assert bound.status_code == 201, bound.get_data(as_text=True)
    order = bound.get_json()
    assert order["total"] != "1.00" and Decimal(order["total"]) >= Decimal(chosen["total"])
    payment = client.post(f"/api/v1/order/{order['id']}/pay", headers=headers).get_json()
    assert payment["qr_payload"]
    for _ in range(2):  # the gateway calls back twice: one payment, one set of policies
        callback = pay_in_sandbox(app, client, payment, order["order_no"])
        assert callback.status_code == 200, callback.get_data(as_text=True)
        run_queued_jobs(app)
    issued = client.get(f"/api/v1/order/{order['id']}", headers=headers).get_json()
    assert issued["status"] == "issued", issued
    with use_scope(system_scope()):
        policies = db.session.scalars(select(Policy).where(Policy.order_id == order["id"])).all()
        payments = db.session.scalar(
            select(func.count()).select_from(Payment).where(Payment.order_id == order["id"])
        )
        lines = {p.line.value: p for p in policies}
        assert set(lines) == {"compulsory_motor", "commercial_motor"}
        assert payments == 1
        compulsory = lines["compulsory_motor"]
        assert compulsory.business_type.value == "combined_first"
        assert lines["commercial_motor"].business_type.value == "combined_other"
        assert compulsory.premium_incl_tax == Decimal("855.00")
        assert compulsory.premium_excl_tax == Decimal("806.60")  # 855 / 1.06, half-up
        assert (
            compulsory.lineage["documents"] and compulsory.lineage["order_no"] == order["order_no"]
        )
        assert compulsory.org_node_id == world.store_a
    again = client.post(f"/api/v1/order/{order['id']}/issue", headers=headers)
    assert again.status_code == 200
    with use_scope(system_scope()):
        count = db.session.scalar(
            select(func.count()).select_from(Policy).where(Policy.order_id == order["id"])
        )
    assert count == 2


def test_an_expired_quote_cannot_be_bound(app, client, world):
    vehicle = first_vehicle(app, world.store_a)
    headers = bearer(client, world)
    quote = start(client, headers, quote_body(vehicle, carriers=CARRIERS)).get_json()
    chosen = next(a for a in quote["answers"] if a["status"] == "ok")
    with use_scope(system_scope()):
        db.session.execute(
            update(CarrierQuote)
            .where(CarrierQuote.id == chosen["id"])
            .values(valid_until=datetime.datetime(2020, 1, 1))
        )
        db.session.commit()
    answer = client.post(
        "/api/v1/order/",
        json={"quote_id": quote["id"], "items": [{"answer_id": chosen["id"]}]},
        headers=headers,
    )
    assert answer.status_code == 409
    assert answer.get_json()["code"] == "quote_expired"


def test_two_desks_binding_the_same_quote_at_once_make_one_order(app, world):
    vehicle = first_vehicle(app, world.store_a)
    first = app.test_client()
    headers = bearer(first, world)
    quote = start(first, headers, quote_body(vehicle, carriers=CARRIERS)).get_json()
    chosen = next(a for a in quote["answers"] if a["status"] == "ok")
    body = {"quote_id": quote["id"], "items": [{"answer_id": chosen["id"]}]}
    answers, barrier = [], threading.Barrier(2)

    def bind():
        client = app.test_client()
        barrier.wait()
        answers.append(client.post("/api/v1/order/", json=body, headers=headers))

    threads = [threading.Thread(target=bind) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(a.status_code for a in answers) == [201, 409], [
        a.get_data(as_text=True) for a in answers
    ]
    with use_scope(system_scope()):
        orders = db.session.scalar(
            select(func.count()).select_from(Order).where(Order.quote_session_id == quote["id"])
        )
    assert orders == 1


def test_a_forged_payment_callback_is_refused(app, client, world):
    vehicle = first_vehicle(app, world.store_a)
    headers = bearer(client, world)
    quote = start(client, headers, quote_body(vehicle, carriers=CARRIERS)).get_json()
    chosen = next(a for a in quote["answers"] if a["status"] == "ok")
    order = client.post(
        "/api/v1/order/",
        json={"quote_id": quote["id"], "items": [{"answer_id": chosen["id"]}]},
        headers=headers,
    ).get_json()
    payment = client.post(f"/api/v1/order/{order['id']}/pay", headers=headers).get_json()
    forged = pay_in_sandbox(app, client, payment, order["order_no"], forge=True)
    assert forged.status_code == 422
    assert client.get(f"/api/v1/order/{order['id']}", headers=headers).get_json()["status"] == (
        "awaiting_payment"
    )


def test_fees_are_shown_to_managers_and_not_to_the_desk(app, client, world):
    from tests.app.conftest import login

    vehicle = first_vehicle(app, world.store_a)
    quote = start(client, bearer(client, world), quote_body(vehicle, carriers=["picc"])).get_json()
    answer = next(a for a in quote["answers"] if a["status"] == "ok")
    login(client, world.users["desk"])
    assert client.get(f"/desk-fees/{quote['id']}").status_code in (401, 403)
    client.get("/logout/")
    login(client, world.users["admin"])
    fees = client.get(f"/desk-fees/{quote['id']}")
    assert fees.status_code == 200, fees.get_data(as_text=True)
    mine = fees.get_json()["answers"][str(answer["id"])]
    commission = next(f for f in mine["fees"] if f["type"] == "commission")
    compulsory = next(x for x in answer["lines"] if x["line"] == "compulsory_motor")
    commercial = next(x for x in answer["lines"] if x["line"] == "commercial_motor")
    # 联单: 交强险 4% of the premium incl. VAT + 商业险 15% of the premium excl. VAT, each rounded
    expected = (Decimal(compulsory["premium"]) * Decimal("0.04")).quantize(Decimal("0.01")) + (
        Decimal(commercial["premium_excl_vat"]) * Decimal("0.15")
    ).quantize(Decimal("0.01"))
    assert Decimal(commission["amount"]) == expected
