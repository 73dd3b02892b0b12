"""The sandbox carrier prices through the platform's tariff with the real structure (DOMAIN.md):
交强险 base × (1 + floating rate); 商业险 pure premium / (1 − loading) × NCD × the carrier's own
factor, per coverage; 车船税 by displacement, new energy exempt. Each insurer differs only by
its carrier document. Then underwriting, binding, issuing (own number format, never reused,
idempotent), endorsing, cancelling and downloads."""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest

from app.carriers.contract import (
    BindRequest,
    CancelRequest,
    CarrierRefused,
    CarrierUnavailable,
    CoverageRequest,
    EndorseRequest,
    History,
    IssueRequest,
    LineRequest,
    PolicyRef,
    QuoteRequest,
)
from tests.app.carriers.helpers import PERSON, D, car, file_tariff, motor_request, sandbox_client


@pytest.fixture(scope="module")
def tariff():
    return file_tariff()


def _line(result, key):
    return next(line for line in result.lines if line.product_key == key)


def test_compulsory_premium_is_base_times_floating_factor(tariff, tmp_path):
    picc = sandbox_client("picc", tmp_path)
    result = picc.quote(motor_request("picc", tariff), timeout=5)
    assert result.status == "ok", result.reasons
    jqx = _line(result, "compulsory_motor")
    # 家用 5 座 北京 (scheme D) A2: 950 × (1 − 25%)
    assert jqx.premium == D("712.50")
    assert jqx.premium_excl_vat == D("672.17")  # 712.50 / 1.06, half-up
    assert jqx.collected["vehicle_tax"] == D("360.00")  # 1.6 L
    assert jqx.explain["base_premium"] == D("950") and jqx.explain["floating_rate"] == D("-0.25")
    assert [c.code for c in jqx.coverages] == ["death_disability", "medical", "property"]


@pytest.mark.parametrize(
    ("province", "seats", "record", "drink", "expected"),
    [
        ("上海", 7, "A4", 0, "1100.00"),  # 家用 ≥ 6 座, no floating
        ("海南", 5, "A3", 0, "475.00"),  # scheme A: −50%
        ("广东", 5, "A1", 1, "940.50"),  # scheme E −10%, one drink-driving offence +10%
        ("陕西", 5, "A6", 0, "1235.00"),  # fatal accident +30%
    ],
)
def test_compulsory_premium_on_more_cars(
    tariff, tmp_path, province, seats, record, drink, expected
):
    client = sandbox_client("pingan", tmp_path)
    request = motor_request(
        "pingan",
        tariff,
        province=province,
        vehicle=car(seats=seats),
        history=History(jqx_record=record, drink_driving_offences=drink),
        lines=("compulsory_motor",),
    )
    assert client.quote(request, timeout=5).lines[0].premium == D(expected)


def test_vehicle_tax_by_displacement_new_energy_exempt_first_year_by_months(tariff, tmp_path):
    client = sandbox_client("cpic", tmp_path)

    def tax(vehicle, start=datetime.date(2026, 6, 1)):
        request = motor_request(
            "cpic", tariff, "江苏", vehicle, lines=("compulsory_motor",), start=start
        )
        return client.quote(request, timeout=5).vehicle_tax

    assert tax(car(displacement_l=D("2.0"))) == D("450.00")
    assert tax(car(displacement_l=D("3.5"))) == D("3000.00")
    assert tax(car(fuel="electric", displacement_l=D("0"))) == D("0.00")
    assert tax(car(fuel="plugin_hybrid", displacement_l=D("1.5"))) == D("0.00")
    new_car = car(is_new=True, register_date=datetime.date(2026, 9, 10), displacement_l=D("2.0"))
    assert tax(new_car, start=datetime.date(2026, 9, 15)) == D("150.00")  # 450 × 4 / 12


def test_commercial_premium_per_coverage_with_each_carriers_factor(tariff, tmp_path):
    request = motor_request("picc", tariff)  # 20 万 car, 3 years old, 3 claim-free years
    picc = _line(sandbox_client("picc", tmp_path).quote(request, timeout=5), "commercial_motor")
    pingan_request = replace(request, carrier_key="pingan")
    pingan = _line(
        sandbox_client("pingan", tmp_path).quote(pingan_request, timeout=5), "commercial_motor"
    )
    # actual value 200000 × (1 − 0.6% × 36) = 156800; own-damage pure 156800 × 1.00% = 1568;
    # third-party pure (100 万) 1300; NCD 0.6; factors: 人保 0.85, 平安 0.82.
    premiums = {c.code: c.premium for c in picc.coverages}
    assert premiums == {"own_damage": D("1066.24"), "third_party": D("884.00")}  # ×0.6×0.85/0.75
    assert picc.premium == D("1950.24")
    assert {c.code: c.premium for c in pingan.coverages} == {
        "own_damage": D("1028.61"),  # 1568 / 0.75 × 0.6 × 0.82
        "third_party": D("852.80"),
    }
    assert picc.explain["applied_factor"] == D("0.85") and picc.explain["ncd"] == D("0.6")
    own = next(c for c in picc.coverages if c.code == "own_damage")
    assert own.sum_insured == D("156800.00")


