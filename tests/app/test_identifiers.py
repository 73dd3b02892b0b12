"""Identifier checks against the rules of DOMAIN.md, including the cases stdnum gets wrong."""

from __future__ import annotations

import datetime
import random

import pytest

from app.demo.loader import make_plate, make_resident_id, make_uscc, make_vin
from app.identifiers import (
    InvalidIdentifier,
    check_mobile,
    check_plate,
    check_resident_id,
    check_uscc,
    check_vin,
    plate_kind,
    resident_id_birth_date,
    resident_id_check_char,
    resident_id_is_male,
    uscc_check_char,
)


def test_resident_id_check_character():
    assert check_resident_id("11010519491231002x") == "11010519491231002X"
    assert resident_id_birth_date("11010519491231002X") == datetime.date(1949, 12, 31)
    assert not resident_id_is_male("11010519491231002X")
    with pytest.raises(InvalidIdentifier, match="check character should be X"):
        check_resident_id("110105194912310021")


def test_resident_id_refuses_impossible_dates_but_not_old_regions():
    with pytest.raises(InvalidIdentifier, match="not a date"):
        check_resident_id("110105194902300025")
    future17 = "11010520990101001"
    with pytest.raises(InvalidIdentifier, match="impossible"):
        check_resident_id(future17 + resident_id_check_char(future17))
    # an unknown region code is not a reason to refuse (old IDs keep retired codes)
    old17 = "99999919800101001"
    assert check_resident_id(old17 + resident_id_check_char(old17))


def test_generated_ids_are_valid():
    rng = random.Random(7)
    for _ in range(50):
        value = make_resident_id(rng, "310115", datetime.date(1985, 3, 9), rng.random() < 0.5)
        assert check_resident_id(value) == value
        assert check_uscc(make_uscc(rng, "440106"))
        assert check_vin(make_vin(rng, "LSV", "R"))


def test_uscc_accepts_letters_in_the_authority_part():
    # registration-authority code "N" (other registrations): valid by GB 32100, refused by stdnum
    first17 = "N2110000MA0000000"
    assert check_uscc(first17 + uscc_check_char(first17))
    assert check_uscc("91350100M000100Y43") == "91350100M000100Y43"
    with pytest.raises(InvalidIdentifier, match="cannot contain 'I'"):
        check_uscc("91350100I000100Y43")
    with pytest.raises(InvalidIdentifier, match="check character"):
        check_uscc("91350100M000100Y44")


def test_vin():
    assert check_vin(" 1m8gdm9axkp042788 ") == "1M8GDM9AXKP042788"  # the ISO 3779 worked example
    assert check_vin("1M8GDM9AXKP042788") == "1M8GDM9AXKP042788"
    with pytest.raises(InvalidIdentifier, match="should be X"):
        check_vin("1M8GDM9A1KP042788")
    with pytest.raises(InvalidIdentifier, match="never used"):
        check_vin("1M8GDM9AXKP04278O")
    with pytest.raises(InvalidIdentifier, match="17 characters"):
        check_vin("1M8GDM9AX")


@pytest.mark.parametrize(
    "plate, kind",
    [
        ("沪A·12345", "standard"),
        ("京N8K9L2", "standard"),
        ("粤B D12345", "new_energy_small"),
        ("苏EF0236", "standard"),
        ("苏EF02365", "new_energy_small"),
        ("鲁B12345D", "new_energy_large"),
        ("浙A1234学", "suffixed"),
        ("粤Z1234港", "suffixed"),
    ],
)
def test_plate_kinds(plate, kind):
    assert plate_kind(plate) == kind


@pytest.mark.parametrize("plate", ["沪I12345", "沪A1234", "XA12345", "沪AO1234", "沪A12345678"])
def test_bad_plates(plate):
    with pytest.raises(InvalidIdentifier):
        check_plate(plate)


def test_generated_plates_are_valid():
    rng = random.Random(3)
    for electric in (False, True):
        for _ in range(30):
            assert check_plate(make_plate(rng, "广东", "深圳", electric))


def test_mobile():
    assert check_mobile("+86 139-1234-5678") == "13912345678"
    with pytest.raises(InvalidIdentifier):
        check_mobile("12912345678")


def test_messages_come_in_chinese_and_english():
    with pytest.raises(InvalidIdentifier) as refused:
        check_vin("1M8GDM9A1KP042788")
    assert refused.value.message("zh") == "车架号第 9 位校验位应为 X"
    assert (
        refused.value.message("en")
        == str(refused.value)
        == "VIN check digit (position 9) should be X"
    )
