"""Frame-level decisions: is anything moving (motion gate), and was this plate just reported."""

from __future__ import annotations

import cv2
import numpy as np


class MotionGate:
    """Says whether a frame is worth reading.

    An empty gate gives the same picture for hours; reading it would burn the CPU. A frame is
    read when enough pixels changed since the previous frame. For `hold_seconds` after the last
    change, still frames are read too, because a car that has stopped at the barrier no longer
    moves but is the one to read; during the hold only `hold_fps` frames a second are read (a
    still picture says the same thing twenty times a second), so a hold that outlasts the car
    costs little.
    """

    def __init__(
        self, threshold: float = 0.004, hold_seconds: float = 2.0, hold_fps: float = 2.0
    ) -> None:
        self.threshold = threshold
        self.hold_seconds = hold_seconds
        self.hold_interval = 1.0 / hold_fps if hold_fps > 0 else 0.0
        self.previous: np.ndarray | None = None
        self.last_motion = float("-inf")
        self.last_held_read = float("-inf")

    def changed_fraction(self, frame_bgr: np.ndarray) -> float:
        small = cv2.resize(frame_bgr, (160, 90), interpolation=cv2.INTER_AREA)
        grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
        previous, self.previous = self.previous, grey
        if previous is None:
            return 1.0
        return float(np.count_nonzero(cv2.absdiff(grey, previous) > 18)) / grey.size

    def should_read(self, frame_bgr: np.ndarray, t: float) -> bool:
        if self.changed_fraction(frame_bgr) >= self.threshold:
            self.last_motion = self.last_held_read = t
            return True
        if t - self.last_motion > self.hold_seconds:
            return False
        if t - self.last_held_read + 1e-9 < self.hold_interval:
            return False
        self.last_held_read = t
        return True


class DedupWindow:
    """Repeats of the same text within `seconds` are one event.

    Every sighting refreshes the window, so a car standing in view for ten minutes is one
    arrival; it is reported again only after it has been out of sight for the whole window.
    """

    def __init__(self, seconds: float = 60.0) -> None:
        self.seconds = seconds
        self.last_seen: dict[tuple[str, str], float] = {}

    def is_new(self, kind: str, text: str, t: float) -> bool:
        key = (kind, text)
        previous = self.last_seen.get(key)
        self.last_seen[key] = t
        self._forget_older_than(t - self.seconds)
        return previous is None or t - previous > self.seconds

    def _forget_older_than(self, cutoff: float) -> None:
        if len(self.last_seen) > 1000:
            self.last_seen = {k: v for k, v in self.last_seen.items() if v >= cutoff}
