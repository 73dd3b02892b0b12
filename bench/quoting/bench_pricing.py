"""Benchmark: pricing a full motor bundle on one core, through the same code the desk uses.

A bundle is 交强险 + 车船税 + 商业险 with five coverages (车损, 三者 100 万, 司机, 乘客, 划痕),
priced from the core and demo packs' documents read from disk, through the platform tariff
(app/carriers/tariff.py) with the rules engine's trace (binding's path: the trace is the policy's
lineage) and without (a quote's path), and through app.quoting.pricing.price_product alone. The
tariff's memory of prices is off here, so every bundle is priced afresh; a quote gets 交强险 from
that memory for all but its first carrier (printed last).

Run on one core:  taskset -c 0 .venv/bin/python bench/quoting/bench_pricing.py
Prints figures only; it never asserts times.
"""

from __future__ import annotations

import gc
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import rules  # noqa: E402
from app.carriers.contract import CoverageRequest  # noqa: E402
from app.carriers.tariff import PlatformTariff  # noqa: E402
from app.configuration.kinds import load_kinds, rule_kinds  # noqa: E402
from app.configuration.reading import read_pack  # noqa: E402
from app.quoting.pricing import price_product  # noqa: E402

ROUNDS = 3
COMPULSORY = {
    "province": "北京",
    "vehicle_class": "家庭自用汽车",
    "seats": 5,
    "record": "A2",
    "displacement_l": "1.6",
    "fuel": "petrol",
}
COMMERCIAL = {
    "province": "北京",
    "purchase_price": "200000",
    "vehicle_age": 3,
    "claims_last_year": 0,
    "claim_free_years": 3,
    "seats": 5,
    "pricing_factor": "0.85",
}
COVERAGES = (
    CoverageRequest("own_damage"),
    CoverageRequest("third_party", Decimal("1000000")),
    CoverageRequest("driver", Decimal("10000")),
    CoverageRequest("passenger", Decimal("10000")),
    CoverageRequest("scratch", Decimal("2000")),
)


def documents() -> list[dict]:
    load_kinds()
    found = []
    for pack in ("core", "demo"):
        found += [source.data for source in read_pack(ROOT / "metadata" / "packs" / pack).documents]
    return found


def best_rate(run, count: int) -> tuple[float, float]:
    best = float("inf")
    for _ in range(ROUNDS):
        gc.collect()
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return count / best, best


def main() -> None:
    docs = documents()
    library = rules.Library(d for d in docs if d["kind"] in rule_kinds())
    products = {d["key"]: d for d in docs if d["kind"] == "product"}
    tariff = PlatformTariff(products, library, remember=False)
    untraced = tariff.tracing(False)
    offered = {c["code"] for c in products["commercial_motor"]["body"]["coverages"]}
    coverages = tuple(c for c in COVERAGES if c.code in offered)

    def traced_bundle():
        compulsory = tariff.price("compulsory_motor", COMPULSORY)
        commercial = tariff.price("commercial_motor", COMMERCIAL, coverages)
        return compulsory.premium + compulsory.collected["vehicle_tax"] + commercial.premium

    def quote_bundle():
        compulsory = untraced.price("compulsory_motor", COMPULSORY)
        commercial = untraced.price("commercial_motor", COMMERCIAL, coverages)
        return compulsory.premium + compulsory.collected["vehicle_tax"] + commercial.premium

    remembering = PlatformTariff(products, library).tracing(False)
    carriers = [dict(COMMERCIAL, pricing_factor=f"0.{70 + i}") for i in range(14)]

    def fourteen_carriers():
        for inputs in carriers:
            remembering.price("compulsory_motor", COMPULSORY)
            remembering.price("commercial_motor", inputs, coverages)

    def plain_bundle():
        compulsory = price_product(products["compulsory_motor"], COMPULSORY, library)
        commercial = price_product(products["commercial_motor"], COMMERCIAL, library)
        return compulsory.premium + compulsory.collected["vehicle_tax"] + commercial.premium

    total = traced_bundle()
    started = time.perf_counter()
    traced_bundle()
    first = time.perf_counter() - started
    count = 2000
    traced, traced_s = best_rate(lambda: [traced_bundle() for _ in range(count)], count)
    quoted, quoted_s = best_rate(lambda: [quote_bundle() for _ in range(count)], count)
    plain, plain_s = best_rate(lambda: [plain_bundle() for _ in range(count)], count)

    def quotes():
        remembering._remembered.clear()
        fourteen_carriers()

    per_quote, _ = best_rate(lambda: [quotes() for _ in range(count // 14)], count // 14)
    print(f"bundle: 交强险 + 车船税 + 商业险 ({', '.join(c.code for c in coverages)})")
    print(f"bundle total (北京, 5 seats, A2, 1.6 l, 200,000 yuan, 3 years): {total}")
    print(f"bundles per second, platform tariff with trace (binding's path): {traced:,.0f}")
    print(f"bundles per second, platform tariff without trace (a quote's path): {quoted:,.0f}")
    print(f"bundles per second, price_product without trace: {plain:,.0f}")
    print(
        f"one quote's 14 carriers (交强险 remembered after the first): "
        f"{1000 / per_quote:.2f} ms, i.e. {per_quote * 14:,.0f} carrier bundles per second"
    )
    print(
        f"one bundle with trace: {1000 / traced:.2f} ms; "
        f"second call after warm-up: {first * 1000:.2f} ms"
    )
    print(
        f"({count} bundles per round, best of {ROUNDS}: {traced_s:.2f} s, {quoted_s:.2f} s and "
        f"{plain_s:.2f} s)"
    )


if __name__ == "__main__":
    main()
