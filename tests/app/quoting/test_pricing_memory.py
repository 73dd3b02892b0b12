"""The tariff remembers untraced prices by product, inputs and coverages (14 carriers ask the
same 交强险): a remembered price is the price computed afresh, inputs that compare equal but
differ (1.6 and 1.60, 1 and True) are priced apart, and a traced price is never remembered."""

from __future__ import annotations

from decimal import Decimal

import pytest

import rules
from app.carriers.contract import CoverageRequest
from app.carriers.tariff import PlatformTariff
from tests.app.carriers.helpers import pack_documents

COMPULSORY = {
    "province": "北京",
    "vehicle_class": "家庭自用汽车",
    "seats": 5,
    "record": "A2",
    "displacement_l": Decimal("1.6"),
    "fuel": "petrol",
}
COMMERCIAL = {
    "province": "北京",
    "purchase_price": Decimal("200000"),
    "vehicle_age": 3,
    "claims_last_year": 0,
    "claim_free_years": 3,
    "seats": 5,
    "pricing_factor": Decimal("0.85"),
}
COVERAGES = (CoverageRequest("own_damage"), CoverageRequest("third_party", Decimal("1000000")))


@pytest.fixture(scope="module")
def documents():
    """The packs' products and rules library, read once (each tariff below is made from them)."""
    found = pack_documents()
    products = {d["key"]: d for d in found if d["kind"] == "product"}
    kinds = ("decision_table", "rule_set")
    return products, rules.Library(d for d in found if d["kind"] in kinds)


def test_a_remembered_price_is_the_price_computed_afresh(documents):
    quoting = PlatformTariff(*documents).tracing(False)
    fresh = PlatformTariff(*documents, remember=False).tracing(False)
    first = quoting.price("commercial_motor", COMMERCIAL, COVERAGES)
    again = quoting.price("commercial_motor", dict(COMMERCIAL), COVERAGES)
    assert again is first
    assert again == fresh.price("commercial_motor", COMMERCIAL, COVERAGES)
    other_factor = quoting.price(
        "commercial_motor", {**COMMERCIAL, "pricing_factor": Decimal("1.10")}, COVERAGES
    )
    assert other_factor.premium > first.premium
    lower = (COVERAGES[0], CoverageRequest("third_party", Decimal("500000")))
    assert quoting.price("commercial_motor", COMMERCIAL, lower).premium < first.premium
    compulsory = quoting.price("compulsory_motor", COMPULSORY)
    assert compulsory == fresh.price("compulsory_motor", COMPULSORY)
    assert compulsory.collected["vehicle_tax"] > 0


def test_equal_looking_inputs_are_priced_apart_and_traces_are_not_remembered(documents):
    tariff = PlatformTariff(*documents)
    quoting = tariff.tracing(False)
    one = quoting.price("compulsory_motor", COMPULSORY)
    two = quoting.price("compulsory_motor", {**COMPULSORY, "displacement_l": Decimal("1.60")})
    assert two is not one and two.premium == one.premium
    quoting.price("compulsory_motor", {**COMPULSORY, "seats": 1, "displacement_l": 1})
    with pytest.raises(rules.RuleError):  # True == 1, yet no seat count: not taken from memory
        quoting.price("compulsory_motor", {**COMPULSORY, "seats": True, "displacement_l": 1})
    traced = tariff.price("compulsory_motor", COMPULSORY)
    assert traced.trace and tariff.price("compulsory_motor", COMPULSORY) is not traced
    assert traced.premium == one.premium
