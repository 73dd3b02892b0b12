"""Signed HTTP posts to the app, and the loop that empties the spool in order.

Signature: hex HMAC-SHA256 keyed with the camera token over b"<unix seconds>." + body; the app
refuses timestamps more than 300 s off, so the box's clock must be synchronised (NTP).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

from camera_agent import __version__
from camera_agent.spool import Spool

log = logging.getLogger(__name__)

EVENTS_PATH = "/api/v1/camera/events"
HEARTBEAT_PATH = "/api/v1/camera/heartbeat"
MALFORMED = {400, 413, 422}


def sign(token: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Sender:
    def __init__(self, app_url: str, key_id: str, token: str, timeout: float = 5.0) -> None:
        self.app_url = app_url.rstrip("/")
        self.key_id = key_id
        self.token = token
        self.timeout = timeout

    def post(self, path: str, body: bytes) -> int | None:
        """Status code of the answer, or None when the app could not be reached."""
        timestamp = int(time.time())
        request = urllib.request.Request(
            self.app_url + path,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Camera-Key": self.key_id,
                "X-Timestamp": str(timestamp),
                "X-Signature": sign(self.token, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, OSError) as exc:
            log.debug("app unreachable: %s", exc)
            return None


class Backoff:
    """Exponential back-off: 1, 2, 4 ... seconds up to a cap; reset by a success."""

    def __init__(self, initial: float = 1.0, maximum: float = 60.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.delay = 0.0
        self.next_try = 0.0

    def ready(self, now: float) -> bool:
        return now >= self.next_try

    def failed(self, now: float) -> float:
        self.delay = min(self.maximum, self.delay * 2 if self.delay else self.initial)
        self.next_try = now + self.delay
        return self.delay

    def succeeded(self) -> None:
        self.delay = 0.0
        self.next_try = 0.0


@dataclass
class FlushResult:
    sent: int = 0
    dead: int = 0
    stopped_by: int | None | str = ""  # status that stopped the flush; "" when the spool emptied


def flush(spool: Spool, sender: Sender) -> FlushResult:
    """Send spooled events oldest first; stop at the first one the app did not take.

    Stopping (rather than skipping ahead) keeps the order: a later event never overtakes an
    earlier one that is still waiting.
    """
    result = FlushResult()
    for path in spool.pending():
        try:
            body = spool.load(path)
        except FileNotFoundError:  # dropped by a full spool meanwhile
            continue
        status = sender.post(EVENTS_PATH, body)
        if status in (200, 201):
            spool.done(path)
            result.sent += 1
        elif status in MALFORMED:
            log.error(
                "app refused event %s as malformed (HTTP %s): moved to %s",
                path.name,
                status,
                spool.dead_letter_path,
            )
            spool.dead_letter(path, f"HTTP {status}")
            result.dead += 1
        else:
            if status in (401, 403):
                log.error(
                    "app refused the camera token (HTTP %s): is the token revoked or "
                    "wrong? keeping %d events spooled",
                    status,
                    len(spool.pending()),
                )
            elif status is None:
                log.warning("app unreachable: keeping %d events spooled", len(spool.pending()))
            else:
                log.warning("app answered HTTP %s: keeping events spooled", status)
            result.stopped_by = status
            return result
    return result


def heartbeat_body(camera_code: str, spool_depth: int) -> bytes:
    return json.dumps(
        {
            "camera_code": camera_code,
            "agent_version": __version__,
            "sent_at": utc_now_iso(),
            "spool_depth": spool_depth,
        }
    ).encode()


def send_heartbeat(sender: Sender, camera_code: str, spool: Spool) -> int | None:
    status = sender.post(HEARTBEAT_PATH, heartbeat_body(camera_code, spool.depth()))
    if status in (401, 403):
        log.error("heartbeat refused (HTTP %s): camera token revoked or wrong", status)
    elif status not in (200, 201, 204):
        log.warning("heartbeat not delivered (%s)", status or "app unreachable")
    return status
