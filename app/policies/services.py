"""The services of the policy book: issue, endorse (批改), cancel (退保), confirm, expire, and the
business type of a new policy from the vehicle's history.

Services validate, change rows and flush; the caller (a view, an API, a task, the importer)
commits. Refusals are `app.errors` types naming the field, raised before anything is written.

Dates: `end_date` is the last day covered (a one-year policy from 2026-03-01 ends 2027-02-28),
so a policy's term is `(end - start).days + 1` days and the days left on an effective date `d`
are `(end - d).days + 1`. Pro-rata amounts are computed per coverage line and rounded half-up to
the cent; a total is the sum of its rounded lines (DOMAIN.md: 不含税保费 per line).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import utcnow
from app.customers.models import Customer, Vehicle
from app.errors import Conflict, NotFound, Unavailable, ValidationFailed
from app.fees.arithmetic import VAT_RATE, cents, excl_vat
from app.identifiers import (
    InvalidIdentifier,
    check_mobile,
    check_plate,
    check_resident_id,
    check_uscc,
    check_vin,
    half_width,
)
from app.organisation.models import OrgNode
from app.policies.labels import (
    MOTOR_LINES,
    BusinessType,
    EndorsementKind,
    EndorsementStatus,
    IssuingTerminal,
    PolicyLine,
    PolicySource,
    PolicyStatus,
)
from app.policies.models import Endorsement, Policy, PolicyCoverage
from app.tenancy.scope import current_scope

ZERO = Decimal("0.00")
OPEN_STATUSES = (PolicyStatus.PENDING_CONFIRMATION, PolicyStatus.IN_FORCE)
# A policy that never came into being does not make the next one a renewal.
HISTORY_STATUSES = (
    PolicyStatus.PENDING_CONFIRMATION,
    PolicyStatus.IN_FORCE,
    PolicyStatus.EXPIRED,
    PolicyStatus.CANCELLED,
)
DEFAULT_ENDORSEMENT_FORMAT = "{policy_no}P{seq:03d}"


# --- drafts -------------------------------------------------------------------------------------


@dataclass
class CoverageDraft:
    """One coverage line as sold: its annual premium including VAT."""

    code: str
    name: str
    premium_incl_tax: Decimal
    sum_insured: Decimal | None = None


@dataclass
class PolicyDraft:
    """Everything a new policy needs. Unset optional facts are taken from the vehicle and the
    customer (plate, VIN, new car, insured), the business type from the vehicle's history."""

    org_node_id: int
    policy_no: str
    carrier_key: str
    line: PolicyLine | str
    start_date: datetime.date
    insured_name: str = ""
    coverages: list[CoverageDraft] = field(default_factory=list)
    carrier_name: str = ""
    end_date: datetime.date | None = None
    premium_incl_tax: Decimal | None = None  # only when there are no coverage lines (imports)
    vehicle_tax: Decimal = ZERO
    sum_insured: Decimal | None = None
    vat_rate: Decimal = VAT_RATE
    product_key: str | None = None
    product_version: str | None = None
    business_type: BusinessType | str | None = None
    history_type: BusinessType | str | None = None
    source: PolicySource | str = PolicySource.DESK
    issuing_terminal: IssuingTerminal | str = IssuingTerminal.PC
    status: PolicyStatus | str = PolicyStatus.PENDING_CONFIRMATION
    compulsory_only: bool = False
    salesperson_id: int | None = None
    salesperson_name: str | None = None
    practitioner_no: str | None = None
    customer_id: int | None = None
    insured_id_number: str | None = None
    insured_mobile: str | None = None
    vehicle_id: int | None = None
    vehicle_is_new: bool | None = None
    plate: str | None = None
    vin: str | None = None
    renews_policy_id: int | None = None
    previous_carrier_key: str | None = None
    order_id: int | None = None
    quote_ref: str | None = None
    lineage: dict[str, Any] | None = None
    issued_at: datetime.datetime | None = None
    confirmed_at: datetime.datetime | None = None
    created_by: str | None = None


@dataclass
class OwnerChange:
    insured_name: str
    insured_id_number: str | None = None
    insured_mobile: str | None = None
    customer_id: int | None = None


@dataclass
class EndorsementChange:
    """A 批改: a new plate, a new owner, or the new set of coverage lines (annual premiums)."""

    kind: EndorsementKind | str
    effective_date: datetime.date
    plate: str | None = None
    owner: OwnerChange | None = None
    coverages: list[CoverageDraft] | None = None
    reason: str | None = None
    endorsement_no: str | None = None  # the carrier's number when it gave one
    created_by: str | None = None


