"""What the sandbox carrier's own system remembers, in one SQLite file per carrier (stdlib
sqlite3): quotes, proposals, issues by idempotency key, policies, endorsements, claims and the
number sequences. Each call opens its own connection, so threads and processes share it safely;
writes take the file's write lock first (BEGIN IMMEDIATE), so a number is handed out once."""

from __future__ import annotations

import json
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


class SandboxState:
    def __init__(self, folder: str) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        self.path = str(Path(folder) / "sandbox.sqlite3")
        # Write-ahead log: a commit costs one short write instead of a journal's several syncs
        # (15 ms here), which 20 desks quoting at once paid one after another per carrier.
        with self.read() as db:
            db.execute("PRAGMA journal_mode = WAL")
        with self.write() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

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
