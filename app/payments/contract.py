"""The payment gateway contract: pure types and the pluggy hook, like the carrier contract.

A gateway plugin implements `dealercover_payment_gateways()` and returns `PaymentGateway`
descriptions. A client creates a payment for an order (a QR payload the payer scans, and the
gateway's payment reference) and verifies the gateway's signed callback (HMAC-SHA256 over the
canonical JSON of the callback fields). A replayed callback verifies again to the same answer; the
platform's Payment model makes it one payment.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

import pluggy

PROJECT = "dealercover"
PAYMENT_ENTRY_POINT_GROUP = "dealercover.payments"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class PaymentError(Exception):
    """A payment call or callback that cannot be accepted."""


class BadSignature(PaymentError):
    """The callback's signature does not match: it did not come from the gateway."""


@dataclass(frozen=True)
class PaymentIntent:
    payment_ref: str
    order_ref: str
    amount: Decimal
    qr_payload: str  # what the QR code encodes (a URL or the gateway's code string)
    expires_at: datetime


@dataclass(frozen=True)
class CallbackResult:
    payment_ref: str
    order_ref: str
    status: Literal["paid", "failed"]
    amount: Decimal
    paid_at: datetime | None
    gateway_txn: str = ""


@runtime_checkable
class PaymentClient(Protocol):
    def create_payment(
        self, order_ref: str, amount: Decimal, description: str = ""
    ) -> PaymentIntent: ...

    def verify_callback(self, payload: Mapping[str, Any], signature: str) -> CallbackResult:
        """Raises BadSignature when the signature is wrong, PaymentError when the payload is."""
        ...


@dataclass(frozen=True)
class PaymentGateway:
    code: str
    name: str
    version: str
    config_schema: Mapping[str, Any]
    make_client: Callable[[Mapping[str, Any], Mapping[str, str]], PaymentClient] = field(
        compare=False, repr=False
    )
    description: str = ""


class PaymentHookSpecs:
    @hookspec
    def dealercover_payment_gateways(self) -> list[PaymentGateway]:
        """Return the payment gateways this module provides."""


def canonical(payload: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8, values as given (strings)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign(payload: Mapping[str, Any], secret: str) -> str:
    return hmac.new(secret.encode(), canonical(payload), hashlib.sha256).hexdigest()


def signature_ok(payload: Mapping[str, Any], signature: str, secret: str) -> bool:
    return hmac.compare_digest(sign(payload, secret), signature or "")
