"""The platform side of payment gateways: a client of a loaded gateway plugin, keyed from the
app's SECRET_KEY unless a signing secret is given (the sandbox has no outside merchant account)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from flask import current_app

from app.carriers.registry import registry
from app.errors import Unavailable
from app.payments.contract import PaymentClient

DEFAULT_GATEWAY = "payment_sandbox"


def payment_client(
    code: str = DEFAULT_GATEWAY,
    config: Mapping[str, Any] | None = None,
    credentials: Mapping[str, str] | None = None,
) -> PaymentClient:
    gateway = registry().payment(code)
    if gateway is None:
        raise Unavailable(
            f"payment gateway {code} is not loaded", f"支付插件 {code} 未加载", field="gateway"
        )
    if credentials is None:
        secret = str(current_app.config["SECRET_KEY"]).encode()
        derived = hashlib.sha256(b"dealercover/payments/" + code.encode() + b"/" + secret)
        credentials = {"signing_secret": derived.hexdigest()}
    return gateway.make_client(dict(config or {}), dict(credentials))
