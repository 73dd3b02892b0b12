"""Ask every carrier at once. Each call runs on a thread of one process-wide pool, with its own
timeout; a carrier that refuses, fails or hangs says why and holds up nobody.

Answers are written by one writer per quote, not by each call: the first answer to arrive is
written (and committed) at once, and the answers that arrive while that write runs are written
together by the next one, and so on. The desk's poll therefore sees answers appear as they
arrive, while a quote costs a few commits instead of one per carrier (on the embedded SQLite,
whose writers queue for one lock, one commit per carrier was most of a quote's time). The writer
is whichever call thread finds no write in progress, so no thread sits waiting for answers.

A call that outlives its timeout is marked 超时 by whoever looks first (the waiting request or the
desk's poll); its late answer is then dropped, because an answer is only ever written over a
pending row."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import bindparam, select, update

from app.audit.models import utcnow
from app.carriers.contract import (
    CarrierClient,
    CarrierError,
    CarrierRefused,
    QuoteRequest,
    QuoteResult,
    to_data,
)
from app.extensions import db
from app.quoting.models import AnswerStatus, CarrierQuote, QuoteSession, QuoteStatus
from app.tenancy.scope import Scope, use_scope

log = logging.getLogger(__name__)

# Seconds past a carrier's own timeout before its row is marked 超时: the client enforces the
# timeout itself; this is the backstop for one that does not.
GRACE_SECONDS = 1.0
DEFAULT_VALID_MINUTES = 120
# Carrier calls mostly wait on the carrier, so a process holds many at once: 20 desks quoting
# 14 carriers each at the same moment are 280 calls, and a call that waits for a free thread
# adds a whole carrier latency to its quote.
DEFAULT_THREADS = 320


@dataclass(frozen=True)
class CarrierCall:
    answer_id: int
    session_id: int
    carrier_key: str
    client: CarrierClient
    request: QuoteRequest
    timeout: float
    valid_minutes: int = DEFAULT_VALID_MINUTES


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def pool(size: int = DEFAULT_THREADS) -> ThreadPoolExecutor:
    """One pool per process, made on first use (so a forked worker makes its own)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="quote")
        return _pool


class Fanout:
    """One quote's calls in flight and the writer of their answers."""

    def __init__(self, app: Flask, scope: Scope, calls: tuple[CarrierCall, ...]) -> None:
        self.app, self.scope, self.calls = app, scope, calls
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._waiting: list[dict[str, Any]] = []
        self._writing = False
        self._written = 0
        if not calls:
            self.done.set()

    def wait(self, seconds: float) -> bool:
        """Wait until every answer is written or `seconds` have passed; True when all are."""
        return self.done.wait(max(seconds, 0))

    def run_call(self, call: CarrierCall) -> None:
        started = time.monotonic()
        outcome = _ask(call)
        elapsed_ms = int((time.monotonic() - started) * 1000)
        try:
            values = answer_values(outcome, call.valid_minutes)
        except Exception:  # noqa: BLE001 - an answer we cannot store is a failed answer
            log.exception("could not read %s's answer", call.carrier_key)
            values = answer_values(CarrierError("unreadable answer", ("保险公司答复无法识别",)), 0)
        values.update(answer_id=call.answer_id, elapsed_ms=elapsed_ms, answered_at=utcnow())
        self.add(values)

    def add(self, values: dict[str, Any]) -> None:
        """Queue an answer; write it now unless another thread is writing (then that thread
        writes it with the next batch)."""
        with self._lock:
            self._waiting.append(values)
            if self._writing:
                return
            self._writing = True
        while True:
            with self._lock:
                batch, self._waiting = self._waiting, []
                if not batch:
                    self._writing = False
                    return
                last = self._written + len(batch) >= len(self.calls)
            self._write(batch, last)
            with self._lock:
                self._written += len(batch)
                if self._written >= len(self.calls):
                    self.done.set()

    def _write(self, batch: list[dict[str, Any]], last: bool) -> None:
        with self.app.app_context(), use_scope(self.scope):
            try:
                record_answers(self.calls[0].session_id, batch, finish=last)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("could not record %d answers", len(batch))
            finally:
                db.session.remove()


def fan_out(app: Flask, scope: Scope, calls: Iterable[CarrierCall]) -> Fanout:
    calls = tuple(calls)
    fanout = Fanout(app, scope, calls)
    executor = pool(int(app.config.get("QUOTE_THREADS", DEFAULT_THREADS)))
    for call in calls:
        executor.submit(fanout.run_call, call)
    return fanout


def _ask(call: CarrierCall) -> QuoteResult | CarrierError:
    try:
        return call.client.quote(call.request, timeout=call.timeout)
    except CarrierError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - a plugin's bug must not reach the desk as a 500
        log.exception("carrier %s failed to quote", call.carrier_key)
        return CarrierError(f"{type(exc).__name__}", ("保险公司接口异常，请稍后重试",))


_table = CarrierQuote.__table__
_statements: dict[tuple[str, ...], Any] = {}


def _write_statement(columns: tuple[str, ...]):
    """UPDATE of one answer's columns over its pending row, made once per set of columns (an
    answer with a price sets them all, a refusal or failure its status and reasons)."""
    statement = _statements.get(columns)
    if statement is None:
        statement = (
            update(_table)
            .where(
                _table.c.id == bindparam("b_answer_id"),
                _table.c.session_id == bindparam("b_session_id"),
                _table.c.status == AnswerStatus.PENDING,
            )
            .values({name: bindparam(f"new_{name}") for name in columns})
        )
        _statements[columns] = statement
    return statement


