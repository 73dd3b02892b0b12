"""Find plate-shaped regions in a frame cheaply with OpenCV, before any neural network runs.

Two proposers: colour masks (blue, yellow and green plate backgrounds in HSV) and dense vertical
edges (rows of characters), the latter for white police and black Hong Kong/Macau plates and for
plates sitting on a car of their own colour. Proposals are plate-shaped boxes; the recogniser and
the plate grammar decide which of them are plates.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WORK_WIDTH = 640  # the frame is searched at this width; crops are cut from the full frame
MIN_ASPECT, MAX_ASPECT = 1.8, 6.5  # single-row plates are ~3.1-3.5, perspective widens the range
MIN_PLATE_WIDTH = 36  # at work width: ~70 px at 1280, about the smallest readable plate

# (low, high) HSV bounds of plate backgrounds; OpenCV hue runs 0-179
COLOUR_RANGES = {
    "blue": [((100, 90, 35), (128, 255, 255))],
    "yellow": [((12, 90, 60), (34, 255, 255))],
    "green": [((38, 50, 60), (85, 255, 255))],
    # large new-energy plates fade from yellow to green: one mask for both halves
    "yellowgreen": [((12, 60, 60), (85, 255, 255))],
    # white police plates and black Hong Kong / Macau plates
    "white": [((0, 0, 150), (179, 45, 255))],
    "black": [((0, 0, 0), (179, 255, 55))],
}
# how far apart the pieces of one plate's mask may be (characters cut the colour mask)
CLOSE_KERNELS = {"white": (17, 3), "black": (17, 3)}


@dataclass
class Candidate:
    corners: (
        np.ndarray
    )  # 4x2 float32 in full-frame pixels: top-left, top-right, bottom-right, -left
    source: str  # "blue", "yellow", "green" or "edges"
    score: float

    @property
    def box(self) -> tuple[int, int, int, int]:
        x0, y0 = self.corners.min(axis=0)
        x1, y1 = self.corners.max(axis=0)
        return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def find_candidates(frame_bgr: np.ndarray, limit: int = 6) -> list[Candidate]:
    """Plate-shaped regions, best first, at most `limit` of them."""
    scale = WORK_WIDTH / frame_bgr.shape[1]
    small = cv2.resize(frame_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    found: list[Candidate] = []
    for colour, ranges in COLOUR_RANGES.items():
        mask = np.zeros(hsv.shape[:2], np.uint8)
        for low, high in ranges:
            mask |= cv2.inRange(hsv, np.array(low), np.array(high))
        found += _shapes(mask, colour, CLOSE_KERNELS.get(colour, (9, 3)))
    found += _shapes(_edge_mask(small), "edges", (15, 5))
    for cand in found:
        cand.corners = cand.corners / scale
    return _drop_overlaps(sorted(found, key=lambda c: -c.score))[:limit]


def _edge_mask(small_bgr: np.ndarray) -> np.ndarray:
    """Where many vertical strokes stand close together: the character row of a plate."""
    grey = cv2.cvtColor(small_bgr, cv2.COLOR_BGR2GRAY)
    grey = cv2.equalizeHist(grey)  # night frames: stretch the contrast before edges
    sobel = cv2.convertScaleAbs(cv2.Sobel(grey, cv2.CV_16S, 1, 0, ksize=3))
    _, edges = cv2.threshold(sobel, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return edges


def _shapes(mask: np.ndarray, source: str, close: tuple[int, int]) -> list[Candidate]:
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, close)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for contour in contours:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        if w < h:
            w, h, angle = h, w, angle - 90
        if w < MIN_PLATE_WIDTH or w > mask.shape[1] * 0.6 or h < 8:
            continue
        aspect = w / h
        if not MIN_ASPECT <= aspect <= MAX_ASPECT or abs(_wrap_angle(angle)) > 25:
            continue
        fill = cv2.contourArea(contour) / (w * h)
        if fill < 0.45:
            continue
        if source != "edges" and aspect > 3.9:
            # only part of the plate matched the colour (the white top of a green plate, a
            # shadow across a blue one): grow the box to a plate's height
            rect = _grown_rect(cx, cy, w, h, angle, upward=source in ("green", "yellowgreen"))
            corners = order_corners(cv2.boxPoints(rect).astype(np.float32))
            aspect = 3.3
        else:
            corners = _corners(contour, ((cx, cy), (w, h), angle))
        # near 3.2 and well filled scores best; colour masks are more specific than edges
        score = fill - abs(aspect - 3.3) * 0.1 + (0.3 if source != "edges" else 0.0)
        if source in ("white", "black"):
            score -= 0.2  # white walls and signs are common; trust the plate colours more
        out.append(Candidate(corners, source, score))
    return out


def _grown_rect(cx: float, cy: float, w: float, h: float, angle: float, upward: bool):
    new_h = w / 3.3
    if upward:  # keep the bottom edge, move the centre up
        rad = np.deg2rad(angle)
        shift = (new_h - h) / 2
        cx, cy = cx + shift * np.sin(rad), cy - shift * np.cos(rad)
    return ((cx, cy), (w, new_h), angle)


def _wrap_angle(angle: float) -> float:
    while angle > 45:
        angle -= 90
    while angle < -45:
        angle += 90
    return angle


def _corners(contour: np.ndarray, rect) -> np.ndarray:
    """Four corners in order; from the contour's quadrilateral when it has one (perspective),
    else from the rotated rectangle."""
    hull = cv2.convexHull(contour)
    approx = cv2.approxPolyDP(hull, 0.04 * cv2.arcLength(hull, True), True)
    points = approx.reshape(-1, 2) if len(approx) == 4 else cv2.boxPoints(rect)
    return order_corners(points.astype(np.float32))


def order_corners(points: np.ndarray) -> np.ndarray:
    s = points.sum(axis=1)
    d = np.diff(points, axis=1).ravel()
    return np.array(
        [points[s.argmin()], points[d.argmin()], points[s.argmax()], points[d.argmax()]], np.float32
    )


def _drop_overlaps(cands: list[Candidate]) -> list[Candidate]:
    kept: list[Candidate] = []
    for cand in cands:
        if all(_iou(cand.box, k.box) < 0.5 for k in kept):
            kept.append(cand)
    return kept


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / float(aw * ah + bw * bh - inter + 1e-6)


def looks_like_text_row(crop_bgr: np.ndarray) -> bool:
    """A cheap check before the network: does the crop hold a row of character-sized blobs?

    Plates carry 7-8 characters of similar height; flat walls, car bodies and lamps do not.
    Both polarities are tried (dark text on yellow, light text on blue).
    """
    grey = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    for img in (binary, 255 - binary):
        count, _, stats, _ = cv2.connectedComponentsWithStats(img)
        chars = 0
        for _x, _y, bw, bh, area in stats[1:count]:
            if 0.3 * h <= bh <= h and bw <= 0.2 * w and area >= 0.15 * bw * bh:
                chars += 1
        if chars >= 3:
            return True
    return False


def widen(corners: np.ndarray, fx: float, fy: float) -> np.ndarray:
    """The quadrilateral grown by fx of its width on each side and fy of its height."""
    tl, tr, br, bl = corners
    along = ((tr - tl) + (br - bl)) / 2
    down = ((bl - tl) + (br - tr)) / 2
    dx, dy = along * fx, down * fy
    return np.array([tl - dx - dy, tr + dx - dy, br + dx + dy, bl - dx + dy], np.float32)


def crop_plate(frame_bgr: np.ndarray, corners: np.ndarray, height: int = 96) -> np.ndarray:
    """Straighten the quadrilateral to a flat plate with a small margin around it.

    The margin matters: the recogniser drops the first character of crops cut flush to it.
    """
    top = np.linalg.norm(corners[1] - corners[0])
    side = np.linalg.norm(corners[3] - corners[0])
    width = int(height * max(2.5, min(4.0, top / max(side, 1.0))))
    mx, my = int(width * 0.05), int(height * 0.08)
    target = np.float32([[mx, my], [width + mx, my], [width + mx, height + my], [mx, height + my]])
    m = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    return cv2.warpPerspective(
        frame_bgr,
        m,
        (width + 2 * mx, height + 2 * my),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
