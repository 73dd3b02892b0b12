"""One frame in, plates and codes out: locate, straighten, recognise, check the grammar."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from camera_agent import locate
from camera_agent.recognise import Recogniser, plate_background

log = logging.getLogger(__name__)


@dataclass
class PlateRead:
    text: str
    colour: str | None  # None: not known (an ordinary plate in a colourless infra-red frame)
    confidence: float
    box: tuple[int, int, int, int]  # x, y, width, height in frame pixels
    crop: np.ndarray | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> dict:
        data = asdict(self)
        data.pop("crop")
        data["confidence"] = round(self.confidence, 4)
        data["box"] = list(self.box)
        return data


@dataclass
class CodeRead:
    text: str
    symbology: str
    box: tuple[int, int, int, int]
    crop: np.ndarray | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> dict:
        return {"text": self.text, "type": self.symbology, "box": list(self.box)}


PLATE_COLOURS = ("blue", "yellow", "green", "yellowgreen")
COLOUR_ONLY_SCORE = 1.1
# a second plate in a frame whose character row is not a strong one (under 9) is kept only
# when its first reading is at least this confident
SECOND_PLATE_CONFIDENCE = 0.9
# per search, reads of another cut of a candidate that gave no plate (its colour outline, or
# a double-row plate's two rows): not counted with the frame's reads, which must stay for the
# candidates after it
MAX_OTHER_CUTS = 2
# at most this difference between a pixel's channels (99th percentile): a colourless frame
COLOURLESS_SPREAD = 4  # shape score of a colour candidate read without a character row

# a reading less confident than this is checked through other cuts of the plate
VIEWS_BELOW = 0.8
VIEWS_ABOVE = 0.3

# frames at least this wide are searched a second time at up to SECOND_PASS_WIDTH when the
# first search (at locate.WORK_WIDTH) found no plate
SECOND_PASS_FROM = 1000
SECOND_PASS_WIDTH = 1280
# ... and every frame in which no plate was found yet, at this width, for plates close up
CLOSE_PASS_WIDTH = 320
CLOSE_PASS_SHARE = 0.95  # of the frame's width: such a plate fills most of it
# a large close plate's row fit often fails (its screws, frame and rivets make blobs of the
# characters' size): its colour shape is read with a looser shape score (tuning half)
CLOSE_COLOUR_ONLY_SCORE = 0.9

CODE_TYPES = ("QRCODE", "CODE128", "CODE39", "EAN13")


class Reader:
    """Reads plates (and optionally barcodes / QR codes) from BGR frames."""

    def __init__(
        self,
        recogniser: Recogniser | None = None,
        min_confidence: float = 0.5,
        max_candidates: int = 14,
        read_codes: bool = True,
        max_reads: int = 4,
        views_below: float = VIEWS_BELOW,
    ) -> None:
        self.views_below = views_below
        self.recogniser = recogniser or Recogniser()
        self.min_confidence = min_confidence
        self.max_candidates = max_candidates
        self.max_reads = max_reads
        self.read_codes = read_codes

    def read_plates(self, frame_bgr: np.ndarray) -> list[PlateRead]:
        """Plates in the frame. Candidates are ranked by how much their straightened crop looks
        like a row of characters, and the network reads at most `max_reads` crops per frame
        (a plate-shaped sign or a bumper is cheap to score but 30-40 ms to read).

        The frame is searched at 640 px width first; a large frame (1000 px or more) in which
        that found no plate is searched again at up to twice that width: a plate 100 px wide
        in a 1920 px frame is 33 px wide at 640, too small for the locator, 67 px at 1280."""
        self.recogniser.colourless = is_colourless(frame_bgr)
        found = self._read_plates_at(frame_bgr, locate.WORK_WIDTH)
        width = frame_bgr.shape[1]
        if not found and width >= SECOND_PASS_FROM:
            found = self._read_plates_at(frame_bgr, min(width, SECOND_PASS_WIDTH))
        if not found:
            # a plate close to the camera (a hand-held shot, a car nosed up to the barrier):
            # its characters are taller than the locator's largest at 640 px and the plate
            # wider than its widest shape; at half that width it is an ordinary plate
            found = self._read_plates_at(
                frame_bgr, CLOSE_PASS_WIDTH, CLOSE_PASS_SHARE, CLOSE_COLOUR_ONLY_SCORE
            )
        return found

    def _read_plates_at(
        self,
        frame_bgr: np.ndarray,
        work_width: int,
        max_share: float = locate.MAX_PLATE_SHARE,
        colour_only_score: float = COLOUR_ONLY_SCORE,
    ) -> list[PlateRead]:
        ranked = []
        cands = locate.find_candidates(frame_bgr, self.max_candidates, work_width, max_share)
        for cand in cands:
            fit = locate.fit_to_row(frame_bgr, cand.corners, cand.source in PLATE_COLOURS)
            if fit.score >= locate.MIN_TEXT_SCORE:
                ranked.append((fit.score + 0.5 * cand.score, fit.score, cand, fit.corners))
            elif cand.source in PLATE_COLOURS and cand.score >= colour_only_score:
                # a plate-coloured patch of a plate's shape whose characters are too small or
                # blurred for the row fit: read last, as the colour mask cut it, the one with
                # the most vertical strokes inside first (a plate's blurred characters against
                # plain plate-coloured boards and walls)
                rank = min(stroke_energy(frame_bgr, cand.corners), 999.0) / 1000
                ranked.append((rank, 0.0, cand, cand.corners))
            elif cand.source == "edges" and _green_inside(frame_bgr, cand.corners):
                # a blurred green plate that only the edge mask found (its colour washed out
                # by light or shadow below the colour mask's bounds): read last, likewise
                rank = min(stroke_energy(frame_bgr, cand.corners), 999.0) / 1000
                ranked.append((rank, 0.0, cand, cand.corners))
        ranked.sort(key=lambda r: -r[0])
        found: list[PlateRead] = []
        reads = 0
        other_reads = 0  # reads of another cut (`other_cut`): one a search, apart from the rest
        weak_seconds = 0  # second plates read whose character row is not a strong one
        for tried, (_rank, text_score, cand, corners) in enumerate(ranked):
            if reads >= self.max_reads or tried >= self.max_reads:
                break
            if any(_overlaps(cand.box, p.box) for p in found):
                continue
            # a second plate in one frame must look very much like one: a row of 7 or more
            # characters, or (a row found by the text fit at all) a clear first reading; the
            # plate first found may be a parked car's behind the one at the gate
            second = bool(found) and text_score < locate.STRONG_TEXT_SCORE
            if second and (text_score < locate.MIN_TEXT_SCORE or weak_seconds >= 1):
                continue
            weak_seconds += second  # one such look a search: each costs a network run
            # the whole plate's width, even where the row fit saw only part of its characters
            crop = locate.crop_plate(frame_bgr, locate.to_plate_width(corners))
            green = plate_background(crop) == "green"
            if green:
                # a new-energy plate is 480 mm wide, not 440: cut it whole, or the eighth
                # character fading into a large plate's green end is lost
                corners_wide = locate.to_plate_width(corners, aspect=locate.GREEN_PLATE_ASPECT)
                crop = locate.crop_plate(frame_bgr, corners_wide)
            reading, near = self.recogniser.read_plate_counted(crop)
            reads += 1
            confidence = reading.confidence if reading else 0.0
            if second:
                if confidence >= SECOND_PLATE_CONFIDENCE and reading.text not in [
                    p.text for p in found
                ]:
                    colour = plate_colour(reading.text, crop, self.recogniser.colourless)
                    found.append(PlateRead(reading.text, colour, confidence, cand.box, crop))
                continue
            # doubtful, but something like a plate (a sign's or a bumper's reading scores
            # lower, and a second look at it would use up the reads a plate needs)
            doubtful = confidence < self.views_below and (near or confidence >= VIEWS_ABOVE)
            if doubtful and reads < self.max_reads:
                # look again at the plate through other cuts, and let all views vote
                views = [crop] + [
                    locate.crop_plate(frame_bgr, c) for c in view_corners(corners, crop, green)
                ]
                first = self.recogniser.last_probs[0]
                reading, near = self.recogniser.read_plate_views(views, first)
                reads += 1
            weak = reading is None or reading.confidence < self.min_confidence
            other = other_cut(frame_bgr, cand, corners, crop) if weak and text_score > 0 else None
            if other is not None and other_reads < MAX_OTHER_CUTS:
                again, _near = self.recogniser.read_plate_counted(other)
                other_reads += 1
                if again is not None and (reading is None or again.confidence > reading.confidence):
                    reading, crop = again, other
            if reading is None or reading.confidence < self.min_confidence:
                continue
            if any(p.text == reading.text for p in found):
                continue
            colour = plate_colour(reading.text, crop, self.recogniser.colourless)
            found.append(PlateRead(reading.text, colour, reading.confidence, cand.box, crop))
        return found

    def read_crop(self, image_bgr: np.ndarray, search: bool = True) -> list[PlateRead]:
        """The plate in a picture that is only a plate (a tight crop cut from a photo).

        The locator needs a plate's surroundings (its edges, a car around it) and searches at
        640 px width, so a crop of 94 or 220 px that is all plate gave no candidate at all.
        The crop is read directly as the recogniser's input first (checked through two other
        cuts when doubtful, as in `read_plates`); only when that gives no plate is the crop
        searched like a frame, with a border of its own edge colour and at least 640 px wide
        (a crop with a wide margin, or a plate turned inside it); not when `search` is false."""
        h, w = image_bgr.shape[:2]
        box = (0, 0, int(w), int(h))
        self.recogniser.colourless = is_colourless(image_bgr)
        reading, near = self.recogniser.read_plate_counted(image_bgr)
        confidence = reading.confidence if reading else 0.0
        if confidence < self.views_below and (near or confidence >= VIEWS_ABOVE):
            views = [image_bgr] + crop_views(image_bgr)
            first = self.recogniser.last_probs[0]
            reading, _near = self.recogniser.read_plate_views(views, first)
        if w / h < DOUBLE_ROW_ASPECT:
            # about twice as wide as high: perhaps a double-row plate; its two rows side by
            # side are read as one line, and the more confident reading is kept
            double, _near = self.recogniser.read_plate_counted(double_row_line(image_bgr))
            if double is not None and (reading is None or double.confidence > reading.confidence):
                reading = double
        if reading is not None and reading.confidence >= self.min_confidence:
            colour = plate_colour(reading.text, image_bgr, self.recogniser.colourless)
            return [PlateRead(reading.text, colour, reading.confidence, box, image_bgr)]
        if not search:
            return []
        pad_y, pad_x = max(8, h // 2), max(8, w // 4)
        framed = cv2.copyMakeBorder(image_bgr, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_REPLICATE)
        scale = max(1.0, locate.WORK_WIDTH / framed.shape[1])
        if scale > 1.0:
            framed = cv2.resize(framed, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        found = self.read_plates(framed)
        for plate in found:
            x, y, pw, ph = (v / scale for v in plate.box)
            x0, y0 = max(0, int(x - pad_x)), max(0, int(y - pad_y))
            plate.box = (x0, y0, min(int(w) - x0, int(pw)), min(int(h) - y0, int(ph)))
        return found[:1]

    def read_codes_in(self, frame_bgr: np.ndarray, full_size: bool = True) -> list[CodeRead]:
        """QR codes and barcodes. The frame is scanned at half size first (about 6 ms against
        33 ms at 1280x720 on one core); the full-size scan, which also finds small codes and
        thin bars, runs only when `full_size` is true and the half-size scan found nothing."""
        from pyzbar import pyzbar  # needs libzbar0; only loaded when codes are read

        grey = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
        # only the symbologies a dealer sees (VINs are Code 39 / 128); fewer decoders are
        # faster and zbar's DataBar decoder prints assertion noise on busy frames
        wanted = [pyzbar.ZBarSymbol[name] for name in CODE_TYPES]
        half = cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        found = [(sym, 2) for sym in pyzbar.decode(half, symbols=wanted)]
        if not found and full_size:
            found = [(sym, 1) for sym in pyzbar.decode(grey, symbols=wanted)]
        out = []
        for sym, k in found:
            x, y, w, h = (v * k for v in sym.rect)
            text = sym.data.decode("utf-8", errors="replace")
            crop = frame_bgr[max(0, y) : y + h, max(0, x) : x + w]
            out.append(CodeRead(text, sym.type, (x, y, w, h), crop))
        return out

    def read(self, frame_bgr: np.ndarray) -> tuple[list[PlateRead], list[CodeRead]]:
        if looks_like_plate_crop(frame_bgr):
            return self.read_crop(frame_bgr), []
        plates = self.read_plates(frame_bgr)
        if not plates and maybe_double_row_crop(frame_bgr):
            # a larger crop of a double-row plate (2:1, so taken for a frame): read as a crop
            plates = self.read_crop(frame_bgr, search=False)
        # a frame with a car's plate in it is scanned for codes at half size only: the
        # full-size scan is for a QR code or a VIN label held up to the camera
        codes = self.read_codes_in(frame_bgr, full_size=not plates) if self.read_codes else []
        return plates, codes


def looks_like_plate_crop(image_bgr: np.ndarray) -> bool:
    """Whether a picture has a plate's shape rather than a camera frame's: wider than 2:1
    (frames are 4:3 to 16:9; a single-row plate is 3.1:1, a double-row one 2:1, and a tight
    crop of a plate seen at an angle falls between) and no more than 400 px high; or a small
    picture (at most 150 px high) a little under 2:1, a tight crop of a double-row plate."""
    h, w = image_bgr.shape[:2]
    return (2.0 <= w / h <= 6.0 and h <= 400) or (1.6 <= w / h < 2.0 and h <= 150)


def maybe_double_row_crop(image_bgr: np.ndarray) -> bool:
    """Whether a picture that was searched like a frame may yet be a crop of a double-row
    plate: a little under 2:1 (a 16:9 frame is 1.78:1) and no more than 300 px high (a
    640x360 substream of a gate camera is a frame)."""
    h, w = image_bgr.shape[:2]
    return 1.6 <= w / h < 2.0 and h <= 300


# a plate shape narrower than this (width / height) may be a double-row plate (2:1)
DOUBLE_ROW_ASPECT = 2.5


def double_row_line(crop_bgr: np.ndarray) -> np.ndarray:
    """A double-row plate's two rows side by side, as one line for the recogniser.

    A double-row plate (440x220 mm) carries the province and the letter on its top row and the
    five serial characters, nearly twice as tall, below. The rows are split at the quietest
    line between 25% and 50% of the height (least horizontal change: the gap between them);
    the top row's middle (its two characters sit in the middle half) and the bottom row are
    scaled to one height and joined with a gap, so the network and the plate grammar read
    them as one 7-character plate."""
    h, w = crop_bgr.shape[:2]
    grey = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    change = np.abs(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3))[:, int(w * 0.1) : int(w * 0.9)]
    profile = cv2.blur(change.mean(axis=1).reshape(-1, 1), (1, max(3, h // 20))).ravel()
    lo, hi = int(h * 0.25), max(int(h * 0.5), int(h * 0.25) + 1)
    split = lo + int(np.argmin(profile[lo:hi]))
    top = crop_bgr[:split, int(w * 0.15) : int(w * 0.85)]
    bottom = crop_bgr[split:]
    height = 48
    rows = [
        cv2.resize(part, (max(8, round(part.shape[1] * height / part.shape[0])), height))
        for part in (top, bottom)
    ]
    colour = [int(v) for v in np.median(bottom.reshape(-1, 3), axis=0)]
    gap = np.full((height, height // 3, 3), colour, np.uint8)
    return np.hstack([rows[0], gap, rows[1]])


def other_cut(
    frame_bgr: np.ndarray, cand: locate.Candidate, corners: np.ndarray, crop: np.ndarray
) -> np.ndarray | None:
    """Another cut of a candidate whose row-fitted plate (`corners`, cut as `crop`) gave no
    plate, or None when there is none worth a network run.

    The row fit gives a rectangle square to the character row. A plate seen from the side
    and above is sheared (its characters lean), and a row fit that missed the leaning
    characters at one end is off centre: a colour candidate's own quadrilateral is the
    plate's outline, and straightened by it the plate is upright and whole. A yellow plate
    may be a double-row one (the rear plate of a lorry or bus: 440x220 mm), whose big
    bottom row is the row that was fitted: its two rows are read side by side."""
    if cand.source in PLATE_COLOURS:
        again = locate.crop_plate(frame_bgr, cand.corners)
        if cand.source == "yellow" and _aspect(cand.corners) < DOUBLE_ROW_ASPECT:
            # (a single-row plate turned away from the camera can be as narrow: only a yellow
            # one is taken for a double-row plate)
            again = double_row_line(again)
    elif plate_background(crop) == "yellow":
        again = double_row_line(locate.crop_plate(frame_bgr, double_row_corners(corners)))
    else:
        return None
    return again


def double_row_corners(corners: np.ndarray) -> np.ndarray:
    """The double-row plate around a row fitted as a single-row plate's (`corners`).

    The fitted plate is centred on the row with the characters 90/140 of its height. A double-
    row plate is twice as high as its bottom row's characters, and that row ends 20 mm
    (0.18 of its height) above the plate's bottom edge; the top row is above it."""
    tl, tr, br, bl = corners.astype(np.float32)
    left_mid, right_mid = (tl + bl) / 2, (tr + br) / 2
    left_down, right_down = bl - tl, br - tr
    char = locate.CHAR_HEIGHT_SHARE
    up, down = (2 - 0.5 - 0.18) * char, (0.5 + 0.18) * char
    return np.array(
        [
            left_mid - up * left_down,
            right_mid - up * right_down,
            right_mid + down * right_down,
            left_mid + down * left_down,
        ],
        np.float32,
    )


