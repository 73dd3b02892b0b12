"""Benchmark: one quote fans out to 14 carriers that each answer after 300 ms.

Builds a throw-away database (the embedded SQLite default, or PostgreSQL with --pg URL), a
tenant with one store, a desk user and a vehicle, installs the core pack and a copy of the demo
pack's 14 sandbox carriers with latency 300 ms and no faults, then serves the app over HTTP:
  - embedded: the werkzeug server `flask run` uses (threaded), jobs in-process;
  - --pg:     gunicorn with 2 workers and the project's gunicorn.conf.py (gthread, 10 threads,
              connections capped per worker) on PostgreSQL, with --redis for jobs.
It times POST /api/v1/quote/?wait=1 (the answer comes when every carrier has answered): single
quotes one after another, then 20 clients at once; then 20 desks at once the way the desk screen
works (POST without waiting, then GET /api/v1/quote/<id> every 0.3 s until every carrier has
answered), timing each poll and when each desk saw its last answer.

The web processes start the way docs/deployment.md says: the permission sync runs once before
them (as `flask platform sync-roles` does at a release), and the benchmark waits until every
worker has loaded the app before it logs in.

  .venv/bin/python bench/quoting/bench_fanout.py
  .venv/bin/python bench/quoting/bench_fanout.py --pg postgresql://postgres@127.0.0.1/dc_bench \
      --redis redis://127.0.0.1:6379/12

Prints figures only; it never asserts times.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

LATENCY_MS = 300
WORKERS = 2
POLL_SECONDS = 0.3  # as the desk screen (static/desk.js)
PASSWORD = "Bench-Pass-2026!"
USERNAME = "bench.desk"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_pack(folder: Path) -> Path:
    """The demo pack's carriers, each answering after LATENCY_MS with no faults."""
    pack = folder / "bench_carriers"
    shutil.copytree(ROOT / "metadata" / "packs" / "demo", pack)
    manifest = yaml.safe_load((pack / "pack.yaml").read_text(encoding="utf-8"))
    manifest["name"] = "bench_carriers"
    (pack / "pack.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    for path in (pack / "carriers").glob("*.yaml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        body = document["body"]
        if body.get("plugin") != "sandbox":
            body["enabled"] = False
        else:
            body["enabled"] = True
            body["config"]["latency_ms"] = LATENCY_MS
            body["config"]["fault_rate"] = 0
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return pack


def prepare(environment: dict[str, str], folder: Path) -> dict[str, int]:
    """Migrate, then make the tenant, store, user and vehicle; returns their ids."""
    os.environ.update(environment)
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.configuration.install import install_pack
    from app.configuration.reading import read_pack
    from app.customers.models import Customer, Vehicle
    from app.demo.loader import make_plate, make_resident_id, make_vin
    from app.extensions import db
    from app.organisation.commands import create_tenant
    from app.organisation.models import Brand, City, NodeKind, OrgNode, TenantKind
    from app.organisation.reference import load_reference_data
    from app.security import roles as r
    from app.tenancy.scope import system_scope, use_scope

    migrator = create_app("dev")
    with migrator.app_context():
        upgrade()
    app = create_app("dev")
    import datetime
    import random
    from decimal import Decimal

    with app.app_context(), use_scope(system_scope("bench")):
        load_reference_data(db.session)
        install_pack(db.session, read_pack(ROOT / "metadata" / "packs" / "core"), None, "bench")
        tenant = create_tenant(db.session, "BENCH", "基准测试集团", TenantKind.DEALER_GROUP)
        hq = db.session.query(OrgNode).filter_by(tenant_id=tenant.id, parent_id=None).one()
        store = OrgNode(
            tenant_id=tenant.id,
            parent=hq,
            kind=NodeKind.STORE,
            code="B01",
            name="基准门店",
            brand=db.session.query(Brand).filter_by(code="SVW").one(),
            city=db.session.query(City).filter_by(code="310100").one(),
        )
        db.session.add(store)
        db.session.flush()
        rng = random.Random(7)
        customer = Customer(
            tenant_id=tenant.id,
            org_node_id=store.id,
            name="基准客户",
            id_number=make_resident_id(rng, "310115", datetime.date(1985, 3, 2), True),
            mobile="13912345678",
        )
        vehicle = Vehicle(
            tenant_id=tenant.id,
            org_node_id=store.id,
            customer=customer,
            plate=make_plate(rng, "上海", "上海", False),
            vin=make_vin(rng, "LSV", "R"),
            purchase_price=Decimal("180000"),
            displacement=Decimal("1.5"),
            register_date=datetime.date(2023, 6, 1),
        )
        db.session.add_all([customer, vehicle])
        sm = app.appbuilder.sm
        user = sm.user_model(
            username=USERNAME,
            first_name="基准",
            last_name="出单员",
            email="bench@example.invalid",
            active=True,
            roles=[sm.find_role(r.INSURANCE_DESK)],
            tenant_id=tenant.id,
            org_node_id=store.id,
        )
        user.password = generate_password_hash(PASSWORD)
        db.session.add(user)
        install_pack(db.session, read_pack(bench_pack(folder)), tenant.id, "bench")
        db.session.commit()
        return {"customer_id": customer.id, "vehicle_id": vehicle.id}


def sync_permissions() -> None:
    """Bring roles and permissions up to date with what the installed packs added, once, before
    the web processes start (a release runs `flask platform sync-roles`). Without it every
    gunicorn worker syncs at its start, two insert the same permission at once, one dies, and
    gunicorn stops: the login then waited for a server that was gone."""
    from app import create_app

    create_app("dev")


def serve(environment: dict[str, str], pg: bool, port: int) -> subprocess.Popen:
    env = {**os.environ, **environment}
    ready = Path(environment["STORAGE_PATH"]) / "ready"
    ready.mkdir()
    env["BENCH_READY_DIR"] = str(ready)
    if pg:
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-c",
            str(Path(__file__).with_name("gunicorn_ready.py")),
            "-w",
            str(WORKERS),
            "-b",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "app",
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--with-threads",
        ]
    log = open(Path(environment["STORAGE_PATH"]) / "server.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(1800):
        if process.poll() is not None:
            raise SystemExit(Path(log.name).read_text(errors="replace")[-3000:])
        if _started(pg, port, ready):
            return process
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start in 180 s")


def _started(pg: bool, port: int, ready: Path) -> bool:
    """gunicorn's master listens before its workers have loaded the app: wait for each worker's
    own word (gunicorn_ready.py), else a request queues behind a worker still importing."""
    if pg:
        alive = [p for p in ready.iterdir() if _alive(int(p.name))]
        return len(alive) >= WORKERS
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def call(url: str, body: dict | None = None, token: str | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def quote_body(ids: dict[str, int]) -> dict:
    return {
        **ids,
        "history": {"claims_last_year": 0, "claim_free_years": 1},
        "lines": [
            {"product": "compulsory_motor"},
            {
                "product": "commercial_motor",
                "coverages": [
                    {"code": "own_damage"},
                    {"code": "third_party", "sum_insured": "1000000.00"},
                    {"code": "driver", "sum_insured": "10000.00"},
                    {"code": "passenger", "sum_insured": "10000.00"},
                    {"code": "scratch", "sum_insured": "2000.00"},
                ],
            },
        ],
    }


def timed_quote(base: str, token: str, body: dict) -> tuple[float, dict]:
    started = time.perf_counter()
    answer = call(f"{base}/api/v1/quote/?wait=1", body, token)
    return time.perf_counter() - started, answer


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def desk(base: str, token: str, body: dict) -> tuple[float, list[float], int]:
    """One desk as the screen does it: start, then poll every POLL_SECONDS until no carrier is
    pending. Returns when it saw the last answer, each poll's time and how many polls saw a
    partial set of answers (answers arriving one by one)."""
    started = time.perf_counter()
    quote = call(f"{base}/api/v1/quote/", body, token)
    polls, partial = [], 0
    while quote["progress"]["answered"] < quote["progress"]["asked"]:
        time.sleep(POLL_SECONDS)
        before = time.perf_counter()
        quote = call(f"{base}/api/v1/quote/{quote['id']}", token=token)
        polls.append(time.perf_counter() - before)
        partial += 0 < quote["progress"]["answered"] < quote["progress"]["asked"]
    return time.perf_counter() - started, polls, partial


def server_cpu(root: int) -> float:
    """CPU seconds used so far by the server process and its children (gunicorn's workers),
    from /proc: how much work the quotes cost, whatever else the machine is doing."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if root in (pid, ppid):
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def at_once(count: int, work) -> tuple[list, float]:
    results: list = []
    lock = threading.Lock()

    def one():
        value = work()
        with lock:
            results.append(value)

    threads = [threading.Thread(target=one) for _ in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="PostgreSQL URL of a database the benchmark may wipe")
    parser.add_argument("--redis", help="Redis URL for jobs (with --pg)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--singles", type=int, default=10)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dc-bench-"))
    environment = {
        "APP_MODE": "dev",
        "STORAGE_PATH": str(folder),
        "DATABASE_URL": "",
        "REDIS_URL": "",
    }
    if options.pg:
        from sqlalchemy import create_engine, text

        engine = create_engine(options.pg)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        environment["DATABASE_URL"] = options.pg
        environment["REDIS_URL"] = options.redis or ""
    ids = prepare(environment, folder)
    sync_permissions()
    port = free_port()
    server = serve(environment, bool(options.pg), port)
    base = f"http://127.0.0.1:{port}"
    load = os.getloadavg()
    failed = True
    try:
        token = call(
            f"{base}/api/v1/security/login",
            {"username": USERNAME, "password": PASSWORD, "provider": "db", "refresh": False},
        )["access_token"]
        body = quote_body(ids)
        for _ in range(2 * WORKERS):  # every worker warm (its carriers and tariff cached)
            _, warm = timed_quote(base, token, body)
        answered = sum(1 for a in warm["answers"] if a["status"] == "ok")
        cpu_before = server_cpu(server.pid)
        singles = [timed_quote(base, token, body)[0] for _ in range(options.singles)]
        cpu_per_single = (server_cpu(server.pid) - cpu_before) / options.singles
        cpu_before = server_cpu(server.pid)
        waited, wall = at_once(options.concurrency, lambda: timed_quote(base, token, body)[0])
        cpu_per_quote = (server_cpu(server.pid) - cpu_before) / options.concurrency
        desks, desks_wall = at_once(options.concurrency, lambda: desk(base, token, body))
        load = tuple(max(a, b) for a, b in zip(load, os.getloadavg(), strict=True))
        failed = False
    finally:
        server.terminate()
        server.wait(10)
        if failed:
            log = (folder / "server.log").read_text(errors="replace")
            print(f"--- server log (last 3000 characters) ---\n{log[-3000:]}", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)
    kind = (
        f"PostgreSQL + Redis, gunicorn {WORKERS} workers (gunicorn.conf.py: gthread, 10 threads)"
        if options.pg
        else "embedded SQLite + flask run, jobs in-process"
    )
    print(f"setup: {kind}; {len(warm['answers'])} carriers at {LATENCY_MS} ms, {answered} quoted")
    print(f"load average during the run (highest of start and end): {load[0]:.2f} {load[1]:.2f}")
    print(
        f"single quote, wall (n={len(singles)}): median {statistics.median(singles):.3f} s, "
        f"min {min(singles):.3f} s, max {max(singles):.3f} s (serial would be "
        f"{len(warm['answers']) * LATENCY_MS / 1000:.1f} s); web processes' CPU per single "
        f"quote {cpu_per_single * 1000:.0f} ms"
    )
    print(
        f"{options.concurrency} concurrent quotes (?wait=1): p50 {percentile(waited, 0.5):.3f} s, "
        f"p95 {percentile(waited, 0.95):.3f} s, all done in {wall:.3f} s"
    )
    print(
        f"web processes' CPU per quote in the 20 at once: {cpu_per_quote * 1000:.0f} ms "
        f"(every thread, SQLite's and psycopg's C code included; PostgreSQL's own not counted)"
    )
    seen = [d[0] for d in desks]
    polls = [p for d in desks for p in d[1]]
    partial = sum(d[2] for d in desks)
    print(
        f"{options.concurrency} desks polling every {POLL_SECONDS} s: last answer seen p50 "
        f"{percentile(seen, 0.5):.3f} s, p95 {percentile(seen, 0.95):.3f} s; one poll p50 "
        f"{percentile(polls, 0.5) * 1000:.0f} ms, p95 {percentile(polls, 0.95) * 1000:.0f} ms "
        f"({len(polls)} polls, {partial} saw some answers in and some pending); "
        f"all done in {desks_wall:.3f} s"
    )


if __name__ == "__main__":
    main()
