"""The embedded default's SQLite, tuned for one process serving many threads.

SQLite lets one connection write at a time. A writer that finds the lock taken sleeps in
SQLite's busy handler, in growing steps (1, 2, 5, 10 … 100 ms), whenever the lock was freed in
between: 20 desks quoting at once (each quote a few write transactions, from the request and
from the carrier threads) lost tens of milliseconds a write that way. The process's writers
therefore queue on a lock of their own, taken at a transaction's first write and handed on the
moment SQLite has committed or rolled back. Readers never wait (write-ahead log).
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from flask import Flask
from sqlalchemy import event

from app.extensions import db

# Longer than any write transaction should take; past it the writer goes on to SQLite's own
# busy handling (30 s more), as before this lock existed, rather than wait for ever.
WRITER_WAIT_SECONDS = 30
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class QueuedWriterConnection(sqlite3.Connection):
    """A sqlite3 connection that gives the process's writer lock back once its transaction is
    over: after SQLite's commit or rollback (SQLAlchemy's own commit event comes before it), or
    when it is closed."""

    writer_lock: threading.Lock | None = None
    holds_lock = False

    def take_writer_lock(self, lock: threading.Lock) -> None:
        if not self.holds_lock:
            self.writer_lock = lock
            # Not holding it after the wait is allowed: SQLite's own lock still orders writes.
            self.holds_lock = lock.acquire(timeout=WRITER_WAIT_SECONDS)

    def give_back_writer_lock(self) -> None:
        if self.holds_lock:
            self.holds_lock = False
            self.writer_lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.give_back_writer_lock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_back_writer_lock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.give_back_writer_lock()


def prepare_sqlite(app: Flask) -> None:
    """Before the engine is made: its connections are QueuedWriterConnections."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    options.setdefault("connect_args", {})["factory"] = QueuedWriterConnection


def tune_sqlite(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    queue_writers(engine)


def queue_writers(engine: Any) -> None:
    """One writer at a time per engine, queued on a Python lock instead of SQLite's sleeps
    (the engine's connections must be QueuedWriterConnections)."""
    lock = threading.Lock()

    @event.listens_for(engine, "before_cursor_execute")
    def _take(conn, _cursor, statement, _params, _context, _executemany) -> None:
        if statement.lstrip()[:7].upper().startswith(WRITES):
            raw = conn.connection.dbapi_connection
            if isinstance(raw, QueuedWriterConnection):
                raw.take_writer_lock(lock)