# --- small helpers ------------------------------------------------------------------------------


def one_year_end(start: datetime.date) -> datetime.date:
    """The last day of a one-year policy starting on `start` (29 Feb starts end on 27 Feb)."""
    try:
        anniversary = start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        anniversary = start.replace(year=start.year + 1, day=28) + datetime.timedelta(days=1)
    return anniversary - datetime.timedelta(days=1)


def term_days(policy: Policy) -> int:
    return (policy.end_date - policy.start_date).days + 1


def days_left(policy: Policy, on: datetime.date) -> int:
    """Days still covered from `on` (inclusive) to the end of the policy."""
    return max((policy.end_date - on).days + 1, 0)


def pro_rata(amount: Decimal, remaining: int, term: int) -> Decimal:
    """`amount` × remaining / term, rounded half-up to the cent."""
    return cents(Decimal(amount) * remaining / term) if term > 0 else ZERO


def _who(given: str | None) -> str | None:
    if given:
        return given
    scope = current_scope()
    return scope.username if scope else None


def _enum(enum_cls, value, field_name: str):
    if value is None or isinstance(value, enum_cls):
        return value
    try:
        return enum_cls(value)
    except ValueError as exc:
        allowed = ", ".join(m.value for m in enum_cls)
        raise ValidationFailed(
            f"{field_name}: must be one of {allowed}",
            f"{field_name}：取值应为 {allowed} 之一",
            field=field_name,
        ) from exc


def _identifier(check, value: str | None, field_name: str) -> str | None:
    if value is None or not str(value).strip():
        return None
    try:
        return check(value)
    except InvalidIdentifier as exc:
        raise ValidationFailed(
            f"{field_name}: {exc}", f"{field_name}：{exc.message('zh')}", field=field_name
        ) from exc


def _party_id(value: str | None, field_name: str) -> str | None:
    """A resident ID, or a social credit code for a company insured."""
    if value is None or not str(value).strip():
        return None
    text = half_width(value).strip().upper()
    check = check_uscc if len(text) == 18 and not text[:17].isdigit() else check_resident_id
    return _identifier(check, text, field_name)


def _money(value, field_name: str, *, allow_negative: bool = False) -> Decimal:
    try:
        amount = cents(value)
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise ValidationFailed(
            f"{field_name}: not an amount", f"{field_name}：不是有效金额", field=field_name
        ) from exc
    if amount < 0 and not allow_negative:
        raise ValidationFailed(
            f"{field_name}: cannot be negative", f"{field_name}：不能为负数", field=field_name
        )
    return amount


def _resolve(session: Session, model, pk: int | None, field_name: str, tenant_id: int):
    """A referenced row, visible in the caller's scope and of the policy's tenant; a row outside
    is answered like a missing one."""
    if pk is None:
        return None
    row = session.get(model, pk)
    if row is None or row.tenant_id != tenant_id:
        raise ValidationFailed(
            f"{field_name}: not found",
            f"{field_name}：不存在或不在您的权限范围内",
            field=field_name,
        )
    return row


def coverage_lines(
    coverages: Iterable[CoverageDraft], rate: Decimal = VAT_RATE
) -> list[dict[str, Any]]:
    """Coverage drafts → rows with the premium excl. VAT rounded per line."""
    lines = []
    for index, coverage in enumerate(coverages):
        where = f"coverages[{index}]"
        if not (coverage.code or "").strip():
            raise ValidationFailed(
                f"{where}.code: is required", f"{where}.code：必填", field="coverages"
            )
        premium = _money(coverage.premium_incl_tax, f"{where}.premium_incl_tax")
        lines.append(
            {
                "code": coverage.code.strip(),
                "name": (coverage.name or coverage.code).strip(),
                "sum_insured": None
                if coverage.sum_insured in (None, "")
                else _money(coverage.sum_insured, f"{where}.sum_insured"),
                "premium_incl_tax": premium,
                "premium_excl_tax": excl_vat(premium, rate),
            }
        )
    return lines


# --- business types -----------------------------------------------------------------------------


def previous_policy(
    session: Session,
    vehicle: Vehicle | None,
    line: PolicyLine | str,
    on: datetime.date,
    exclude_id: int | None = None,
) -> Policy | None:
    """The vehicle's latest policy of `line` that started before `on`."""
    if vehicle is None or vehicle.id is None:
        return None
    query = (
        select(Policy)
        .where(
            Policy.vehicle_id == vehicle.id,
            Policy.line == PolicyLine(line),
            Policy.start_date < on,
            Policy.status.in_(HISTORY_STATUSES),
        )
        .order_by(Policy.end_date.desc(), Policy.id.desc())
        .limit(1)
    )
    if exclude_id is not None:
        query = query.where(Policy.id != exclude_id)
    return session.scalar(query)


