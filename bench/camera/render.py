"""Render synthetic Chinese licence plates and gate scenes for tests and the benchmark.

Plates follow the layout of the real ones (440x140 mm single-row, 480x140 mm new-energy) closely
enough to exercise the locator and the reader; the font is WenQuanYi Zen Hei, not the official
plate font, which is one reason renders never fully imitate real photographs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
DIGITS = "0123456789"

# Kinds of plate: colour seen, background style, text colour (RGB).
KINDS = {
    "blue": ("blue", "blue", (255, 255, 255)),
    "yellow": ("yellow", "yellow", (0, 0, 0)),
    "yellow_suffix": ("yellow", "yellow", (0, 0, 0)),
    "green_small": ("green", "green_small", (0, 0, 0)),
    "green_large": ("green", "green_large", (0, 0, 0)),
    "police": ("white", "white", (0, 0, 0)),
    "hkmo": ("black", "black", (255, 255, 255)),
}
# kinds rendered only on request (not cycled through by the benchmark's default set, which stays
# as it was): the double-row yellow rear plate of lorries and buses, 440x220 mm
EXTRA_KINDS = {"yellow_double": ("yellow", "yellow", (0, 0, 0))}
ALL_KINDS = {**KINDS, **EXTRA_KINDS}


@dataclass
class Plate:
    text: str
    kind: str
    colour: str


def random_serial(rng: random.Random, length: int, max_letters: int = 2) -> str:
    chars = [rng.choice(DIGITS) for _ in range(length)]
    for _ in range(rng.randint(0, max_letters)):
        chars[rng.randrange(length)] = rng.choice(LETTERS)
    return "".join(chars)


def random_plate(rng: random.Random, kind: str, province: str | None = None) -> Plate:
    prov = province or rng.choice(PROVINCES)
    letter = rng.choice(LETTERS)
    if kind in ("blue", "yellow", "yellow_double"):
        text = prov + letter + random_serial(rng, 5)
    elif kind == "yellow_suffix":
        text = prov + letter + random_serial(rng, 4, 1) + rng.choice("学挂")
    elif kind == "police":
        text = prov + letter + random_serial(rng, 4, 0) + "警"
    elif kind == "hkmo":
        text = "粤Z" + random_serial(rng, 4, 1) + rng.choice("港澳")
    elif kind == "green_small":
        text = prov + letter + rng.choice("DF") + rng.choice(LETTERS + DIGITS)
        text += "".join(rng.choice(DIGITS) for _ in range(4))
    elif kind == "green_large":
        text = prov + letter + "".join(rng.choice(DIGITS) for _ in range(5)) + rng.choice("DF")
    else:
        raise ValueError(kind)
    return Plate(text=text, kind=kind, colour=ALL_KINDS[kind][0])


@lru_cache(maxsize=1)
def _font() -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_PATH, 200)


@lru_cache(maxsize=256)
def _glyph(ch: str) -> np.ndarray:
    """A tightly cropped grey mask of one character, drawn large once and cached."""
    img = Image.new("L", (240, 240), 0)
    ImageDraw.Draw(img).text((20, 0), ch, font=_font(), fill=255)
    mask = np.array(img)
    ys, xs = np.nonzero(mask > 40)
    return mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def _background(style: str, width: int, height: int) -> np.ndarray:
    bg = np.zeros((height, width, 3), np.float32)
    if style == "blue":
        bg[:] = (22, 64, 200)
    elif style == "yellow":
        bg[:] = (248, 196, 10)
    elif style == "white":
        bg[:] = (240, 240, 236)
    elif style == "black":
        bg[:] = (18, 18, 20)
    elif style == "green_small":  # white at the top fading to green at the bottom
        t = np.linspace(0, 1, height)[:, None, None]
        bg[:] = (1 - t) * np.array([235, 248, 238]) + t * np.array([70, 196, 110])
    elif style == "green_large":  # yellow on the left fading to green on the right
        t = np.linspace(0, 1, width)[None, :, None]
        bg[:] = (1 - t) * np.array([238, 214, 40]) + t * np.array([92, 190, 80])
    return bg


def render_plate(plate: Plate, scale: int = 2) -> np.ndarray:
    """The plate face as an RGB uint8 image, `scale` pixels per millimetre."""
    if plate.kind == "yellow_double":
        return render_double_plate(plate, scale)
    _, style, ink = KINDS[plate.kind]
    n = len(plate.text)
    width_mm = 480 if n == 8 else 440
    w, h = width_mm * scale, 140 * scale
    img = _background(style, w, h)
    # character boxes (mm): 45 wide for 7 chars, 43 for 8; a wider gap for the separator dot
    cw = 43 if n == 8 else 45
    gap, dot_gap = (9, 49) if n == 8 else (12, 34)
    total = n * cw + (n - 2) * gap + dot_gap
    x = (width_mm - total) / 2
    for i, ch in enumerate(plate.text):
        colour = (220, 20, 20) if ch == "警" else ink
        _draw_char(img, ch, x * scale, 25 * scale, cw * scale, 90 * scale, colour)
        x += cw + (dot_gap if i == 1 else gap)
        if i == 1:
            cx, cy = int((x - dot_gap / 2) * scale), h // 2
            cv2.circle(img, (cx, cy), 5 * scale, ink, -1, cv2.LINE_AA)
    border = 2 * scale
    cv2.rectangle(img, (4 * scale, 4 * scale), (w - 4 * scale, h - 4 * scale), ink, border)
    return np.clip(img, 0, 255).astype(np.uint8)


def render_double_plate(plate: Plate, scale: int = 2) -> np.ndarray:
    """A double-row plate, 440x220 mm: the province and the letter on the top row (characters
    80x60 mm), the five serial characters below (65x110 mm), as GA 36 lays them out."""
    _, style, ink = EXTRA_KINDS[plate.kind]
    w, h = 440 * scale, 220 * scale
    img = _background(style, w, h)
    for i, ch in enumerate(plate.text[:2]):
        _draw_char(img, ch, (110 + i * 140) * scale, 15 * scale, 80 * scale, 60 * scale, ink)
    for i, ch in enumerate(plate.text[2:]):
        _draw_char(img, ch, (27 + i * 80) * scale, 90 * scale, 65 * scale, 110 * scale, ink)
    border = 2 * scale
    cv2.rectangle(img, (4 * scale, 4 * scale), (w - 4 * scale, h - 4 * scale), ink, border)
    return np.clip(img, 0, 255).astype(np.uint8)


def _draw_char(img: np.ndarray, ch: str, x: float, y: float, w: float, h: float, ink) -> None:
    glyph = _glyph(ch).astype(np.float32) / 255
    gh, gw = glyph.shape
    # digits like "1" stay narrow: scale to the box height, cap the width at the box width
    target_w = min(w, gw * h / gh) if ch.isascii() else w
    resized = cv2.resize(glyph, (max(1, int(target_w)), int(h)), interpolation=cv2.INTER_AREA)
    x0 = int(x + (w - target_w) / 2)
    y0 = int(y)
    region = img[y0 : y0 + resized.shape[0], x0 : x0 + resized.shape[1]]
    alpha = resized[: region.shape[0], : region.shape[1], None]
    region[:] = region * (1 - alpha) + np.array(ink, np.float32) * alpha


# ---------------------------------------------------------------------------------------------
# scenes


def random_background(rng: random.Random, width: int = 1280, height: int = 720) -> np.ndarray:
    """A street-like frame: ground gradient, a wall, a car body, some signs and clutter."""
    nprng = np.random.default_rng(rng.randrange(1 << 30))
    top = np.array([rng.randint(60, 200) for _ in range(3)], np.float32)
    bottom = np.array([rng.randint(40, 160) for _ in range(3)], np.float32)
    t = np.linspace(0, 1, height)[:, None, None]
    frame = ((1 - t) * top + t * bottom) * np.ones((1, width, 1), np.float32)
    for _ in range(rng.randint(3, 9)):  # clutter, some of it plate-coloured on purpose
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = x0 + rng.randint(30, 400), y0 + rng.randint(20, 200)
        colour = rng.choice([(22, 64, 200), (248, 196, 10), (80, 190, 100), None])
        colour = colour or tuple(rng.randint(0, 255) for _ in range(3))
        cv2.rectangle(frame, (x0, y0), (x1, y1), colour, -1)
    for _ in range(rng.randint(0, 3)):  # latin signs: text that must not become a plate
        words = rng.choice(["EXIT", "PARKING", "SERVICE 4S", "OPEN 9-18", "AUTO", "NO 5"])
        org = (rng.randrange(width - 200), rng.randrange(40, height))
        cv2.putText(
            frame,
            words,
            org,
            cv2.FONT_HERSHEY_SIMPLEX,
            rng.uniform(0.8, 2.0),
            (255, 255, 255),
            rng.randint(1, 4),
        )
    frame += nprng.normal(0, 4, frame.shape)
    return np.clip(frame, 0, 255).astype(np.uint8)


def draw_car(rng: random.Random, frame: np.ndarray, cx: int, cy: int, width: int) -> None:
    """A crude car rear around the plate position, so the plate sits on a body, not on a wall."""
    colour = tuple(rng.randint(0, 255) for _ in range(3))
    h = int(width * 0.55)
    x0, y0 = cx - width // 2, cy - int(h * 0.7)
    cv2.rectangle(frame, (x0, y0), (x0 + width, y0 + h), colour, -1)
    cv2.rectangle(frame, (x0 + width // 8, y0 - h // 2), (x0 + width * 7 // 8, y0), colour, -1)
    cv2.rectangle(
        frame, (x0 + width // 6, y0 - h // 2 + 8), (x0 + width * 5 // 6, y0 - 6), (40, 50, 60), -1
    )  # rear window
    for lx in (x0 + 10, x0 + width - 90):  # lights
        cv2.rectangle(frame, (lx, y0 + 20), (lx + 80, y0 + 55), (200, 30, 30), -1)


def place_plate(
    rng: random.Random,
    frame: np.ndarray,
    face: np.ndarray,
    plate_width: int,
    centre: tuple[int, int],
    skew: float,
) -> np.ndarray:
    """Warp the plate face into the frame with some perspective; returns its 4 corners."""
    h, w = face.shape[:2]
    ph = plate_width * h / w
    cx, cy = centre
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float32)
    corners *= np.array([plate_width / 2, ph / 2], np.float32)
    # perspective: one side taller than the other (yaw), top narrower than bottom (tilt)
    yaw = rng.uniform(-skew, skew)
    tilt = rng.uniform(-skew, skew) * 0.6
    corners[:, 1] *= 1 + yaw * np.sign(corners[:, 0])
    corners[:, 0] *= 1 + tilt * np.sign(corners[:, 1])
    angle = np.deg2rad(rng.uniform(-6, 6))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    corners = corners @ rot.T + np.array([cx, cy], np.float32)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(src, corners)
    fh, fw = frame.shape[:2]
    warped = cv2.warpPerspective(face, m, (fw, fh), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (fw, fh))
    frame[mask > 127] = warped[mask > 127]
    return corners


def degrade(
    rng: random.Random, frame: np.ndarray, corners: np.ndarray | None, effects: list[str]
) -> np.ndarray:
    """Apply camera effects: blur, noise, uneven light, a shadow across the plate, night."""
    img = frame.astype(np.float32)
    fh, fw = img.shape[:2]
    if "shadow" in effects and corners is not None:
        # a dark polygon covering part of the plate, like a pole's or a roof's shadow
        x0, x1 = corners[:, 0].min(), corners[:, 0].max()
        cut = rng.uniform(x0 + (x1 - x0) * 0.25, x0 + (x1 - x0) * 0.75)
        poly = np.array([[cut, 0], [cut + rng.uniform(-80, 80), fh], [fw, fh], [fw, 0]], np.int32)
        if rng.random() < 0.5:
            poly = np.array([[cut, 0], [cut + rng.uniform(-80, 80), fh], [0, fh], [0, 0]], np.int32)
        mask = np.zeros((fh, fw), np.float32)
        cv2.fillPoly(mask, [poly], 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), 3)
        img *= 1 - mask[..., None] * rng.uniform(0.35, 0.6)
    if "light" in effects:
        # light falling off across the frame
        gx = np.linspace(rng.uniform(0.5, 1.0), rng.uniform(1.0, 1.4), fw)[None, :]
        gy = np.linspace(rng.uniform(0.7, 1.1), rng.uniform(0.9, 1.3), fh)[:, None]
        img *= (gx * gy)[..., None]
    if "night" in effects:
        img = img * rng.uniform(0.25, 0.45) + rng.uniform(0, 10)
        if corners is not None:  # the plate lit by a lamp, the rest dark
            cx, cy = corners.mean(axis=0)
            yy, xx = np.mgrid[0:fh, 0:fw]
            glow = np.exp(-(((xx - cx) / 300) ** 2 + ((yy - cy) / 200) ** 2))
            img *= (1 + glow * rng.uniform(0.5, 1.2))[..., None]
    if "blur" in effects:
        if rng.random() < 0.5:
            img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 1.6))
        else:  # horizontal motion blur of a moving car
            k = rng.randint(3, 7)
            kernel = np.zeros((k, k), np.float32)
            kernel[k // 2, :] = 1 / k
            img = cv2.filter2D(img, -1, kernel)
    if "noise" in effects or "night" in effects:
        sigma = rng.uniform(4, 12) if "night" in effects else rng.uniform(3, 9)
        img += np.random.default_rng(rng.randrange(1 << 30)).normal(0, sigma, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def plate_scene(
    rng: random.Random, plate: Plate, effects: list[str], width: int = 1280, height: int = 720
) -> tuple[np.ndarray, np.ndarray]:
    """A 1280x720 RGB frame with one plate on a car; returns (frame, plate corners)."""
    frame = random_background(rng, width, height)
    plate_width = rng.randint(150, 300)
    cx = rng.randint(plate_width, width - plate_width)
    cy = rng.randint(height // 3, height - 80)
    draw_car(rng, frame, cx, cy, int(plate_width * rng.uniform(3.5, 4.5)))
    face = render_plate(plate)
    corners = place_plate(rng, frame, face, plate_width, (cx, cy), skew=0.18)
    return degrade(rng, frame, corners, effects), corners


def random_effects(rng: random.Random) -> list[str]:
    effects = [e for e in ("blur", "noise", "light", "shadow") if rng.random() < 0.4]
    if rng.random() < 0.2:
        effects.append("night")
    return effects
