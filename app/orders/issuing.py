"""From a carrier's issue answer to the policy book: one policy per issued line, with its
coverage premiums, business type, and lineage (the documents and the rule trace that priced it).

Idempotent: a retry that gets the same policy number back links the existing policy instead of
writing a second one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.carriers.contract import IssuedPolicy, IssueResult
from app.orders.models import ItemKind, ItemStatus, Order, OrderItem
from app.policies.labels import BusinessType, PolicyLine, PolicyStatus
from app.policies.models import Policy
from app.policies.services import CoverageDraft, PolicyDraft, combined_types, issue_policy

# Product documents call 驾乘意外 `motor_non_motor` (common.schema.json's product_line); the
# policy book keeps its own name for it.
POLICY_LINE_OF = {"motor_non_motor": PolicyLine.DRIVER_PASSENGER_ACCIDENT}


def policy_line(product_line: str) -> PolicyLine:
    return POLICY_LINE_OF.get(product_line) or PolicyLine(product_line)


def record_policies(
    session: Session, order: Order, items: list[OrderItem], binding: Any, result: IssueResult
) -> list[Policy]:
    by_line = {item.line: item for item in items}
    order_lines = [policy_line(i.line) for i in order.items if i.kind == ItemKind.INSURANCE]
    combined = combined_types([policy_line(line) for line in by_line])
    compulsory_only = PolicyLine.COMMERCIAL_MOTOR not in order_lines
    policies = []
    for issued in result.policies:
        item = by_line.get(issued.line)
        if item is None:
            continue
        policy = _existing(session, order.tenant_id, item.carrier_key, issued) or issue_policy(
            session,
            _draft(order, item, binding, issued, result, combined, compulsory_only),
        )
        item.policy_id, item.status, item.last_error = policy.id, ItemStatus.ISSUED, None
        policies.append(policy)
    return policies


def _existing(
    session: Session, tenant_id: int, carrier_key: str, issued: IssuedPolicy
) -> Policy | None:
    return session.scalar(
        select(Policy).where(
            Policy.tenant_id == tenant_id,
            Policy.carrier_key == carrier_key,
            Policy.policy_no == issued.policy_no,
        )
    )


def _draft(
    order: Order,
    item: OrderItem,
    binding: Any,
    issued: IssuedPolicy,
    result: IssueResult,
    combined: dict[PolicyLine, BusinessType],
    compulsory_only: bool,
) -> PolicyDraft:
    line = policy_line(issued.line)
    quote = order.quote_session
    answer = item.carrier_quote
    return PolicyDraft(
        org_node_id=order.org_node_id,
        policy_no=issued.policy_no,
        carrier_key=item.carrier_key,
        carrier_name=binding.name,
        line=line,
        start_date=issued.start_date,
        end_date=issued.end_date,
        coverages=_coverages(item, issued),
        vehicle_tax=issued.vehicle_tax,
        product_key=issued.product_key,
        product_version=_product_version(answer, issued.product_key),
        business_type=combined.get(line),
        issuing_terminal=str(order.terminal),
        status=(
            PolicyStatus.PENDING_CONFIRMATION
            if result.status == "pending_confirmation"
            else PolicyStatus.IN_FORCE
        ),
        compulsory_only=line == PolicyLine.COMPULSORY_MOTOR and compulsory_only,
        salesperson_id=order.salesperson_id,
        salesperson_name=order.salesperson_name,
        customer_id=order.customer_id,
        vehicle_id=order.vehicle_id,
        order_id=order.id,
        quote_ref=answer.carrier_quote_ref if answer else None,
        lineage=_lineage(order, item, answer, issued),
        issued_at=result.issued_at.replace(tzinfo=None) if result.issued_at else None,
        created_by=order.created_by,
        insured_name=quote.customer.name if quote else "",
    )


def _coverages(item: OrderItem, issued: IssuedPolicy) -> list[CoverageDraft]:
    """Coverage premiums as bound; when the carrier's issued premium differs from their sum (it
    re-priced), the issued figure wins and is kept as one line so totals stay the carrier's."""
    bound = (item.details or {}).get("coverages") or []
    if any(c.get("premium") in (None, "") for c in bound):
        bound = []  # priced as a whole (交强险): one line carrying the policy's premium
    lines = [
        CoverageDraft(
            code=c["code"],
            name=c["name"],
            premium_incl_tax=Decimal(str(c["premium"])),
            sum_insured=Decimal(str(c["sum_insured"])) if c.get("sum_insured") else None,
        )
        for c in bound
    ]
    if sum((c.premium_incl_tax for c in lines), Decimal(0)) != issued.premium:
        return [CoverageDraft(code=issued.line, name=item.title, premium_incl_tax=issued.premium)]
    return lines


def _product_version(answer, product_key: str) -> str | None:
    documents = ((answer.lineage or {}).get("documents") or {}) if answer else {}
    return documents.get(f"product:{product_key}") or documents.get(product_key)


def _lineage(order: Order, item: OrderItem, answer, issued: IssuedPolicy) -> dict[str, Any]:
    lineage = answer.lineage or {} if answer else {}
    return {
        "order_no": order.order_no,
        "quote": order.quote_session.reference if order.quote_session else None,
        "proposal_ref": (item.details or {}).get("proposal_ref"),
        "documents": lineage.get("documents", {}),
        "explain": (lineage.get("explain") or {}).get(issued.line),
        "trace": (lineage.get("trace") or {}).get(issued.line),
    }
