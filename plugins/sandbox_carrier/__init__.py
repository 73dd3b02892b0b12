"""The in-process sandbox carrier: one plugin behind the 14 demo insurers.

Everything that makes one sandbox insurer differ from another is in its `carrier` document's
`config` (see CONFIG_SCHEMA): its 自主定价系数 per product line, underwriting rules, simulated
latency and fault rate, policy-number format and fee rates on its statements. A new sandbox insurer
is a new document, not code.

It prices through the platform's reference `Tariff` handed over in the QuoteRequest (the pricing
documents in force), adding its own pricing factor; it keeps what a real carrier's system keeps
(quotes, proposals, policies, endorsements, claims, number sequences) in a small SQLite file of its
own, so numbers are never reused and downloads list what was issued, across processes.

Imports only the contract and the standard library (a test checks it)."""

from __future__ import annotations

from app.carriers.contract import CarrierPlugin, hookimpl
from plugins.sandbox_carrier.client import CONFIG_SCHEMA, SandboxClient, check_config

VERSION = "1.2.0"


def make_client(config, credentials, context) -> SandboxClient:
    return SandboxClient(config, context)


@hookimpl
def dealercover_carrier_plugins() -> list[CarrierPlugin]:
    return [
        CarrierPlugin(
            code="sandbox",
            name="沙箱保险公司（进程内）",
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
            description="按真实费率结构报价的沙箱保险公司；差异全部来自 carrier 文档的配置。",
            check_config=check_config,
        )
    ]
