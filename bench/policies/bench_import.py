"""Benchmark: import 100,000 policies from CSV and from Excel into PostgreSQL
(goal: first import ≤ 60 s with peak RSS ≤ 300 MB).

    DATABASE_URL=postgresql://… .venv/bin/python bench/policies/bench_import.py \
        [--rows 100000] [--formats csv,xlsx] [--profile /tmp/import]

For each format: creates a tenant with one store, generates the book in the standard_book
mapping's columns (valid plates, VINs, resident IDs and mobiles, half of them typed full-width),
imports it in the tenant's headquarters scope (one streaming pass, chunks of 2,000, one audit
event per chunk) and imports it again (an idempotent re-import: every row unchanged). Each run
reports its wall time and its own peak RSS (VmHWM, reset before the run; the app itself is about
155 MB of it) and the 1-minute load average before and after: on a shared machine the time
follows the load. Prints, never asserts.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

HEADER = [
    "保险公司",
    "保单号",
    "险种",
    "门店代码",
    "被保险人",
    "证件号码",
    "手机号",
    "车牌号",
    "车架号",
    "新旧车",
    "起保日期",
    "含税保费",
    "车船税",
]
CARRIERS = ["中国人保", "中国平安", "太平洋", "大地", "阳光", "华泰", "天安"]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def book_rows(rows: int, seed: int = 7):
    """The header, then `rows` policies: valid identifiers, half of them typed full-width."""
    from app.demo.loader import make_plate, make_resident_id, make_vin

    rng = random.Random(seed)
    yield HEADER
    for index in range(rows):
        line = "交强险" if index % 2 == 0 else "商业险"
        plate = make_plate(rng, "上海", "上海", False)
        mobile = f"13{rng.randrange(10**9):09d}"
        birth = datetime.date(rng.randrange(1960, 2000), rng.randrange(1, 13), 1)
        start = datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(0, 700))
        premium = (
            "950.00"
            if line == "交强险"
            else f"{rng.randrange(2000, 9000)}.{rng.randrange(100):02d}"
        )
        yield [
            rng.choice(CARRIERS),
            f"PD{index:018d}",
            line,
            "BENCH",
            "张" + rng.choice("伟芳娜敏静丽强磊军洋"),
            make_resident_id(rng, "310115", birth, index % 3 == 0),
            full_width(mobile) if index % 2 else mobile,
            full_width(plate[1:]).join([plate[0], ""]) if index % 2 else plate,
            make_vin(rng, "LSV", "R"),
            "新车" if index % 5 == 0 else "旧车",
            start.isoformat(),
            premium,
            "360.00" if line == "交强险" else "",
        ]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """The book as CSV (UTF-8 with BOM) or, for a .xlsx path, as a workbook (written streaming)."""
    from app.policies.importing import csv_text

    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("保单")
        for row in book_rows(rows, seed):
            sheet.append(row)
        book.save(path)
        return
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        batch = []
        for row in book_rows(rows, seed):
            batch.append(row)
            if len(batch) == 5000:
                handle.write(csv_text(batch))
                batch = []
        handle.write(csv_text(batch))


def reset_peak_rss() -> bool:
    """Start the process's peak RSS (VmHWM) again from its current RSS (Linux ≥ 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """The process's peak RSS since the last reset (VmHWM), else since it started."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def make_tenant(db):
    """A new tenant with one store BENCH; its headquarters scope (what an import writes as)."""
    from sqlalchemy import select

    from app.organisation.commands import create_tenant
    from app.organisation.models import Brand, City, NodeKind, OrgNode, TenantKind
    from app.tenancy.scope import Scope, system_scope, use_scope

    code = f"BENCH{uuid.uuid4().hex[:6].upper()}"
    with use_scope(system_scope("bench")):
        tenant = create_tenant(db.session, code, f"导入基准{code}", TenantKind.DEALER_GROUP)
        hq = db.session.scalar(
            select(OrgNode).where(OrgNode.tenant_id == tenant.id, OrgNode.parent_id.is_(None))
        )
        store = OrgNode(
            tenant_id=tenant.id,
            parent=hq,
            kind=NodeKind.STORE,
            code="BENCH",
            name="基准门店",
            brand=db.session.scalar(select(Brand).where(Brand.code == "SVW")),
            city=db.session.scalar(select(City).where(City.code == "310100")),
        )
        db.session.add(store)
        db.session.commit()
        scope = Scope(tenant_id=tenant.id, node_id=hq.id, node_path=hq.path, username="bench")
        tenant_id = tenant.id
    db.session.remove()
    return scope, tenant_id


def run_import(db, scope, tenant_id: int, path: Path, rows: int, profile: Path | None) -> dict:
    from app.policies import importing
    from app.tenancy.scope import use_scope

    reset = reset_peak_rss()
    rss_before = rss_mb()
    load_before = os.getloadavg()[0]
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    began = time.perf_counter()
    with use_scope(scope):
        mapping = importing.load_mapping(db.session, "standard_book", tenant_id)
        summary = importing.import_file(
            db.session, path, mapping, tenant_id=tenant_id, source_name=path.name
        )
        db.session.commit()
    elapsed = time.perf_counter() - began
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(profile))
    db.session.remove()
    return {
        "seconds": round(elapsed, 1),
        "rows_per_s": round(rows / elapsed),
        "inserted": summary.policies_inserted,
        "unchanged": summary.policies_unchanged,
        "refused": summary.refused_rows,
        "rss_mb_before": round(rss_before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "peak_is_of_this_run": reset,
        "load_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--formats", default="csv,xlsx", help="comma-separated: csv, xlsx (default both)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="write cProfiles to PROFILE.<format>.first_import and .re_import",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("set DATABASE_URL to a PostgreSQL database (the schema is upgraded, not dropped)")

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.organisation.reference import load_reference_data
    from app.policies.models import Policy
    from app.tenancy.scope import system_scope, use_scope

    app = create_app("production" if os.environ.get("SECRET_KEY") else "test")
    figures: dict = {"rows": args.rows, "cpus": os.cpu_count()}
    with app.app_context():
        upgrade()
        with use_scope(system_scope("bench")):
            load_reference_data(db.session)
            db.session.commit()
        db.session.remove()
        with tempfile.TemporaryDirectory() as folder:
            for fmt in args.formats.split(","):
                scope, tenant_id = make_tenant(db)
                path = Path(folder) / f"book.{fmt}"
                began = time.perf_counter()
                generate(path, args.rows)
                result = {
                    "file_mb": round(path.stat().st_size / 2**20, 1),
                    "generate_s": round(time.perf_counter() - began, 1),
                }
                for run in ("first_import", "re_import"):
                    profile = Path(f"{args.profile}.{fmt}.{run}") if args.profile else None
                    result[run] = run_import(db, scope, tenant_id, path, args.rows, profile)
                with use_scope(system_scope("bench")):
                    result["policies_in_db"] = db.session.scalar(
                        select(func.count(Policy.id)).where(Policy.tenant_id == tenant_id)
                    )
                db.session.remove()
                figures[fmt] = result
                print(json.dumps({fmt: result}, ensure_ascii=False), file=sys.stderr)
    figures["goal"] = "first import ≤ 60 s with peak RSS ≤ 300 MB"
    print(json.dumps(figures, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
