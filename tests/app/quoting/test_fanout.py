"""The fan-out's writer: answers become visible as they arrive, answers that arrive while a write
runs are written together by the next one, a late answer never overwrites 超时, and a write that
fails leaves the rows to the poll's timeout instead of hanging the quote."""

from __future__ import annotations

import dataclasses
import datetime
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.carriers.contract import CarrierUnavailable, QuoteResult
from app.extensions import db
from app.quoting import fanout, services
from app.quoting.models import AnswerStatus, CarrierQuote, QuoteSession, QuoteStatus
from app.security import roles as r
from app.tenancy.scope import scope_for, system_scope, use_scope
from tests.app.conftest import build_world, install_for
from tests.app.quoting.helpers import first_vehicle, install_core, quote_body

PACKS = Path(__file__).resolve().parents[3] / "metadata" / "packs"
CARRIERS = ("picc", "pingan", "cpic", "ccic", "taiping")


@pytest.fixture(scope="module")
def world(app):
    install_core(app)
    world = build_world(app, {"desk": (r.INSURANCE_DESK, "store_a")})
    install_for(app, world, str(PACKS / "demo"))
    world.vehicle = first_vehicle(app, world.store_a)
    return world


class Scripted:
    """A carrier client that answers when told to (or after a delay), so a test decides the
    order answers arrive in."""

    def __init__(self, key: str, delay: float = 0.0, gate: threading.Event | None = None):
        self.key, self.delay, self.gate = key, delay, gate

    def quote(self, request, timeout):
        if self.gate is not None:
            self.gate.wait(10)
        time.sleep(self.delay)
        if self.key == "ccic":
            raise CarrierUnavailable("保险公司系统繁忙", ["保险公司系统繁忙，请稍后重试"])
        return QuoteResult("ok", self.key, f"REF-{self.key}")


def started_quote(app, world, clients: dict[str, Scripted]):
    """A quote written by start_quote as the desk does, its calls given scripted clients."""
    with app.app_context():
        with use_scope(system_scope("tests")):
            scope = scope_for(app.appbuilder.sm.find_user(username=world.users["desk"]))
        with use_scope(scope):
            body = {**quote_body(world.vehicle, carriers=CARRIERS)}
            started = services.start_quote(db.session, scope, body)
            db.session.commit()
        calls = tuple(dataclasses.replace(c, client=clients[c.carrier_key]) for c in started.calls)
        return scope, started.quote.id, calls


def answers(app, quote_id: int) -> dict[str, CarrierQuote]:
    with app.app_context(), use_scope(system_scope("tests")):
        rows = db.session.scalars(select(CarrierQuote).where(CarrierQuote.session_id == quote_id))
        found = {a.carrier_key: a for a in rows}
        db.session.expunge_all()
        return found


def quote_status(app, quote_id: int) -> QuoteStatus:
    with app.app_context(), use_scope(system_scope("tests")):
        return db.session.get(QuoteSession, quote_id).status


def test_answers_appear_as_they_arrive_and_the_quote_is_done_with_the_last(app, world):
    slow = threading.Event()
    clients = {key: Scripted(key) for key in CARRIERS}
    clients["taiping"] = Scripted("taiping", gate=slow)
    scope, quote_id, calls = started_quote(app, world, clients)
    running = fanout.fan_out(app, scope, calls)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        seen = answers(app, quote_id)
        if sum(a.status != AnswerStatus.PENDING for a in seen.values()) == len(CARRIERS) - 1:
            break
        time.sleep(0.02)
    # Four answers are readable by another session while the fifth carrier has not answered.
    assert seen["taiping"].status == AnswerStatus.PENDING
    assert seen["picc"].status == AnswerStatus.OK and seen["picc"].carrier_quote_ref == "REF-picc"
    assert seen["ccic"].status == AnswerStatus.FAILED
    assert seen["ccic"].reasons == ["保险公司系统繁忙，请稍后重试"]
    assert quote_status(app, quote_id) == QuoteStatus.RUNNING
    assert not running.wait(0)
    slow.set()
    assert running.wait(10)
    seen = answers(app, quote_id)
    assert seen["taiping"].status == AnswerStatus.OK and seen["taiping"].elapsed_ms is not None
    assert quote_status(app, quote_id) == QuoteStatus.DONE


