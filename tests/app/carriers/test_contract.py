"""The plugin contract stays pure, and plugins import only the contract, `rules` and the
standard library (checked on their source, so a forbidden import fails here before it runs)."""

from __future__ import annotations

import ast
import datetime
import sys
from decimal import Decimal
from pathlib import Path

from app.carriers.contract import (
    BindRequest,
    CoverageRequest,
    IssueResult,
    LineRequest,
    PartyFacts,
    QuoteRequest,
    VehicleFacts,
    coverage_inputs,
    from_data,
    to_data,
)
from tests.app.carriers.helpers import ROOT

CONTRACTS = ("app.carriers.contract", "app.payments.contract")
# Besides the standard library: the contracts, the rules engine, and (in the simulator process
# and the sandbox's reuse of its facts mapping) the other built-in plugins and PyYAML.
ALLOWED = {"rules", "plugins", "yaml", "pluggy"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def _forbidden(module: str) -> bool:
    top = module.split(".")[0]
    if module in CONTRACTS or top in ALLOWED or top == "__future__":
        return False
    return top not in sys.stdlib_module_names


def test_plugins_import_only_the_contract_rules_and_the_standard_library():
    files = sorted((ROOT / "plugins").rglob("*.py"))
    assert len(files) >= 6
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imports(path) if _forbidden(m))
        for path in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_would_catch_a_plugin_reaching_into_the_app(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from app.policies.models import Policy\nimport flask\nimport json\n")
    assert sorted(m for m in _imports(sneaky) if _forbidden(m)) == [
        "app.policies.models",
        "flask",
    ]


def test_the_contracts_import_nothing_of_the_app_flask_or_sqlalchemy():
    for name in ("app/carriers/contract.py", "app/payments/contract.py"):
        modules = _imports(ROOT / name)
        assert all(
            m.split(".")[0] in sys.stdlib_module_names | {"pluggy", "__future__"} for m in modules
        ), (
            name,
            modules,
        )


def test_requests_and_results_travel_as_plain_json_and_back():
    request = QuoteRequest(
        request_id="r1",
        carrier_key="picc",
        province="北京",
        start_date=datetime.date(2026, 6, 1),
        vehicle=VehicleFacts(plate="京A12345", displacement_l=Decimal("1.6")),
        holder=PartyFacts("张三"),
        insured=PartyFacts("张三"),
        lines=(
            LineRequest(
                "commercial_motor",
                "commercial_motor",
                (CoverageRequest("third_party", Decimal("1000000.00")),),
            ),
        ),
    )
    bind = BindRequest("key-1", "picc", "Q1", request, ("commercial_motor",))
    data = to_data(bind)
    assert data["request"]["lines"][0]["coverages"][0]["sum_insured"] == "1000000.00"
    assert "tariff" not in data["request"]
    assert from_data(BindRequest, data) == bind
    issued = from_data(
        IssueResult,
        {
            "status": "pending_confirmation",
            "carrier_key": "picc",
            "proposal_ref": "T1",
            "policies": [],
            "issued_at": "2026-06-01T10:00:00",
        },
    )
    assert issued.issued_at == datetime.datetime(2026, 6, 1, 10, 0)


def test_coverages_become_the_products_coverage_fields():
    body = {
        "coverages": [{"code": c} for c in ("own_damage", "third_party", "driver", "scratch")],
        "form": [
            {"name": "own_damage", "type": "boolean"},
            {"name": "third_party", "type": "boolean"},
            {
                "name": "third_party_limit",
                "type": "enum",
                "choices": [{"value": "500000"}, {"value": "1000000"}],
            },
            {"name": "driver_sum_insured", "type": "money"},
            {
                "name": "scratch_limit",
                "type": "enum",
                "choices": [{"value": "0"}, {"value": "2000"}],
            },
        ],
    }
    asked = (
        CoverageRequest("third_party", Decimal("1000000.00")),
        CoverageRequest("driver", Decimal("20000")),
    )
    assert coverage_inputs(body, asked) == {
        "own_damage": False,
        "third_party": True,
        "third_party_limit": "1000000",
        "driver_sum_insured": Decimal("20000"),
        "scratch_limit": "0",
    }
    assert coverage_inputs(body, ()) == {}
