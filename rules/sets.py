"""Sets of input values, one per table column: what a cell accepts, as data.

Indexes and load-time analysis (overlaps, unreachable rows, gaps) work on these sets instead of
running cells. Two shapes cover every static cell:

* :class:`ValueSet` for unordered types (enum, string, boolean): listed values, or everything
  except listed values.
* :class:`IntervalSet` for ordered types (decimal, integer, date): a union of intervals. Bounds
  are kept as points of an "extended line" ``(v, 0)`` = just before v, ``(v, 1)`` = just after v,
  so every interval is half-open ``[start, end)`` there and open/closed ends need no special case.
  Dates are handled as day numbers. Integer and date sets are snapped to whole numbers so that
  ``<= 2`` and ``>= 3`` leave no gap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

NEG_INF = (Decimal("-Infinity"), 0)
POS_INF = (Decimal("Infinity"), 1)
Point = tuple[Decimal, int]


@dataclass(frozen=True)
class ValueSet:
    values: frozenset
    negated: bool = False  # True: every value except ``values``

    def contains(self, value: Any) -> bool:
        return (value in self.values) != self.negated

    def intersect(self, other: ValueSet) -> ValueSet:
        if not self.negated and not other.negated:
            return ValueSet(self.values & other.values)
        if not self.negated:
            return ValueSet(self.values - other.values)
        if not other.negated:
            return ValueSet(other.values - self.values)
        return ValueSet(self.values | other.values, True)

    def subtract(self, other: ValueSet) -> ValueSet:
        return self.intersect(ValueSet(other.values, not other.negated))

    def is_empty(self) -> bool:
        return not self.negated and not self.values

    def sample(self) -> Any:
        if not self.negated:
            return sorted(self.values, key=repr)[0]
        candidate = "其他"
        while candidate in self.values:
            candidate += "'"
        return candidate


@dataclass(frozen=True)
class IntervalSet:
    intervals: tuple[tuple[Point, Point], ...]  # sorted, disjoint, non-empty [start, end)
    discrete: bool = False  # integers or days: snap to whole numbers
    dates: bool = False  # sample() gives a date back

    @staticmethod
    def build(
        pieces: list[tuple[Point, Point]], discrete: bool = False, dates: bool = False
    ) -> IntervalSet:
        if discrete:
            pieces = [_snap(start, end) for start, end in pieces]
        pieces = sorted(piece for piece in pieces if piece[0] < piece[1])
        merged: list[tuple[Point, Point]] = []
        for start, end in pieces:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return IntervalSet(tuple(merged), discrete, dates)

    def contains(self, value: Decimal) -> bool:
        return any(start <= (value, 0) and (value, 1) <= end for start, end in self.intervals)

    def covers(self, start: Point, end: Point) -> bool:
        """Whether the whole extended-line stretch [start, end) lies inside this set."""
        return any(
            mine_start <= start and end <= mine_end for mine_start, mine_end in self.intervals
        )

    def intersect(self, other: IntervalSet) -> IntervalSet:
        pieces = [
            (max(a_start, b_start), min(a_end, b_end))
            for a_start, a_end in self.intervals
            for b_start, b_end in other.intervals
        ]
        return IntervalSet.build(pieces, self.discrete, self.dates)

    def subtract(self, other: IntervalSet) -> IntervalSet:
        pieces = list(self.intervals)
        for cut_start, cut_end in other.intervals:
            remaining = []
            for start, end in pieces:
                if cut_end <= start or end <= cut_start:
                    remaining.append((start, end))
                    continue
                if start < cut_start:
                    remaining.append((start, cut_start))
                if cut_end < end:
                    remaining.append((cut_end, end))
            pieces = remaining
        return IntervalSet.build(pieces, self.discrete, self.dates)

    def is_empty(self) -> bool:
        return not self.intervals

    def sample(self) -> Any:
        start, end = self.intervals[0]
        value = _sample_between(start, end, self.discrete)
        if self.dates:
            return dt.date.fromordinal(int(value))
        return value

    def endpoints(self) -> list[Decimal]:
        points = []
        for start, end in self.intervals:
            points.extend(point[0] for point in (start, end) if point[0].is_finite())
        return points


def _snap(start: Point, end: Point) -> tuple[Point, Point]:
    first = start[0] if not start[0].is_finite() else _first_whole(start)
    last = end[0] if not end[0].is_finite() else _last_whole(end)
    start_point = (first, 0) if first.is_finite() else start
    end_point = (last, 1) if last.is_finite() else end
    return start_point, end_point


def _first_whole(start: Point) -> Decimal:
    value, side = start
    if side == 0:
        return value.to_integral_value(ROUND_CEILING)
    return value.to_integral_value(ROUND_FLOOR) + 1


def _last_whole(end: Point) -> Decimal:
    value, side = end
    if side == 1:
        return value.to_integral_value(ROUND_FLOOR)
    return value.to_integral_value(ROUND_CEILING) - 1


def _sample_between(start: Point, end: Point, discrete: bool) -> Decimal:
    low, high = start[0], end[0]
    if low.is_finite() and start[1] == 0:
        return low
    if low.is_finite() and high.is_finite():
        return low + 1 if discrete else (low + high) / 2
    if low.is_finite():
        return low + 1
    if high.is_finite():
        return high if end[1] == 1 else high - 1
    return Decimal(0)


def interval(low: Decimal | None, low_closed: bool, high: Decimal | None, high_closed: bool):
    """One interval as extended-line points; None is an open infinite end."""
    start = NEG_INF if low is None else (low, 0 if low_closed else 1)
    end = POS_INF if high is None else (high, 1 if high_closed else 0)
    return start, end


def universe(
    type_name: str, allowed: tuple | None = None, low: Any = None, high: Any = None
) -> ValueSet | IntervalSet:
    """Every value an input of ``type_name`` may take (within its declared min and max)."""
    if type_name == "enum":
        return ValueSet(frozenset(allowed or ()))
    if type_name == "boolean":
        return ValueSet(frozenset((True, False)))
    if type_name == "string":
        return ValueSet(frozenset(), True)
    if type_name == "date":  # the calendar has ends: day 1 and 31 December 9999
        low = dt.date.min if low is None else low
        high = dt.date.max if high is None else high
    low = None if low is None else ordered_key(low)
    high = None if high is None else ordered_key(high)
    return IntervalSet.build(
        [interval(low, True, high, True)], type_name in ("integer", "date"), type_name == "date"
    )


def ordered_key(value: Any) -> Decimal:
    """The position of an ordered value on the line (dates as day numbers)."""
    if isinstance(value, dt.date):
        return Decimal(value.toordinal())
    return value
