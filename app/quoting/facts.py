"""From the desk's records to what a carrier is told: vehicle, parties, history and, per product
line, the product form's values.

A product form field may name a `source` (`vehicle.seats`, `org_node.province`, …): its value is
prefilled from the record, then the desk's own entry wins, then a carrier's locked default wins
over both. Values stay JSON-able (Decimals as strings) so the request can be stored as asked."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from app.carriers.contract import (
    CoverageRequest,
    History,
    LineRequest,
    PartyFacts,
    VehicleFacts,
)
from app.customers.models import Customer, Vehicle
from app.errors import ValidationFailed
from app.organisation.models import OrgNode


def vehicle_facts(vehicle: Vehicle | None) -> VehicleFacts | None:
    if vehicle is None:
        return None
    return VehicleFacts(
        plate=vehicle.plate,
        vin=vehicle.vin,
        vehicle_class=getattr(vehicle, "vehicle_class", None) or "家庭自用汽车",
        seats=vehicle.seats or 5,
        tonnage=getattr(vehicle, "tonnage", None),
        displacement_l=vehicle.displacement,
        fuel=str(vehicle.fuel.value if vehicle.fuel else "petrol"),
        purchase_price=vehicle.purchase_price,
        register_date=vehicle.register_date,
        is_new=bool(getattr(vehicle, "is_new", False)),
        usage=str(getattr(vehicle, "usage", None) or "private"),
        brand=vehicle.brand.name if vehicle.brand else "",
        model_name=vehicle.model_name or "",
    )


def party_facts(customer: Customer) -> PartyFacts:
    return PartyFacts(
        name=customer.name,
        kind=str(customer.kind.value if customer.kind else "person"),
        id_number=customer.id_number,
        credit_code=customer.credit_code,
        mobile=customer.mobile,
        address=customer.address,
    )


def history_facts(given: Mapping[str, Any] | None, previous_carrier: str | None) -> History:
    given = given or {}
    return History(
        claims_last_year=_count(given, "claims_last_year"),
        claim_free_years=_count(given, "claim_free_years"),
        jqx_record=str(given.get("jqx_record") or "A1"),
        previous_carrier=previous_carrier,
        drink_driving_offences=_count(given, "drink_driving_offences"),
    )


def vehicle_age_years(vehicle: Vehicle | None, on: datetime.date) -> int:
    if vehicle is None or vehicle.register_date is None or getattr(vehicle, "is_new", False):
        return 0
    months = (on.year - vehicle.register_date.year) * 12 + on.month - vehicle.register_date.month
    return max(months // 12, 0)


def source_values(
    vehicle: Vehicle | None, store: OrgNode, history: History, on: datetime.date
) -> dict[str, Any]:
    """Everything a form field's `source` may name, as plain values."""
    values: dict[str, Any] = {
        "org_node.province": store.province,
        "history.claims_last_year": history.claims_last_year,
        "history.claim_free_years": history.claim_free_years,
        "history.jqx_record": history.jqx_record,
    }
    if vehicle is not None:
        values.update(
            {
                "vehicle.seats": vehicle.seats,
                "vehicle.purchase_price": _text(vehicle.purchase_price),
                "vehicle.displacement": _text(vehicle.displacement),
                "vehicle.fuel": vehicle.fuel.value if vehicle.fuel else None,
                "vehicle.vehicle_class": getattr(vehicle, "vehicle_class", None),
                "vehicle.tonnage": _text(getattr(vehicle, "tonnage", None)),
                "vehicle.age": vehicle_age_years(vehicle, on),
            }
        )
    return values


# Fields every motor product understands even when its form names no source for them.
IMPLIED_FIELDS = {
    "vehicle_age": "vehicle.age",
    "claims_last_year": "history.claims_last_year",
    "claim_free_years": "history.claim_free_years",
    "record": "history.jqx_record",
    "vehicle_class": "vehicle.vehicle_class",
}


def form_values(
    product: Mapping[str, Any],
    sources: Mapping[str, Any],
    entered: Mapping[str, Any] | None,
    locked: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A product's form: defaults, then record sources, then the desk's entries, then locked
    carrier answers. Unknown entries are refused naming the field."""
    fields = {f["name"]: f for f in product["body"].get("form", [])}
    unknown = sorted(set(entered or {}) - set(fields))
    if unknown:
        raise ValidationFailed(
            f"unknown form field {unknown[0]!r} for product {product['key']}",
            f"产品 {product['key']} 没有表单字段 {unknown[0]}",
            field=f"form.{unknown[0]}",
        )
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        source = spec.get("source") or IMPLIED_FIELDS.get(name)
        if spec.get("default") is not None:
            values[name] = spec["default"]
        if source and sources.get(source) is not None:
            values[name] = sources[source]
    values.update({k: v for k, v in (entered or {}).items() if v not in (None, "")})
    values.update({k: v for k, v in (locked or {}).items() if k in fields})
    for name, spec in fields.items():
        if spec.get("required") and values.get(name) in (None, ""):
            label = spec.get("label", {}).get("zh", name)
            raise ValidationFailed(
                f"{name} is required for {product['key']}",
                f"{label}：必填",
                field=f"form.{name}",
            )
    return values


def line_request(
    product: Mapping[str, Any], form: Mapping[str, Any], chosen: list[Mapping[str, Any]] | None
) -> LineRequest:
    """The coverages asked for: those chosen at the desk, else the product's selected ones."""
    offered = {c["code"]: c for c in product["body"].get("coverages", [])}
    if chosen is None:
        chosen = [{"code": code} for code, c in offered.items() if c.get("selected")]
    coverages = []
    for item in chosen:
        code = str(item.get("code", ""))
        if code not in offered:
            raise ValidationFailed(
                f"unknown coverage {code!r} for product {product['key']}",
                f"产品 {product['key']} 没有险别 {code}",
                field="coverages",
            )
        coverages.append(
            CoverageRequest(code=code, sum_insured=_money(item.get("sum_insured"), "sum_insured"))
        )
    for coverage in offered.values():
        if coverage.get("required") and coverage["code"] not in {c.code for c in coverages}:
            coverages.append(CoverageRequest(code=coverage["code"]))
    _check_requirements(product, offered, {c.code for c in coverages})
    return LineRequest(
        product_key=product["key"],
        line=product["body"]["line"],
        coverages=tuple(coverages),
        form=dict(form),
    )


def _check_requirements(product, offered, codes: set[str]) -> None:
    for code in codes:
        missing = [r for r in offered[code].get("requires", []) if r not in codes]
        if missing:
            name = offered[code]["name"]["zh"]
            needed = "、".join(offered[m]["name"]["zh"] for m in missing if m in offered)
            raise ValidationFailed(
                f"coverage {code} requires {', '.join(missing)}",
                f"{name}须与{needed}同时投保",
                field="coverages",
            )


def _count(given: Mapping[str, Any], name: str) -> int:
    value = given.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationFailed(f"{name} must be a whole number", f"{name} 须为整数", field=name)
    try:
        number = int(value)
    except ValueError:
        raise ValidationFailed(
            f"{name} must be a whole number", f"{name} 须为整数", field=name
        ) from None
    if not 0 <= number <= 50:
        raise ValidationFailed(f"{name} must be 0–50", f"{name} 须在 0–50 之间", field=name)
    return number


def _money(value: Any, name: str) -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ValidationFailed(f"{name} must be an amount", f"{name} 须为金额", field=name)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(
            f"{name} must be an amount", f"{name} 须为金额", field=name
        ) from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("100000000"):
        raise ValidationFailed(f"{name} is out of range", f"{name} 超出范围", field=name)
    return amount


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
