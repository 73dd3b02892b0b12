"""The running agent: frames in, deduplicated events into the spool, a thread sending them."""

from __future__ import annotations

import base64
import logging
import threading
import time
import uuid
from collections.abc import Iterable

import cv2
import numpy as np

from camera_agent.config import AgentConfig
from camera_agent.gate import DedupWindow, MotionGate
from camera_agent.reader import Reader
from camera_agent.sender import Backoff, Sender, flush, send_heartbeat, utc_now_iso
from camera_agent.sources import Frame, frames_from
from camera_agent.spool import Spool

log = logging.getLogger(__name__)


def jpeg_b64(image: np.ndarray | None) -> str | None:
    if image is None or image.size == 0:
        return None
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return base64.b64encode(data.tobytes()).decode("ascii") if ok else None


def make_event(
    kind: str,
    text: str,
    colour: str | None,
    confidence: float,
    camera_code: str,
    crop: np.ndarray | None,
) -> dict:
    """An event as the app's API expects it; the id is made once and kept across retries."""
    return {
        "event_id": str(uuid.uuid4()),
        "kind": kind,
        "text": text,
        "colour": colour,
        "confidence": round(float(confidence), 4),
        "seen_at": utc_now_iso(),
        "camera_code": camera_code,
        "image_jpeg_b64": jpeg_b64(crop),
    }


class FrameProcessor:
    """Motion gate, reading, dedup and spooling for a stream of frames."""

    def __init__(
        self,
        reader: Reader,
        spool: Spool,
        camera_code: str,
        dedup_seconds: float,
        motion: MotionGate | None,
        max_read_fps: float = 10.0,
    ) -> None:
        self.reader = reader
        self.spool = spool
        self.camera_code = camera_code
        self.dedup = DedupWindow(dedup_seconds)
        self.motion = motion
        self.min_interval = 1.0 / max_read_fps if max_read_fps > 0 else 0.0
        self.last_read = float("-inf")
        self.frames_seen = 0
        self.frames_read = 0

    def process(self, frame: Frame) -> list[dict]:
        self.frames_seen += 1
        if self.motion is not None and not self.motion.should_read(frame.image, frame.t):
            return []
        if frame.t - self.last_read < self.min_interval:
            return []
        self.last_read = frame.t
        self.frames_read += 1
        plates, codes = self.reader.read(frame.image)
        events = []
        for p in plates:
            if self.dedup.is_new("plate", p.text, frame.t):
                events.append(
                    make_event("plate", p.text, p.colour, p.confidence, self.camera_code, p.crop)
                )
        for c in codes:
            if self.dedup.is_new("code", c.text, frame.t):
                events.append(make_event("code", c.text, None, 1.0, self.camera_code, c.crop))
        for event in events:
            self.spool.add(event)
            log.info(
                "%s %s (%s, %.2f) spooled as %s",
                event["kind"],
                event["text"],
                event["colour"],
                event["confidence"],
                event["event_id"],
            )
        return events


class SenderThread(threading.Thread):
    """Empties the spool and sends heartbeats, apart from the vision loop so a slow or absent
    app never holds up reading frames."""

    def __init__(
        self,
        spool: Spool,
        sender: Sender,
        camera_code: str,
        heartbeat_seconds: float,
        backoff: Backoff,
        poll_seconds: float = 0.5,
    ) -> None:
        super().__init__(name="camera-agent-sender", daemon=True)
        self.spool = spool
        self.sender = sender
        self.camera_code = camera_code
        self.heartbeat_seconds = heartbeat_seconds
        self.backoff = backoff
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        self.next_heartbeat = 0.0

    def run(self) -> None:
        while not self.stopping.is_set():
            self.step(time.monotonic())
            self.stopping.wait(self.poll_seconds)

    def step(self, now: float) -> None:
        if now >= self.next_heartbeat:
            send_heartbeat(self.sender, self.camera_code, self.spool)
            self.next_heartbeat = now + self.heartbeat_seconds
        if self.spool.pending() and self.backoff.ready(now):
            result = flush(self.spool, self.sender)
            if result.stopped_by == "":
                if self.backoff.delay:
                    log.info("app reachable again: spool emptied")
                self.backoff.succeeded()
            else:
                delay = self.backoff.failed(now)
                log.info("next send attempt in %.0f s", delay)

    def stop(self) -> None:
        self.stopping.set()


def run_agent(config: AgentConfig, frames: Iterable[Frame] | None = None) -> None:
    """Run until the source ends (a file) or forever (a live camera)."""
    spool = Spool(config.spool_dir, config.spool_max_events)
    sender = Sender(config.app.url, config.app.key_id, config.app.token, config.app.timeout_seconds)
    thread = SenderThread(
        spool,
        sender,
        config.camera_code,
        config.heartbeat_seconds,
        Backoff(config.retry_initial_seconds, config.retry_max_seconds),
    )
    thread.start()
    reader = Reader(min_confidence=config.min_confidence, read_codes=config.read_codes)
    motion = MotionGate(config.motion_threshold, config.motion_hold_seconds, config.motion_hold_fps)
    processor = FrameProcessor(
        reader,
        spool,
        config.camera_code,
        config.dedup_seconds,
        motion if config.motion_enabled else None,
        config.max_read_fps,
    )
    log.info(
        "camera agent started: camera %s, source %s, app %s",
        config.camera_code,
        config.source,
        config.app.url,
    )
    if frames is None:
        frames = frames_from(
            config.source,
            reconnect_initial=config.reconnect_initial_seconds,
            reconnect_max=config.reconnect_max_seconds,
            loop_video=config.loop_video,
        )
    try:
        for frame in frames:
            processor.process(frame)
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        log.info(
            "source ended after %d frames (%d read); giving the sender a last chance",
            processor.frames_seen,
            processor.frames_read,
        )
        thread.stop()
        thread.join(timeout=5)
        if spool.pending():
            flush(spool, sender)
        log.info("%d events left in the spool", spool.depth())
