"""Bundle, bind, pay and issue.

`create_order` takes quoted lines of one or more carriers and the dealer's service packages,
binds each carrier's lines with the carrier (which prices again: the amount to pay is the
carrier's, never the client's) and writes the order; the unique key on an item's quote line makes
two desks binding the same quote end with one order. `start_payment` asks the payment gateway for
a QR code; its signed callback marks the payment paid once, however often it is replayed.
`issue_order` issues every bound item with its own idempotency key, so a retry after a lost answer
gets the same policy number back. Services flush; the caller commits."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.models import utcnow
from app.carriers.contract import (
    BindRequest,
    BindResult,
    CarrierError,
    CarrierRefused,
    IssueRequest,
    IssueResult,
    QuotedLine,
    from_data,
    to_data,
)
from app.errors import Conflict, NotFound, Unavailable, ValidationFailed
from app.orders.models import (
    ItemKind,
    ItemStatus,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
)
from app.policies.issue_checks import review_order
from app.quoting.carriers import binding_for
from app.quoting.models import AnswerStatus, CarrierQuote, QuoteSession
from app.quoting.services import get_quote, record_id, request_for
from app.tenancy.scope import Scope

ZERO = Decimal("0.00")
BIND_TIMEOUT = 15.0
ISSUE_TIMEOUT = 20.0
SERVICE_LINE = "service"


def create_order(session: Session, scope: Scope, data: Mapping[str, Any]) -> Order:
    """Bind the chosen quote lines and service packages into one order awaiting payment."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("the request must be a JSON object", "请求须为 JSON 对象")
    quote = get_quote(session, data.get("quote_id"))
    chosen = _chosen_lines(session, quote, data.get("items"))
    order = Order(
        tenant_id=quote.tenant_id,
        org_node_id=quote.org_node_id,
        order_no=_order_no(),
        quote_session=quote,
        customer_id=quote.customer_id,
        vehicle_id=quote.vehicle_id,
        terminal=quote.terminal,
        salesperson_id=scope.user_id,
        salesperson_name=scope.username,
        created_by=scope.username,
    )
    session.add(order)
    review_order(session, order)  # e.g. the salesperson's licence (issue_check documents)
    for answer, lines in chosen:
        _add_insurance_items(order, answer, lines)
    _add_service_items(session, order, quote, data.get("service_packages"))
    _lock_quote_lines(session, order)
    for answer, lines in chosen:
        _bind(session, order, quote, answer, lines)
    _total(order)
    return order


def _chosen_lines(
    session: Session, quote: QuoteSession, items: Any
) -> list[tuple[CarrierQuote, list[str]]]:
    if not isinstance(items, list) or not items:
        raise ValidationFailed(
            "items: choose at least one quoted line", "请选择要投保的报价", field="items"
        )
    answers = {a.id: a for a in quote.answers}
    chosen, lines_taken = [], set()
    for i, item in enumerate(items):
        answer = answers.get(item.get("answer_id")) if isinstance(item, Mapping) else None
        if answer is None:
            raise ValidationFailed(
                f"items[{i}].answer_id: not an answer of this quote",
                "所选报价不属于本次询价",
                field=f"items[{i}].answer_id",
            )
        if answer.status != AnswerStatus.OK:
            raise ValidationFailed(
                f"items[{i}]: {answer.carrier_name} did not quote",
                f"{answer.carrier_name} 未成功报价，不能投保",
                field=f"items[{i}].answer_id",
            )
        if answer.expired():
            raise Conflict(
                f"items[{i}]: the quote of {answer.carrier_name} has expired; quote again",
                f"{answer.carrier_name} 的报价已过期，请重新报价",
                field=f"items[{i}].answer_id",
                code="quote_expired",
            )
        quoted = [line["line"] for line in answer.lines or []]
        lines = item.get("lines") or quoted
        if not isinstance(lines, list) or any(line not in quoted for line in lines):
            raise ValidationFailed(
                f"items[{i}].lines: not quoted by {answer.carrier_name}",
                f"{answer.carrier_name} 未报价所选险种",
                field=f"items[{i}].lines",
            )
        for line in lines:
            if line in lines_taken:
                raise ValidationFailed(
                    f"items[{i}].lines: {line} is chosen from two carriers",
                    "同一险种只能选择一家保险公司",
                    field=f"items[{i}].lines",
                )
            lines_taken.add(line)
        chosen.append((answer, list(dict.fromkeys(lines))))
    return chosen