def business_type_for(
    session: Session,
    vehicle: Vehicle | None,
    carrier_key: str,
    line: PolicyLine | str,
    on: datetime.date | None = None,
) -> BusinessType:
    """新保 (a new car, or no earlier policy of this line with us), 续保 (the earlier policy was
    with the same carrier) or 转保 (it was with another carrier)."""
    if vehicle is None or getattr(vehicle, "is_new", False):
        return BusinessType.NEW
    previous = previous_policy(session, vehicle, line, on or datetime.date.today())
    if previous is None:
        return BusinessType.NEW
    return BusinessType.RENEWAL if previous.carrier_key == carrier_key else BusinessType.TRANSFER


def combined_types(lines: Sequence[PolicyLine | str]) -> dict[PolicyLine, BusinessType]:
    """For one issuance: when it holds both 交强险 and 商业险, the first of them in `lines` (the
    order of issuance) is 联单第一联 and the other 联单其他联. Lines outside the combination (and
    every line of an issuance without both) are absent: their type comes from history."""
    motor = [PolicyLine(x) for x in lines if PolicyLine(x) in MOTOR_LINES]
    if len(set(motor)) < 2:
        return {}
    first = motor[0]
    return {
        line: BusinessType.COMBINED_FIRST if line == first else BusinessType.COMBINED_OTHER
        for line in motor
    }


def policy_in_force(
    session: Session, vehicle: Vehicle | None, line: PolicyLine | str, on: datetime.date
) -> Policy | None:
    """The vehicle's policy of `line` covering `on`, if any."""
    if vehicle is None or vehicle.id is None:
        return None
    return session.scalar(
        select(Policy)
        .where(
            Policy.vehicle_id == vehicle.id,
            Policy.line == PolicyLine(line),
            Policy.start_date <= on,
            Policy.end_date >= on,
            Policy.status.in_(OPEN_STATUSES),
        )
        .order_by(Policy.start_date.desc())
        .limit(1)
    )


# --- issue --------------------------------------------------------------------------------------


def issue_policy(session: Session, draft: PolicyDraft) -> Policy:
    """Record a policy (and its coverage lines). Refuses bad input naming the field, a duplicate
    number (409), and references outside the caller's scope (answered as not found)."""
    node = session.get(OrgNode, draft.org_node_id) if draft.org_node_id else None
    if node is None:
        raise ValidationFailed(
            "org_node_id: not found",
            "org_node_id：门店不存在或不在您的权限范围内",
            field="org_node_id",
        )
    values = _validated_values(session, draft, node)
    _refuse_duplicate(session, node.tenant_id, values["carrier_key"], values["policy_no"])
    lines = coverage_lines(draft.coverages, Decimal(draft.vat_rate))
    policy = Policy(tenant_id=node.tenant_id, org_node_id=node.id, **values)
    _set_premiums(policy, lines, draft)
    policy.coverages = [
        PolicyCoverage(tenant_id=node.tenant_id, org_node_id=node.id, **line) for line in lines
    ]
    session.add(policy)
    session.flush()
    return policy


