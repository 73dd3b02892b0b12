"""Failed-login throttling per account and source: a growing delay, then a lock that expires.

Keyed by (account, client address), so five wrong passwords from an attacker's address lock that
address out of the account, not the real user at theirs. A lock that has run out starts the count
again from zero (the old counter is not carried over), and so does a success. Rows are written
with Core statements: each failed login is already audited as a named event, an ORM write would
audit it twice.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from flask import current_app, has_request_context, request
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.models import utcnow
from app.security.models import LoginThrottle

TABLE = LoginThrottle.__table__
MAX_NAME = 256
# The delay doubles with each failure up to this cap (the lock takes over before it matters with
# the default of five attempts).
MAX_DELAY_SECONDS = 300


@dataclass(frozen=True)
class Refusal:
    """Why a login is refused before the password is even checked."""

    reason: str  # "locked" or "too fast"
    until: datetime.datetime


def client_source() -> str:
    """The client's address. X-Forwarded-For is trusted only through as many proxies as
    TRUSTED_PROXY_COUNT says; anyone can send the header, so by default it is ignored."""
    if not has_request_context():
        return "local"
    hops = int(current_app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if hops > 0:
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]
    return (request.remote_addr or "unknown")[:64]


def account_key(name: str) -> str:
    """The throttle's name for an account: the user name, case folded."""
    return (name or "").strip().casefold()[:MAX_NAME]


def _row(session: Session, key: str, source: str):
    return session.execute(
        select(TABLE).where(TABLE.c.username == key, TABLE.c.source == source)
    ).first()


def refusal(session: Session, key: str, source: str, now: datetime.datetime | None = None):
    """A Refusal while (key, source) is locked or inside its delay; None when a password may be
    checked. A lock that has expired is cleared here, counter included."""
    now = now or utcnow()
    row = _row(session, key, source)
    if row is None:
        return None
    if row.locked_until is not None:
        if row.locked_until > now:
            return Refusal("locked", row.locked_until)
        _reset(session, key, source)
        return None
    if row.retry_after is not None and row.retry_after > now:
        return Refusal("too fast", row.retry_after)
    return None


def _reset(session: Session, key: str, source: str) -> None:
    session.execute(
        update(TABLE)
        .where(TABLE.c.username == key, TABLE.c.source == source)
        .values(failures=0, locked_until=None, retry_after=None)
    )


def record_failure(
    session: Session, key: str, source: str, now: datetime.datetime | None = None
) -> tuple[int, datetime.datetime | None]:
    """Count a wrong password; returns (failures, locked_until or None)."""
    config = current_app.config
    limit = int(config["LOGIN_LOCKOUT_ATTEMPTS"])
    lock_minutes = int(config["LOGIN_LOCKOUT_MINUTES"])
    delay = float(config.get("LOGIN_DELAY_SECONDS", 1) or 0)
    now = now or utcnow()
    row = _row(session, key, source)
    # Failures older than a lock period are forgotten: one wrong password a day never adds up.
    stale = row is not None and (
        row.last_failure_at is None
        or row.last_failure_at < now - datetime.timedelta(minutes=lock_minutes)
    )
    failures = 1 if row is None or stale else row.failures + 1
    locked_until = now + datetime.timedelta(minutes=lock_minutes) if failures >= limit else None
    retry_after = None
    if delay > 0 and locked_until is None:
        retry_after = now + datetime.timedelta(
            seconds=min(delay * 2 ** (failures - 1), MAX_DELAY_SECONDS)
        )
    values = dict(
        failures=failures, last_failure_at=now, retry_after=retry_after, locked_until=locked_until
    )
    if row is None:
        try:
            with session.begin_nested():
                session.execute(insert(TABLE).values(username=key, source=source, **values))
            return failures, locked_until
        except IntegrityError:  # a concurrent failure inserted it first: count on top of it
            return record_failure(session, key, source, now)
    session.execute(
        update(TABLE).where(TABLE.c.username == key, TABLE.c.source == source).values(**values)
    )
    return failures, locked_until


def record_success(session: Session, key: str, source: str) -> None:
    session.execute(delete(TABLE).where(TABLE.c.username == key, TABLE.c.source == source))


def clear_account(session: Session, key: str) -> list[str]:
    """Forget every failure and lock of the account; returns the sources that were locked."""
    now = utcnow()
    locked = list(
        session.execute(
            select(TABLE.c.source).where(TABLE.c.username == key, TABLE.c.locked_until > now)
        ).scalars()
    )
    session.execute(delete(TABLE).where(TABLE.c.username == key))
    return locked


def locked_sources(session: Session, key: str) -> list[str]:
    now = utcnow()
    return list(
        session.execute(
            select(TABLE.c.source).where(TABLE.c.username == key, TABLE.c.locked_until > now)
        ).scalars()
    )


def unlock_account(session: Session, user, by: str) -> list[str]:
    """Lift every lock of the user (each source's, and an administrator's lock) and audit who did
    it; the caller commits. Returns the sources that were locked."""
    from app.audit.models import AuditAction
    from app.audit.recorder import record_event
    from app.tenancy.scope import system_scope, use_scope

    with use_scope(system_scope(by)):
        sources = clear_account(session, account_key(user.username))
        record_event(
            session,
            AuditAction.UNLOCK,
            username=user.username,
            user_id=user.id,
            tenant_id=user.tenant_id,
            org_node_id=user.org_node_id,
            entity="ab_user",
            detail={"by": by, "sources": sources, "admin_lock": user.locked_until is not None},
        )
    if user.locked_until is not None:
        user.locked_until = None
    if user.fail_login_count:
        user.fail_login_count = 0
    return sources
