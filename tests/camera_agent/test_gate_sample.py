"""The gate picture docs/cameras.md walks a newcomer through: the agent reads its plate, which is
the demo car at the demo camera's store (app/demo/loader.py SAMPLE_PLATE)."""

from __future__ import annotations

import json
from pathlib import Path

from camera_agent.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "gate" / "plate_hu_AK5218.jpg"


def test_the_shipped_gate_picture_reads_as_the_demo_car(reader, capsys):
    assert SAMPLE.is_file() and SAMPLE.stat().st_size < 100_000  # small enough to ship
    assert main(["read", str(SAMPLE.parent), "--json", "--no-codes"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [[p["text"] for p in line["plates"]] for line in lines] == [["沪AK5218"]]
    assert lines[0]["plates"][0]["colour"] == "blue"
