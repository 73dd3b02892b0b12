"""Benchmark: one quote fans out to 14 carriers that each answer after 300 ms.

Builds a throw-away database (the embedded SQLite default, or PostgreSQL with --pg URL), a
tenant with one store, a desk user and a vehicle, installs the core pack and a copy of the demo
pack's 14 sandbox carriers with latency 300 ms and no faults, then serves the app over HTTP:
  - embedded: the werkzeug server `flask run` uses (threaded), jobs in-process;
  - --pg:     gunicorn with 2 workers (gthread) on PostgreSQL, with --redis for jobs.
It times POST /api/v1/quote/?wait=1 (the answer comes when every carrier has answered): single
quotes one after another, then 20 clients at once.

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


def serve(environment: dict[str, str], pg: bool, port: int) -> subprocess.Popen:
    env = {**os.environ, **environment}
    if pg:
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-w",
            "2",
            "-k",
            "gthread",
            "--threads",
            "16",
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
    for _ in range(600):
        if process.poll() is not None:
            raise SystemExit(Path(log.name).read_text(errors="replace")[-3000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


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
    port = free_port()
    server = serve(environment, bool(options.pg), port)
    base = f"http://127.0.0.1:{port}"
    try:
        token = call(
            f"{base}/api/v1/security/login",
            {"username": USERNAME, "password": PASSWORD, "provider": "db", "refresh": False},
        )["access_token"]
        body = quote_body(ids)
        _, warm = timed_quote(base, token, body)
        answered = sum(1 for a in warm["answers"] if a["status"] == "ok")
        singles = [timed_quote(base, token, body)[0] for _ in range(options.singles)]
        results: list[float] = []
        lock = threading.Lock()

        def one():
            seconds, _ = timed_quote(base, token, body)
            with lock:
                results.append(seconds)

        threads = [threading.Thread(target=one) for _ in range(options.concurrency)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    kind = "PostgreSQL + gunicorn 2 workers" if options.pg else "embedded SQLite + flask run"
    print(f"setup: {kind}; {len(warm['answers'])} carriers at {LATENCY_MS} ms, {answered} quoted")
    print(
        f"single quote, wall (n={len(singles)}): median {statistics.median(singles):.3f} s, "
        f"min {min(singles):.3f} s, max {max(singles):.3f} s (serial would be "
        f"{len(warm['answers']) * LATENCY_MS / 1000:.1f} s)"
    )
    print(
        f"{options.concurrency} concurrent quotes: p50 {percentile(results, 0.5):.3f} s, "
        f"p95 {percentile(results, 0.95):.3f} s, all done in {wall:.3f} s"
    )


if __name__ == "__main__":
    main()