def test_add_on_coverages_each_get_a_premium(tariff, tmp_path):
    coverages = (
        CoverageRequest("own_damage"),
        CoverageRequest("third_party", D("2000000")),
        CoverageRequest("driver", D("10000")),
        CoverageRequest("passenger", D("10000")),
        CoverageRequest("wheel"),
        CoverageRequest("scratch", D("5000")),
        CoverageRequest("medical_outside_insurance", D("20000")),
        CoverageRequest("roadside_rescue"),
    )
    request = motor_request("picc", tariff, commercial=coverages, lines=("commercial_motor",))
    line = sandbox_client("picc", tmp_path).quote(request, timeout=5).lines[0]
    premiums = {c.code: c.premium for c in line.coverages}
    assert set(premiums) == {c.code for c in coverages}
    assert all(p > 0 for p in premiums.values())
    assert sum(premiums.values()) == line.premium
    # 司机 1 万: 10000 × 0.42% / 0.75 × 0.6 × 0.85 = 28.56
    assert premiums["driver"] == D("28.56")


def test_the_desk_form_cannot_change_a_carriers_factor(tariff, tmp_path):
    request = motor_request("picc", tariff, lines=("commercial_motor",))
    line = request.lines[0]
    forged = replace(
        request,
        lines=(
            LineRequest(line.product_key, line.line, line.coverages, {"pricing_factor": "0.5"}),
        ),
    )
    result = sandbox_client("picc", tmp_path).quote(forged, timeout=5)
    assert result.lines[0].explain["applied_factor"] == D("0.85")


def test_underwriting_rules_come_from_the_document(tariff, tmp_path):
    dubang = sandbox_client("dubang", tmp_path).quote(
        motor_request("dubang", tariff, "北京"), timeout=5
    )
    assert dubang.status == "refused" and "北京" in dubang.reasons[0]
    old = car(register_date=datetime.date(2016, 1, 1))
    fude = sandbox_client("fude", tmp_path).quote(
        motor_request("fude", tariff, "广东", old), timeout=5
    )
    assert fude.status == "refused" and "车龄 10 年" in fude.reasons[0]
    truck = car(vehicle_class="营业货车", tonnage=D("3"))
    fude_truck = sandbox_client("fude", tmp_path).quote(
        motor_request("fude", tariff, "广东", truck, lines=("compulsory_motor",)), timeout=5
    )
    assert fude_truck.status == "refused" and "营业货车" in fude_truck.reasons[0]
    picc = sandbox_client("picc", tmp_path).quote(
        motor_request("picc", tariff, "广东", old), timeout=5
    )
    assert picc.status == "ok"  # 人保 takes cars up to 15 years


def test_a_life_carrier_refuses_an_insured_over_its_age(tariff, tmp_path):
    line = LineRequest(
        "term_life",
        "term_life",
        (CoverageRequest("death_total_disability", D("1000000")),),
        {"term_years": "20"},
    )
    old_person = replace(PERSON, id_number="110101195001011234")
    request = QuoteRequest(
        "r9",
        "chinalife_pc",
        "北京",
        datetime.date(2026, 6, 1),
        None,
        old_person,
        old_person,
        (line,),
        tariff=tariff,
    )
    client = sandbox_client("chinalife_pc", tmp_path)
    assert client.quote(request, timeout=5).status == "refused"
    young = replace(request, holder=PERSON, insured=PERSON)  # born 1990: 36, male
    quoted = client.quote(young, timeout=5)
    assert quoted.status == "ok"
    # 男 36 岁 20 年: 1.60 ‰ × 1000 × 国寿财 0.97
    assert quoted.lines[0].premium == D("1552.00")


def test_latency_beyond_the_timeout_is_unavailable(tariff, tmp_path):
    slow = sandbox_client("picc", tmp_path, latency_ms=2000)
    with pytest.raises(CarrierUnavailable):
        slow.quote(motor_request("picc", tariff), timeout=0.01)


def test_an_answer_or_a_refusal_never_comes_before_the_carriers_latency(tariff, tmp_path):
    # The sandbox works inside its latency (as a carrier's own servers do) and sleeps the rest:
    # the answer comes no sooner than the document's latency, whatever the work cost.
    import time

    client = sandbox_client("picc", tmp_path, latency_ms=150)
    started = time.monotonic()
    assert client.quote(motor_request("picc", tariff), timeout=5).status == "ok"
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    request = motor_request("picc", tariff)
    with pytest.raises(CarrierRefused):
        client.bind(BindRequest("bind-x", "picc", "QNOSUCHREF", request, ()), timeout=5)
    assert time.monotonic() - started >= 0.15


def _bound(client, key, tariff, idempotency="bind-1"):
    request = motor_request(key, tariff)
    quote = client.quote(request, timeout=5)
    bind = client.bind(
        BindRequest(
            idempotency,
            key,
            quote.carrier_quote_ref,
            request,
            ("compulsory_motor", "commercial_motor"),
        ),
        timeout=5,
    )
    return quote, bind