def test_answers_arriving_during_a_write_go_in_one_next_write(app, world, monkeypatch):
    gate = threading.Event()
    clients = {key: Scripted(key, gate=gate if key != "picc" else None) for key in CARRIERS}
    scope, quote_id, calls = started_quote(app, world, clients)
    batches: list[list[str]] = []
    keys = {c.answer_id: c.carrier_key for c in calls}
    real = fanout.record_answers

    def recording(session_id, batch, **options):
        batches.append(sorted(keys[v["answer_id"]] for v in batch))
        if len(batches) == 1:  # the first write runs while the other four answers arrive
            gate.set()
            time.sleep(0.3)
        real(session_id, batch, **options)

    monkeypatch.setattr(fanout, "record_answers", recording)
    assert fanout.fan_out(app, scope, calls).wait(10)
    assert batches == [["picc"], sorted(k for k in CARRIERS if k != "picc")]
    assert all(a.status != AnswerStatus.PENDING for a in answers(app, quote_id).values())
    assert quote_status(app, quote_id) == QuoteStatus.DONE


def test_a_late_answer_never_overwrites_a_timeout(app, world):
    gate = threading.Event()
    clients = {key: Scripted(key) for key in CARRIERS}
    clients["cpic"] = Scripted("cpic", gate=gate)
    scope, quote_id, calls = started_quote(app, world, clients)
    running = fanout.fan_out(app, scope, calls)
    with app.app_context(), use_scope(scope):
        quote = db.session.get(QuoteSession, quote_id)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            services.refresh(db.session, quote)
            if sum(a.status == AnswerStatus.PENDING for a in quote.answers) == 1:
                break
            time.sleep(0.02)
        # The poll finds cpic past its timeout (a clock 60 s on) and marks it 超时.
        later = quote.created_at + datetime.timedelta(seconds=60)
        assert fanout.expire_overdue(quote, quote.request["timeouts"], now=later)
        db.session.commit()
    gate.set()
    assert running.wait(10)
    late = answers(app, quote_id)["cpic"]
    assert late.status == AnswerStatus.TIMEOUT and late.carrier_quote_ref is None
    assert quote_status(app, quote_id) == QuoteStatus.DONE


def test_a_write_that_fails_does_not_hang_the_quote(app, world, monkeypatch):
    clients = {key: Scripted(key) for key in CARRIERS}
    scope, quote_id, calls = started_quote(app, world, clients)

    def broken(session_id, batch, **options):
        raise RuntimeError("database went away")

    monkeypatch.setattr(fanout, "record_answers", broken)
    assert fanout.fan_out(app, scope, calls).wait(10)  # every answer was handled, none written
    assert all(a.status == AnswerStatus.PENDING for a in answers(app, quote_id).values())


def test_an_aged_cache_entry_is_rebuilt_by_one_thread_while_the_others_use_it(monkeypatch):
    from app.quoting import carriers

    cache = carriers._PerTenantCache()
    epoch = {"now": 1}
    monkeypatch.setattr(cache, "epoch", lambda session: epoch["now"])
    built = []

    def build(value, wait: threading.Event | None = None, started=None):
        def run():
            if started is not None:
                started.set()
            if wait is not None:
                wait.wait(10)
            built.append(value)
            return value

        return run

    assert cache.get(None, ("k",), build("first")) == "first"
    assert cache.get(None, ("k",), build("unused")) == "first"  # fresh: not built again
    monkeypatch.setattr(carriers, "CACHE_SECONDS", 0.0)  # now every entry is past its age
    release, started = threading.Event(), threading.Event()
    rebuilding = threading.Thread(
        target=cache.get, args=(None, ("k",), build("second", release, started))
    )
    rebuilding.start()
    assert started.wait(10)
    # While one thread rebuilds, another is answered at once with the aged value.
    assert cache.get(None, ("k",), build("third")) == "first"
    release.set()
    rebuilding.join(10)
    assert built == ["first", "second"]
    # A publish (new epoch) is never answered with the old value: the caller builds.
    monkeypatch.setattr(carriers, "CACHE_SECONDS", 30.0)
    epoch["now"] = 2
    assert cache.get(None, ("k",), build("after publish")) == "after publish"


def test_each_carrier_is_asked_with_its_own_locked_answers(app, world):
    clients = {key: Scripted(key) for key in CARRIERS}
    _, quote_id, calls = started_quote(app, world, clients)
    asked = {c.carrier_key: c.request for c in calls}

    def deductible(lines):
        commercial = next(x for x in lines if x["product_key"] == "commercial_motor")
        return commercial["form"]["deductible"]

    with app.app_context(), use_scope(system_scope("tests")):
        stored = db.session.get(QuoteSession, quote_id).request["lines_by_carrier"]
    assert deductible(stored["ccic"]) == "500"  # ccic locks its deductible
    assert deductible(stored["picc"]) != "500"
    for key in CARRIERS:
        request = asked[key]
        assert request.carrier_key == key and request.request_id.endswith(f"-{key}")
        commercial = next(x for x in request.lines if x.product_key == "commercial_motor")
        assert commercial.form["deductible"] == deductible(stored[key])
