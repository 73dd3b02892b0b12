"""Quoting at the desk: check what was asked, price it with every carrier at once, show progress.

`start_quote` validates the request and writes the session with one pending answer per carrier
(it flushes; the caller commits); `launch` then asks the carriers on the pool's threads. A quote
is priced by the server alone from the product documents in force on the start date: nothing a
client says about a price is read."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.carriers.contract import QuoteRequest
from app.customers.models import Customer, Vehicle
from app.errors import NotFound, ValidationFailed
from app.organisation.models import OrgNode
from app.quoting import carriers as carrier_access
from app.quoting.facts import (
    form_values,
    history_facts,
    line_request,
    party_facts,
    source_values,
    vehicle_facts,
)
from app.quoting.fanout import CarrierCall, expire_overdue, fan_out
from app.quoting.models import AnswerStatus, CarrierQuote, QuoteSession, Terminal
from app.tenancy.scope import Scope

MAX_DAYS_AHEAD = 90
MOTOR_LINES = {"compulsory_motor", "commercial_motor", "motor_non_motor"}


@dataclass(frozen=True)
class StartedQuote:
    quote: QuoteSession
    calls: tuple[CarrierCall, ...]


def start_quote(session: Session, scope: Scope, data: Mapping[str, Any]) -> StartedQuote:
    """Check the desk's request and write a running quote session with a pending answer per
    carrier. Raises ValidationFailed naming the field for anything wrong."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("the request must be a JSON object", "请求须为 JSON 对象")
    customer = _customer(session, data.get("customer_id"))
    vehicle = _vehicle(session, data.get("vehicle_id"), customer)
    store = session.get(OrgNode, (vehicle or customer).org_node_id)
    start = _start_date(data.get("start_date"))
    asked_lines = _asked_lines(data.get("lines"))
    tariff = carrier_access.tariff_for(session, customer.tenant_id, start)
    products = [_product(tariff, item, i, start) for i, item in enumerate(asked_lines)]
    if vehicle is None and any(p["body"]["line"] in MOTOR_LINES for p in products):
        raise ValidationFailed("motor lines need a vehicle", "车险须选择车辆", field="vehicle_id")
    history_policies = carrier_access.latest_policies(session, vehicle)
    previous = history_policies[0].carrier_key if history_policies else None
    history = history_facts(_mapping(data.get("history"), "history"), previous)
    sources = source_values(vehicle, store, history, start)
    bindings = carrier_access.carriers_for(
        session, customer.tenant_id, [p["key"] for p in products], data.get("carriers"), start
    )
    terminal = _terminal(data.get("terminal"))

    quote = QuoteSession(
        tenant_id=customer.tenant_id,
        org_node_id=store.id,
        reference=uuid.uuid4().hex[:20].upper(),
        customer=customer,
        vehicle=vehicle,
        start_date=start,
        carriers=[b.key for b in bindings],
        terminal=terminal,
        created_by_id=scope.user_id,
        created_by=scope.username,
        request={},
    )
    session.add(quote)
    requests, stored_lines = [], {}
    # Carriers differ only by their locked answers: the lines are made once per set of those.
    made: dict[str, tuple[tuple, list]] = {}
    vehicle_seen, party = vehicle_facts(vehicle), party_facts(customer)
    province = store.province or ""
    for binding in bindings:
        locked = repr(sorted((binding.locked_answers or {}).items()))
        if locked not in made:
            lines = tuple(
                line_request(
                    product,
                    form_values(product, sources, asked.get("form"), binding.locked_answers),
                    asked.get("coverages"),
                )
                for product, asked in zip(products, asked_lines, strict=True)
            )
            made[locked] = (lines, [_line_data(line) for line in lines])
        lines, stored = made[locked]
        stored_lines[binding.key] = stored
        requests.append(
            (
                binding,
                QuoteRequest(
                    request_id=f"{quote.reference}-{binding.key}",
                    carrier_key=binding.key,
                    province=province,
                    start_date=start,
                    vehicle=vehicle_seen,
                    holder=party,
                    insured=party,
                    lines=lines,
                    history=history,
                    tariff=tariff,
                ),
            )
        )
    quote.request = {
        "lines_by_carrier": stored_lines,
        "history": {
            "claims_last_year": history.claims_last_year,
            "claim_free_years": history.claim_free_years,
            "jqx_record": history.jqx_record,
            "previous_carrier": history.previous_carrier,
        },
        "timeouts": {b.key: b.timeout for b in bindings},
    }
    last_year = carrier_access.last_year_total(
        history_policies, [p["body"]["line"] for p in products]
    )
    session.flush()  # the quote, checked by the tenancy guard and audited with its carriers
    answer_ids = _pending_answers(session, quote, [b for b, _ in requests], last_year)
    calls = tuple(
        CarrierCall(
            answer_id=answer_id,
            session_id=quote.id,
            carrier_key=binding.key,
            client=binding.client,
            request=request,
            timeout=binding.timeout,
            valid_minutes=binding.valid_minutes,
        )
        for answer_id, (binding, request) in zip(answer_ids, requests, strict=True)
    )
    return StartedQuote(quote, calls)


