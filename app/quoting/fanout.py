"""Ask every carrier at once. Each call runs on a thread of one process-wide pool, with its own
timeout, and writes its answer the moment it has one, so the desk sees results arrive; a carrier
that refuses, fails or hangs says why and holds up nobody.

A call that outlives its timeout is marked 超时 by whoever looks first (the waiting request or the
desk's poll); its late answer is then dropped, because an answer is only ever written over a
pending row."""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import func, select, update

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


def pool(size: int = 64) -> ThreadPoolExecutor:
    """One pool per process, made on first use (so a forked worker makes its own)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="quote")
        return _pool


def fan_out(app: Flask, scope: Scope, calls: Iterable[CarrierCall]) -> list[Future]:
    size = int(app.config.get("QUOTE_THREADS", 64))
    return [pool(size).submit(_run_call, app, scope, call) for call in calls]


def wait_for(futures: list[Future], seconds: float) -> None:
    """Wait until every call has answered or `seconds` have passed, whichever is first."""
    deadline = time.monotonic() + seconds
    for future in futures:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            future.result(timeout=remaining)
        except Exception:  # noqa: BLE001 - each call records its own failure
            continue


def _run_call(app: Flask, scope: Scope, call: CarrierCall) -> None:
    started = time.monotonic()
    outcome = _ask(call)
    elapsed_ms = int((time.monotonic() - started) * 1000)
    with app.app_context(), use_scope(scope):
        try:
            record_answer(call, outcome, elapsed_ms)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("could not record %s's answer", call.carrier_key)
        finally:
            db.session.remove()


def _ask(call: CarrierCall) -> QuoteResult | CarrierError:
    try:
        return call.client.quote(call.request, timeout=call.timeout)
    except CarrierError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - a plugin's bug must not reach the desk as a 500
        log.exception("carrier %s failed to quote", call.carrier_key)
        return CarrierError(f"{type(exc).__name__}", ("保险公司接口异常，请稍后重试",))


def record_answer(call: CarrierCall, outcome: QuoteResult | CarrierError, elapsed_ms: int) -> None:
    values = answer_values(outcome, call.valid_minutes)
    values.update(elapsed_ms=elapsed_ms, answered_at=utcnow())
    result = db.session.execute(
        update(CarrierQuote)
        .where(CarrierQuote.id == call.answer_id, CarrierQuote.status == AnswerStatus.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        _finish_session_if_complete(call.session_id)


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
            "explain": {line.line: to_data(line.explain) for line in outcome.lines},
            "trace": {line.line: trace_data(line.trace) for line in outcome.lines},
        },
    }


def line_data(line) -> dict[str, Any]:
    data = to_data(line)
    data.pop("trace", None)
    return data


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
    pending = db.session.scalar(
        select(func.count())
        .select_from(CarrierQuote)
        .where(CarrierQuote.session_id == session_id, CarrierQuote.status == AnswerStatus.PENDING)
    )
    if not pending:
        db.session.execute(
            update(QuoteSession)
            .where(QuoteSession.id == session_id, QuoteSession.status == QuoteStatus.RUNNING)
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