def test_issue_numbers_policies_in_the_carriers_format_once(tariff, tmp_path):
    client = sandbox_client("picc", tmp_path)
    quote, bound = _bound(client, "picc", tariff)
    assert bound.status == "bound" and bound.total == quote.total
    request = IssueRequest("issue-1", "picc", bound.proposal_ref, "PAY1", bound.total)
    issued = client.issue(request, timeout=5)
    numbers = [p.policy_no for p in issued.policies]
    assert issued.status == "pending_confirmation"
    assert numbers[0].startswith("PDZA2026110000") and numbers[1].startswith("PDAA2026110000")
    assert all(len(n) == 22 for n in numbers)
    assert client.issue(request, timeout=5) == issued  # the same key: the same answer
    with pytest.raises(CarrierRefused):  # another key for an issued proposal: refused, not twice
        client.issue(replace(request, idempotency_key="issue-2"), timeout=5)
    _, again = _bound(client, "picc", tariff, "bind-2")
    second = client.issue(
        IssueRequest("issue-3", "picc", again.proposal_ref, "PAY2", again.total), timeout=5
    )
    assert not set(numbers) & {p.policy_no for p in second.policies}
    assert client.confirm(numbers[0], timeout=5).status == "confirmed"
    assert client.confirm("PDZA2026110000999999", timeout=5).status == "unknown"


def test_a_wrong_payment_or_an_unknown_quote_is_refused(tariff, tmp_path):
    client = sandbox_client("taiping", tmp_path)
    _, bound = _bound(client, "taiping", tariff)
    with pytest.raises(CarrierRefused) as refused:
        client.issue(
            IssueRequest("x", "taiping", bound.proposal_ref, "PAY", bound.total - 1), timeout=5
        )
    assert "不符" in refused.value.reasons[0]
    request = motor_request("taiping", tariff)
    with pytest.raises(CarrierRefused):
        client.bind(
            BindRequest("b", "taiping", "Q-NOT-MINE", request, ("compulsory_motor",)), timeout=5
        )


def test_cancel_refunds_pro_rata_and_downloads_list_what_was_issued(tariff, tmp_path):
    client = sandbox_client("ccic", tmp_path)
    _, bound = _bound(client, "ccic", tariff)
    issued = client.issue(
        IssueRequest("i", "ccic", bound.proposal_ref, "P", bound.total), timeout=5
    )
    jqx = next(p for p in issued.policies if p.line == "compulsory_motor")
    assert (jqx.start_date, jqx.end_date) == (datetime.date(2026, 6, 1), datetime.date(2027, 5, 31))
    ref = PolicyRef(
        jqx.policy_no,
        jqx.line,
        jqx.product_key,
        jqx.start_date,
        jqx.end_date,
        jqx.premium,
        jqx.vehicle_tax,
    )
    cancelled = client.cancel(
        CancelRequest("c1", "ccic", ref, datetime.date(2026, 12, 1)), timeout=5
    )
    assert cancelled.refund == D("355.27")  # 712.50 × 182 / 365
    assert (
        client.cancel(CancelRequest("c1", "ccic", ref, datetime.date(2026, 12, 1)), timeout=5)
        == cancelled
    )
    commercial = next(p for p in issued.policies if p.line == "commercial_motor")
    cref = PolicyRef(
        commercial.policy_no,
        commercial.line,
        commercial.product_key,
        commercial.start_date,
        commercial.end_date,
        commercial.premium,
    )
    change = client.endorse(
        EndorseRequest(
            "e1",
            "ccic",
            cref,
            "change_coverage",
            datetime.date(2026, 12, 1),
            new_premium=commercial.premium + D("365.00"),
        ),
        timeout=5,
    )
    assert change.premium_change == D("182.00")
    today = datetime.date.today()
    listed = {p.policy_no: p for p in client.download_policies(today, today, timeout=5)}
    assert set(listed) == {p.policy_no for p in issued.policies}
    assert listed[jqx.policy_no].status == "cancelled"
    statement = client.download_statement(f"{today:%Y-%m}", timeout=5)
    commission = next(
        s for s in statement if s.policy_no == jqx.policy_no and s.endorsement_no is None
    )
    assert commission.fee_rate == D("0.04") and commission.fee_amount == D("26.89")  # 672.17 × 4%
    assert any(s.endorsement_no == cancelled.endorsement_no for s in statement)


def test_another_tenant_never_sees_this_tenants_policies(tariff, tmp_path):
    mine, theirs = sandbox_client("huatai", tmp_path, "A"), sandbox_client("huatai", tmp_path, "B")
    _, bound = _bound(mine, "huatai", tariff)
    issued = mine.issue(
        IssueRequest("i", "huatai", bound.proposal_ref, "P", bound.total), timeout=5
    )
    today = datetime.date.today()
    assert theirs.download_policies(today, today, timeout=5) == ()
    with pytest.raises(CarrierRefused):
        theirs.issue(IssueRequest("j", "huatai", bound.proposal_ref, "P", bound.total), timeout=5)
    assert len(mine.download_policies(today, today, timeout=5)) == len(issued.policies)
