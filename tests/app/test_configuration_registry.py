"""The registries the configuration engine is extended through, and the documents in force on a
date: kinds registered by the capabilities that own them, an unknown kind refused naming its
file, a capability's extra check stopping an install, the version in force on a day (a tenant's
own overriding the platform's), and pricing through app.quoting.pricing giving the pack case's
premium."""

from __future__ import annotations

import copy
import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app.audit.models import utcnow
from app.configuration import kinds as kinds_module
from app.configuration.cases import run_cases
from app.configuration.install import publish_version, save_draft
from app.configuration.kinds import (
    KIND_FOLDERS,
    KindSpec,
    UnknownKind,
    extend_kind,
    kind_spec,
    register_kind,
    registered_kinds,
    rule_kinds,
)
from app.configuration.lookup import (
    document_in_force,
    documents_in_force,
    rules_library_in_force,
)
from app.configuration.models import Document, DocumentVersion, InstalledPack, VersionStatus
from app.configuration.reading import PackError, Problem, load_schema, read_pack
from app.extensions import db
from app.quoting.pricing import PricedProduct, price_product
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import build_world, install_for, write_pack

ROOT = Path(__file__).resolve().parents[2]
DAY = datetime.date


@pytest.fixture(scope="module")
def core(app):
    with use_scope(system_scope()):
        installed = db.session.scalar(
            select(InstalledPack).where(
                InstalledPack.name == "core", InstalledPack.tenant_id.is_(None)
            )
        )
    if installed is None:
        result = app.test_cli_runner().invoke(
            args=["pack", "install", str(ROOT / "metadata/packs/core")]
        )
        assert result.exit_code == 0, result.output
    return True


def rate_table(key: str, version: str, rate: str, effective_from: str | None = None) -> dict:
    """A one-row decision table: any x → this rate."""
    document = {
        "kind": "decision_table",
        "key": key,
        "version": version,
        "title": "测试费率",
        "body": {
            "title": "测试费率",
            "hit_policy": "first",
            "inputs": [{"name": "x", "label": "x", "type": "decimal"}],
            "outputs": [{"name": "rate", "label": "费率", "type": "decimal"}],
            "rules": [{"when": ["-"], "then": [rate]}],
            "tests": [{"name": "any", "input": {"x": "1"}, "expected": {"rate": rate}}],
        },
    }
    if effective_from:
        document["effective_from"] = effective_from
    return document


# --- kinds --------------------------------------------------------------------------------------


def test_each_capability_registers_the_kinds_it_owns():
    owners = {kind: spec.owner for kind, spec in registered_kinds().items()}
    assert owners["product"] == "app.quoting"
    assert owners["fee_agreement"] == "app.fees"
    assert owners["message_template"] == "app.messaging"
    assert owners["statement_mapping"] == "app.reconciliation"
    for kind in ("entity", "list_view", "report", "rule_set", "decision_table", "renewal_policy"):
        assert owners[kind] == "app.configuration"
    assert set(rule_kinds()) == {"decision_table", "rule_set"}
    assert KIND_FOLDERS["product"] == "products" and KIND_FOLDERS["renewal_policy"] == (
        "renewal_policies"
    )
    # the envelope schema and the registry agree, and every kind has its body schema
    assert set(load_schema("document")["properties"]["kind"]["enum"]) == set(registered_kinds())
    for spec in registered_kinds().values():
        assert (ROOT / "metadata/schemas" / f"{spec.schema_name}.schema.json").is_file()
    with pytest.raises(UnknownKind, match="warranty"):
        kind_spec("warranty")


def test_a_kind_is_registered_once_and_extended_by_others(monkeypatch):
    with pytest.raises(ValueError, match="already registered by app.quoting"):
        register_kind(KindSpec("product", "goods"))
    with pytest.raises(ValueError, match="folder 'products'"):
        register_kind(KindSpec("goods", "products"))

    def first(document, context):
        return [Problem(context.pack, document.file, "first")]

    def second(document, context):
        return [Problem(context.pack, document.file, "second")]

    monkeypatch.setitem(kinds_module._KINDS, "goods", KindSpec("goods", "goods", validate=first))
    extend_kind("goods", validate=second)
    context = kinds_module.CheckContext("p", [], {})
    from app.configuration.reading import SourceDocument

    found = kind_spec("goods").check(SourceDocument("goods/a.yaml", {}), context)
    assert [p.message for p in found] == ["first", "second"]