def _aspect(corners: np.ndarray) -> float:
    """Width over height of a quadrilateral (mean of its opposite sides)."""
    tl, tr, br, bl = corners
    width = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    return float(width / max(height, 1.0))


def crop_views(crop_bgr: np.ndarray) -> list[np.ndarray]:
    """Two other cuts of a tight crop for a second look: a little inside it (a crop's margin
    may hold the frame of the plate or a screw), and with more room around it (a crop cut
    close to the characters)."""
    h, w = crop_bgr.shape[:2]
    dx, dy = int(round(w * 0.03)), int(round(h * 0.08))
    inner = crop_bgr[dy : h - dy, dx : w - dx] if h - 2 * dy > 8 and w - 2 * dx > 16 else crop_bgr
    border = max(2, h // 8)
    outer = cv2.copyMakeBorder(crop_bgr, border, border, 0, 0, cv2.BORDER_REPLICATE)
    return [inner, outer]


def view_corners(corners: np.ndarray, first: np.ndarray, green: bool = False) -> list[np.ndarray]:
    """Other cuts of a plate for a second look: close to the fitted row (a cut at the whole
    plate's width may hold a neighbouring sign's strokes), and the whole width with more
    height (a tight row fit may clip the characters' tops or bottoms). On a green plate the
    close cut is at least a new-energy plate's width: a row fit on a large green plate often
    misses the last character, fading into the green end, and a cut close to it would too."""
    if green:
        close = locate.to_plate_width(corners, 0.0, locate.GREEN_PLATE_ASPECT)
        whole = locate.to_plate_width(corners, aspect=locate.GREEN_PLATE_ASPECT)
    else:
        close = locate.widen(corners, -0.02, -0.05)
        whole = locate.to_plate_width(corners)
    return [close, locate.widen(whole, 0, 0.12)]


def stroke_energy(frame_bgr: np.ndarray, corners: np.ndarray) -> float:
    """Mean horizontal gradient inside a straightened candidate (48 px high), margins left
    out: high for a row of characters, even blurred ones, low for a plain board. On the two
    tuning sets' plate-coloured candidates without a character row: 37-166 on plates, at
    most 54 elsewhere."""
    crop = locate.crop_plate(frame_bgr, corners, 48)
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float32)
    h, w = grey.shape
    middle = grey[int(h * 0.15) : int(h * 0.85), int(w * 0.08) : int(w * 0.92)]
    return float(np.abs(cv2.Sobel(middle, cv2.CV_32F, 1, 0, ksize=3)).mean())


