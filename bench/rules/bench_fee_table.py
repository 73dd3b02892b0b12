"""Benchmark: the rules engine against zen-engine on a 60-row fee table (hit policy first).

Run on one core:  taskset -c 0 .venv/bin/python bench/rules/bench_fee_table.py
Prints figures only; it never asserts times.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import zen  # noqa: E402
from fee_table import fee_table_document, policies  # noqa: E402

from rules import DecisionTable, clear_cache, export_jdm  # noqa: E402

ROUNDS = 3  # best of: the least disturbed run is the closest to the machine's real speed


def best_rate(run, count: int) -> tuple[float, float]:
    """(evaluations per second, seconds) of the fastest of ROUNDS runs of ``run()``."""
    best = float("inf")
    for _ in range(ROUNDS):
        gc.collect()
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return count / best, best


def main() -> None:
    document = fee_table_document()
    body = document["body"]
    sample = policies(20_000)
    batch = policies(100_000, seed=23)

    started = time.perf_counter()
    compiles = 50
    for _ in range(compiles):
        clear_cache()  # a cold compile: no parsed cell reused from the previous round
        table = DecisionTable(document["key"], document["version"], body)
    compile_ms = (time.perf_counter() - started) / compiles * 1000

    analysis_ms = _analysis_ms(table)

    # zen's fastest Python paths, both measured; the faster one is the comparison. A loader
    # returning JSON text (or a dict) re-parses the graph on every call and is ~25x slower.
    jdm = export_jdm(table)
    content = zen.ZenDecisionContent(json.dumps(jdm, ensure_ascii=False))
    static_engine = zen.ZenEngine({"loader": {"type": "static", "content": {"fee": jdm}}})
    callable_engine = zen.ZenEngine({"loader": lambda key: content})
    zen_evaluate = static_engine.evaluate

    mismatches = 0
    for policy in sample[:5000]:
        ours = table.evaluate(policy)["fee_rate"]
        theirs = zen_evaluate("fee", policy)["result"].get("fee_rate")
        if ours != Decimal(str(theirs)):
            mismatches += 1

    evaluate, explain = table.evaluate, table.explain

    def run_ours() -> None:
        for policy in sample:
            evaluate(policy)

    def run_ours_traced() -> None:
        for policy in sample:
            explain(policy)

    def run_zen() -> None:
        for policy in sample:
            zen_evaluate("fee", policy)

    def run_zen_callable() -> None:
        evaluate_callable = callable_engine.evaluate
        for policy in sample:
            evaluate_callable("fee", policy)

    def run_ours_batch() -> None:
        for policy in batch:
            evaluate(policy)

    def run_zen_batch() -> None:
        for policy in batch:
            zen_evaluate("fee", policy)

    ours_rate, _ = best_rate(run_ours, len(sample))
    traced_rate, _ = best_rate(run_ours_traced, len(sample))
    zen_static_rate, _ = best_rate(run_zen, len(sample))
    zen_callable_rate, _ = best_rate(run_zen_callable, len(sample))
    zen_rate = max(zen_static_rate, zen_callable_rate)
    if zen_callable_rate > zen_static_rate:
        zen_evaluate = callable_engine.evaluate
    _, ours_batch = best_rate(run_ours_batch, len(batch))
    _, zen_batch = best_rate(run_zen_batch, len(batch))

    rows, inputs, policy = len(body["rules"]), len(body["inputs"]), body["hit_policy"]
    lines = [
        f"python {sys.version.split()[0]}, zen-engine {version('zen-engine')}",
        f"table: {rows} rows, {inputs} inputs, hit policy {policy}",
        f"agreement with zen on 5000 policies: {5000 - mismatches}/5000",
        f"cold compile (parse, check, index, analyse): {compile_ms:.2f} ms"
        f" (analysis alone {analysis_ms:.2f} ms)",
        _rate_line("rules  evaluate, tracing off", ours_rate),
        _rate_line("rules  explain,  tracing on", traced_rate),
        _rate_line("zen    evaluate, static loader", zen_static_rate),
        _rate_line("zen    evaluate, callable loader", zen_callable_rate),
        f"ratio rules/zen (tracing off, fastest zen): {ours_rate / zen_rate:.1f}x (goal >= 3x)",
        f"tracing on costs {ours_rate / traced_rate:.1f}x the time of tracing off",
        f"batch of {len(batch):,} policies (tracing off): rules {ours_batch:.3f} s,"
        f" zen {zen_batch:.3f} s",
    ]
    print("\n".join(lines))


def _rate_line(label: str, rate: float) -> str:
    return f"{label:<33}: {rate:>10,.0f} /s  ({1e6 / rate:.2f} us each)"


def _analysis_ms(table: DecisionTable) -> float:
    from rules.analysis import analyse_table

    started = time.perf_counter()
    for _ in range(20):
        analyse_table(table)
    return (time.perf_counter() - started) / 20 * 1000


if __name__ == "__main__":
    main()
