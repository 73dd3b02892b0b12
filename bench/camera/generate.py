"""Generate the camera benchmark set into bench/out/camera/ (git-ignored).

    python bench/camera/generate.py [--plates 560] [--empty 60] [--seed 2024]

Writes plates/*.jpg with labels.json (text, colour, kind, effects), empty/*.jpg (no plate),
gate.mp4: cars driving up to the gate, stopping and leaving, with empty gaps between them, and
double/*.jpg with labels.json: double-row yellow plates (from a generator of their own, so the
other sets are the same as before they were added).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import render  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "out" / "camera"


def generate_plates(
    rng: random.Random, count: int, folder: Path, kinds: list[str] | None = None
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    kinds = kinds or list(render.KINDS)
    labels = {}
    for i in range(count):
        kind = kinds[i % len(kinds)]
        # every province appears, cycling independently of the kind
        province = render.PROVINCES[(i // len(kinds) + i) % len(render.PROVINCES)]
        plate = render.random_plate(rng, kind, province)
        effects = render.random_effects(rng)
        frame, corners = render.plate_scene(rng, plate, effects)
        name = f"plate_{i:04d}.jpg"
        cv2.imwrite(
            str(folder / name),
            cv2.cvtColor(frame, cv2.COLOR_RGB2BGR),
            [cv2.IMWRITE_JPEG_QUALITY, 90],
        )
        labels[name] = {
            "text": plate.text,
            "colour": plate.colour,
            "kind": kind,
            "effects": effects,
            # where the plate is (x, y per corner, clockwise from top-left): for diagnosis
            "corners": [[round(float(v), 1) for v in pt] for pt in corners],
        }
    (folder / "labels.json").write_text(
        json.dumps(labels, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def generate_empty(rng: random.Random, count: int, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        effects = render.random_effects(rng)
        frame = render.degrade(rng, render.random_background(rng), None, effects)
        cv2.imwrite(str(folder / f"empty_{i:04d}.jpg"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))


def generate_gate_video(rng: random.Random, path: Path, cars: int = 4, fps: int = 25) -> list:
    """Each car: 1.5 s empty gate, 2 s driving up, 2 s standing, 1.5 s leaving."""
    background = render.random_background(rng)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (1280, 720))
    timeline = []
    for _ in range(cars):
        plate = render.random_plate(rng, rng.choice(list(render.KINDS)))
        face = render.render_plate(plate)
        car_rng_seed = rng.randrange(1 << 30)
        timeline.append(plate.text)
        phases = [(None, int(1.5 * fps))] + [
            ("in", 2 * fps),
            ("stand", 2 * fps),
            ("out", int(1.5 * fps)),
        ]
        for phase, frames in phases:
            for k in range(frames):
                frame = background.copy()
                if phase is not None:
                    progress = {"in": k / frames, "stand": 1.0, "out": 1 - k / frames}[phase]
                    _draw_car_at(random.Random(car_rng_seed), frame, face, progress)
                noisy = frame.astype(np.int16) + np.random.default_rng(k).integers(
                    -3, 4, frame.shape, dtype=np.int16
                )
                writer.write(
                    cv2.cvtColor(np.clip(noisy, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
                )
    writer.release()
    return timeline


def _draw_car_at(rng: random.Random, frame: np.ndarray, face: np.ndarray, progress: float):
    """Car approaching from the bottom of the frame: it grows and rises as it comes."""
    plate_width = int(120 + 110 * progress)
    cx = 640
    cy = int(720 + 60 - (720 - 420) * progress)
    render.draw_car(rng, frame, cx, cy, plate_width * 4)
    if cy + plate_width // 6 < 720:
        render.place_plate(rng, frame, face, plate_width, (cx, cy), skew=0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plates", type=int, default=560)
    parser.add_argument("--empty", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--double", type=int, default=40, help="double-row yellow plate frames")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    generate_plates(rng, args.plates, args.out / "plates")
    generate_empty(rng, args.empty, args.out / "empty")
    timeline = generate_gate_video(rng, args.out / "gate.mp4")
    (args.out / "gate.json").write_text(json.dumps(timeline, ensure_ascii=False), encoding="utf-8")
    # double-row plates from a generator of their own: the sets above stay as they were
    generate_plates(
        random.Random(args.seed + 1), args.double, args.out / "double", ["yellow_double"]
    )
    print(
        f"wrote {args.plates} plate frames, {args.empty} empty frames, gate.mp4 "
        f"({len(timeline)} cars) and {args.double} double-row plate frames to {args.out}"
    )


if __name__ == "__main__":
    main()
