"""Benchmark: import 100,000 policies from CSV into PostgreSQL (goal ≤ 60 s, peak RSS ≤ 300 MB).

    DATABASE_URL=postgresql://… .venv/bin/python bench/policies/bench_import.py [--rows 100000]

Generates a CSV in the standard_book mapping's columns (valid plates, VINs, resident IDs and
mobiles, half of them typed full-width), creates a tenant with one store, imports the file in the
tenant's headquarters scope (check pass + import pass, chunks of 2,000, one audit event per chunk)
and prints the figures; then imports it again to measure an idempotent re-import. Prints, never
asserts: times depend on the machine.
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


def generate(path: Path, rows: int, seed: int = 7) -> None:
    from app.demo.loader import make_plate, make_resident_id, make_vin
    from app.policies.importing import csv_text

    rng = random.Random(seed)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        handle.write(csv_text([HEADER]))
        batch = []
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
            batch.append(
                [
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
            )
            if len(batch) == 5000:
                handle.write(csv_text(batch))
                batch = []
        handle.write(csv_text(batch))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--profile", type=Path, help="write cProfiles to PROFILE.first_import, PROFILE.re_import"
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("set DATABASE_URL to a PostgreSQL database (the schema is upgraded, not dropped)")

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.organisation.commands import create_tenant
    from app.organisation.models import Brand, City, NodeKind, OrgNode, TenantKind
    from app.organisation.reference import load_reference_data
    from app.policies import importing
    from app.policies.models import Policy
    from app.tenancy.scope import Scope, system_scope, use_scope

    app = create_app("production" if os.environ.get("SECRET_KEY") else "test")
    with app.app_context():
        upgrade()
        code = f"BENCH{uuid.uuid4().hex[:6].upper()}"
        with use_scope(system_scope("bench")):
            load_reference_data(db.session)
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

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "book.csv"
            began = time.perf_counter()
            generate(path, args.rows)
            generated = time.perf_counter() - began
            figures = {
                "rows": args.rows,
                "file_mb": round(path.stat().st_size / 2**20, 1),
                "generate_s": round(generated, 1),
            }
            for run in ("first_import", "re_import"):
                rss_before = peak_rss_mb()
                began = time.perf_counter()
                profiler = None
                if args.profile:
                    import cProfile

                    profiler = cProfile.Profile()
                    profiler.enable()
                with use_scope(scope):
                    mapping = importing.load_mapping(db.session, "standard_book", tenant_id)
                    summary = importing.import_file(
                        db.session, path, mapping, tenant_id=tenant_id, source_name=path.name
                    )
                    db.session.commit()
                if profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(f"{args.profile}.{run}")
                elapsed = time.perf_counter() - began
                db.session.remove()
                figures[run] = {
                    "seconds": round(elapsed, 1),
                    "rows_per_s": round(args.rows / elapsed),
                    "inserted": summary.policies_inserted,
                    "unchanged": summary.policies_unchanged,
                    "refused": summary.refused_rows,
                    "peak_rss_mb_before": round(rss_before, 1),
                    "peak_rss_mb_after": round(peak_rss_mb(), 1),
                }
        with use_scope(system_scope("bench")):
            figures["policies_in_db"] = db.session.scalar(
                select(func.count(Policy.id)).where(Policy.tenant_id == tenant_id)
            )
        figures["goal"] = "≤ 60 s and peak RSS ≤ 300 MB for the first import"
        print(json.dumps(figures, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
