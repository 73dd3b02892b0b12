"""Chinese licence plate grammar (see DOMAIN.md): what a plate may look like, per position.

The recogniser proposes characters; this module decides whether the string is a plate at all and,
when the model hesitated, which character the grammar allows at each position. A string that
fits no pattern is not a plate, whatever the model's confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # A-Z without I and O
DIGITS = "0123456789"
SERIAL = LETTERS + DIGITS
SUFFIXES = "学挂警港澳领"
ENERGY = "DF"

# A pattern is a list of allowed character sets, one per position.
PATTERNS: dict[str, list[str]] = {
    # blue / yellow ordinary plate: 沪A12345
    "ordinary": [PROVINCES, LETTERS] + [SERIAL] * 5,
    # suffix plates: 粤A1234学, 京A1234警, 粤Z1234港
    "suffix": [PROVINCES, LETTERS] + [SERIAL] * 4 + [SUFFIXES],
    # green small new-energy: 粤BD12345 (D/F third, then a letter or digit, then 4 digits)
    "green_small": [PROVINCES, LETTERS, ENERGY, SERIAL] + [DIGITS] * 4,
    # green large new-energy: 粤B12345D (5 digits then D/F)
    "green_large": [PROVINCES, LETTERS] + [DIGITS] * 5 + [ENERGY],
}

# The patterns as the decoder uses them, each with the plate colours it is printed on: the
# suffix plates split by their colour (学/挂 yellow, 警 white, 港/澳/领 black).
DECODE_PATTERNS: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "ordinary": (PATTERNS["ordinary"], ("blue", "yellow")),
    "student_trailer": (PATTERNS["ordinary"][:6] + ["学挂"], ("yellow",)),
    "police": (PATTERNS["ordinary"][:6] + ["警"], ("white",)),
    "hk_macau_consulate": (PATTERNS["ordinary"][:6] + ["港澳领"], ("black",)),
    "green_small": (PATTERNS["green_small"], ("green",)),
    "green_large": (PATTERNS["green_large"], ("green",)),
}

_PLATE_RE = re.compile(
    rf"^[{PROVINCES}][{LETTERS}]("
    rf"[{SERIAL}]{{5}}"
    rf"|[{SERIAL}]{{4}}[{SUFFIXES}]"
    rf"|[{ENERGY}][{SERIAL}]\d{{4}}"
    rf"|\d{{5}}[{ENERGY}])$"
)

# What a plate's separator dot and common OCR noise look like; they are dropped before checking.
NOISE = "·•・.。,，-_ :：'\"`"

# Look-alike characters the recogniser confuses; used only when the grammar forbids the first
# reading at that position.
TO_LETTER = {"0": "D", "1": "T", "2": "Z", "5": "S", "6": "G", "8": "B", "4": "A", "7": "T"}
TO_DIGIT = {
    "O": "0",
    "D": "0",
    "Q": "0",
    "I": "1",
    "L": "1",
    "T": "1",
    "Z": "2",
    "S": "5",
    "B": "8",
    "G": "6",
    "A": "4",
}


@dataclass(frozen=True)
class PlateKind:
    name: str
    length: int


def normalise(text: str) -> str:
    """Upper-case, full-width to half-width, separators and spaces removed."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII block
            ch = chr(code - 0xFEE0)
        if ch in NOISE or ch.isspace():
            continue
        out.append(ch.upper())
    return "".join(out)


def is_plate(text: str) -> bool:
    """True when text (without separator) is a valid plate under DOMAIN.md's rules."""
    return bool(_PLATE_RE.match(text))


def patterns_for_length(length: int) -> list[list[str]]:
    return [p for p in PATTERNS.values() if len(p) == length]


def fix_with_lookalikes(text: str) -> str | None:
    """Try to make text a plate by swapping look-alikes where a position forbids a character."""
    text = normalise(text)
    if is_plate(text):
        return text
    for pattern in patterns_for_length(len(text)):
        fixed = []
        for ch, allowed in zip(text, pattern, strict=True):
            if ch in allowed:
                fixed.append(ch)
            elif ch in TO_LETTER and TO_LETTER[ch] in allowed:
                fixed.append(TO_LETTER[ch])
            elif ch in TO_DIGIT and TO_DIGIT[ch] in allowed:
                fixed.append(TO_DIGIT[ch])
            else:
                break
        candidate = "".join(fixed)
        if len(candidate) == len(text) and is_plate(candidate):
            return candidate
    return None


def colour_fits(text: str, colour: str) -> bool:
    """Whether a reading is plausible for the plate colour that was seen.

    Green plates are the 8-character new-energy ones; 7-character plates are never green. Used to
    pick between competing readings, not to refuse one: colour detection can be wrong at night.
    """
    if colour == "green":
        return len(text) == 8
    return len(text) == 7