def test_a_document_of_a_kind_no_capability_registers_is_refused_naming_its_file(
    tmp_path, monkeypatch
):
    report = yaml.safe_load(
        (ROOT / "metadata/packs/demo/reports/premium_by_carrier.yaml").read_text()
    )
    folder = write_pack(tmp_path, "reports_pack", documents=[report])
    monkeypatch.delitem(kinds_module._KINDS, "report")  # as if no capability owned reports
    with pytest.raises(PackError) as refused:
        read_pack(Path(folder))
    problems = [p for p in refused.value.problems if p.path == "$.kind"]
    assert problems and problems[0].file == "reports/premium_by_carrier.yaml"
    assert "no capability registers it" in problems[0].message and problems[0].line == 1

    # a kind the envelope does not know at all is refused by the schema, naming the file too
    unknown = tmp_path / "odd"
    unknown.mkdir()
    (unknown / "pack.yaml").write_text("name: odd\nversion: 1.0.0\ndescription: x\n")
    (unknown / "warranties").mkdir()
    (unknown / "warranties" / "w.yaml").write_text(
        "kind: warranty\nkey: w\nversion: 1.0.0\ntitle: 延保\nbody: {}\n", encoding="utf-8"
    )
    with pytest.raises(PackError) as refused:
        read_pack(unknown)
    assert any(p.file == "warranties/w.yaml" and p.path == "$.kind" for p in refused.value.problems)


def test_a_capabilitys_extra_check_stops_the_install(app, tmp_path, monkeypatch):
    world = build_world(app)
    monkeypatch.setitem(kinds_module._KINDS, "decision_table", kind_spec("decision_table"))

    def no_negative_rates(document, context):
        rules_ = document.data["body"]["rules"]
        if any(str(row["then"][0]).startswith("-") for row in rules_):
            return [Problem(context.pack, document.file, "rates are never negative")]
        return []

    extend_kind("decision_table", validate=no_negative_rates)
    folder = write_pack(tmp_path, "rates", documents=[rate_table("t_negative", "1.0.0", "-1")])
    with pytest.raises(PackError, match="rates are never negative"):
        install_for(app, world, folder)
    with use_scope(system_scope()):
        assert db.session.scalar(select(Document).where(Document.key == "t_negative")) is None


# --- versions in force --------------------------------------------------------------------------


def _tenant_document(world, kind: str, data: dict, effective_from: datetime.date | None):
    """A tenant's own document with the key of a platform one (as a tenant admin would keep its
    own copy): one published version."""
    document = Document(kind=kind, key=data["key"], tenant_id=world.tenant_id, org_node_id=world.hq)
    db.session.add(document)
    version = DocumentVersion(
        document=document,
        tenant_id=world.tenant_id,
        org_node_id=world.hq,
        version=data["version"],
        status=VersionStatus.PUBLISHED,
        title=data["title"],
        content=json.dumps(data, ensure_ascii=False),
        effective_from=effective_from,
        published_at=utcnow(),
        published_by="tests",
    )
    db.session.add(version)
    db.session.flush()
    document.current_version = version
    db.session.commit()
    return version


