"""Shared by the carrier tests: the platform tariff over the pack files on disk (no database),
sandbox clients configured from the demo pack's carrier documents, and requests."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import yaml

import rules
from app.carriers.contract import (
    ClientContext,
    CoverageRequest,
    History,
    LineRequest,
    PartyFacts,
    QuoteRequest,
    VehicleFacts,
)
from app.carriers.tariff import PlatformTariff

ROOT = Path(__file__).resolve().parents[3]
PACKS = (ROOT / "metadata/packs/core", ROOT / "metadata/packs/demo")
CARRIERS = ROOT / "metadata/packs/demo/carriers"
D = Decimal


def pack_documents() -> list[dict]:
    documents = []
    for pack in PACKS:
        for path in sorted(pack.glob("*/*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "kind" in data:
                documents.append(data)
    return documents


def file_tariff() -> PlatformTariff:
    documents = pack_documents()
    products = {d["key"]: d for d in documents if d["kind"] == "product"}
    library = rules.Library(d for d in documents if d["kind"] in ("decision_table", "rule_set"))
    return PlatformTariff(products, library)


def carrier_document(key: str) -> dict:
    return yaml.safe_load((CARRIERS / f"{key}.yaml").read_text(encoding="utf-8"))


def sandbox_client(key: str, folder, tenant: str = "T1", **config_changes):
    """A sandbox client as the demo pack configures carrier `key`, without simulated latency."""
    from plugins.sandbox_carrier.client import SandboxClient

    config = dict(carrier_document(key)["body"]["config"])
    config["latency_ms"] = 0
    config.update(config_changes)
    return SandboxClient(config, ClientContext(tenant, key, str(folder / key)))


PERSON = PartyFacts("张三", id_number="11010119900307123X", mobile="13912345678")


def car(**changes) -> VehicleFacts:
    values = {
        "plate": "京A12345",
        "vin": "LSVAU2180N2183294",
        "seats": 5,
        "displacement_l": D("1.6"),
        "purchase_price": D("200000"),
        "register_date": datetime.date(2023, 5, 1),
    }
    values.update(changes)
    return VehicleFacts(**values)


def motor_request(
    carrier_key: str,
    tariff,
    province: str = "北京",
    vehicle: VehicleFacts | None = None,
    history: History | None = None,
    start: datetime.date = datetime.date(2026, 6, 1),
    commercial: tuple[CoverageRequest, ...] | None = None,
    lines: tuple[str, ...] = ("compulsory_motor", "commercial_motor"),
) -> QuoteRequest:
    coverages = commercial
    if coverages is None:
        coverages = (CoverageRequest("own_damage"), CoverageRequest("third_party", D("1000000")))
    built = []
    for key in lines:
        line = tariff.product(key)["line"]
        built.append(LineRequest(key, line, coverages if key == "commercial_motor" else ()))
    return QuoteRequest(
        request_id=f"req-{carrier_key}",
        carrier_key=carrier_key,
        province=province,
        start_date=start,
        vehicle=vehicle or car(),
        holder=PERSON,
        insured=PERSON,
        lines=tuple(built),
        history=history or History(claim_free_years=3, jqx_record="A2"),
        tariff=tariff,
    )