def _add_insurance_items(order: Order, answer: CarrierQuote, lines: list[str]) -> None:
    for line_code in lines:
        quoted = answer.line(line_code)
        premium = Decimal(str(quoted["premium"]))
        tax = Decimal(str(quoted.get("collected", {}).get("vehicle_tax", "0")))
        order.items.append(
            OrderItem(
                tenant_id=order.tenant_id,
                org_node_id=order.org_node_id,
                kind=ItemKind.INSURANCE,
                carrier_quote=answer,
                carrier_key=answer.carrier_key,
                line=line_code,
                product_key=quoted["product_key"],
                title=f"{answer.carrier_name} {_line_title(line_code)}",
                premium=premium,
                vehicle_tax=tax,
                idempotency_key=f"{order.order_no}-{len(order.items) + 1}",
            )
        )


def _add_service_items(session: Session, order: Order, quote: QuoteSession, keys: Any) -> None:
    if keys in (None, []):
        return
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ValidationFailed(
            "service_packages must be a list of keys", "服务套餐格式有误", field="service_packages"
        )
    from app.services.selling import package_for_sale

    insured_lines = {item.line for item in order.items}
    for i, key in enumerate(dict.fromkeys(keys)):
        package = package_for_sale(
            session, quote, key, insured_lines, field=f"service_packages[{i}]"
        )
        order.items.append(
            OrderItem(
                tenant_id=order.tenant_id,
                org_node_id=order.org_node_id,
                kind=ItemKind.SERVICE,
                line=SERVICE_LINE,
                product_key=key,
                title=package.title,
                price=package.price,
                idempotency_key=f"{order.order_no}-{len(order.items) + 1}",
                details={"version": package.version},
            )
        )