def _validated_values(session: Session, draft: PolicyDraft, node: OrgNode) -> dict[str, Any]:
    tenant_id = node.tenant_id
    policy_no = half_width(draft.policy_no).strip().upper()
    carrier_key = (draft.carrier_key or "").strip()
    for name, value in (("policy_no", policy_no), ("carrier_key", carrier_key)):
        if not value:
            raise ValidationFailed(f"{name}: is required", f"{name}：必填", field=name)
    if len(policy_no) > 40:
        raise ValidationFailed(
            "policy_no: at most 40 characters", "policy_no：最多 40 个字符", field="policy_no"
        )
    line = _enum(PolicyLine, draft.line, "line")
    if not isinstance(draft.start_date, datetime.date):
        raise ValidationFailed("start_date: is required", "start_date：必填", field="start_date")
    end_date = draft.end_date or one_year_end(draft.start_date)
    if end_date < draft.start_date:
        raise ValidationFailed(
            "end_date: before the start date", "end_date：终保日期早于起保日期", field="end_date"
        )
    vehicle = _resolve(session, Vehicle, draft.vehicle_id, "vehicle_id", tenant_id)
    customer = _resolve(session, Customer, draft.customer_id, "customer_id", tenant_id)
    insured_name = (draft.insured_name or (customer.name if customer else "")).strip()
    if not insured_name:
        raise ValidationFailed(
            "insured_name: is required", "insured_name：被保险人必填", field="insured_name"
        )
    history = _enum(BusinessType, draft.history_type, "history_type") or business_type_for(
        session, vehicle, carrier_key, line, draft.start_date
    )
    previous = previous_policy(session, vehicle, line, draft.start_date)
    return {
        "policy_no": policy_no,
        "carrier_key": carrier_key,
        "carrier_name": (draft.carrier_name or carrier_key).strip(),
        "line": line,
        "product_key": draft.product_key,
        "product_version": draft.product_version,
        "business_type": _enum(BusinessType, draft.business_type, "business_type") or history,
        "history_type": history,
        "source": _enum(PolicySource, draft.source, "source"),
        "issuing_terminal": _enum(IssuingTerminal, draft.issuing_terminal, "issuing_terminal"),
        "status": _enum(PolicyStatus, draft.status, "status"),
        "compulsory_only": bool(draft.compulsory_only),
        "salesperson_id": draft.salesperson_id,
        "salesperson_name": draft.salesperson_name,
        "practitioner_no": draft.practitioner_no,
        "customer_id": customer.id if customer else None,
        "insured_name": insured_name,
        "insured_id_number": _party_id(
            draft.insured_id_number
            or (customer.id_number or customer.credit_code if customer else None),
            "insured_id_number",
        ),
        "insured_mobile": _identifier(
            check_mobile,
            draft.insured_mobile or (customer.mobile if customer else None),
            "insured_mobile",
        ),
        "vehicle_id": vehicle.id if vehicle else None,
        "vehicle_is_new": bool(
            draft.vehicle_is_new if draft.vehicle_is_new is not None else vehicle and vehicle.is_new
        ),
        "plate": _identifier(
            check_plate, draft.plate or (vehicle.plate if vehicle else None), "plate"
        ),
        "vin": _identifier(check_vin, draft.vin or (vehicle.vin if vehicle else None), "vin"),
        "start_date": draft.start_date,
        "end_date": end_date,
        "issued_at": draft.issued_at or utcnow(),
        "confirmed_at": draft.confirmed_at,
        "renews_policy_id": draft.renews_policy_id or (previous.id if previous else None),
        "previous_carrier_key": draft.previous_carrier_key
        or (previous.carrier_key if previous else None),
        "order_id": draft.order_id,
        "quote_ref": draft.quote_ref,
        "lineage": draft.lineage,
        "created_by": _who(draft.created_by),
    }


def _refuse_duplicate(session: Session, tenant_id: int, carrier_key: str, policy_no: str) -> None:
    exists = session.scalar(
        select(Policy.id).where(
            Policy.tenant_id == tenant_id,
            Policy.carrier_key == carrier_key,
            Policy.policy_no == policy_no,
        )
    )
    if exists is not None:
        raise Conflict(
            f"policy_no: {policy_no} of {carrier_key} already exists",
            f"policy_no：{carrier_key} 的保单号 {policy_no} 已存在",
            field="policy_no",
            code="duplicate",
        )


def _set_premiums(policy: Policy, lines: list[dict[str, Any]], draft: PolicyDraft) -> None:
    if lines:
        incl = sum((line["premium_incl_tax"] for line in lines), ZERO)
        excl = sum((line["premium_excl_tax"] for line in lines), ZERO)
        insured = [line["sum_insured"] for line in lines if line["sum_insured"] is not None]
        sum_insured = draft.sum_insured if draft.sum_insured is not None else sum(insured, ZERO)
    else:
        incl = _money(draft.premium_incl_tax or ZERO, "premium_incl_tax")
        excl = excl_vat(incl, Decimal(draft.vat_rate))
        sum_insured = draft.sum_insured
    policy.premium_incl_tax = incl
    policy.premium_excl_tax = excl
    policy.vat_amount = incl - excl
    policy.vehicle_tax = _money(draft.vehicle_tax or ZERO, "vehicle_tax")
    policy.sum_insured = None if sum_insured in (None, "") else _money(sum_insured, "sum_insured")


# --- endorsements and cancellation -------------------------------------------------------------


def _refuse_closed(policy: Policy) -> None:
    if policy.status not in OPEN_STATUSES:
        raise Conflict(
            f"status: a {policy.status.value} policy cannot be changed",
            f"status：保单状态为“{_status_label(policy)}”，不能批改或退保",
            field="status",
            code="policy_closed",
        )


def _status_label(policy: Policy) -> str:
    from app.policies.labels import label

    return label(policy.status)


