"""Create the PostgreSQL test database if it does not exist (trust auth on this machine)."""

import sys

import psycopg2
from psycopg2 import sql


def ensure_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    conn = psycopg2.connect(base + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()


if __name__ == "__main__":
    ensure_database(sys.argv[1])
