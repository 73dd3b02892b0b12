"""Web and worker processes start side by side (gunicorn -w N, many machines): each one brings
Flask-AppBuilder's permissions and the roles up to date at start-up, and two doing it at the same
moment insert the same permission twice; the loser dies and gunicorn stops. On PostgreSQL the
processes take turns under an advisory lock; SQLite's writers already wait for each other."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine

STARTUP_LOCK_KEY = zlib.crc32(b"dealercover.startup.permissions")


@contextmanager
def one_process_at_a_time(engine: Engine | None) -> Iterator[None]:
    """Hold the start-up lock for the duration of the block (a no-op off PostgreSQL)."""
    if engine is None or engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK_KEY})
            connection.commit()