def _refuse_outside_term(policy: Policy, effective: datetime.date | None) -> datetime.date:
    if not isinstance(effective, datetime.date):
        raise ValidationFailed(
            "effective_date: is required", "effective_date：生效日期必填", field="effective_date"
        )
    if effective < policy.start_date or effective > policy.end_date:
        raise ValidationFailed(
            f"effective_date: must be within {policy.start_date} – {policy.end_date}",
            f"effective_date：生效日期应在保险期间 {policy.start_date} 至 {policy.end_date} 之内",
            field="effective_date",
        )
    last = max((e.effective_date for e in policy.endorsements), default=None)
    if last is not None and effective < last:
        raise ValidationFailed(
            f"effective_date: before the last endorsement ({last})",
            f"effective_date：早于上一次批改的生效日期（{last}）",
            field="effective_date",
        )
    return effective


def current_coverages(policy: Policy) -> list[dict[str, Any]]:
    """The coverage lines now on the policy (annual premiums): as issued, or as the last
    coverage change left them."""
    for endorsement in reversed(policy.endorsements):
        if endorsement.kind == EndorsementKind.CHANGE_COVERAGE and endorsement.details:
            return [dict(c) for c in endorsement.details["after"]["coverages"]]
    return [
        {
            "code": c.code,
            "name": c.name,
            "sum_insured": None if c.sum_insured is None else str(c.sum_insured),
            "premium_incl_tax": str(c.premium_incl_tax),
        }
        for c in policy.coverages
    ] or [
        {
            "code": policy.line.value,
            "name": policy.line.value,
            "sum_insured": None,
            "premium_incl_tax": str(policy.premium_incl_tax),
        }
    ]


def endorsement_number(session: Session, policy: Policy, fmt: str | None = None) -> str:
    """The next 批单号 of the policy in the carrier's format (default policy_no + P + 3 digits)."""
    count = session.scalar(
        select(func.count(Endorsement.id)).where(Endorsement.policy_id == policy.id)
    )
    return (fmt or DEFAULT_ENDORSEMENT_FORMAT).format(policy_no=policy.policy_no, seq=count + 1)


def endorse(
    session: Session, policy: Policy, change: EndorsementChange, *, ask_carrier: bool = True
) -> Endorsement:
    """A 批改 of the plate, the owner or the coverages. A coverage change costs or refunds the
    difference of each line's annual premium, pro rata for the days left.

    With `ask_carrier` (the default) the policy's carrier is asked through its plugin's
    `endorse` hook once the change is checked here, as issuing asks `issue`; see
    `_with_carrier` for what a refusal or an unconnected carrier does. The demo's history
    passes False."""
    kind = _enum(EndorsementKind, change.kind, "kind")
    if kind == EndorsementKind.CANCEL:
        return cancel(
            session,
            policy,
            change.effective_date,
            change.reason or "",
            endorsement_no=change.endorsement_no,
            created_by=change.created_by,
            ask_carrier=ask_carrier,
        )
    _refuse_closed(policy)
    effective = _refuse_outside_term(policy, change.effective_date)
    with _with_carrier(session, policy, change.endorsement_no, ask_carrier) as carrier:
        if kind == EndorsementKind.CHANGE_PLATE:
            details, incl, excl = _plate_change(session, policy, change), ZERO, ZERO
        elif kind == EndorsementKind.CHANGE_OWNER:
            details, incl, excl = _owner_change(session, policy, change), ZERO, ZERO
        else:
            details, incl, excl = _coverage_change(policy, change, effective)
        carrier.ask(
            kind,
            effective,
            lambda ref, key: _endorse_request(policy, change, kind, effective, details, ref, key),
        )
        number = carrier.endorsement_no or change.endorsement_no
        details = carrier.noted(details)
        recorded = replace(change, endorsement_no=number)
        return _record(session, policy, recorded, kind, effective, incl, excl, ZERO, details)


def _endorse_request(policy, change, kind, effective, details, ref, key):
    from app.carriers.contract import EndorseRequest

    changes: dict[str, Any] = {}
    new_premium = None
    if kind == EndorsementKind.CHANGE_PLATE:
        changes = {"plate": details["after"]["plate"]}
    elif kind == EndorsementKind.CHANGE_OWNER:
        changes = {k: v for k, v in details["after"].items() if k != "customer_id"}
    else:
        lines = details["after"]["coverages"]
        changes = {"coverages": lines}
        new_premium = sum((Decimal(c["premium_incl_tax"]) for c in lines), ZERO)
    return EndorseRequest(
        idempotency_key=key,
        carrier_key=policy.carrier_key,
        policy=ref,
        kind=kind.value,
        effective_date=effective,
        changes=changes,
        new_premium=new_premium,
    )


