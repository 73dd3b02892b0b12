"""Profile one page in a single process with cProfile (the bench database must exist: run
bench_pages.py once). Prints the top functions by cumulative time and the SQL statement count.

    .venv/bin/python bench/web/profile_page.py /customerview/list/ --user store.manager -n 20
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/dc_webbench"
PASSWORD = "Bench-Pass-2026!x"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--user", default="store.manager")
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("-n", type=int, default=20, help="requests profiled")
    parser.add_argument("--api", action="store_true", help="use a JWT instead of the cookie")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    args = parser.parse_args()
    os.environ.update(
        DATABASE_URL=args.pg,
        APP_MODE="production",
        SECRET_KEY=secrets.token_hex(32),
        SESSION_COOKIE_SECURE="0",
        AUTH_RATE_LIMIT="10000 per minute",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6"),
    )
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app()
    client = app.test_client()
    headers = {}
    if args.api:
        answer = client.post(
            "/api/v1/security/login",
            json={"username": args.user, "password": PASSWORD, "provider": "db"},
        )
        headers["Authorization"] = "Bearer " + answer.get_json()["access_token"]
    else:
        form = client.get("/login/").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        client.post(
            "/login/", data={"username": args.user, "password": PASSWORD, "csrf_token": token}
        )
    statements = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    first = client.get(args.path, headers=headers)
    print("status", first.status_code, "bytes", len(first.data))
    statements.clear()
    client.get(args.path, headers=headers)
    print("SQL statements per request:", len(statements))
    for sql in statements:
        print("   ", " ".join(sql.split())[:160])
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(args.n):
        client.get(args.path, headers=headers)
    profiler.disable()
    print(f"mean {(time.perf_counter() - started) / args.n * 1000:.1f} ms per request")
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