def _green_inside(frame_bgr: np.ndarray, corners: np.ndarray) -> bool:
    """Whether a candidate's middle, cut at a plate's proportions, shows a green background."""
    region = locate.to_plate_width(corners, 0.0, locate.GREEN_PLATE_ASPECT)
    return plate_background(locate.crop_plate(frame_bgr, region, 32)) == "green"


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether box a's centre lies inside box b: two candidates of one plate."""
    cx, cy = a[0] + a[2] / 2, a[1] + a[3] / 2
    return b[0] <= cx <= b[0] + b[2] and b[1] <= cy <= b[1] + b[3]


def is_colourless(image_bgr: np.ndarray) -> bool:
    """Whether a picture holds no colour at all: an infra-red (night) camera's grey frame
    delivered as three equal channels. A colour camera's frame, even at dusk, has channels
    that differ by more than JPEG's rounding somewhere."""
    h, w = image_bgr.shape[:2]
    step = max(1, w // 160)
    small = np.ascontiguousarray(image_bgr[::step, ::step])
    b, g, r = cv2.split(small)
    spread = cv2.subtract(cv2.max(cv2.max(b, g), r), cv2.min(cv2.min(b, g), r))
    # the 99th percentile at most COLOURLESS_SPREAD, by counting (a full percentile took
    # 2.5 ms of a real scene's time); only the tie at the boundary needs the percentile
    n = spread.size
    above = int(np.count_nonzero(spread > COLOURLESS_SPREAD))
    room = n - 1 - int(0.99 * (n - 1))  # values that may lie above the 99th percentile's rank
    if above != room:
        return above < room
    return bool(np.percentile(spread, 99) <= COLOURLESS_SPREAD)


def plate_colour(text: str, crop_bgr: np.ndarray, colourless: bool = False) -> str | None:
    """The plate's colour: mostly implied by its form, else the crop's dominant background;
    None for an ordinary plate in a colourless frame (blue and yellow look alike in grey)."""
    if len(text) == 8:
        return "green"  # only new-energy plates have 8 characters
    suffix = text[-1]
    if suffix in "港澳领":
        return "black"
    if suffix == "警":
        return "white"
    if suffix in "学挂":
        return "yellow"
    return None if colourless else ordinary_colour(crop_bgr)


def ordinary_colour(crop_bgr: np.ndarray) -> str:
    """Blue or yellow, the only colours of a plate of the ordinary pattern.

    Decided by the saturated background's hue when that is clear; a blue plate in dull or
    grey light (dusk, shade, a worn plate) has too few saturated pixels and was reported as
    black or white, so otherwise by whether the middle of the crop is bluer than it is red:
    the background fills most of a plate, and white or black characters are neither."""
    colour = background_colour(crop_bgr)
    if colour in ("blue", "yellow"):
        return colour
    h, w = crop_bgr.shape[:2]
    middle = crop_bgr[int(h * 0.2) : int(h * 0.8), int(w * 0.1) : int(w * 0.9)].astype(np.int16)
    blue_minus_red = np.median(middle[..., 0] - middle[..., 2])
    return "blue" if blue_minus_red >= 0 else "yellow"


def background_colour(crop_bgr: np.ndarray) -> str:
    hsv = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2HSV).reshape(-1, 3)
    saturated = hsv[hsv[:, 1] > 70]
    # a blue or yellow plate is mostly background; count which of the two hues dominates
    blue = np.count_nonzero((saturated[:, 0] >= 95) & (saturated[:, 0] <= 130))
    yellow = np.count_nonzero((saturated[:, 0] >= 10) & (saturated[:, 0] <= 35))
    green = np.count_nonzero((saturated[:, 0] > 35) & (saturated[:, 0] < 95))
    if max(blue, yellow, green) > 0.2 * len(hsv):
        return max((blue, "blue"), (yellow, "yellow"), (green, "green"))[1]
    return "white" if np.median(hsv[:, 2]) > 128 else "black"