def _plate_change(session: Session, policy: Policy, change: EndorsementChange) -> dict:
    if not change.plate:
        raise ValidationFailed("plate: is required", "plate：新车牌号必填", field="plate")
    plate = _identifier(check_plate, change.plate, "plate")
    if plate == policy.plate:
        raise ValidationFailed("plate: unchanged", "plate：新车牌号与原车牌号相同", field="plate")
    details = {"before": {"plate": policy.plate}, "after": {"plate": plate}}
    policy.plate = plate
    if policy.vehicle is not None and policy.vehicle.plate != plate:
        _refuse_plate_taken(session, policy, plate)
        policy.vehicle.plate = plate
    return details


def _refuse_plate_taken(session: Session, policy: Policy, plate: str) -> None:
    taken = session.scalar(
        select(Vehicle.id).where(
            Vehicle.tenant_id == policy.tenant_id,
            Vehicle.plate == plate,
            Vehicle.id != policy.vehicle_id,
        )
    )
    if taken is not None:
        raise Conflict(
            f"plate: {plate} belongs to another vehicle",
            f"plate：车牌号 {plate} 已属于另一辆车",
            field="plate",
            code="duplicate",
        )


def _owner_change(session: Session, policy: Policy, change: EndorsementChange) -> dict:
    owner = change.owner
    if owner is None or not (owner.insured_name or "").strip():
        raise ValidationFailed(
            "insured_name: is required", "insured_name：新被保险人必填", field="insured_name"
        )
    customer = _resolve(session, Customer, owner.customer_id, "customer_id", policy.tenant_id)
    after = {
        "insured_name": owner.insured_name.strip(),
        "insured_id_number": _party_id(owner.insured_id_number, "insured_id_number"),
        "insured_mobile": _identifier(check_mobile, owner.insured_mobile, "insured_mobile"),
        "customer_id": customer.id if customer else policy.customer_id,
    }
    before = {key: getattr(policy, key) for key in after}
    for key, value in after.items():
        setattr(policy, key, value)
    return {"before": before, "after": after}


def _coverage_change(
    policy: Policy, change: EndorsementChange, effective: datetime.date
) -> tuple[dict, Decimal, Decimal]:
    if not change.coverages:
        raise ValidationFailed(
            "coverages: at least one coverage is required",
            "coverages：至少保留一个险别",
            field="coverages",
        )
    before = current_coverages(policy)
    after = coverage_lines(change.coverages)
    remaining, term = days_left(policy, effective), term_days(policy)
    old = {c["code"]: Decimal(c["premium_incl_tax"]) for c in before}
    new = {c["code"]: c["premium_incl_tax"] for c in after}
    changes = []
    for code in list(dict.fromkeys([*old, *new])):
        delta = pro_rata(new.get(code, ZERO) - old.get(code, ZERO), remaining, term)
        if delta:
            changes.append({"code": code, "incl": delta, "excl": excl_vat(delta)})
    if not changes and [c["code"] for c in before] == [c["code"] for c in after]:
        raise ValidationFailed(
            "coverages: unchanged", "coverages：险别与保费均未变化", field="coverages"
        )
    incl = sum((c["incl"] for c in changes), ZERO)
    excl = sum((c["excl"] for c in changes), ZERO)
    details = {
        "before": {"coverages": before},
        "after": {"coverages": [_plain_line(c) for c in after]},
        "pro_rata": {"days_left": remaining, "term_days": term},
        "lines": [
            {k: str(v) if isinstance(v, Decimal) else v for k, v in c.items()} for c in changes
        ],
    }
    return details, incl, excl


def _plain_line(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": line["code"],
        "name": line["name"],
        "sum_insured": None if line["sum_insured"] is None else str(line["sum_insured"]),
        "premium_incl_tax": str(line["premium_incl_tax"]),
    }


def cancel(
    session: Session,
    policy: Policy,
    effective_date: datetime.date,
    reason: str,
    *,
    endorsement_no: str | None = None,
    created_by: str | None = None,
    ask_carrier: bool = True,
) -> Endorsement:
    """退保 from `effective_date`: each coverage line's annual premium is refunded pro rata for
    the days left (交强险 too), as a negative premium change; the vehicle tax of the whole
    months left after the month of cancellation is refunded over twelve. With `ask_carrier`
    the carrier's `cancel` hook is called first, as for `endorse`."""
    _refuse_closed(policy)
    if not (reason or "").strip():
        raise ValidationFailed("reason: is required", "reason：退保原因必填", field="reason")
    effective = _refuse_outside_term(policy, effective_date)
    with _with_carrier(session, policy, endorsement_no, ask_carrier) as carrier:
        carrier.ask(
            EndorsementKind.CANCEL,
            effective,
            lambda ref, key: _cancel_request(policy, effective, reason, ref, key),
        )
        return _cancel(
            session,
            policy,
            effective,
            reason,
            carrier.endorsement_no or endorsement_no,
            created_by,
            carrier,
        )


