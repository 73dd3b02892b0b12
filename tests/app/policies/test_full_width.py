"""Identifiers typed with a Chinese input method (full-width) are stored canonical."""

from __future__ import annotations

import pytest

from app.identifiers import (
    InvalidIdentifier,
    check_mobile,
    check_plate,
    check_resident_id,
    check_uscc,
    check_vin,
    half_width,
    resident_id_check_char,
    uscc_check_char,
    vin_check_char,
)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _resident_id() -> str:
    first17 = "31011519800517123"
    return first17 + resident_id_check_char(first17)


def _uscc() -> str:
    first17 = "91310115MA1K3YJ71"
    return first17 + uscc_check_char(first17)


def _vin() -> str:
    draft = "LSVAM4180C2184847"
    return draft[:8] + vin_check_char(draft) + draft[9:]


def test_half_width_keeps_chinese_and_converts_ascii_forms():
    assert half_width("京Ａ１２３４５") == "京A12345"
    assert half_width("　ａｂｃ！") == " abc!"
    assert half_width(None) == ""


@pytest.mark.parametrize(
    ("check", "canonical"),
    [
        (check_plate, "京A12345"),
        (check_plate, "粤BD12345"),
        (check_mobile, "13800138000"),
        (check_resident_id, _resident_id()),
        (check_uscc, _uscc()),
        (check_vin, _vin()),
    ],
)
def test_full_width_identifiers_are_stored_canonical(check, canonical):
    typed = full_width(canonical.lower() if check is check_vin else canonical)
    assert typed != canonical
    assert check(typed) == canonical


def test_full_width_is_still_checked():
    with pytest.raises(InvalidIdentifier):
        check_plate("京Ｉ１２３４５")  # I is never an authority letter
    wrong = _resident_id()[:17] + ("0" if _resident_id()[17] != "0" else "1")
    with pytest.raises(InvalidIdentifier):
        check_resident_id(full_width(wrong))
    assert check_plate("粤Ｂ・Ｄ１２３４５") == "粤BD12345"