def _lock_quote_lines(session: Session, order: Order) -> None:
    """Write the order now: a quote line already in another order (another desk was quicker)
    fails here on the unique key, before any carrier is called."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            "this quote is already bound in another order",
            "该报价已被其他订单投保，请勿重复出单",
            code="already_bound",
        ) from None


def _bind(
    session: Session, order: Order, quote: QuoteSession, answer: CarrierQuote, lines: list[str]
) -> None:
    binding = binding_for(session, order.tenant_id, answer.carrier_key, quote.start_date)
    items = [i for i in order.items if i.carrier_quote_id == answer.id]
    request = BindRequest(
        idempotency_key=f"{order.order_no}-{answer.carrier_key}-bind",
        carrier_key=answer.carrier_key,
        carrier_quote_ref=answer.carrier_quote_ref or "",
        request=request_for(session, quote, answer.carrier_key),
        product_keys=tuple(item.product_key for item in items),
    )
    try:
        result: BindResult = binding.client.bind(request, timeout=BIND_TIMEOUT)
    except CarrierRefused as exc:
        raise Conflict(
            str(exc), f"{answer.carrier_name}拒绝承保：{'；'.join(exc.reasons)}", code="refused"
        ) from None
    except CarrierError as exc:
        raise Unavailable(
            f"{answer.carrier_key} could not bind: {exc}",
            f"{answer.carrier_name}暂时无法核保，请稍后重试（{'；'.join(exc.reasons)}）",
        ) from None
    if result.status != "bound":
        raise Conflict(
            "refused at binding",
            f"{answer.carrier_name}拒绝承保：{'；'.join(result.reasons)}",
            code="refused",
        )
    priced = {line.line: line for line in result.lines}
    for item in items:
        line = priced.get(item.line)
        if line is None:
            line = _quoted_line(answer, item.line)
        item.premium = line.premium
        item.vehicle_tax = Decimal(str(line.collected.get("vehicle_tax", "0")))
        item.details = {
            **(item.details or {}),
            "proposal_ref": result.proposal_ref,
            "coverages": to_data(line.coverages),
        }


def _quoted_line(answer: CarrierQuote, line_code: str) -> QuotedLine:
    return from_data(QuotedLine, answer.line(line_code))


def _total(order: Order) -> None:
    order.premium_total = sum((i.premium for i in order.items), ZERO)
    order.vehicle_tax_total = sum((i.vehicle_tax for i in order.items), ZERO)
    order.services_total = sum((i.price for i in order.items), ZERO)
    order.total = order.premium_total + order.vehicle_tax_total + order.services_total


# --- payment ----------------------------------------------------------------------------------


def start_payment(session: Session, order: Order) -> Payment:
    """A QR code to pay the whole order through the tenant's payment gateway. An order already
    paid is refused; a pending payment is answered again rather than doubled."""
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise Conflict(
            "the order is not awaiting payment", "订单当前不是待支付状态", code="not_payable"
        )
    pending = next((p for p in order.payments if p.status == PaymentStatus.PENDING), None)
    if pending is not None:
        return pending
    from app.payments.gateways import DEFAULT_GATEWAY, payment_client

    provider, client = DEFAULT_GATEWAY, payment_client(DEFAULT_GATEWAY)
    intent = client.create_payment(order.order_no, order.total, f"订单 {order.order_no}")
    payment = Payment(
        tenant_id=order.tenant_id,
        org_node_id=order.org_node_id,
        order=order,
        provider=provider,
        payment_ref=intent.payment_ref,
        amount=order.total,
        qr_payload=intent.qr_payload,
    )
    session.add(payment)
    session.flush()
    return payment


def payment_callback(session: Session, payload: Mapping[str, Any], signature: str) -> Payment:
    """The gateway's signed callback. Runs in the platform's scope (the gateway is no user):
    the payment is found by its unique reference and changes at most once."""
    from app.payments.contract import PaymentError
    from app.payments.gateways import payment_client

    payment = session.scalar(
        select(Payment).where(Payment.payment_ref == str(payload.get("payment_ref", "")))
    )
    if payment is None:
        raise NotFound("no such payment", "支付单不存在")
    client = payment_client(payment.provider)
    try:
        result = client.verify_callback(payload, signature)
    except PaymentError as exc:
        raise ValidationFailed(
            f"callback refused: {exc}", "支付回调验签失败", field="signature"
        ) from None
    payment.callbacks = (payment.callbacks or 0) + 1
    if payment.status != PaymentStatus.PENDING:
        return payment
    if result.status == "paid" and Decimal(result.amount) == payment.amount:
        payment.status, payment.paid_at = PaymentStatus.PAID, utcnow()
        order = payment.order
        if order.status == OrderStatus.AWAITING_PAYMENT:
            order.status, order.paid_at = OrderStatus.PAID, payment.paid_at
    else:
        payment.status = PaymentStatus.FAILED
    return payment


# --- issue ------------------------------------------------------------------------------------


def issue_order(session: Session, order: Order) -> Order:
    """Issue every item not yet issued. A carrier that fails leaves its item retryable and the
    order 出单失败; calling again retries with the same idempotency keys."""
    if order.status not in (OrderStatus.PAID, OrderStatus.ISSUE_FAILED, OrderStatus.ISSUING):
        raise Conflict("the order is not paid", "订单尚未支付，不能出单", code="not_paid")
    try:
        review_order(session, order)  # checked again: a licence may have expired since binding
    except Conflict as refusal:
        order.status, order.last_error = OrderStatus.ISSUE_FAILED, refusal.message("zh")[:500]
        session.flush()
        return order
    order.status = OrderStatus.ISSUING
    order.issue_attempts = (order.issue_attempts or 0) + 1
    payment = next(p for p in order.payments if p.status == PaymentStatus.PAID)
    failures = []
    for carrier_key in dict.fromkeys(
        i.carrier_key for i in order.items if i.kind == ItemKind.INSURANCE
    ):
        items = [
            i for i in order.items if i.carrier_key == carrier_key and i.status != ItemStatus.ISSUED
        ]
        if items:
            error = _issue_with_carrier(session, order, payment, carrier_key, items)
            if error:
                failures.append(error)
    for item in order.items:
        if item.kind == ItemKind.SERVICE and item.status != ItemStatus.ISSUED:
            from app.services.selling import sign_contract

            contract = sign_contract(session, order, item)
            item.service_contract_id, item.status = contract.id, ItemStatus.ISSUED
    if failures:
        order.status, order.last_error = OrderStatus.ISSUE_FAILED, "；".join(failures)[:500]
    else:
        order.status, order.issued_at, order.last_error = OrderStatus.ISSUED, utcnow(), None
    session.flush()
    return order


def _issue_with_carrier(
    session: Session, order: Order, payment: Payment, carrier_key: str, items: list[OrderItem]
) -> str | None:
    quote = order.quote_session
    binding = binding_for(session, order.tenant_id, carrier_key, quote.start_date)
    proposal = (items[0].details or {}).get("proposal_ref", "")
    request = IssueRequest(
        idempotency_key=items[0].idempotency_key,
        carrier_key=carrier_key,
        proposal_ref=proposal,
        payment_ref=payment.payment_ref,
        paid_amount=sum((i.premium + i.vehicle_tax for i in items), ZERO),
    )
    try:
        result: IssueResult = binding.client.issue(request, timeout=ISSUE_TIMEOUT)
    except CarrierError as exc:
        message = f"{binding.name}出单失败：{'；'.join(exc.reasons)}"
        for item in items:
            item.status, item.last_error = ItemStatus.FAILED, message[:500]
        return message
    from app.orders.issuing import record_policies

    record_policies(session, order, items, binding, result)
    return None


def get_order(session: Session, order_id: Any) -> Order:
    number = record_id(order_id)
    order = session.get(Order, number) if number else None
    if order is None:
        raise NotFound(f"no order {order_id}", f"订单 {order_id} 不存在")
    return order


def _order_no() -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%d%H%M%S")
    return f"DD{stamp}{secrets.randbelow(10**6):06d}"


def _line_title(line: str) -> str:
    from app.orders.issuing import policy_line
    from app.policies.labels import label

    try:
        return label(policy_line(line))
    except (KeyError, ValueError):
        return line


def issue_after_payment(order: Order) -> None:
    """Hand a freshly paid order to the issuing job (after the payment is committed)."""
    from app.jobs.queue import enqueue
    from app.orders import tasks  # noqa: F401 - registers the task

    enqueue("orders.issue", order_id=order.id)


def payments_of_policy(session: Session, policy) -> list[dict[str, Any]]:
    """The payments of the order a policy was issued from, for the policy page."""
    from app.orders.models import PAYMENT_STATUS_LABELS

    if not policy.order_id:
        return []
    payments = session.scalars(
        select(Payment).where(Payment.order_id == policy.order_id).order_by(Payment.id)
    )
    return [
        {
            "paid_at": payment.paid_at,
            "amount": payment.amount,
            "method": _gateway_name(payment.provider),
            "status": str(PAYMENT_STATUS_LABELS[payment.status]),
            "reference": payment.payment_ref,
        }
        for payment in payments
    ]


def sandbox_pay(session: Session, order: Order) -> Payment:
    """The sandbox gateway's "payer pays": its signed callback for the pending payment, handled
    exactly as the real callback would be. Refused for any other gateway."""
    from app.payments.contract import PaymentIntent
    from app.payments.gateways import DEFAULT_GATEWAY, payment_client

    payment = next((p for p in order.payments if p.status == PaymentStatus.PENDING), None)
    if payment is None or payment.provider != DEFAULT_GATEWAY:
        raise Conflict(
            "no sandbox payment is pending", "没有待支付的沙箱支付单", code="not_payable"
        )
    intent = PaymentIntent(
        payment_ref=payment.payment_ref,
        order_ref=order.order_no,
        amount=payment.amount,
        qr_payload=payment.qr_payload or "",
        expires_at=utcnow(),
    )
    payload, signature = payment_client(DEFAULT_GATEWAY).simulate_callback(intent)
    return payment_callback(session, payload, signature)


def _gateway_name(code: str) -> str:
    from app.carriers.registry import registry

    gateway = registry().payment(code)
    return gateway.name if gateway is not None else code
