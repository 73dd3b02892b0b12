"""The sandbox payment gateway: a QR payload per payment, callbacks signed with HMAC-SHA256;
a tampered or forged callback is refused, a replayed one verifies to the same answer (the
Payment model makes it one payment)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.payments.contract import BadSignature, PaymentError, sign
from app.payments.gateways import payment_client


def test_pay_and_verify_a_signed_callback(app):
    with app.app_context():
        client = payment_client()
        intent = client.create_payment("ORD-1", Decimal("4551.97"))
        assert intent.qr_payload.startswith("dcpay://sandbox/pay?")
        assert "ORD-1" in intent.qr_payload and intent.payment_ref.startswith("SBP")
        payload, signature = client.simulate_callback(intent)
        paid = client.verify_callback(payload, signature)
        assert (paid.status, paid.amount, paid.order_ref) == ("paid", Decimal("4551.97"), "ORD-1")
        assert client.verify_callback(dict(payload), signature) == paid  # a replay: same answer
        failed_payload, failed_signature = client.simulate_callback(intent, "failed")
        assert client.verify_callback(failed_payload, failed_signature).status == "failed"


def test_tampered_forged_or_malformed_callbacks_are_refused(app):
    with app.app_context():
        client = payment_client()
        intent = client.create_payment("ORD-2", Decimal("100.00"))
        payload, signature = client.simulate_callback(intent)
        with pytest.raises(BadSignature):
            client.verify_callback({**payload, "amount": "1.00"}, signature)
        with pytest.raises(BadSignature):
            client.verify_callback(payload, sign(payload, "guessed-secret"))
        with pytest.raises(PaymentError):
            client.verify_callback({**payload, "extra": "x"}, signature)
        with pytest.raises(PaymentError):
            client.create_payment("ORD-3", Decimal("-5"))
        with pytest.raises(PaymentError):
            client.create_payment("ORD-3", Decimal("1.005"))
