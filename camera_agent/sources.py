"""Frames from a camera: RTSP/HTTP stream, USB index, video file or folder of images.

A live source that dies is reopened with exponential back-off, and each attempt is logged.
Frames come with a time in seconds: the wall clock for live sources, the position in the file
for recorded video, so a video replays with its own timing at whatever speed we can read it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass
class Frame:
    image: np.ndarray
    t: float
    name: str


def load_image(path: Path) -> np.ndarray | None:
    """Decode an image file, or None (with a log line) when it is corrupt or truncated.

    OpenCV happily decodes the first half of a truncated JPEG and fills the rest with grey,
    so the end-of-image marker is checked first.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        log.warning("skipping %s: cannot read (%s)", path, exc)
        return None
    if is_truncated(data):
        log.warning("skipping %s: truncated image file", path)
        return None
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        log.warning("skipping %s: not a decodable image", path)
    return image


def is_truncated(data: bytes) -> bool:
    if data[:3] == b"\xff\xd8\xff":
        # a JPEG must end with the EOI marker; some cameras and encoders pad the file after it
        # with zero (or 0xFF fill) bytes, which decoders ignore, so the padding is skipped
        return b"\xff\xd9" not in data.rstrip(b"\x00\xff")[-64:]
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return b"IEND" not in data[-16:]
    return False


def image_files(paths: list[Path]) -> list[Path]:
    """Files as given, folders expanded to their images in name order."""
    out = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            out.append(path)
    return out


def folder_frames(folder: Path) -> Iterator[Frame]:
    for i, path in enumerate(image_files([folder])):
        image = load_image(path)
        if image is not None:
            yield Frame(image, float(i), path.name)


def parse_source(source: str) -> str | int:
    return int(source) if source.isdigit() else source


def capture_frames(
    source: str,
    reconnect_initial: float = 1.0,
    reconnect_max: float = 60.0,
    loop_video: bool = False,
    stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Frame]:
    """Frames from OpenCV's VideoCapture; live sources reconnect forever with back-off."""
    target = parse_source(source)
    is_file = isinstance(target, str) and Path(target).is_file()
    delay = reconnect_initial
    while not stop():
        capture = cv2.VideoCapture(target)
        if not capture.isOpened():
            if is_file:
                log.error("cannot open video file %s", source)
                return
            log.warning("camera source %s unavailable: retrying in %.0f s", source, delay)
            sleep(delay)
            delay = min(reconnect_max, delay * 2)
            continue
        log.info("camera source %s opened", source)
        delay = reconnect_initial
        count = 0
        while not stop():
            ok, image = capture.read()
            if not ok or image is None:
                break
            count += 1
            t = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0 if is_file else time.time()
            yield Frame(image, t, f"frame{count}")
        capture.release()
        if is_file and not loop_video:
            return
        if not is_file:
            log.warning(
                "camera source %s stopped after %d frames: reconnecting in %.0f s",
                source,
                count,
                delay,
            )
            sleep(delay)
            delay = min(reconnect_max, delay * 2)


def frames_from(source: str, **kwargs) -> Iterator[Frame]:
    if Path(source).is_dir():
        return folder_frames(Path(source))
    return capture_frames(source, **kwargs)
