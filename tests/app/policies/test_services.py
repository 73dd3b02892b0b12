"""The policy services: issuing with per-line VAT, business types from history, pro-rata
endorsements and cancellations (Decimal, half-up), confirmation, expiry and the scope wall."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.customers.models import Vehicle
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.policies.labels import BusinessType, EndorsementKind, PolicyStatus
from app.policies.models import Endorsement, Policy
from app.policies.services import (
    CoverageDraft,
    EndorsementChange,
    OwnerChange,
    PolicyDraft,
    business_type_for,
    cancel,
    combined_types,
    confirm,
    endorse,
    expire_due,
    issue_policy,
    one_year_end,
    policy_in_force,
    pro_rata,
)
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import build_world, scope_of
from tests.app.policies.factory import (
    commercial_coverages,
    make_policy,
    next_policy_no,
    store_vehicle,
)


@pytest.fixture(scope="module")
def world(app):
    return build_world(
        app,
        {"desk": ("insurance_desk", "store_a"), "deskb": ("insurance_desk", "store_b")},
    )


@pytest.fixture(scope="module")
def other(app):
    return build_world(app, {"desk": ("insurance_desk", "store_a")})


def _get(policy_id: int) -> Policy:
    return db.session.get(Policy, policy_id)


def test_premium_excl_vat_is_rounded_per_line_and_summed(app, world):
    lines = [CoverageDraft(f"c{i}", f"险别{i}", Decimal("1.00")) for i in range(3)]
    policy_id = make_policy(world.store_a, coverages=lines)
    with use_scope(system_scope()):
        policy = _get(policy_id)
        # 1.00 / 1.06 = 0.943… → 0.94 per line; three lines 2.82, where rounding the total
        # once would give 2.83.
        assert [c.premium_excl_tax for c in policy.coverages] == [Decimal("0.94")] * 3
        assert policy.premium_incl_tax == Decimal("3.00")
        assert policy.premium_excl_tax == Decimal("2.82")
        assert policy.vat_amount == Decimal("0.18")


def test_brochure_figures_without_vat(app, world):
    policy_id = make_policy(
        world.store_a,
        line="compulsory_motor",
        coverages=[CoverageDraft("jqx", "交强险", Decimal("950.00"))],
        vehicle_tax=Decimal("360.00"),
    )
    with use_scope(system_scope()):
        policy = _get(policy_id)
        assert policy.premium_excl_tax == Decimal("896.23")
        assert policy.vehicle_tax == Decimal("360.00")
        assert policy.end_date == datetime.date(2027, 2, 28)
        assert policy.status == PolicyStatus.PENDING_CONFIRMATION
        assert policy.created_by == "tests"


def test_one_year_end():
    assert one_year_end(datetime.date(2026, 3, 1)) == datetime.date(2027, 2, 28)
    assert one_year_end(datetime.date(2028, 2, 29)) == datetime.date(2029, 2, 28)
    assert one_year_end(datetime.date(2026, 1, 15)) == datetime.date(2027, 1, 14)


def test_pro_rata_rounds_half_up():
    assert pro_rata(Decimal("0.05"), 1, 2) == Decimal("0.03")
    assert pro_rata(Decimal("-0.05"), 1, 2) == Decimal("-0.03")
    assert pro_rata(Decimal("600.00"), 181, 365) == Decimal("297.53")


def test_business_types_from_history(app):
    world = build_world(app)
    with use_scope(system_scope("tests")):
        vehicle = store_vehicle(world.store_a)
        vehicle_id = vehicle.id
        on = datetime.date(2026, 3, 1)
        assert business_type_for(db.session, vehicle, "pingan", "commercial_motor", on) == "new"
    make_policy(world.store_a, start_date=datetime.date(2025, 3, 1), carrier_key="pingan")
    with use_scope(system_scope("tests")):
        vehicle = db.session.get(Vehicle, vehicle_id)
        assert business_type_for(db.session, vehicle, "pingan", "commercial_motor", on) == (
            BusinessType.RENEWAL
        )
        assert business_type_for(db.session, vehicle, "picc", "commercial_motor", on) == (
            BusinessType.TRANSFER
        )
        # another line has no history yet
        assert business_type_for(db.session, vehicle, "pingan", "compulsory_motor", on) == "new"
        vehicle.is_new = True
        assert business_type_for(db.session, vehicle, "pingan", "commercial_motor", on) == "new"
        db.session.rollback()
    renewal_id = make_policy(world.store_a, start_date=on, carrier_key="picc")
    with use_scope(system_scope()):
        renewal = _get(renewal_id)
        assert renewal.business_type == BusinessType.TRANSFER
        assert renewal.history_type == BusinessType.TRANSFER
        assert renewal.previous_carrier_key == "pingan"
        assert renewal.renews is not None and renewal.renews.carrier_key == "pingan"
        assert policy_in_force(db.session, renewal.vehicle, "commercial_motor", on) is renewal


def test_combined_types_follow_the_order_of_issuance():
    assert combined_types(
        ["compulsory_motor", "commercial_motor", "driver_passenger_accident"]
    ) == {
        "compulsory_motor": BusinessType.COMBINED_FIRST,
        "commercial_motor": BusinessType.COMBINED_OTHER,
    }
    assert combined_types(["commercial_motor", "compulsory_motor"])["commercial_motor"] == (
        BusinessType.COMBINED_FIRST
    )
    assert combined_types(["compulsory_motor"]) == {}
    assert combined_types(["commercial_motor", "accident_health"]) == {}


def _endorse(policy_id, change):
    with use_scope(system_scope("tests")):
        policy = _get(policy_id)
        endorsement = endorse(db.session, policy, change)
        db.session.commit()
        return endorsement.id


def test_coverage_change_costs_the_difference_pro_rata(app, world):
    policy_id = make_policy(world.store_a)  # 2026-03-01 … 2027-02-28, 365 days
    change = EndorsementChange(
        kind="change_coverage",
        effective_date=datetime.date(2026, 9, 1),  # 181 days left
        coverages=commercial_coverages(own_damage="3600.00"),
        reason="提高车损保额",
    )
    endorsement_id = _endorse(policy_id, change)
    with use_scope(system_scope()):
        endorsement = db.session.get(Endorsement, endorsement_id)
        policy = endorsement.policy
        assert endorsement.endorsement_no == f"{policy.policy_no}P001"
        # 600.00 × 181 / 365 = 297.534… → 297.53; without VAT 280.688… → 280.69
        assert endorsement.premium_change_incl_tax == Decimal("297.53")
        assert endorsement.premium_change_excl_tax == Decimal("280.69")
        assert endorsement.details["pro_rata"] == {"days_left": 181, "term_days": 365}
        # the policy keeps its premium as issued; the change is the endorsement's
        assert policy.premium_incl_tax == Decimal("4200.00")


def test_cancellation_refunds_each_line_pro_rata(app, world):
    policy_id = make_policy(world.store_a, vehicle_tax=Decimal("360.00"))
    with use_scope(system_scope("tests")):
        policy = _get(policy_id)
        endorsement = cancel(db.session, policy, datetime.date(2026, 9, 1), "车辆转卖")
        db.session.commit()
        # own damage 3000 × 181/365 = 1487.671… → 1487.67 (excl 1403.46);
        # third party 1200 × 181/365 = 595.068… → 595.07 (excl 561.39)
        assert endorsement.kind == EndorsementKind.CANCEL
        assert endorsement.premium_change_incl_tax == Decimal("-2082.74")
        assert endorsement.premium_change_excl_tax == Decimal("-1964.85")
        # five whole months after September to February: 360 × 5 / 12
        assert endorsement.vehicle_tax_change == Decimal("-150.00")
        assert policy.status == PolicyStatus.CANCELLED
        assert policy.cancelled_at is not None
        with pytest.raises(Conflict) as refused:
            cancel(db.session, policy, datetime.date(2026, 10, 1), "再次退保")
        assert refused.value.field == "status"
        db.session.rollback()


def test_cancellation_after_a_coverage_change_refunds_the_current_premiums(app, world):
    policy_id = make_policy(world.store_a)
    _endorse(
        policy_id,
        EndorsementChange(
            kind="change_coverage",
            effective_date=datetime.date(2026, 9, 1),
            coverages=[CoverageDraft("third_party", "三者险", Decimal("1200.00"))],
        ),
    )
    with use_scope(system_scope("tests")):
        policy = _get(policy_id)
        first = policy.endorsements[0]
        assert first.premium_change_incl_tax == Decimal("-1487.67")  # own damage dropped
        endorsement = cancel(db.session, policy, datetime.date(2026, 9, 1), "退保")
        assert endorsement.premium_change_incl_tax == Decimal("-595.07")
        assert endorsement.endorsement_no.endswith("P002")
        db.session.commit()


def test_plate_and_owner_changes(app, world):
    policy_id = make_policy(world.store_b)
    _endorse(
        policy_id,
        EndorsementChange(
            kind="change_plate", effective_date=datetime.date(2026, 5, 1), plate="沪Ｂ１２３４５"
        ),
    )
    _endorse(
        policy_id,
        EndorsementChange(
            kind="change_owner",
            effective_date=datetime.date(2026, 6, 1),
            owner=OwnerChange("新车主", insured_mobile="１３９１２３４５６７８"),
        ),
    )
    with use_scope(system_scope()):
        policy = _get(policy_id)
        assert policy.plate == "沪B12345"
        assert policy.vehicle.plate == "沪B12345"
        assert policy.insured_name == "新车主"
        assert policy.insured_mobile == "13912345678"
        plate, owner = policy.endorsements
        assert plate.details["after"] == {"plate": "沪B12345"}
        assert owner.details["before"]["insured_name"] != "新车主"
        assert plate.premium_change_incl_tax == owner.premium_change_incl_tax == Decimal("0.00")


def test_bad_endorsements_name_the_field(app, world):
    policy_id = make_policy(world.store_a)
    cases = [
        (EndorsementChange("change_plate", datetime.date(2026, 5, 1), plate="沪I12345"), "plate"),
        (
            EndorsementChange("change_plate", datetime.date(2028, 5, 1), plate="沪B54321"),
            "effective_date",
        ),
        (
            EndorsementChange("change_coverage", datetime.date(2026, 5, 1), coverages=[]),
            "coverages",
        ),
        (
            EndorsementChange(
                "change_owner",
                datetime.date(2026, 5, 1),
                owner=OwnerChange("张三", insured_id_number="110101199003071234"),
            ),
            "insured_id_number",
        ),
        (EndorsementChange("explode", datetime.date(2026, 5, 1)), "kind"),
    ]
    with use_scope(system_scope("tests")):
        for change, field in cases:
            with pytest.raises(ValidationFailed) as refused:
                endorse(db.session, _get(policy_id), change)
            assert refused.value.field == field
            db.session.rollback()
        assert _get(policy_id).endorsements == []


def test_confirm_and_expire(app, world):
    policy_id = make_policy(world.store_a, start_date=datetime.date(2024, 1, 10))
    with use_scope(system_scope("tests")):
        policy = _get(policy_id)
        confirm(db.session, policy)
        assert policy.status == PolicyStatus.IN_FORCE and policy.confirmed_at is not None
        confirm(db.session, policy)  # a repeated confirm-back changes nothing
        expired = expire_due(db.session, datetime.date(2026, 1, 1))
        assert expired >= 1
        assert policy.status == PolicyStatus.EXPIRED
        with pytest.raises(Conflict):
            confirm(db.session, policy)
        db.session.commit()


def test_duplicates_and_bad_drafts_are_refused(app, world):
    number = next_policy_no()
    make_policy(world.store_a, policy_no=number)
    with use_scope(system_scope("tests")):
        vehicle = store_vehicle(world.store_a)
        base = dict(
            org_node_id=world.store_a,
            policy_no=number,
            carrier_key="pingan",
            line="commercial_motor",
            start_date=datetime.date(2026, 3, 1),
            insured_name="张三",
            vehicle_id=vehicle.id,
        )
        with pytest.raises(Conflict) as duplicate:
            issue_policy(db.session, PolicyDraft(**base))
        assert duplicate.value.field == "policy_no"
        # the same number at another carrier is another policy
        issue_policy(db.session, PolicyDraft(**{**base, "carrier_key": "picc"}))
        bad = [
            ({"line": "boat"}, "line"),
            ({"end_date": datetime.date(2025, 1, 1)}, "end_date"),
            ({"plate": "XX123"}, "plate"),
            ({"vin": "LSV12345678901234"}, "vin"),
            ({"insured_mobile": "12345"}, "insured_mobile"),
            (
                {"coverages": [CoverageDraft("x", "x", Decimal("-1"))]},
                "coverages[0].premium_incl_tax",
            ),
            ({"policy_no": " "}, "policy_no"),
        ]
        for change, field in bad:
            with pytest.raises(ValidationFailed) as refused:
                issue_policy(
                    db.session, PolicyDraft(**{**base, "policy_no": next_policy_no(), **change})
                )
            assert refused.value.field == field, change
        db.session.rollback()


def test_full_width_identifiers_are_stored_canonical(app, world):
    policy_id = make_policy(
        world.store_a,
        plate="沪Ａ１２３４５",
        insured_mobile="１３８００１３８０００",
        policy_no="ｐｄａａ２０２６００１２３４５６７８",
    )
    with use_scope(system_scope()):
        policy = _get(policy_id)
        assert policy.plate == "沪A12345"
        assert policy.insured_mobile == "13800138000"
        assert policy.policy_no == "PDAA20260012345678"


def test_scope_wall_for_reads_and_references(app, world, other):
    mine = make_policy(world.store_a)
    with use_scope(scope_of(world.users["deskb"])):
        assert db.session.get(Policy, mine) is None
        assert db.session.scalars(select(Policy).where(Policy.id == mine)).all() == []
    db.session.remove()
    with use_scope(scope_of(other.users["desk"])):
        assert db.session.get(Policy, mine) is None
    db.session.remove()
    # a desk cannot issue on a sibling store's or another tenant's vehicle, nor in their stores
    with use_scope(system_scope()):
        sibling_vehicle = store_vehicle(world.store_b).id
        foreign_vehicle = store_vehicle(other.store_a).id
    db.session.remove()
    with use_scope(scope_of(world.users["desk"])):
        base = dict(
            org_node_id=world.store_a,
            carrier_key="pingan",
            line="commercial_motor",
            start_date=datetime.date(2026, 3, 1),
            insured_name="张三",
        )
        for change, field in (
            ({"vehicle_id": sibling_vehicle}, "vehicle_id"),
            ({"vehicle_id": foreign_vehicle}, "vehicle_id"),
            ({"org_node_id": world.store_b}, "org_node_id"),
            ({"org_node_id": other.store_a}, "org_node_id"),
        ):
            with pytest.raises(ValidationFailed) as refused:
                issue_policy(
                    db.session, PolicyDraft(**{**base, "policy_no": next_policy_no(), **change})
                )
            assert refused.value.field == field
            db.session.rollback()
        # and in its own store it works
        own = store_vehicle(world.store_a).id
        policy = issue_policy(
            db.session, PolicyDraft(**{**base, "policy_no": next_policy_no(), "vehicle_id": own})
        )
        assert policy.created_by == world.users["desk"]
        db.session.commit()
    db.session.remove()
