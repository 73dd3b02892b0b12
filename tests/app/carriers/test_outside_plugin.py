"""A carrier plugin that lives outside the repository: a package installed here into a temporary
site folder (its module and a .dist-info with an entry point in the `dealercover.carriers` group,
as pip lays it down) is discovered, enabled for a tenant by a carrier document, quotes and
issues."""

from __future__ import annotations

import datetime
import importlib
import sys
import textwrap

import pytest

from app.carriers import registry as plugin_registry
from app.carriers.contract import BindRequest, IssueRequest
from app.carriers.registry import discover
from app.carriers.services import carrier_for
from app.carriers.tariff import platform_tariff
from app.extensions import db
from app.tenancy.scope import system_scope, use_scope
from tests.app.carriers.helpers import motor_request
from tests.app.conftest import install_for, write_pack

PLUGIN = '''
"""Acme P&C: prices 交强险 with the platform tariff and its commercial lines at a flat rate."""
import itertools
from datetime import datetime, timedelta

from app.carriers.contract import (
    BindResult, CarrierPlugin, IssuedPolicy, IssueResult, QuotedLine, QuoteResult, cents,
    excl_vat, hookimpl,
)

SCHEMA = {
    "type": "object",
    "required": ["rate"],
    "additionalProperties": False,
    "properties": {"rate": {"type": "string", "pattern": "^0\\\\.[0-9]+$"}},
}


class AcmeClient:
    numbers = itertools.count(1)

    def __init__(self, config):
        self.rate = config["rate"]
        self.issued = {}
        self.proposals = {}

    def _lines(self, request):
        lines = []
        for line in request.lines:
            car = request.vehicle
            inputs = {"province": request.province, "vehicle_class": car.vehicle_class,
                      "seats": car.seats, "record": request.history.jqx_record,
                      "displacement_l": car.displacement_l, "fuel": car.fuel}
            priced = request.tariff.price(line.product_key, inputs)
            premium = cents(priced.premium)
            lines.append(QuotedLine(line.line, line.product_key, (), premium, excl_vat(premium),
                                    dict(priced.collected)))
        return tuple(lines)

    def quote(self, request, timeout):
        lines = self._lines(request)
        total = sum(line.premium for line in lines)
        tax = sum(line.collected.get("vehicle_tax", 0) for line in lines)
        return QuoteResult("ok", request.carrier_key, "ACQ1", lines, total, tax, total + tax,
                           datetime.now() + timedelta(hours=1))

    def bind(self, request, timeout):
        quoted = self.quote(request.request, timeout)
        self.proposals["ACP1"] = (quoted, request.request.start_date)
        return BindResult("bound", request.carrier_key, "ACP1", quoted.lines,
                          quoted.total_premium, quoted.vehicle_tax, quoted.total)

    def issue(self, request, timeout):
        if request.idempotency_key in self.issued:
            return self.issued[request.idempotency_key]
        quoted, start = self.proposals[request.proposal_ref]
        policies = tuple(
            IssuedPolicy(line.line, line.product_key, f"ACME{start:%Y}{next(self.numbers):012d}",
                         line.premium, line.premium_excl_vat, start,
                         start.replace(year=start.year + 1) - timedelta(days=1))
            for line in quoted.lines
        )
        result = IssueResult("issued", request.carrier_key, request.proposal_ref, policies,
                             datetime.now())
        self.issued[request.idempotency_key] = result
        return result


@hookimpl
def dealercover_carrier_plugins():
    return [CarrierPlugin("acme", "Acme 财险", "0.3.0", ("quote", "bind", "issue"), SCHEMA,
                          make_client=lambda config, credentials, context: AcmeClient(config))]
'''


def _install(target, name: str, version: str, group: str, entry: str, source: str) -> None:
    """Lay the package down as pip does in a target folder: the module and its .dist-info with
    METADATA, entry_points.txt and RECORD (no wheel tooling needed, nothing downloaded)."""
    package = target / name
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = target / f"{name}-{version}.dist-info"
    info.mkdir()
    files = {
        "METADATA": f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n",
        "entry_points.txt": f"[{group}]\n{entry}\n",
        "INSTALLER": "pip\n",
        "top_level.txt": f"{name}\n",
    }
    for filename, text in files.items():
        (info / filename).write_text(text, encoding="utf-8")
    records = [
        f"{name}/__init__.py,,",
        *(f"{info.name}/{f},," for f in files),
        f"{info.name}/RECORD,,",
    ]
    (info / "RECORD").write_text("\n".join(records) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def installed_acme(tmp_path_factory):
    target = tmp_path_factory.mktemp("acme_site")
    _install(target, "acme_carrier", "0.3.0", "dealercover.carriers", "acme = acme_carrier", PLUGIN)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    previous = plugin_registry.set_registry(discover())
    yield
    plugin_registry.set_registry(previous)
    sys.path.remove(str(target))
    sys.modules.pop("acme_carrier", None)


def test_an_installed_package_is_discovered_by_its_entry_point(installed_acme):
    found = plugin_registry.registry()
    assert "acme" in found.carriers and found.errors == []
    assert found.carriers["acme"].source == (
        "entry point dealercover.carriers: acme = acme_carrier"
    )


def test_it_is_enabled_by_a_carrier_document_then_quotes_and_issues(
    app, installed_acme, bare_world, tmp_path
):
    document = {
        "kind": "carrier",
        "key": "acme",
        "version": "1.0.0",
        "title": "Acme 财险",
        "body": {
            "plugin": "acme",
            "plugin_version": ">=0.3,<1.0",
            "name": {"zh": "Acme 财险", "en": "Acme P&C"},
            "capabilities": ["quote", "bind", "issue"],
            "products": ["compulsory_motor"],
            "config": {"rate": "0.05"},
        },
    }
    install_for(app, bare_world, write_pack(tmp_path, "acme_pack", documents=[document]))
    today = datetime.date.today()
    with use_scope(system_scope()):
        carrier = carrier_for(db.session, bare_world.tenant_id, "acme", today)
        tariff = platform_tariff(db.session, bare_world.tenant_id, today)
    request = motor_request(
        "acme", tariff, province="北京", start=today, lines=("compulsory_motor",)
    )
    quote = carrier.client.quote(request, timeout=5)
    assert quote.status == "ok" and quote.lines[0].premium == quote.total_premium
    assert quote.total_premium > 0 and quote.vehicle_tax > 0
    bound = carrier.client.bind(
        BindRequest("k1", "acme", quote.carrier_quote_ref, request, ("compulsory_motor",)),
        timeout=5,
    )
    issued = carrier.client.issue(
        IssueRequest("k2", "acme", bound.proposal_ref, "PAY", bound.total), timeout=5
    )
    assert issued.policies[0].policy_no.startswith(f"ACME{today:%Y}")
    assert (
        carrier.client.issue(
            IssueRequest("k2", "acme", bound.proposal_ref, "PAY", bound.total), timeout=5
        )
        == issued
    )
