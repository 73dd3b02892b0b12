"""Selling a service package: is it on sale for this vehicle, and the contract once paid.

A package is a `service_package` document in force on the quote's start date. It is sold alone
or with insurance as its `sale_modes` say, to vehicles its `eligibility` expression accepts
(over `vehicle_age`, `brand`, `premium`), in the stores it names (all when none)."""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

import rules
from app.configuration.models import Document, DocumentVersion, VersionStatus
from app.errors import Conflict, ValidationFailed
from app.quoting.facts import vehicle_age_years
from app.quoting.models import QuoteSession
from app.services.models import ServiceContract

SALE_MODE_LINES = {
    "with_compulsory_motor": "compulsory_motor",
    "with_commercial_motor": "commercial_motor",
}


@dataclass(frozen=True)
class PackageOnSale:
    key: str
    version: str
    title: str
    price: Decimal
    term_months: int
    items: list[dict[str, Any]]


def package_for_sale(
    session: Session, quote: QuoteSession, key: str, insured_lines: set[str], field: str
) -> PackageOnSale:
    from app.configuration.lookup import document_in_force

    version = document_in_force(session, "service_package", key, quote.tenant_id, quote.start_date)
    if version is None:
        raise ValidationFailed(
            f"{field}: no service package {key!r} on sale", f"服务套餐 {key} 未上架", field=field
        )
    body = version.body
    title = body["name"]["zh"]
    _check_dates(body, quote.start_date, title, field)
    _check_store(body, quote, title, field)
    _check_sale_mode(body, insured_lines, title, field)
    _check_eligibility(body, quote, title, field)
    return _package(key, version)


def _package(key: str, version: DocumentVersion) -> PackageOnSale:
    body = version.body
    return PackageOnSale(
        key=key,
        version=str(version.version),
        title=body["name"]["zh"],
        price=Decimal(str(body["price"])),
        term_months=max((i.get("term_months", 12) for i in body["items"]), default=12),
        items=list(body["items"]),
    )


def sold_package(session: Session, quote: QuoteSession, item) -> PackageOnSale:
    """The package as it was sold: the version the order item recorded when it was bound, not
    whatever is in force now, and not checked for sale again — the customer has paid for it, so
    a version published since (new items, a narrower eligibility, a store left out) changes
    nothing for this order. An item bound before items recorded their version is checked as
    before."""
    sold = (item.details or {}).get("version")
    if not sold:
        lines = {i.line for i in item.order.items}
        return package_for_sale(session, quote, item.product_key, lines, "service_packages")
    version = _sold_version(session, quote, item.product_key, str(sold))
    if version is None:
        raise Conflict(
            f"service package {item.product_key} version {sold} no longer exists",
            f"服务套餐 {item.product_key} 的售出版本 {sold} 已不存在",
            code="package_version_gone",
        )
    return _package(item.product_key, version)


def _sold_version(
    session: Session, quote: QuoteSession, key: str, version: str
) -> DocumentVersion | None:
    """Version `version` of the package `key` the order could have been sold from: the
    tenant's own document of that key first (it overrides the platform's when it has a version
    in force), then the platform's."""
    documents = session.scalars(
        select(Document)
        .where(
            Document.kind == "service_package",
            Document.key == key,
            or_(Document.tenant_id.is_(None), Document.tenant_id == quote.tenant_id),
        )
        .options(selectinload(Document.versions))
    ).all()
    for document in sorted(documents, key=lambda d: d.tenant_id is None):
        for candidate in document.versions:
            if candidate.version == version and candidate.status == VersionStatus.PUBLISHED:
                return candidate
    return None


def packages_on_sale(
    session: Session, quote: QuoteSession, insured_lines: set[str]
) -> list[PackageOnSale]:
    """Every package the desk may add to this quote's order (for the desk's choice list)."""
    from app.configuration.lookup import documents_in_force

    found = []
    for version in documents_in_force(
        session, "service_package", quote.tenant_id, quote.start_date
    ):
        try:
            found.append(
                package_for_sale(
                    session, quote, version.document.key, insured_lines, "service_packages"
                )
            )
        except ValidationFailed:
            continue
    return found


def _check_dates(body, on: datetime.date, title: str, field: str) -> None:
    starts, ends = body.get("valid_from"), body.get("valid_to")
    if (starts and on < datetime.date.fromisoformat(starts)) or (
        ends and on > datetime.date.fromisoformat(ends)
    ):
        raise ValidationFailed(
            f"{field}: not on sale on {on}", f"{title}：该日期不在销售期内", field=field
        )


def _check_store(body, quote: QuoteSession, title: str, field: str) -> None:
    stores = body.get("stores")
    if stores and quote.org_node.code not in stores:
        raise ValidationFailed(
            f"{field}: not sold in this store", f"{title}：本店不销售该套餐", field=field
        )


def _check_sale_mode(body, insured_lines: set[str], title: str, field: str) -> None:
    modes = body["sale_modes"]
    if "standalone" in modes:
        return
    if not any(SALE_MODE_LINES.get(mode) in insured_lines for mode in modes):
        needed = "、".join(
            {"with_compulsory_motor": "交强险", "with_commercial_motor": "商业险"}[m] for m in modes
        )
        raise ValidationFailed(
            f"{field}: sold only with {', '.join(modes)}",
            f"{title}：须与{needed}一同购买",
            field=field,
        )


def _check_eligibility(body, quote: QuoteSession, title: str, field: str) -> None:
    expression = body.get("eligibility")
    if not expression:
        return
    names = {
        "vehicle_age": Decimal(vehicle_age_years(quote.vehicle, quote.start_date)),
        "brand": quote.vehicle.brand.name if quote.vehicle and quote.vehicle.brand else "",
        "premium": Decimal(0),
    }
    try:
        allowed = rules.evaluate_expression(expression, names)
    except rules.RuleError:
        allowed = False
    if not allowed:
        raise ValidationFailed(
            f"{field}: the vehicle is not eligible ({expression})",
            f"{title}：该车辆不符合购买条件（{expression}）",
            field=field,
        )


def sign_contract(session: Session, order, item) -> ServiceContract:
    """The contract of a paid service item (once: the item keeps the contract's id), made from
    the package version the item was sold with (`sold_package`)."""
    quote = order.quote_session
    package = sold_package(session, quote, item)
    start = quote.start_date
    contract = ServiceContract(
        tenant_id=order.tenant_id,
        org_node_id=order.org_node_id,
        contract_no=f"FW{start:%Y%m%d}{secrets.randbelow(10**8):08d}",
        order_id=order.id,
        package_key=package.key,
        package_version=package.version,
        title=package.title,
        customer_id=order.customer_id,
        vehicle_id=order.vehicle_id,
        price=item.price,
        items=package.items,
        start_date=start,
        end_date=_add_months(start, package.term_months) - datetime.timedelta(days=1),
        created_by=order.created_by,
    )
    session.add(contract)
    session.flush()
    return contract


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (day.day, 28):
        try:
            return datetime.date(year, month, candidate)
        except ValueError:
            continue
    return datetime.date(year, month, 28)
