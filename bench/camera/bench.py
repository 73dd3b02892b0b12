"""Accuracy and speed of the camera agent's reader on the generated set.

    python bench/camera/generate.py            # once
    taskset -c 0 python bench/camera/bench.py  # one core, one inference thread

Prints figures; asserts nothing (see ARCHITECTURE.md: benchmarks print, tests assert).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy / onnxruntime load

import argparse  # noqa: E402
import collections  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import cv2  # noqa: E402

from camera_agent.agent import FrameProcessor  # noqa: E402
from camera_agent.gate import MotionGate  # noqa: E402
from camera_agent.reader import Reader  # noqa: E402
from camera_agent.sources import capture_frames, load_image  # noqa: E402
from camera_agent.spool import Spool  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "out" / "camera"


def bench_plates(
    reader: Reader, folder: Path, show_misses: int, title: str = "plates", grey: bool = False
) -> None:
    """Exact reads per colour, kind and effect; `grey`: each frame as an infra-red camera gives
    it (one grey channel, three times), where an ordinary plate's colour is not known."""
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    right = collections.Counter()
    total = collections.Counter()
    colour_right = 0
    times = []
    cpu_times = []
    misses = []
    for name, label in labels.items():
        image = load_image(folder / name)
        if grey:
            image = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        start, cpu_start = time.perf_counter(), time.process_time()
        plates, _codes = reader.read(image)
        times.append((time.perf_counter() - start) * 1000)
        cpu_times.append((time.process_time() - cpu_start) * 1000)
        texts = [p.text for p in plates]
        # colours and kinds share names (blue, yellow): count them under separate keys
        keys = ("all", "colour " + label["colour"], "kind " + label["kind"])
        keys += tuple("effect " + e for e in label["effects"] if e == "night")
        for key in keys:
            total[key] += 1
        if texts == [label["text"]]:
            for key in keys:
                right[key] += 1
            expected = None if grey and label["kind"] in ("blue", "yellow") else label["colour"]
            colour_right += plates[0].colour == expected
        else:
            misses.append((name, label["text"], texts, label["effects"]))
    print(f"{title}: {total['all']} frames 1280x720")
    print(
        f"  exact match overall: {right['all'] / total['all']:.1%}"
        f" ({right['all']}/{total['all']}); colour right on {colour_right} of them"
    )
    for key in sorted(k for k in total if k != "all"):
        print(f"  {key:20s} {right[key] / total[key]:6.1%} ({right[key]}/{total[key]})")
    print(
        f"  ms per frame (plates + codes): mean {statistics.mean(times):.1f}, "
        f"median {statistics.median(times):.1f}, p95 {_p95(times):.1f}"
    )
    print(
        f"  CPU ms per frame: mean {statistics.mean(cpu_times):.1f}, "
        f"median {statistics.median(cpu_times):.1f}, p95 {_p95(cpu_times):.1f}"
    )
    for miss in misses[:show_misses]:
        print("  miss:", *miss)


def bench_empty(reader: Reader, folder: Path) -> None:
    false = []
    files = sorted(folder.glob("*.jpg"))
    for path in files:
        plates, _ = reader.read(load_image(path))
        false += [(path.name, p.text) for p in plates]
    print(f"plate-free frames: {len(files)}, false plates: {len(false)} {false[:5]}")


def bench_video(reader: Reader, video: Path, expected: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spool = Spool(Path(tmp))
        # no read-rate cap: measure what one core sustains with the motion gate on
        processor = FrameProcessor(
            reader, spool, "BENCH", dedup_seconds=5, motion=MotionGate(), max_read_fps=0
        )
        start, cpu_start = time.perf_counter(), time.process_time()
        for frame in capture_frames(str(video)):
            processor.process(frame)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        texts = [json.loads(p.read_text(encoding="utf-8"))["text"] for p in spool.pending()]
    print(
        f"gate video: {processor.frames_seen} frames in {elapsed:.1f} s = "
        f"{processor.frames_seen / elapsed:.1f} fps sustained "
        f"({processor.frames_read} frames passed the motion gate and were read); "
        f"CPU {cpu:.1f} s = {processor.frames_seen / cpu:.1f} fps"
    )
    print(f"  events: {texts}; cars in the video: {expected}")


def _labels(folder: Path) -> dict:
    return json.loads((folder / "labels.json").read_text(encoding="utf-8"))


def _p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--misses", type=int, default=15, help="how many misses to list")
    parser.add_argument(
        "--grey", type=int, default=140, help="plate frames read again as infra-red (grey)"
    )
    args = parser.parse_args()
    if hasattr(os, "sched_getaffinity"):
        print(f"cores available to this process: {len(os.sched_getaffinity(0))}")
    reader = Reader()
    bench_plates(reader, args.out / "plates", args.misses)
    if (args.out / "double").is_dir():
        bench_plates(reader, args.out / "double", args.misses, "double-row yellow plates")
    if args.grey:
        with tempfile.TemporaryDirectory() as tmp:
            first = dict(list(_labels(args.out / "plates").items())[: args.grey])
            for name in first:
                (Path(tmp) / name).symlink_to((args.out / "plates" / name).resolve())
            (Path(tmp) / "labels.json").write_text(json.dumps(first), encoding="utf-8")
            bench_plates(reader, Path(tmp), args.misses, "infra-red (grey) plate frames", True)
    bench_empty(reader, args.out / "empty")
    expected = json.loads((args.out / "gate.json").read_text(encoding="utf-8"))
    bench_video(reader, args.out / "gate.mp4", expected)


if __name__ == "__main__":
    main()