def test_the_version_in_force_on_a_date(app, tmp_path):
    world = build_world(app)
    key = f"t_rate_{world.tenant_id}"
    install_for(
        app,
        world,
        write_pack(
            tmp_path / "v1", "rates", documents=[rate_table(key, "1.0.0", "0.1", "2025-01-01")]
        ),
    )
    install_for(
        app,
        world,
        write_pack(
            tmp_path / "v2",
            "rates",
            "1.1.0",
            documents=[rate_table(key, "1.1.0", "0.2", "2026-01-01")],
        ),
    )
    with use_scope(system_scope()):
        in_force = {
            day: document_in_force(db.session, "decision_table", key, world.tenant_id, day)
            for day in (DAY(2024, 12, 31), DAY(2025, 6, 1), DAY(2026, 1, 1), DAY(2026, 3, 1))
        }
        assert in_force[DAY(2024, 12, 31)] is None  # not in force before its first day
        assert in_force[DAY(2025, 6, 1)].version == "1.0.0"
        assert in_force[DAY(2026, 1, 1)].version == "1.1.0"
        assert in_force[DAY(2026, 3, 1)].version == "1.1.0"
        # the platform does not see a tenant's document
        assert document_in_force(db.session, "decision_table", key, None, DAY(2026, 3, 1)) is None

        library = rules_library_in_force(db.session, world.tenant_id, DAY(2025, 6, 1))
        assert library.get(key).evaluate({"x": "1"}) == {"rate": Decimal("0.1")}
        library = rules_library_in_force(db.session, world.tenant_id, DAY(2026, 6, 1))
        assert library.get(key).evaluate({"x": "1"}) == {"rate": Decimal("0.2")}
        assert library.get(key, "1.0.0").evaluate({"x": "1"}) == {"rate": Decimal("0.1")}

        keys = [
            v.document.key
            for v in documents_in_force(
                db.session, "decision_table", world.tenant_id, DAY(2025, 6, 1)
            )
        ]
        assert key in keys and keys == sorted(keys)


def test_a_console_published_version_starts_on_its_effective_date(app, tmp_path):
    world = build_world(app)
    key = f"t_console_{world.tenant_id}"
    install_for(
        app, world, write_pack(tmp_path, "rates", documents=[rate_table(key, "1.0.0", "0.1")])
    )
    today = datetime.date.today()
    later = today + datetime.timedelta(days=30)
    with use_scope(system_scope()):
        document = db.session.scalar(select(Document).where(Document.key == key))
        data = copy.deepcopy(document.current_version.data)
        data.update(version="1.0.1", effective_from=later.isoformat())
        data["body"]["rules"][0]["then"] = ["0.3"]
        data["body"]["tests"][0]["expected"] = {"rate": "0.3"}
        draft = save_draft(db.session, document, data, "tests")
        publish_version(db.session, draft, "tests")
        assert draft.effective_from == later
        found = document_in_force(db.session, "decision_table", key, world.tenant_id, today)
        assert found.version == "1.0.0"  # a version published today, never dated, is in force
        found = document_in_force(db.session, "decision_table", key, world.tenant_id, later)
        assert found.version == "1.0.1"


def test_a_tenants_own_document_overrides_the_platforms(app, core):
    world = build_world(app)
    other = build_world(app)
    with use_scope(system_scope()):
        platform = document_in_force(
            db.session, "decision_table", "vehicle_tax_annual", None, DAY(2026, 3, 1)
        )
        own = copy.deepcopy(platform.data)
        own["version"] = "1.0.1"
        own["body"]["rules"][1]["then"] = ["400"]  # (1.0..1.6] litres: 400 instead of 360
        own["body"]["tests"] = []
        _tenant_document(world, "decision_table", own, DAY(2026, 1, 1))

        def vehicle_tax(tenant_id, day) -> Decimal:
            product = document_in_force(db.session, "product", "compulsory_motor", tenant_id, day)
            library = rules_library_in_force(db.session, tenant_id, day)
            form = {"province": "北京", "seats": 5, "record": "A2", "displacement_l": "1.6"}
            return price_product(product.data, form, library).collected["vehicle_tax"]

        assert vehicle_tax(world.tenant_id, DAY(2026, 3, 1)) == Decimal("400.00")
        # before the tenant's own version starts, the platform's applies
        assert vehicle_tax(world.tenant_id, DAY(2025, 12, 31)) == Decimal("360.00")
        # another tenant and the platform keep the platform's
        assert vehicle_tax(other.tenant_id, DAY(2026, 3, 1)) == Decimal("360.00")
        assert vehicle_tax(None, DAY(2026, 3, 1)) == Decimal("360.00")
        found = document_in_force(
            db.session, "decision_table", "vehicle_tax_annual", world.tenant_id, DAY(2026, 3, 1)
        )
        assert found.document.tenant_id == world.tenant_id


