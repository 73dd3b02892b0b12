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
# wider than this share of the frame: no plate; a plate held close to the camera (a
# hand-held shot) can be wider, and is looked for with a larger share when nothing else was found
MAX_PLATE_SHARE = 0.6
MIN_PLATE_WIDTH = 36  # at work width: ~70 px at 1280, about the smallest readable plate
MAX_TILT = 50  # degrees: a plate-coloured shape lying steeper than this is no plate

# character rows: local threshold (block size, offset) and character heights at work width
ROW_BLOCK, ROW_OFFSET = 25, -8
MIN_CHAR_HEIGHT, MAX_CHAR_HEIGHT = 7, 60

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


def find_candidates(
    frame_bgr: np.ndarray,
    limit: int = 6,
    work_width: int = WORK_WIDTH,
    max_share: float = MAX_PLATE_SHARE,
) -> list[Candidate]:
    """Plate-shaped regions, best first, at most `limit` of them, searched at `work_width`;
    a shape wider than `max_share` of the frame is no plate (a wall, the sky)."""
    scale = work_width / frame_bgr.shape[1]
    small = cv2.resize(frame_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    found: list[Candidate] = []
    for colour, ranges in COLOUR_RANGES.items():
        mask = np.zeros(hsv.shape[:2], np.uint8)
        for low, high in ranges:
            mask |= cv2.inRange(hsv, np.array(low), np.array(high))
        found += _shapes(mask, colour, CLOSE_KERNELS.get(colour, (9, 3)), max_share)
    found += _shapes(_edge_mask(small), "edges", (15, 5), max_share)
    found += _char_rows(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
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


def _char_rows(grey: np.ndarray) -> list[Candidate]:
    """Rows of character-sized blobs of one height, whatever the background's colour.

    Bright strokes on a darker neighbourhood (blue, black plates) and dark strokes on a
    brighter one (yellow, green, white plates) are thresholded against the local mean, so
    shadows and night light matter less than to the colour masks. Neighbouring blobs of
    similar height on one line are chained; a chain of at least four is a plate's character
    row, and the plate is the row grown to a plate's proportions.
    """
    grey = cv2.GaussianBlur(grey, (3, 3), 0)
    out = []
    for img in (grey, 255 - grey):
        binary = cv2.adaptiveThreshold(
            img, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, ROW_BLOCK, ROW_OFFSET
        )
        count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        blobs = stats[1:count]
        x, y, w, h, area = blobs.T
        fill = area / (w * h)
        keep = (
            (h >= MIN_CHAR_HEIGHT)
            & (h <= MAX_CHAR_HEIGHT)
            & (w <= 1.3 * h)
            & (fill >= 0.12)
            # a solid block is no character, unless it is as narrow as a "1"
            & ((fill <= 0.85) | (w <= 0.35 * h))
        )
        out += _rows_of(blobs[keep])
    return out


def _rows_of(blobs: np.ndarray) -> list[Candidate]:
    if len(blobs) < 4:
        return []
    blobs = blobs[np.argsort(blobs[:, 0])]
    x, y, w, h = (blobs[:, i].astype(np.float32) for i in range(4))
    cy = y + h / 2
    right = x + w
    parent = list(range(len(blobs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # neighbours: j after i (blobs sorted by x) starting at most 1.4 heights after i ends;
    # the pairs are listed with numpy (a busy frame holds over a thousand blobs, and a
    # Python double loop over them took a tenth of a real scene's time)
    ends = np.searchsorted(x, right + 1.4 * h + 1, side="right")
    starts = np.arange(1, len(blobs) + 1)
    counts = np.maximum(ends - starts, 0)
    i_idx = np.repeat(np.arange(len(blobs)), counts)
    offsets = np.arange(len(i_idx)) - np.repeat(np.cumsum(counts) - counts, counts)
    j_idx = np.repeat(starts, counts) + offsets
    gap = x[j_idx] - right[i_idx]
    hi, hj = h[i_idx], h[j_idx]
    ratio = hj / hi
    linked = (
        (gap <= 1.4 * hi)
        & (gap >= -0.2 * hi)
        & (np.abs(cy[j_idx] - cy[i_idx]) < 0.25 * np.maximum(hi, hj))
        & (ratio >= 0.7)
        & (ratio <= 1.43)
    )
    for i, j in zip(i_idx[linked].tolist(), j_idx[linked].tolist(), strict=True):
        parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(blobs)):
        groups.setdefault(root(i), []).append(i)
    out = []
    for members in groups.values():
        if len(members) < 4:
            continue
        idx = np.array(members)
        ch = float(np.median(h[idx]))
        x0, x1 = float(x[idx].min()), float(right[idx].max())
        row_w = x1 - x0
        if not 2.2 * ch <= row_w <= 6.5 * ch:
            continue
        slope = np.polyfit(x[idx] + w[idx] / 2, cy[idx], 1)[0] if len(idx) > 2 else 0.0
        if abs(slope) > 0.45:
            continue
        centre = np.array([(x0 + x1) / 2, float(np.median(cy[idx]))], np.float32)
        centre[1] += slope * (centre[0] - float(np.median(x[idx] + w[idx] / 2)))
        plate_h = ch * 140 / 90
        plate_w = max(row_w * 1.08, plate_h * 3.0)
        u = np.array([1.0, slope], np.float32) / np.hypot(1.0, slope)
        n = np.array([-u[1], u[0]], np.float32)
        a, b = u * plate_w / 2, n * plate_h / 2
        corners = np.array(
            [centre - a - b, centre + a - b, centre + a + b, centre - a + b], np.float32
        )
        out.append(Candidate(corners, "rows", 0.9 + 0.05 * min(len(idx), 8)))
    return out


def _shapes(
    mask: np.ndarray, source: str, close: tuple[int, int], max_share: float = 0.6
) -> list[Candidate]:
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, close)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for contour in contours:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        if w < h:
            w, h, angle = h, w, angle - 90
        if w < MIN_PLATE_WIDTH or w > mask.shape[1] * max_share or h < 8:
            continue
        aspect = w / h
        if not MIN_ASPECT <= aspect <= MAX_ASPECT:
            continue
        # a plate-coloured shape may lie at up to MAX_TILT degrees (a camera or a plate
        # mounted askew, a car on a ramp); an edge shape that steep is mostly clutter
        slant = ((angle + 90) % 180) - 90  # the long side's angle, -90 to 90 degrees
        steep = abs(_wrap_angle(angle)) > 25 or abs(slant) > 25
        if steep and (source == "edges" or abs(slant) > MAX_TILT):
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
        if steep:
            # corners ordered along the plate's own axes: by x + y and y - x, the order of an
            # upright plate, a plate at 45 degrees has two top-left corners
            corners = order_along(corners, slant)
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


def order_along(points: np.ndarray, degrees: float) -> np.ndarray:
    """Four corners ordered top-left, top-right, bottom-right, bottom-left along a plate whose
    long side runs at `degrees` (-90 to 90; image y points down)."""
    rad = np.deg2rad(degrees)
    along = np.array([np.cos(rad), np.sin(rad)], np.float32)
    down = np.array([-along[1], along[0]], np.float32)
    rel = points - points.mean(axis=0)
    u, v = rel @ along, rel @ down
    order = [
        int(np.argmin(u + v)),  # left and up
        int(np.argmax(u - v)),  # right and up
        int(np.argmax(u + v)),  # right and down
        int(np.argmin(u - v)),  # left and down
    ]
    if len(set(order)) < 4:
        return order_corners(points)
    return points[order].astype(np.float32)


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


TEXT_ROW_HEIGHT = 64  # candidates are examined at this height
MIN_TEXT_SCORE = 4  # at least four aligned character blobs
STRONG_TEXT_SCORE = 9  # seven or more, spanning the row: almost surely a plate
# where the characters sit on a plate: 90 of 140 mm of its height, ~93% of its width (0.96
# measured: thresholded strokes come out a little wider than the glyphs)
CHAR_HEIGHT_SHARE, ROW_WIDTH_SHARE = 90 / 140, 0.96


@dataclass
class RowFit:
    """A candidate examined: how much it looks like a plate's characters, and where the plate
    is according to its character row."""

    score: float
    corners: np.ndarray  # the plate's corners in frame pixels, fitted to the character row


def fit_to_row(frame_bgr: np.ndarray, corners: np.ndarray, upright: bool = False) -> RowFit:
    """Look for a row of characters in and around the candidate; score it and re-fit the
    plate's corners to it. Cheap: no network.

    Plates carry 7-8 characters of one height on one line; walls, car bodies and lamps do not.
    The region is thresholded against its local mean (so a shadow across half of the plate or
    night light matters little), in both polarities (dark text on yellow, light text on blue).
    The score counts blobs of about the same height on one line (up to 9), plus 2 when they
    span more than half of the candidate. The plate is then the row grown to a plate's
    proportions, which fixes candidates that cover only part of a plate (the blue half out of
    a shadow, the green bottom of a new-energy plate) or too much of it. A fitted plate that
    is crossed, huge or far taller at one end than the other is no fit.
    """
    fit = _fit_in(frame_bgr, widen(corners, 0.08, 0.2), TEXT_ROW_HEIGHT)
    if upright and fit.score == 0 and not _sane(corners, corners):
        # a colour mask's quadrilateral bent out of shape (a shadow across the plate): its
        # upright bounding rectangle is a better region to look in (`upright`: for colour
        # candidates only; an edge mask's bent shape is mostly clutter)
        x0, y0 = corners.min(axis=0)
        x1, y1 = corners.max(axis=0)
        corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
        fit = _fit_in(frame_bgr, widen(corners, 0.08, 0.2), TEXT_ROW_HEIGHT)
    if fit.score < MIN_TEXT_SCORE:
        # a colour mask may hold only part of the plate (the green bottom of a new-energy
        # plate, the lit half of a shadowed one): look at a taller region around it
        taller = _fit_in(frame_bgr, widen(corners, 0.1, 0.5), TEXT_ROW_HEIGHT * 3 // 2)
        if taller.score > fit.score:
            fit = taller
    return fit if fit.score > 0 else RowFit(0.0, corners)


def _fit_in(frame_bgr: np.ndarray, region: np.ndarray, row_height: int) -> RowFit:
    crop, m = _warp(frame_bgr, region, row_height)
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    height, width = grey.shape
    best: tuple[float, tuple] | None = None
    for img in (grey, 255 - grey):
        binary = cv2.adaptiveThreshold(
            img, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, -6
        )
        count, _, stats, _ = cv2.connectedComponentsWithStats(binary)
        row = _aligned_blobs(stats[1:count], height, width)
        if row is not None and (best is None or row[0] > best[0]):
            best = row
    if best is None:
        return RowFit(0.0, region)
    score, (x0, x1, top, bottom, slope, taper) = best
    # the plate around the row, in crop pixels, then back to the frame
    char_h = bottom - top
    plate_h = char_h / CHAR_HEIGHT_SHARE
    plate_w = max((x1 - x0) / ROW_WIDTH_SHARE, 2.8 * plate_h)
    cx, cy = (x0 + x1) / 2, (top + bottom) / 2
    u = np.array([1.0, slope]) / np.hypot(1.0, slope)
    n = np.array([-u[1], u[0]])
    a = u * plate_w / 2
    # perspective: the characters grow or shrink along the row (one end nearer the camera), so
    # each end of the plate is as tall as the characters there say (`taper`: change of the
    # character height per pixel along the row)
    centre = np.array([cx, cy])
    for taper_used in (taper, 0.0):
        half = [max(0.3, 1.0 + side * taper_used * plate_w / 2 / char_h) for side in (-1.0, 1.0)]
        bl_, br_ = n * plate_h / 2 * half[0], n * plate_h / 2 * half[1]
        inner = np.array([centre - a - bl_, centre + a - br_, centre + a + br_, centre - a + bl_])
        fitted = cv2.perspectiveTransform(
            inner.reshape(1, 4, 2).astype(np.float32), np.linalg.inv(m)
        ).reshape(4, 2)
        if _sane(fitted, region):
            return RowFit(score, fitted)
    # a plate grown beyond the region's vanishing line (a strongly tapered region around a
    # row fitted near its end) comes back from the frame as a huge or crossed quadrilateral:
    # no plate
    return RowFit(0.0, region)


def _sane(quad: np.ndarray, region: np.ndarray) -> bool:
    """Whether a fitted plate is a convex quadrilateral no more than twice the region's size."""
    if not cv2.isContourConvex(quad.astype(np.float32).reshape(-1, 1, 2)):
        return False
    size = quad.max(axis=0) - quad.min(axis=0)
    limit = region.max(axis=0) - region.min(axis=0)
    left, right = np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1])
    # a plate turned by some 30 degrees has one end at most ~1.5 times as tall as the other
    return bool(np.all(size <= 2.0 * limit + 1.0)) and max(left, right) <= 2.0 * min(left, right)


def _aligned_blobs(stats: np.ndarray, height: int, width: int):
    """(score, (x0, x1, top, bottom, slope, taper)) of the best row of character blobs, or None."""
    x, y, bw, bh, area = stats.T
    keep = (
        (bh >= 0.25 * height)
        & (bh <= 0.8 * height)
        & (bw <= 0.2 * width)
        & (bw <= 1.3 * bh)
        & (area >= 0.12 * bw * bh)
    )
    if np.count_nonzero(keep) < 3:
        return None
    kx, ky, kw, kh = x[keep], y[keep], bw[keep], bh[keep]
    cy = ky + kh / 2
    mid_h, mid_y = np.median(kh), np.median(cy)
    aligned = (np.abs(cy - mid_y) < 0.1 * height) & (np.abs(kh - mid_h) <= 0.25 * mid_h)
    count = np.count_nonzero(aligned)
    if count < 3:
        return None
    ax, ay, aw, ah = kx[aligned], ky[aligned], kw[aligned], kh[aligned]
    x0, x1 = float(ax.min()), float((ax + aw).max())
    span = (x1 - x0) / width
    score = min(count, 9) + (2.0 if span > 0.5 else 0.0)
    centres = ax + aw / 2
    slope = float(np.polyfit(centres, ay + ah / 2, 1)[0]) if count >= 4 else 0.0
    slope = float(np.clip(slope, -0.3, 0.3))
    taper = 0.0
    if count >= 5:
        # change of the character height along the row (perspective), limited to what a
        # plate turned by some 30 degrees shows
        taper = float(np.polyfit(centres, ah.astype(np.float64), 1)[0])
        taper = float(
            np.clip(taper, -0.3 * mid_h / max(x1 - x0, 1.0), 0.3 * mid_h / max(x1 - x0, 1.0))
        )
    # pieces of a Chinese character next to the row (the province's strokes and dots) are
    # part of it; they are often too small to count as characters by themselves
    top, bottom = float(np.median(ay)), float(np.median(ay + ah))
    pitch = (x1 - x0) / max(count - 1, 1)
    near = (
        (y >= top - 0.15 * mid_h)
        & (y + bh <= bottom + 0.15 * mid_h)
        & (x + bw > x0 - 1.1 * pitch)
        & (x < x1 + 1.1 * pitch)
        & (bh >= 0.15 * mid_h)
    )
    if np.any(near):
        x0 = min(x0, float(x[near].min()))
        x1 = max(x1, float((x + bw)[near].max()))
    return score, (x0, x1, top, bottom, slope, taper)


def text_row_score(crop_bgr: np.ndarray) -> float:
    """The score of `fit_to_row` for a crop that is already straightened."""
    h, w = crop_bgr.shape[:2]
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    return fit_to_row(crop_bgr, corners).score


def looks_like_text_row(crop_bgr: np.ndarray) -> bool:
    """A cheap check before the network: does the crop hold a row of character-sized blobs?"""
    return text_row_score(crop_bgr) >= MIN_TEXT_SCORE


def widen(corners: np.ndarray, fx: float, fy: float) -> np.ndarray:
    """The quadrilateral grown by fx of its width on each side and fy of its height."""
    tl, tr, br, bl = corners
    along = ((tr - tl) + (br - bl)) / 2
    down = ((bl - tl) + (br - tr)) / 2
    dx, dy = along * fx, down * fy
    return np.array([tl - dx - dy, tr + dx - dy, br + dx + dy, bl - dx + dy], np.float32)


PLATE_ASPECT = 440 / 140  # width / height of a single-row plate
GREEN_PLATE_ASPECT = 480 / 140  # new-energy plates (8 characters) are 480 mm wide


def to_plate_width(
    corners: np.ndarray, margin: float = 0.05, aspect: float = PLATE_ASPECT
) -> np.ndarray:
    """The quadrilateral widened on both sides to at least a whole plate's width, plus `margin`
    of its width on each side (and 5% less height, as the recogniser reads best).

    A row fit that missed the characters at one end (a shadowed province character, a last
    character fading into a green plate's gradient) gives a plate that is too narrow and
    centred on the characters it saw; as it is not known which end is missing, both ends are
    extended by the whole shortfall. The grammar-constrained decoder reads a plate out of the
    extra background.
    """
    tl, tr, br, bl = corners
    width = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    short = max(0.0, aspect * height - width) / max(width, 1.0)
    return widen(corners, margin + short, -0.05)


def crop_plate(frame_bgr: np.ndarray, corners: np.ndarray, height: int = 96) -> np.ndarray:
    """Straighten the quadrilateral to a flat plate with a small margin around it.

    The margin matters: the recogniser drops the first character of crops cut flush to it.
    """
    return _warp(frame_bgr, corners, height)[0]


def _warp(frame_bgr: np.ndarray, corners: np.ndarray, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The straightened crop and the perspective matrix from frame to crop pixels."""
    top = np.linalg.norm(corners[1] - corners[0])
    side = np.linalg.norm(corners[3] - corners[0])
    width = int(height * max(2.5, min(4.0, top / max(side, 1.0))))
    mx, my = int(width * 0.05), int(height * 0.08)
    target = np.float32([[mx, my], [width + mx, my], [width + mx, height + my], [mx, height + my]])
    m = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    crop = cv2.warpPerspective(
        frame_bgr,
        m,
        (width + 2 * mx, height + 2 * my),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return crop, m
