"""Bounds on dates and times that come from outside (APIs, forms, imports, camera agents).

Python's datetime stops at years 1 and 9999, and converting a time near either end to another
zone overflows: one stored `9999-12-31 23:00` made every page that shows it in local time fail.
No date of this trade (a birth date, a registration, a policy period, a camera read) lies outside
1900-2200, so anything outside is refused where it enters, naming the field, and never stored.
"""

from __future__ import annotations

import datetime

EARLIEST_YEAR = 1900
LATEST_YEAR = 2200


class OutOfRange(ValueError):
    """A date or time outside EARLIEST_YEAR..LATEST_YEAR: `message` (English) and `chinese`."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.message = f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}"
        self.chinese = f"年份须在 {EARLIEST_YEAR} 到 {LATEST_YEAR} 之间"
        super().__init__(f"{field}: {self.message}")


def is_plausible(value: datetime.date) -> bool:
    """True for a date or datetime (aware or naive) whose year is within the bounds."""
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


def check_plausible(value: datetime.date, field: str) -> datetime.date:
    """`value` unchanged, or OutOfRange naming `field`."""
    if not is_plausible(value):
        raise OutOfRange(field)
    return value
