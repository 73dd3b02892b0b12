"""A carrier over real HTTP: the platform side of a carrier's JSON API (client.py) and a carrier
simulator process to talk to (simulator.py: `python -m plugins.http_carrier.simulator --port N`).

Every call has its own timeout. Safe calls (quote, look-ups, downloads) are retried on a timeout,
a dropped connection or a 5xx; state-changing calls (bind, issue, endorse, cancel) carry an
Idempotency-Key header and are retried only with that same key, so a carrier that committed an
issue and lost its answer returns the same policy the second time."""

from __future__ import annotations

from app.carriers.contract import CarrierPlugin, hookimpl
from plugins.http_carrier.client import CONFIG_SCHEMA, HttpCarrierClient

VERSION = "1.0.0"


def make_client(config, credentials, context) -> HttpCarrierClient:
    return HttpCarrierClient(config, credentials, context)


@hookimpl
def dealercover_carrier_plugins() -> list[CarrierPlugin]:
    return [
        CarrierPlugin(
            code="http_carrier",
            name="HTTP 直连保险公司",
            version=VERSION,
            capabilities=(
                "quote",
                "bind",
                "issue",
                "endorse",
                "cancel",
                "confirm",
                "claim_lookup",
                "policy_download",
                "statement_download",
                "claim_download",
            ),
            config_schema=CONFIG_SCHEMA,
            make_client=make_client,
            description="经 HTTP 调用保险公司接口（或模拟器），带超时、安全重试与幂等键。",
        )
    ]
