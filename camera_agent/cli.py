"""Command line: `python -m camera_agent run --config agent.toml` and `... read PATH... --json`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m camera_agent", description="DealerCover camera agent"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="watch the camera and send events to the app")
    run.add_argument("--config", type=Path, default=Path("/etc/dealercover-camera/agent.toml"))
    read = commands.add_parser("read", help="read plates and codes from image files")
    read.add_argument("paths", nargs="+", type=Path, help="image files or folders")
    read.add_argument("--json", action="store_true", help="one JSON line per image")
    read.add_argument("--no-codes", action="store_true", help="skip barcode / QR reading")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # one inference thread unless told otherwise: the gate box has few cores to share
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.command == "read":
        return read_command(args.paths, as_json=args.json, codes=not args.no_codes)
    return run_command(args.config)


def read_command(paths: list[Path], as_json: bool, codes: bool = True) -> int:
    from camera_agent.reader import Reader
    from camera_agent.sources import image_files, load_image

    reader = Reader(read_codes=codes)
    for path in image_files(paths):
        image = load_image(path)
        if image is None:
            continue  # load_image logged why
        plates, found_codes = reader.read(image)
        record = {
            "file": str(path),
            "plates": [p.as_json() for p in plates],
            "codes": [c.as_json() for c in found_codes],
        }
        if as_json:
            print(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            texts = [f"{p.text} ({p.colour}, {p.confidence:.2f})" for p in plates]
            texts += [f"{c.symbology}: {c.text}" for c in found_codes]
            print(f"{path}: {', '.join(texts) or '-'}", flush=True)
    return 0


def run_command(config_path: Path) -> int:
    from camera_agent.agent import run_agent
    from camera_agent.config import ConfigError, load_config

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        logging.getLogger("camera_agent").error("%s", exc)
        return 2
    run_agent(config)
    return 0
