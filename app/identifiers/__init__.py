"""Identifiers of the trade, validated with their real check characters and formats.

Each `check_*` returns the normalised identifier or raises `InvalidIdentifier` saying what is
wrong. Rules: GB 11643-1999 (resident ID), GB 32100-2015 (social credit code), ISO 3779 /
GB 16735 (VIN), the plate formats of GA 36, mainland mobile numbers.
"""

from __future__ import annotations

import datetime
import re


class InvalidIdentifier(ValueError):
    """The identifier is malformed; the message says how, in English (str) and in Chinese."""

    def __init__(self, english: str, chinese: str = ""):
        super().__init__(english)
        self.chinese = chinese or english

    def message(self, lang: str = "zh") -> str:
        return self.chinese if lang == "zh" else str(self)


# A Chinese input method types letters and digits in their full-width forms (U+FF01–U+FF5E:
# `１３８…`, `京Ａ１２３４５`) and the ideographic space; they are the same characters to a person,
# so every identifier is read through `half_width` before it is checked and stored.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_WIDTH[0x3000] = ord(" ")


def half_width(value: str | None) -> str:
    """`value` with full-width ASCII forms and the ideographic space turned half-width; every
    other character (the plate's 京, 学, 警 …) is kept."""
    return (value or "").translate(_FULL_WIDTH)


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def resident_id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def check_resident_id(value: str, today: datetime.date | None = None) -> str:
    text = half_width(value).strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", text):
        raise InvalidIdentifier(
            "resident ID must be 17 digits and a digit or X",
            "身份证号应为 17 位数字加 1 位数字或 X",
        )
    try:
        birth = datetime.datetime.strptime(text[6:14], "%Y%m%d").date()
    except ValueError as exc:
        raise InvalidIdentifier(
            f"resident ID birth date {text[6:14]} is not a date",
            f"身份证号中的出生日期 {text[6:14]} 不是有效日期",
        ) from exc
    if birth > (today or datetime.date.today()) or birth.year < 1900:
        raise InvalidIdentifier(
            f"resident ID birth date {birth} is impossible", f"身份证号中的出生日期 {birth} 不可能"
        )
    expected = resident_id_check_char(text[:17])
    if text[17] != expected:
        raise InvalidIdentifier(
            f"resident ID check character should be {expected}", f"身份证号校验位应为 {expected}"
        )
    return text


def resident_id_birth_date(value: str) -> datetime.date:
    return datetime.datetime.strptime(check_resident_id(value)[6:14], "%Y%m%d").date()


def resident_id_is_male(value: str) -> bool:
    return int(check_resident_id(value)[16]) % 2 == 1


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def check_uscc(value: str) -> str:
    text = half_width(value).strip().upper()
    if len(text) != 18:
        raise InvalidIdentifier(
            "social credit code must be 18 characters", "统一社会信用代码应为 18 位"
        )
    bad = [c for c in text if c not in USCC_ALPHABET]
    if bad:
        raise InvalidIdentifier(
            f"social credit code cannot contain {bad[0]!r}",
            f"统一社会信用代码不能包含 {bad[0]!r}",
        )
    expected = uscc_check_char(text[:17])
    if text[17] != expected:
        raise InvalidIdentifier(
            f"social credit code check character should be {expected}",
            f"统一社会信用代码校验位应为 {expected}",
        )
    return text


VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_char(vin: str) -> str:
    total = sum(VIN_VALUES[c] * w for c, w in zip(vin, VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def check_vin(value: str) -> str:
    text = half_width(value).strip().upper()
    if len(text) != 17:
        raise InvalidIdentifier("VIN must be 17 characters", "车架号（VIN）应为 17 位")
    bad = [c for c in text if c not in VIN_VALUES]
    if bad:
        raise InvalidIdentifier(
            f"VIN cannot contain {bad[0]!r} (I, O and Q are never used)",
            f"车架号不能包含 {bad[0]!r}（不使用 I、O、Q）",
        )
    expected = vin_check_char(text)
    if text[8] != expected:
        raise InvalidIdentifier(
            f"VIN check digit (position 9) should be {expected}",
            f"车架号第 9 位校验位应为 {expected}",
        )
    return text


PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTER = "A-HJ-NP-Z"
_SERIAL = f"[{_LETTER}0-9]"
PLATE_PATTERNS = {
    "standard": re.compile(rf"^[{PROVINCES}][{_LETTER}]{_SERIAL}{{5}}$"),
    "new_energy_small": re.compile(rf"^[{PROVINCES}][{_LETTER}][DF]{_SERIAL}[0-9]{{4}}$"),
    "new_energy_large": re.compile(rf"^[{PROVINCES}][{_LETTER}][0-9]{{5}}[DF]$"),
    "suffixed": re.compile(rf"^[{PROVINCES}][{_LETTER}]{_SERIAL}{{4}}[学挂警领港澳]$"),
    "embassy": re.compile(r"^使[0-9]{6}$"),
}


def plate_kind(value: str) -> str:
    text = normalise_plate(value)
    for kind, pattern in PLATE_PATTERNS.items():
        if pattern.match(text):
            return kind
    raise InvalidIdentifier(
        "plate must be a province character, an authority letter (not I or O) and 5 letters or "
        "digits, or 6 for a new-energy plate",
        "车牌号应为省份简称 + 发牌机关字母（不含 I、O）+ 5 位字母或数字（新能源为 6 位）",
    )


def normalise_plate(value: str) -> str:
    return re.sub(r"[\s·•・.\-]", "", half_width(value)).upper()


def check_plate(value: str) -> str:
    plate_kind(value)
    return normalise_plate(value)


def check_mobile(value: str) -> str:
    text = re.sub(r"[\s-]", "", half_width(value))
    if text.startswith("+86"):
        text = text[3:]
    if not re.fullmatch(r"1[3-9]\d{9}", text):
        raise InvalidIdentifier(
            "mobile number must be 11 digits starting 13–19", "手机号应为 13–19 开头的 11 位数字"
        )
    return text


CHECKS = {
    "resident_id": check_resident_id,
    "uscc": check_uscc,
    "vin": check_vin,
    "plate": check_plate,
    "mobile": check_mobile,
}