def record_answers(session_id: int, batch: list[dict[str, Any]], finish: bool = True) -> None:
    """Write answers over their pending rows, all answers of the same shape in one statement (a
    late answer over a row already marked 超时 changes nothing); with `finish` (the writer's
    last batch), mark the quote done when none is pending. The statement names the session's own
    answer ids, from the rows start_quote wrote in the caller's scope; on PostgreSQL row security
    holds it to the scope's tenant as well."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in batch:
        columns = tuple(sorted(k for k in values if k != "answer_id"))
        row = {f"new_{name}": values[name] for name in columns}
        row.update(b_answer_id=values["answer_id"], b_session_id=session_id)
        shapes.setdefault(columns, []).append(row)
    connection = db.session.connection()
    for columns, rows in shapes.items():
        connection.execute(_write_statement(columns), rows)
    if finish:
        _finish_session_if_complete(session_id)


def record_answer(call: CarrierCall, outcome: QuoteResult | CarrierError, elapsed_ms: int) -> None:
    """One answer written on its own (the writer batches; this is for a caller holding one)."""
    values = answer_values(outcome, call.valid_minutes)
    values.update(answer_id=call.answer_id, elapsed_ms=elapsed_ms, answered_at=utcnow())
    record_answers(call.session_id, [values])


def answer_values(outcome: QuoteResult | CarrierError, valid_minutes: int) -> dict[str, Any]:
    if isinstance(outcome, CarrierError):
        status = (
            AnswerStatus.REFUSED
            if isinstance(outcome, CarrierRefused)
            else AnswerStatus.TIMEOUT
            if _is_timeout(outcome)
            else AnswerStatus.FAILED
        )
        return {"status": status, "reasons": list(outcome.reasons)}
    if outcome.status != "ok":
        return {"status": AnswerStatus(outcome.status), "reasons": list(outcome.reasons)}
    valid_until = outcome.valid_until or utcnow() + datetime.timedelta(minutes=valid_minutes)
    if valid_until.tzinfo is not None:
        valid_until = valid_until.astimezone(datetime.UTC).replace(tzinfo=None)
    return {
        "status": AnswerStatus.OK,
        "carrier_quote_ref": outcome.carrier_quote_ref,
        "lines": [line_data(line) for line in outcome.lines],
        "total_premium": outcome.total_premium,
        "vehicle_tax": outcome.vehicle_tax,
        "total": outcome.total,
        "valid_until": valid_until,
        "reasons": list(outcome.reasons),
        "lineage": {
            "documents": dict(outcome.lineage),
            "explain": {line.line: plain(line.explain) for line in outcome.lines},
            "trace": {line.line: trace_data(line.trace) for line in outcome.lines},
        },
    }


def line_data(line) -> dict[str, Any]:
    data = plain(line)
    data.pop("trace", None)
    return data


_FIELDS: dict[type, tuple[str, ...]] = {}
_AS_IS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """`contract.to_data`, the same output, several times faster: a quote converts some 1,500
    values (14 carriers' lines and coverages) and to_data looks every dataclass's fields up
    again for each. Field names are remembered per class; what is not a dataclass, mapping,
    sequence or Decimal goes to to_data itself."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is Decimal:
        return str(value)
    names = _FIELDS.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS[kind] = tuple(
            f.name for f in dataclasses.fields(value) if f.name != "tariff"
        )
    if names is not None:
        return {name: plain(getattr(value, name)) for name in names}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return to_data(value)


def trace_data(trace: Any) -> Any:
    """A rules-engine trace as JSON: its own `to_dict()` when it has one, else plain data."""
    if trace is None:
        return None
    for method in ("to_dict", "as_dict", "to_data"):
        if callable(getattr(trace, method, None)):
            return to_data(getattr(trace, method)())
    data = to_data(trace)
    return data if isinstance(data, dict | list | str | int | float) else str(trace)


def _is_timeout(error: CarrierError) -> bool:
    text = " ".join([error.message, *error.reasons]).lower()
    return "timeout" in text or "timed out" in text or "超时" in text


def _finish_session_if_complete(session_id: int) -> None:
    pending = (
        select(CarrierQuote.id)
        .where(CarrierQuote.session_id == session_id, CarrierQuote.status == AnswerStatus.PENDING)
        .exists()
    )
    db.session.execute(
        update(QuoteSession)
        .where(QuoteSession.id == session_id, QuoteSession.status == QuoteStatus.RUNNING, ~pending)
        .values(status=QuoteStatus.DONE, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def expire_overdue(quote: QuoteSession, timeouts: dict[str, float], now=None) -> bool:
    """Mark 超时 every answer still pending past its carrier's timeout (+ grace). True when it
    changed something."""
    now = now or utcnow()
    changed = False
    for answer in quote.answers:
        if answer.status != AnswerStatus.PENDING:
            continue
        limit = float(timeouts.get(answer.carrier_key, 10)) + GRACE_SECONDS
        if (now - quote.created_at).total_seconds() > limit:
            answer.status = AnswerStatus.TIMEOUT
            answer.reasons = [f"保险公司未在 {limit - GRACE_SECONDS:g} 秒内答复"]
            answer.answered_at = now
            changed = True
    if changed and all(a.status != AnswerStatus.PENDING for a in quote.answers):
        quote.status, quote.finished_at = QuoteStatus.DONE, now
    return changed
