"""What the sandbox carrier's own system remembers, in one SQLite file per carrier (stdlib
sqlite3): quotes, proposals, issues by idempotency key, policies, endorsements, claims and the
number sequences. A call borrows a connection from a small pool (opening one costs ten times the
write it serves) and no two calls hold one at once, so threads and processes share the file
safely; writes take the write lock first (BEGIN IMMEDIATE), so a number is handed out once."""

from __future__ import annotations

import json
import queue
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS sequence (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS quote (
    ref TEXT PRIMARY KEY, channel TEXT NOT NULL, valid_until TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS proposal (
    ref TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, channel TEXT NOT NULL,
    data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS issue (
    idempotency_key TEXT PRIMARY KEY, channel TEXT NOT NULL, proposal_ref TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS policy (
    policy_no TEXT PRIMARY KEY, channel TEXT NOT NULL, issued_on TEXT NOT NULL,
    status TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS endorsement (
    endorsement_no TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL, policy_no TEXT NOT NULL, made_on TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS claim (
    claim_no TEXT PRIMARY KEY, channel TEXT NOT NULL, policy_no TEXT NOT NULL,
    reported_on TEXT NOT NULL, data TEXT NOT NULL);
"""


IDLE_CONNECTIONS = 8  # kept open per carrier file; more calls at once open (and close) their own


class SandboxState:
    def __init__(self, folder: str) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        self.path = str(Path(folder) / "sandbox.sqlite3")
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        # Write-ahead log: a commit costs one short write instead of a journal's several syncs
        # (15 ms here), which 20 desks quoting at once paid one after another per carrier.
        with self.read() as db:
            db.execute("PRAGMA journal_mode = WAL")
        with self.write() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    def _borrow(self) -> sqlite3.Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )

    def _give_back(self, db: sqlite3.Connection) -> None:
        if db.in_transaction or self._idle.qsize() >= IDLE_CONNECTIONS:
            db.close()
        else:
            self._idle.put(db)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        db = self._borrow()
        try:
            yield db
        finally:
            self._give_back(db)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        db = self._borrow()
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            self._give_back(db)

    @staticmethod
    def next_number(db: sqlite3.Connection, name: str) -> int:
        row = db.execute("SELECT value FROM sequence WHERE name = ?", (name,)).fetchone()
        value = (row[0] if row else 0) + 1
        db.execute(
            "INSERT INTO sequence (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
        return value

    @staticmethod
    def one(db: sqlite3.Connection, sql: str, *args: Any) -> dict | None:
        row = db.execute(sql, args).fetchone()
        return json.loads(row[0]) if row else None

    @staticmethod
    def many(db: sqlite3.Connection, sql: str, *args: Any) -> list[dict]:
        return [json.loads(row[0]) for row in db.execute(sql, args).fetchall()]


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)
