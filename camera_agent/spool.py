"""Events waiting to be sent, on disk, one JSON file per event named by a rising sequence number.

Files survive a restart or a power cut; the name order is the send order. A file is written to a
temporary name and renamed, so a crash never leaves half an event behind.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

SUFFIX = ".json"


class Spool:
    def __init__(self, directory: Path, max_events: int = 10000) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_events = max_events
        self.dead_letter_path = self.directory / "dead-letter.jsonl"
        self._lock = threading.Lock()
        self._next = self._last_sequence() + 1
        self.dropped = 0

    def _last_sequence(self) -> int:
        numbers = [int(p.stem) for p in self._files()]
        return max(numbers, default=0)

    def _files(self) -> list[Path]:
        return sorted(p for p in self.directory.glob("*" + SUFFIX) if p.stem.isdigit())

    def add(self, event: dict) -> Path:
        """Store an event at the end of the queue; when the spool is full the oldest is dropped.

        The oldest goes because a desk alert for a car that arrived hours ago is worth less than
        one for the car at the gate now; every drop is logged as an error.
        """
        with self._lock:
            files = self._files()
            while len(files) >= self.max_events:
                oldest = files.pop(0)
                oldest.unlink(missing_ok=True)
                self.dropped += 1
                log.error(
                    "spool full (%d events): dropped oldest event %s", self.max_events, oldest.name
                )
            path = self.directory / f"{self._next:012d}{SUFFIX}"
            self._next += 1
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(event, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
            return path

    def pending(self) -> list[Path]:
        with self._lock:
            return self._files()

    def depth(self) -> int:
        return len(self.pending())

    @staticmethod
    def load(path: Path) -> bytes:
        return path.read_bytes()

    def done(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def dead_letter(self, path: Path, reason: str) -> None:
        """Move an event the app refused as malformed out of the queue, keeping it for a human."""
        with self._lock:
            record = {
                "file": path.name,
                "reason": reason,
                "event": json.loads(path.read_text(encoding="utf-8")),
            }
            with self.dead_letter_path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            path.unlink(missing_ok=True)