def _cancel_request(policy, effective, reason, ref, key):
    from app.carriers.contract import CancelRequest

    return CancelRequest(
        idempotency_key=key,
        carrier_key=policy.carrier_key,
        policy=ref,
        effective_date=effective,
        reason=reason.strip(),
    )


def _cancel(session, policy, effective, reason, endorsement_no, created_by, carrier):
    remaining, term = days_left(policy, effective), term_days(policy)
    lines = []
    for coverage in current_coverages(policy):
        refund = -pro_rata(Decimal(coverage["premium_incl_tax"]), remaining, term)
        lines.append({"code": coverage["code"], "incl": refund, "excl": excl_vat(refund)})
    incl = sum((c["incl"] for c in lines), ZERO)
    excl = sum((c["excl"] for c in lines), ZERO)
    tax = -_vehicle_tax_refund(policy, effective)
    details = {
        "before": {"status": policy.status.value},
        "after": {"status": PolicyStatus.CANCELLED.value},
        "pro_rata": {"days_left": remaining, "term_days": term},
        "lines": [{k: str(v) for k, v in c.items()} for c in lines],
    }
    details = carrier.noted(details)
    change = EndorsementChange(
        kind=EndorsementKind.CANCEL,
        effective_date=effective,
        reason=reason.strip(),
        endorsement_no=endorsement_no,
        created_by=created_by,
    )
    endorsement = _record(
        session, policy, change, EndorsementKind.CANCEL, effective, incl, excl, tax, details
    )
    policy.status = PolicyStatus.CANCELLED
    policy.cancelled_at = utcnow()
    session.flush()
    return endorsement


def _vehicle_tax_refund(policy: Policy, effective: datetime.date) -> Decimal:
    if not policy.vehicle_tax:
        return ZERO
    months = (policy.end_date.year - effective.year) * 12 + policy.end_date.month - effective.month
    months = max(min(months, 12), 0)
    return cents(policy.vehicle_tax * months / 12)


# --- asking the carrier ---------------------------------------------------------------------------

CARRIER_TIMEOUT = 20.0  # seconds, as for issuing


class _CarrierCall:
    """What the carrier answered to one endorse/cancel (nothing when it was not asked)."""

    def __init__(self, policy: Policy, binding) -> None:
        self.policy, self.binding = policy, binding
        self.endorsement_no: str | None = None
        self.answer: dict[str, Any] | None = None

    def ask(self, kind: str, effective: datetime.date, build) -> None:
        """Call the carrier's `kind` hook ("cancel", else `endorse`) with the request
        `build(policy_ref, idempotency_key)` makes. Called after the change was checked here,
        so a bad input never reaches the carrier."""
        if self.binding is None:
            return
        from app.carriers.contract import PolicyRef, to_data

        policy = self.policy
        ref = PolicyRef(
            policy_no=policy.policy_no,
            line=policy.line.value,
            product_key=policy.product_key or policy.line.value,
            start_date=policy.start_date,
            end_date=policy.end_date,
            premium=policy.premium_incl_tax,
            vehicle_tax=policy.vehicle_tax or ZERO,
        )
        # The same request sent again (a retry after a timeout) carries the same key, so a
        # carrier that did it the first time answers with that endorsement, not a second one.
        sequence = len(policy.endorsements) + 1
        key = f"{policy.tenant_id}-{policy.id}-{sequence:03d}-{kind}-{effective:%Y%m%d}"
        client = self.binding.client
        hook = client.cancel if kind == EndorsementKind.CANCEL else client.endorse
        timeout = min(float(self.binding.timeout or CARRIER_TIMEOUT), CARRIER_TIMEOUT)
        result = hook(build(ref, key), timeout=timeout)
        self.endorsement_no = half_width(result.endorsement_no or "").strip().upper() or None
        self.answer = to_data(result)

    def noted(self, details: dict) -> dict:
        if self.answer is not None:
            return {**details, "carrier": self.answer}
        return details


