"""Yellow plates in real scenes: the tuning half's blue scenes with the plate recoloured.

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python bench/camera/bench_recolour.py [--out DIR]

The development set has 3 yellow scenes; the held-out photos have more, and yellow was the
weak colour there. This check takes every blue scene of the TUNING half with a labelled box
(`bench_real.py`'s split; the report half is never used), turns the plate's blue background
yellow and its white characters black inside the box (real light, blur, angle and
surroundings kept), and reads the scenes with `Reader.read`. Exact = the label's text among
the plates read; colour right = that plate reported yellow. The recoloured images are made in
memory (`--out` writes them to a folder of your choice for a look, e.g. under /tmp): nothing
generated is committed. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy / onnxruntime load

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_real import DEV_SET, load_labels  # noqa: E402

from camera_agent.reader import Reader  # noqa: E402
from camera_agent.sources import load_image  # noqa: E402

# a yellow plate's paint in daylight (BGR), and its black characters
YELLOW = np.array([30, 190, 235], np.float32)
INK = np.array([25, 25, 25], np.float32)


def recolour_yellow(scene_bgr: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """The scene with the blue plate inside `box` (x1, y1, x2, y2) painted yellow with black
    characters, or None when the box holds too little plate blue to recolour.

    The plate is the convex hull of the box's largest blue patch; on it, a pixel's whiteness
    (its red and green against the plate's, white characters being high in both and the
    blue paint low) mixes yellow paint and black ink, and the paint is shaded by the blue
    channel's brightness there, so shadows, glare and blur stay where they were."""
    x1, y1, x2, y2 = box
    region = scene_bgr[y1:y2, x1:x2]
    if region.size == 0:
        return None
    hsv = cv2.cvtColor(region, cv2.COLOR_BGR2HSV)
    blue = cv2.inRange(hsv, (95, 60, 30), (135, 255, 255))
    if np.count_nonzero(blue) < 0.2 * blue.size:
        return None
    # the plate: the convex hull of the largest blue patch (its characters are holes in it)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(blue)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    points = cv2.findNonZero((labels == largest).astype(np.uint8))
    plate = np.zeros_like(blue)
    cv2.fillConvexPoly(plate, cv2.convexHull(points), 255)
    pixels = region.astype(np.float32)
    # whiteness: red and green, high in the white characters, low in the blue paint
    light = (pixels[..., 1] + pixels[..., 2]) / 2
    inside = plate > 0
    low, high = np.percentile(light[inside], (30, 97))
    white = np.clip((light - low) / max(high - low, 1.0), 0, 1)[..., None]
    blue_bg = max(float(np.median(pixels[..., 0][blue > 0])), 1.0)
    shade = np.clip(pixels[..., 0] / blue_bg, 0.2, 1.3)[..., None]
    painted = (1 - white) * np.clip(YELLOW * shade, 0, 255) + white * INK
    out = scene_bgr.copy()
    out[y1:y2, x1:x2][inside] = painted[inside].astype(np.uint8)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the recoloured scenes here")
    args = parser.parse_args()
    rows = [
        r
        for r in load_labels(DEV_SET)
        if r["half"] == "tune" and r["kind"] == "scene" and r["colour"] == "blue" and r["box"]
    ]
    reader = Reader(read_codes=False)
    exact = colour_right = skipped = false = 0
    cpu, misses = [], []
    for row in rows:
        scene = load_image(DEV_SET / row["file"])
        box = tuple(int(float(v)) for v in row["box"].split(","))
        yellow = None if scene is None else recolour_yellow(scene, box)
        if yellow is None:
            skipped += 1
            continue
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(args.out / Path(row["file"]).name), yellow)
        start = time.process_time()
        plates, _codes = reader.read(yellow)
        cpu.append((time.process_time() - start) * 1000)
        hit = [p for p in plates if p.text == row["plate"]]
        exact += bool(hit)
        colour_right += bool(hit) and hit[0].colour == "yellow"
        false += len(plates) - len(hit)
        if not hit:
            misses.append(f"{row['file']} {row['plate']} -> {[p.text for p in plates]}")
    n = len(cpu)
    print(f"tuning half, blue scenes recoloured yellow: {n} (skipped {skipped}: too little blue)")
    print(
        f"  exact {exact / max(n, 1):.1%} ({exact}/{n}); colour yellow on exact reads "
        f"{colour_right}/{exact}; false plates {false}"
    )
    if cpu:
        print(f"  CPU ms per scene median {statistics.median(cpu):.1f}")
    for miss in misses:
        print("  miss", miss)


if __name__ == "__main__":
    main()
