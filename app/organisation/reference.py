"""Reference data (brands, cities) from the core pack's YAML files."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.organisation.models import Brand, City

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "metadata" / "packs" / "core" / "reference"


def load_reference_data(session: Session) -> tuple[int, int]:
    """Insert the brands and cities that are missing; returns how many of each were added."""
    added_brands = _upsert(session, Brand, _read("brands.yaml"))
    added_cities = _upsert(session, City, _read("cities.yaml"))
    return added_brands, added_cities


def _read(name: str) -> list[dict]:
    return yaml.safe_load((REFERENCE_DIR / name).read_text(encoding="utf-8"))


def _upsert(session: Session, model, rows: list[dict]) -> int:
    existing = set(session.scalars(select(model.code)))
    new = [model(**row) for row in rows if row["code"] not in existing]
    session.add_all(new)
    session.flush()
    return len(new)
