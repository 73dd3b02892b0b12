"""Accuracy and speed of the camera agent's reader on the real-photo development set.

    taskset -c 0 .venv/bin/python bench/camera/bench_real.py [--half tune|report|both]

The set is `../shared/plates-dev/` (226 scenes, 260 tight crops, see its README). It is split
for good by a hash of each file's name: the tuning half (sha1 of the name, first byte even) is
the one looked at and tuned on; the report half (odd) is only measured. Scenes go through
`Reader.read` as a gate frame would; crops through `Reader.read_crop` (a picture that is only a
plate). A scene counts as exact when its labelled plate is among the plates read; any other
plate read in a scene, and any second reading of a crop, is counted as a false plate (the
scenes hold one labelled plate each; a real second plate in view would count too, so the
figure is an upper bound). Prints figures; asserts nothing.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy / onnxruntime load

import argparse  # noqa: E402
import collections  # noqa: E402
import csv  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from camera_agent.reader import Reader  # noqa: E402
from camera_agent.recognise import Recogniser, packaged_v5_model  # noqa: E402
from camera_agent.sources import load_image  # noqa: E402

DEV_SET = ROOT.parent / "shared" / "plates-dev"
COLOURS = ("blue", "yellow", "green", "other")


def half_of(name: str) -> str:
    """The half a file belongs to, fixed by its name: 'tune' or 'report'."""
    return "tune" if hashlib.sha1(name.encode()).digest()[0] % 2 == 0 else "report"


def load_labels(folder: Path) -> list[dict]:
    with (folder / "labels.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for row in rows:
        row["half"] = half_of(Path(row["file"]).name)
    return rows


def run(reader: Reader, folder: Path, rows: list[dict]) -> list[dict]:
    results = []
    for row in rows:
        image = load_image(folder / row["file"])
        start, cpu_start = time.perf_counter(), time.process_time()
        if image is None:
            plates = []
        elif row["kind"] == "crop":
            plates = reader.read_crop(image)
        else:
            plates, _codes = reader.read(image)
        ms = (time.perf_counter() - start) * 1000
        cpu_ms = (time.process_time() - cpu_start) * 1000
        texts = [p.text for p in plates]
        hit = [p for p in plates if p.text == row["plate"]]
        results.append(
            {
                **row,
                "loaded": image is not None,
                "texts": texts,
                "colours": [p.colour for p in plates],
                "exact": bool(hit),
                "colour_right": bool(hit) and hit[0].colour == row["colour"],
                "false": len(plates) - len(hit),
                "ms": ms,
                "cpu_ms": cpu_ms,
                "width": 0 if image is None else image.shape[1],
            }
        )
    return results


def summarise(results: list[dict], title: str) -> None:
    print(title)
    for kind in ("scene", "crop"):
        rows = [r for r in results if r["kind"] == kind]
        if not rows:
            continue
        parts = []
        for colour in COLOURS:
            sub = [r for r in rows if r["colour"] == colour]
            if sub:
                ok = sum(r["exact"] for r in sub)
                parts.append(f"{colour} {ok / len(sub):.1%} ({ok}/{len(sub)})")
        ok = sum(r["exact"] for r in rows)
        colour_ok = sum(r["colour_right"] for r in rows)
        ms = [r["ms"] for r in rows]
        cpu = [r["cpu_ms"] for r in rows]
        print(f"  {kind}s: exact {ok / len(rows):.1%} ({ok}/{len(rows)}); " + ", ".join(parts))
        print(
            f"    colour right on exact reads {colour_ok}/{ok}; false plates "
            f"{sum(r['false'] for r in rows)}; unreadable files "
            f"{sum(not r['loaded'] for r in rows)}"
        )
        print(
            f"    ms per image: wall median {statistics.median(ms):.1f}, p95 {_p95(ms):.1f}; "
            f"CPU median {statistics.median(cpu):.1f}, mean {statistics.mean(cpu):.1f}, "
            f"p95 {_p95(cpu):.1f}"
        )
        by_source = collections.defaultdict(list)
        for r in rows:
            by_source[r["source_repo"].split("/")[0]].append(r["exact"])
        print(
            "    by source: "
            + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(by_source.items()))
        )
        if kind == "scene":
            big = [r for r in rows if r["width"] >= 1200]
            if big:
                print(f"    frames >= 1200 px wide: {sum(r['exact'] for r in big)}/{len(big)}")


def _p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=DEV_SET)
    parser.add_argument("--half", choices=("tune", "report", "both"), default="both")
    parser.add_argument("--kind", choices=("scene", "crop", "both"), default="both")
    parser.add_argument("--dump", type=Path, help="write every result as JSON lines here")
    parser.add_argument("--v5", action="store_true", help="the PP-OCRv5 recognition model")
    parser.add_argument("--show-misses", action="store_true", help="list the tuning misses")
    args = parser.parse_args()
    rows = load_labels(args.folder)
    if args.half != "both":
        rows = [r for r in rows if r["half"] == args.half]
    if args.kind != "both":
        rows = [r for r in rows if r["kind"] == args.kind]
    recogniser = Recogniser(*packaged_v5_model()) if args.v5 else None
    results = run(Reader(recogniser, read_codes=False), args.folder, rows)
    print(f"development set {args.folder} (codes not read; times are for plates only)")
    for half, note in (("tune", "tuned on"), ("report", "only measured, never tuned on")):
        part = [r for r in results if r["half"] == half]
        if part:
            summarise(part, f"{half} half ({len(part)} images; {note})")
    if args.show_misses:
        for r in results:
            if r["half"] == "tune" and not (r["exact"] and not r["false"]):
                print(f"  miss {r['file']} {r['colour']} {r['plate']} -> {r['texts']}")
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as fh:
            for r in results:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
