"""The embedded SQLite's writers queue on the process's lock, never on SQLite's busy sleeps, and
the lock never stays with a connection that went back to its pool."""

from __future__ import annotations

import threading
import time

from sqlalchemy import create_engine, event, text

from app.embedded_database import QueuedWriterConnection, queue_writers


def _engine(path):
    engine = create_engine(f"sqlite:///{path}", connect_args={"factory": QueuedWriterConnection})

    @event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_connection, _record) -> None:
        # SQLite refuses at once when its write lock is taken: only our lock can order writers.
        dbapi_connection.execute("PRAGMA busy_timeout = 0")

    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode = WAL")  # kept in the file
        connection.execute(text("CREATE TABLE IF NOT EXISTS probe (n INTEGER)"))
    queue_writers(engine)
    return engine


def test_a_second_writer_waits_for_the_first_instead_of_failing(tmp_path):
    engine = _engine(tmp_path / "queue.sqlite3")
    first_wrote, failures = threading.Event(), []

    def first() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO probe VALUES (1)"))
            first_wrote.set()
            time.sleep(0.3)  # holds SQLite's write lock until it commits

    def second() -> None:
        first_wrote.wait(5)
        try:
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO probe VALUES (2)"))
        except Exception as error:  # noqa: BLE001 - "database is locked" without the queue
            failures.append(error)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert failures == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM probe ORDER BY n")).scalars().all() == [1, 2]


def test_a_connection_returned_without_commit_does_not_keep_the_lock(tmp_path):
    engine = _engine(tmp_path / "returned.sqlite3")
    connection = engine.connect()
    connection.execute(text("INSERT INTO probe VALUES (1)"))
    connection.close()  # back to the pool, rolled back there, not through Connection.rollback

    done = threading.Event()

    def writer() -> None:
        with engine.begin() as other:
            other.execute(text("INSERT INTO probe VALUES (2)"))
        done.set()

    threading.Thread(target=writer, daemon=True).start()
    assert done.wait(5), "the next writer waited for a lock nobody holds"
    with engine.connect() as check:
        assert check.execute(text("SELECT n FROM probe")).scalars().all() == [2]