@contextmanager
def _with_carrier(session: Session, policy: Policy, endorsement_no: str | None, ask: bool):
    """Around an endorsement or a cancellation: its changes are made in a savepoint and kept
    only when the carrier (asked through `ask()` inside) accepted.

    The carrier is asked when `ask` is set, the caller did not bring the carrier's own
    endorsement number (an endorsement already made at the carrier, being recorded here) and
    the tenant has the policy's carrier enabled (an imported policy of a carrier not connected
    is endorsed in the book only). A carrier refusal answers 409 and a carrier that cannot be
    reached (timeout, error) 503; either way nothing is written."""
    binding = None
    if ask and not (endorsement_no or "").strip():
        binding = _carrier_binding(session, policy)
    call = _CarrierCall(policy, binding)
    from app.carriers.contract import CarrierError, CarrierRefused

    savepoint = session.begin_nested()
    try:
        yield call
    except CarrierError as exc:
        savepoint.rollback()
        name = getattr(binding, "name", policy.carrier)
        reasons = "；".join(exc.reasons)
        if isinstance(exc, CarrierRefused):
            raise Conflict(
                f"carrier: {policy.carrier_key} refused: {reasons}",
                f"{name}拒绝了本次操作：{reasons}",
                field="carrier",
                code="carrier_refused",
            ) from exc
        raise Unavailable(
            f"carrier: {policy.carrier_key} did not answer ({reasons}); nothing was changed, "
            "try again",
            f"{name}暂时无法处理：{reasons}。未做任何更改，请稍后重试",
            code="carrier_unavailable",
        ) from exc
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()


def _carrier_binding(session: Session, policy: Policy):
    """The tenant's enabled carrier of the policy, or None when it has none of that key."""
    from app.carriers.services import enabled_carriers

    on = datetime.date.today()
    for binding in enabled_carriers(session, policy.tenant_id, on):
        if binding.key == policy.carrier_key:
            return binding
    return None


def _record(
    session: Session,
    policy: Policy,
    change: EndorsementChange,
    kind: EndorsementKind,
    effective: datetime.date,
    incl: Decimal,
    excl: Decimal,
    tax: Decimal,
    details: dict,
) -> Endorsement:
    number = half_width(change.endorsement_no or "").strip().upper() or endorsement_number(
        session, policy
    )
    if any(e.endorsement_no == number for e in policy.endorsements):
        raise Conflict(
            f"endorsement_no: {number} already exists",
            f"endorsement_no：批单号 {number} 已存在",
            field="endorsement_no",
            code="duplicate",
        )
    endorsement = Endorsement(
        tenant_id=policy.tenant_id,
        org_node_id=policy.org_node_id,
        policy=policy,
        endorsement_no=number,
        kind=kind,
        effective_date=effective,
        premium_change_incl_tax=incl,
        premium_change_excl_tax=excl,
        vehicle_tax_change=tax,
        reason=(change.reason or "").strip() or None,
        details=details,
        status=EndorsementStatus.EFFECTIVE,
        created_by=_who(change.created_by),
    )
    session.add(endorsement)
    session.flush()
    return endorsement


# --- confirmation and expiry -------------------------------------------------------------------


def confirm(session: Session, policy: Policy, when: datetime.datetime | None = None) -> Policy:
    """The carrier confirmed the policy: 待确认 → 已承保. Confirming twice is harmless."""
    if policy.status == PolicyStatus.IN_FORCE:
        return policy
    if policy.status != PolicyStatus.PENDING_CONFIRMATION:
        raise Conflict(
            f"status: a {policy.status.value} policy cannot be confirmed",
            f"status：保单状态为“{_status_label(policy)}”，不能确认承保",
            field="status",
            code="policy_closed",
        )
    policy.status = PolicyStatus.IN_FORCE
    policy.confirmed_at = when or utcnow()
    session.flush()
    return policy


def expire_due(session: Session, today: datetime.date, batch: int = 1000) -> int:
    """Policies in force whose last day is before `today` become 已到期; returns how many.
    Row by row through the ORM, so each change is audited."""
    total = 0
    while True:
        due = session.scalars(
            select(Policy)
            .where(Policy.status == PolicyStatus.IN_FORCE, Policy.end_date < today)
            .order_by(Policy.id)
            .limit(batch)
        ).all()
        if not due:
            return total
        for policy in due:
            policy.status = PolicyStatus.EXPIRED
        session.flush()
        total += len(due)


def get_policy(session: Session, policy_id: int) -> Policy:
    """The policy, if the caller's scope sees it; else NotFound."""
    policy = session.get(Policy, policy_id)
    if policy is None:
        raise NotFound("policy not found", "保单不存在")
    return policy
