"""The web tier under load: the main pages under gunicorn on PostgreSQL, 20 concurrent clients.

Builds a throw-away database (DROPS its public schema), runs the migrations, loads the demo,
starts gunicorn on loopback, logs in as a few demo users and drives N concurrent keep-alive clients
at each page for a bounded time. Prints requests/s, p50, p95 and errors per page; asserts nothing.

    .venv/bin/python bench/web/bench_pages.py --workers 2 --threads 8 --clients 20 --seconds 20

See bench/web/README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv" / "bin"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/dc_webbench"
PASSWORD = "Bench-Pass-2026!x"

# (label, login, path, kind): kind "page" uses the session cookie, "api" a JWT bearer token.
PAGES = [
    ("home", "store.manager", "/", "page"),
    ("customers list", "store.manager", "/customerview/list/", "page"),
    ("vehicles list", "store.manager", "/vehicleview/list/", "page"),
    ("policy list", "insurance.desk", "/policies/list/", "page"),
    ("desk", "insurance.desk", "/desk/", "page"),
    ("arrivals today", "insurance.desk", "/cameras/arrivals/", "page"),
    ("audit log", "admin", "/auditrecordview/list/", "page"),
    ("entity records", "store.manager", "/entities/annual_inspection_reminder/", "page"),
    ("customers API", "store.manager", "/api/v1/customer/", "api"),
]


@dataclass
class PageResult:
    label: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    def line(self) -> str:
        n = len(self.latencies)
        if n:
            cuts = statistics.quantiles(self.latencies, n=100) if n > 1 else self.latencies * 99
            p50, p95 = cuts[49] * 1000, cuts[94] * 1000
        else:
            p50 = p95 = float("nan")
        rps = n / self.elapsed if self.elapsed else 0.0
        return f"{self.label:<16} {rps:8.1f} {p50:9.0f} {p95:9.0f} {n:7d} {self.errors:6d}"


def _env(pg_url: str, redis_url: str, mode: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=pg_url,
        REDIS_URL=redis_url,
        APP_MODE=mode,
        SECRET_KEY=env.get("BENCH_SECRET_KEY") or secrets.token_hex(32),
        SESSION_COOKIE_SECURE="0",  # loopback http; production sets it
        AUTH_RATE_LIMIT="10000 per minute",  # the bench logs in a few users at once
        LOG_LEVEL="WARNING",
    )
    return env


def build_database(pg_url: str, env: dict) -> None:
    """Drop and rebuild the benchmark database: migrations, then the demo."""
    subprocess.run([VENV / "python", "scripts/ensure_database.py", pg_url], cwd=ROOT, check=True)
    import sqlalchemy

    engine = sqlalchemy.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    flask = [str(VENV / "flask"), "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [*flask, "demo", "load", "--password", PASSWORD],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict, port: int, workers: int, threads: int) -> subprocess.Popen:
    cmd = [
        str(VENV / "gunicorn"),
        "-w",
        str(workers),
        "-k",
        "gthread",
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "wsgi:app",
    ]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)


def wait_until_up(base: str, proc: subprocess.Popen, limit_s: float = 180) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            requests.get(base + "/login/", timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not answer in time")


def login_cookie(base: str, username: str) -> requests.Session:
    """A browser-like session: the login form with its CSRF token."""
    sess = requests.Session()
    form = sess.get(base + "/login/", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    data = {"username": username, "password": PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    answer = sess.post(base + "/login/", data=data, timeout=60, allow_redirects=False)
    if answer.status_code != 302 or "/login" in answer.headers.get("Location", ""):
        raise SystemExit(f"login of {username} failed: {answer.status_code}")
    return sess


def login_token(base: str, username: str) -> str:
    answer = requests.post(
        base + "/api/v1/security/login",
        json={"username": username, "password": PASSWORD, "provider": "db"},
        timeout=60,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def client_for(base: str, login: str, kind: str, cookies: dict, tokens: dict) -> requests.Session:
    """A new keep-alive connection per client thread, sharing the user's cookie or token."""
    sess = requests.Session()
    if kind == "api":
        sess.headers["Authorization"] = f"Bearer {tokens[login]}"
    else:
        sess.cookies.update(cookies[login])
    return sess


def drive(
    base: str, page: tuple, clients: int, seconds: float, cookies: dict, tokens: dict
) -> PageResult:
    label, login, path, kind = page
    result = PageResult(label)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def one_client() -> None:
        sess = client_for(base, login, kind, cookies, tokens)
        mine, errors = [], 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                answer = sess.get(base + path, timeout=30, allow_redirects=False)
                ok = answer.status_code == 200
            except requests.RequestException:
                ok = False
            spent = time.perf_counter() - started
            if ok:
                mine.append(spent)
            else:
                errors += 1
        with lock:
            result.latencies.extend(mine)
            result.errors += errors

    threads = [threading.Thread(target=one_client) for _ in range(clients)]
    begun = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = time.monotonic() - begun
    return result


def warm(base: str, cookies: dict, tokens: dict) -> None:
    """One request per page and worker thread so first-use costs are not measured."""
    for page in PAGES:
        drive(base, page, 4, 1.0, cookies, tokens)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="throw-away PostgreSQL database URL")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--mode", default="production", choices=["production", "dev"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0, help="per page")
    parser.add_argument("--skip-build", action="store_true", help="reuse the database as it is")
    parser.add_argument("--only", default="", help="comma-separated labels to run")
    args = parser.parse_args()

    env = _env(args.pg, args.redis, args.mode)
    if not args.skip_build:
        build_database(args.pg, env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_gunicorn(env, port, args.workers, args.threads)
    try:
        wait_until_up(base, proc)
        logins = {p[1] for p in PAGES}
        cookies = {name: login_cookie(base, name).cookies for name in logins}
        tokens = {name: login_token(base, name) for name in logins}
        warm(base, cookies, tokens)
        chosen = [p for p in PAGES if not args.only or p[0] in args.only.split(",")]
        print(
            f"gunicorn -w {args.workers} --threads {args.threads}, {args.clients} clients, "
            f"{args.seconds:g} s per page, mode {args.mode}, load average {load_average()}"
        )
        print(f"{'page':<16} {'req/s':>8} {'p50 ms':>9} {'p95 ms':>9} {'ok':>7} {'errors':>6}")
        for page in chosen:
            print(drive(base, page, args.clients, args.seconds, cookies, tokens).line(), flush=True)
        print(f"load average after: {load_average()}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