# --- pricing ------------------------------------------------------------------------------------


def test_pricing_through_quoting_gives_the_pack_cases_premium(app, core):
    today = datetime.date.today()
    with use_scope(system_scope()):
        product = document_in_force(db.session, "product", "compulsory_motor", None, today)
        library = rules_library_in_force(db.session, None, today)
    case = next(c for c in product.data["tests"] if c["name"] == "北京 家用5座 A2 1.6升")
    priced = price_product(product.data, case["input"], library, trace=True)
    assert isinstance(priced, PricedProduct)
    assert priced.premium == Decimal("712.50")
    assert priced.collected == {"vehicle_tax": Decimal("360.00")}
    assert priced.explain["base_premium"] == Decimal("950")
    assert priced.explain["floating_rate"] == Decimal("-0.25")
    assert priced.versions["product:compulsory_motor"] == product.version
    assert "decision_table:vehicle_tax_annual" in priced.versions
    assert set(priced.trace) == {"premium", "vehicle_tax"}
    assert "交强险基础保费" in priced.render_trace("zh")
    # the pack's own case runs the very same function
    runner = kind_spec("product").run_case
    assert runner(product.data, case["input"], library) == priced.as_dict()
    from app.configuration.reading import SourceDocument

    with use_scope(system_scope()):
        rule_documents = [
            version.data
            for kind in rule_kinds()
            for version in documents_in_force(db.session, kind, None, today)
        ]
    source = SourceDocument("products/compulsory_motor.yaml", product.data)
    results = run_cases([source], rule_documents)
    assert results and all(r.passed for r in results)


# --- field types --------------------------------------------------------------------------------


def test_one_registry_of_field_types_serves_tables_values_and_forms(monkeypatch):
    from sqlalchemy import Numeric, String

    from app.configuration import field_types as types_module
    from app.configuration.entities import FieldError, coerce_value
    from app.configuration.field_types import (
        FieldType,
        UnknownFieldType,
        field_type,
        field_types,
        register_field_type,
    )
    from app.configuration.forms import WIDGETS

    declared = load_schema("common")["$defs"]["field_type"]["enum"]
    assert set(field_types()) == set(declared)
    assert {t.widget for t in field_types().values()} <= set(WIDGETS)

    money = field_type("money")
    column = money.column({"name": "fee", "type": "money"})
    assert isinstance(column, Numeric) and (column.precision, column.scale) == (14, 2)
    assert field_type("string").column({"type": "string", "max_length": 40}).length == 40
    assert isinstance(field_type("vin").column({"type": "vin"}), String)
    assert money.schema_for({"type": "money"})["pattern"]
    assert field_type("plate").schema_for({"type": "plate"})["x-identifier"] == "plate"

    spec = {"name": "fee", "type": "money", "label": {"zh": "费用"}}
    assert coerce_value(spec, "12.345") == Decimal("12.35")  # half-up to the cent
    with pytest.raises(FieldError) as refused:
        coerce_value({**spec, "type": "integer"}, "12.5")
    assert refused.value.field == "fee" and "整数" in refused.value.chinese
    plate = {"name": "plate", "type": "plate", "label": {"zh": "车牌"}}
    assert coerce_value(plate, "沪A·12345") == "沪A12345"
    with pytest.raises(UnknownFieldType, match="colour"):
        field_type("colour")

    # a capability adds a type by registering it; a name is registered once
    percent = FieldType(
        "percent",
        lambda s: Numeric(7, 4),
        lambda s, raw: Decimal(str(raw).rstrip("%")) / 100,
        zh="百分比",
        as_text=True,
    )
    monkeypatch.setitem(types_module._TYPES, "percent", percent)
    assert coerce_value({"name": "rate", "type": "percent"}, "4%") == Decimal("0.04")
    with pytest.raises(FieldError, match="not a valid percent"):
        coerce_value({"name": "rate", "type": "percent"}, "four")
    with pytest.raises(ValueError, match="already registered"):
        register_field_type(FieldType("money", lambda s: Numeric(14, 2), lambda s, raw: raw))
