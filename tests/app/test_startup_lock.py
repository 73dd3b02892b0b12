"""Processes starting side by side take turns bringing permissions and roles up to date: two
gunicorn workers syncing at once inserted the same permission twice and gunicorn stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

from app.security.startup_lock import STARTUP_LOCK_KEY

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="the lock is PostgreSQL's; SQLite's writers wait for each other",
)

START = "from app import create_app; create_app('test'); print('started', flush=True)"


def test_a_starting_process_waits_while_another_brings_permissions_up_to_date(app):
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    holder = engine.connect()
    holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK_KEY})
    holder.commit()
    starting = subprocess.Popen(
        [sys.executable, "-c", START], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        deadline = time.monotonic() + 60
        waiting = False
        while time.monotonic() < deadline:  # it waits on the lock, not merely slow to import
            waiting = bool(
                holder.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    )
                ).scalar()
            )
            holder.commit()
            if waiting or starting.poll() is not None:
                break
            time.sleep(0.2)
        assert waiting, "the second process did not wait for the start-up lock"
        assert starting.poll() is None
    finally:
        holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK_KEY})
        holder.commit()
        holder.close()
        engine.dispose()
    out, _ = starting.communicate(timeout=120)
    assert starting.returncode == 0
    assert "started" in out