def _pending_answers(
    session: Session, quote: QuoteSession, bindings: list, last_year: Decimal | None
) -> list[int]:
    """One pending answer per carrier, in one statement; their ids in the carriers' order.

    Written past the ORM's flush on purpose: each row is the quote's own part (its tenant, store
    and session are the quote's, which the tenancy guard has just checked, and the quote's audit
    record names the carriers asked), and the flush's per-row guard and audit were a fifth of a
    quote's CPU. On PostgreSQL row security still holds the rows to the scope's tenant."""
    table = CarrierQuote.__table__
    rows = [
        {
            "tenant_id": quote.tenant_id,
            "org_node_id": quote.org_node_id,
            "session_id": quote.id,
            "carrier_key": binding.key,
            "carrier_name": binding.name,
            "status": AnswerStatus.PENDING,
            "last_year_total": last_year,
        }
        for binding in bindings
    ]
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.connection().execute(statement, rows).scalars())


def launch(app: Flask, scope: Scope, started: StartedQuote, wait_seconds: float = 0) -> None:
    """Ask the carriers (after the session is committed). With `wait_seconds`, return when all
    have answered or that time has passed."""
    fanout = fan_out(app, scope, started.calls)
    if wait_seconds > 0:
        fanout.wait(wait_seconds)


def longest_timeout(started: StartedQuote) -> float:
    return max((call.timeout for call in started.calls), default=0) + 0.5


def refresh(session: Session, quote: QuoteSession, loaded_now: bool = False) -> QuoteSession:
    """The session as it stands, with answers overdue marked 超时 (the caller commits, after it
    has read what it shows: a commit expires every loaded row). Only what the writer changes is
    read again: the status, and every answer in one SELECT; `loaded_now` (a poll that has just
    read the quote) reads the answers only."""
    session.expire(quote, ["answers"] if loaded_now else ["status", "finished_at", "answers"])
    expire_overdue(quote, quote.request.get("timeouts", {}))
    return quote


def get_quote(session: Session, quote_id: Any) -> QuoteSession:
    number = record_id(quote_id)
    quote = session.get(QuoteSession, number) if number else None
    if quote is None:
        raise NotFound(f"no quote {quote_id}", f"报价 {quote_id} 不存在")
    return quote


def progress(quote: QuoteSession) -> dict[str, int]:
    answered = sum(1 for a in quote.answers if a.status != AnswerStatus.PENDING)
    return {"answered": answered, "asked": len(quote.answers)}


def best_answer(quote: QuoteSession) -> CarrierQuote | None:
    quoted = [a for a in quote.answers if a.status == AnswerStatus.OK and a.total is not None]
    return min(quoted, key=lambda a: a.total, default=None)


# --- checks of what was asked -----------------------------------------------------------------


def _customer(session: Session, value: Any) -> Customer:
    number = record_id(value)
    customer = session.get(Customer, number) if number else None
    if customer is None:
        raise ValidationFailed(
            "customer_id: no such customer in your scope",
            "客户不存在或不在您的权限范围内",
            field="customer_id",
        )
    return customer


def _vehicle(session: Session, value: Any, customer: Customer) -> Vehicle | None:
    if value in (None, ""):
        return None
    number = record_id(value)
    vehicle = session.get(Vehicle, number) if number else None
    if vehicle is None:
        raise ValidationFailed(
            "vehicle_id: no such vehicle in your scope",
            "车辆不存在或不在您的权限范围内",
            field="vehicle_id",
        )
    if vehicle.customer_id not in (None, customer.id):
        raise ValidationFailed(
            "vehicle_id: the vehicle belongs to another customer",
            "该车辆属于其他客户",
            field="vehicle_id",
        )
    return vehicle


