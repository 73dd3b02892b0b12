"""The sandbox payment gateway: a QR payload per payment and HMAC-signed callbacks.

`create_payment(order_ref, amount)` answers a payment reference and the QR payload (a
`dcpay://` URL the desk shows as a QR code); `simulate_callback(intent, outcome)` is what the
sandbox "payer's bank" would post back — a payload and its HMAC-SHA256 signature with the
merchant secret — and `verify_callback(payload, signature)` checks it. Imports only the payment
contract and the standard library."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from app.payments.contract import (
    BadSignature,
    CallbackResult,
    PaymentError,
    PaymentGateway,
    PaymentIntent,
    hookimpl,
    sign,
    signature_ok,
)

VERSION = "1.0.0"
CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "merchant_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"},
        "expires_minutes": {"type": "integer", "minimum": 1, "maximum": 1440, "default": 15},
    },
}
FIELDS = ("payment_ref", "order_ref", "amount", "status", "paid_at", "gateway_txn")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class SandboxPayments:
    """contract.PaymentClient for the sandbox gateway."""

    def __init__(self, config: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
        self.merchant = str(config.get("merchant_id", "DEALERCOVER"))
        self.expires = int(config.get("expires_minutes", 15))
        secret = credentials.get("signing_secret")
        if not secret:
            raise PaymentError("the sandbox gateway needs credentials['signing_secret']")
        self._secret = secret

    def __repr__(self) -> str:
        return f"SandboxPayments({self.merchant})"

    def create_payment(
        self, order_ref: str, amount: Decimal, description: str = ""
    ) -> PaymentIntent:
        amount = Decimal(amount)
        if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            raise PaymentError(f"amount {amount} must be positive, in cents")
        payment_ref = f"SBP{_now():%Y%m%d}{secrets.token_hex(6).upper()}"
        query = urlencode({"m": self.merchant, "p": payment_ref, "o": order_ref, "a": str(amount)})
        return PaymentIntent(
            payment_ref=payment_ref,
            order_ref=order_ref,
            amount=amount,
            qr_payload=f"dcpay://sandbox/pay?{query}",
            expires_at=_now() + timedelta(minutes=self.expires),
        )

    def simulate_callback(
        self, intent: PaymentIntent, outcome: str = "paid"
    ) -> tuple[dict[str, str], str]:
        """What the sandbox bank posts when the payer pays (or fails): payload, signature."""
        if outcome not in ("paid", "failed"):
            raise PaymentError("outcome is paid or failed")
        payload = {
            "payment_ref": intent.payment_ref,
            "order_ref": intent.order_ref,
            "amount": str(intent.amount),
            "status": outcome,
            "paid_at": _now().isoformat() if outcome == "paid" else "",
            "gateway_txn": f"TXN{secrets.token_hex(8).upper()}",
        }
        return payload, sign(payload, self._secret)

    def verify_callback(self, payload: Mapping[str, Any], signature: str) -> CallbackResult:
        if not isinstance(payload, Mapping) or set(payload) != set(FIELDS):
            raise PaymentError(f"callback must carry exactly {', '.join(FIELDS)}")
        if not all(isinstance(payload[name], str) for name in FIELDS):
            raise PaymentError("callback fields are strings")
        if not signature_ok(payload, signature, self._secret):
            raise BadSignature("callback signature does not match")
        if payload["status"] not in ("paid", "failed"):
            raise PaymentError("status is paid or failed")
        try:
            amount = Decimal(payload["amount"])
            paid_at = datetime.fromisoformat(payload["paid_at"]) if payload["paid_at"] else None
        except (InvalidOperation, ValueError) as error:
            raise PaymentError(f"callback field unreadable: {error}") from None
        return CallbackResult(
            payment_ref=payload["payment_ref"],
            order_ref=payload["order_ref"],
            status=payload["status"],
            amount=amount,
            paid_at=paid_at,
            gateway_txn=payload["gateway_txn"],
        )


def make_client(config, credentials) -> SandboxPayments:
    return SandboxPayments(config, credentials)


@hookimpl
def dealercover_payment_gateways() -> list[PaymentGateway]:
    return [
        PaymentGateway(
            code="payment_sandbox",
            name="沙箱支付（扫码）",
            version=VERSION,
            config_schema=CONFIG_SCHEMA,
            make_client=make_client,
            description="生成收款二维码内容，回调以 HMAC-SHA256 签名。",
        )
    ]