def _start_date(value: Any) -> datetime.date:
    today = datetime.date.today()
    if value in (None, ""):
        return today + datetime.timedelta(days=1)
    try:
        start = datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(
            "start_date must be a date (YYYY-MM-DD)",
            "起保日期格式应为 YYYY-MM-DD",
            field="start_date",
        ) from None
    if not today <= start <= today + datetime.timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationFailed(
            f"start_date must be between today and {MAX_DAYS_AHEAD} days ahead",
            f"起保日期须在今天至 {MAX_DAYS_AHEAD} 天内",
            field="start_date",
        )
    return start


def _asked_lines(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not value:
        raise ValidationFailed(
            "lines: choose at least one product", "请至少选择一个险种", field="lines"
        )
    if len(value) > 10:
        raise ValidationFailed(
            "lines: at most 10 products", "一次最多报价 10 个险种", field="lines"
        )
    seen = set()
    for i, item in enumerate(value):
        if not isinstance(item, Mapping) or not isinstance(item.get("product"), str):
            raise ValidationFailed(
                f"lines[{i}].product is required", "请选择险种", field=f"lines[{i}].product"
            )
        if item["product"] in seen:
            raise ValidationFailed(
                f"lines[{i}].product is asked twice", "险种重复", field=f"lines[{i}].product"
            )
        seen.add(item["product"])
        _mapping(item.get("form"), f"lines[{i}].form")
        coverages = item.get("coverages")
        if coverages is not None and (
            not isinstance(coverages, list) or not all(isinstance(c, Mapping) for c in coverages)
        ):
            raise ValidationFailed(
                f"lines[{i}].coverages must be a list of objects",
                "险别格式有误",
                field=f"lines[{i}].coverages",
            )
    return value


def _product(tariff, item: Mapping, index: int, on) -> dict:
    """The product document in force on the start date (the tariff holds exactly those)."""
    product = tariff.products.get(item["product"])
    if product is None:
        raise ValidationFailed(
            f"lines[{index}].product: no product {item['product']!r} in force on {on}",
            f"险种 {item['product']} 在 {on} 未生效",
            field=f"lines[{index}].product",
        )
    return product


def _terminal(value: Any) -> Terminal:
    try:
        return Terminal(value or Terminal.PC)
    except ValueError:
        raise ValidationFailed(
            "terminal must be pc or phone", "终端须为 pc 或 phone", field="terminal"
        ) from None


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationFailed(f"{name} must be an object", f"{name} 须为对象", field=name)
    return value


def record_id(value: Any) -> int | None:
    """A record id given as a whole number or digits, within the column's range; None for
    anything else, so callers answer it exactly as a missing record."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 0 < number < 2**31 else None


def _line_data(line) -> dict[str, Any]:
    from app.quoting.fanout import plain

    return plain(line)


def answers_sorted(quote: QuoteSession) -> Sequence[CarrierQuote]:
    """Quoted first, cheapest first; then the others in the order they were asked."""
    order = {status: i for i, status in enumerate(AnswerStatus)}
    return sorted(
        quote.answers,
        key=lambda a: (
            a.status != AnswerStatus.OK,
            a.total if a.total is not None else Decimal("Infinity"),
            order[a.status],
            a.id,
        ),
    )


def request_for(session: Session, quote: QuoteSession, carrier_key: str) -> QuoteRequest:
    """The request a carrier was asked, rebuilt from the stored session: binding sends it again
    so that the carrier prices again (the server never takes a price from the client)."""
    from app.carriers.contract import LineRequest, from_data

    stored = quote.request.get("lines_by_carrier", {}).get(carrier_key)
    if stored is None:
        raise ValidationFailed(
            f"carrier {carrier_key} was not asked in this quote",
            f"本次报价未询价 {carrier_key}",
            field="carrier_key",
        )
    vehicle, customer = quote.vehicle, quote.customer
    history = history_facts(
        quote.request.get("history"), quote.request.get("history", {}).get("previous_carrier")
    )
    return QuoteRequest(
        request_id=f"{quote.reference}-{carrier_key}",
        carrier_key=carrier_key,
        province=quote.org_node.province or "",
        start_date=quote.start_date,
        vehicle=vehicle_facts(vehicle),
        holder=party_facts(customer),
        insured=party_facts(customer),
        lines=tuple(from_data(LineRequest, line) for line in stored),
        history=history,
        tariff=carrier_access.tariff_for(session, quote.tenant_id, quote.start_date, trace=True),
    )
