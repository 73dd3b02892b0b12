"""The metadata schemas and the packs that ship with DealerCover: fast, no app, no database.

- every schema is a valid draft 2020-12 schema, documented, closed to typos;
- every document of every pack validates against the envelope (and its body against its kind),
  sits in the folder of its kind and is named after its key;
- the documents' own test cases pass (rules through the rules engine; products, fee agreements,
  message templates and statement mappings through the small reference runners below);
- documents refer only to documents that exist (in the pack or in the packs it requires);
- for each kind, a realistic broken document is refused with an error at the expected JSON path.
"""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal

import pytest
import yaml
from jsonschema import Draft202012Validator
from metadata_packs import (
    KIND_FOLDERS,
    KINDS,
    SCHEMAS,
    DuplicateKeyError,
    all_documents,
    cents,
    document_files,
    load_yaml,
    manifest,
    pack_dirs,
    read_document,
    satisfies,
    schema,
    validator,
)

import rules
from app.configuration.cases import same
from app.fees.arithmetic import fees_for_line
from app.messaging.templates import PLACEHOLDER, render_template
from app.quoting.pricing import price_product
from app.reconciliation.mapping import map_statement_row

COLLEAGUE_SCHEMAS = {"decision_table", "rule_set"}
OUR_SCHEMAS = sorted(
    path.name.removesuffix(".schema.json")
    for path in SCHEMAS.glob("*.schema.json")
    if path.name.removesuffix(".schema.json") not in COLLEAGUE_SCHEMAS
)
DOCUMENTS = all_documents()
BY_KIND: dict[str, dict[str, dict]] = {}
for _path, _document in DOCUMENTS:
    BY_KIND.setdefault(_document["kind"], {})[_document["key"]] = _document
CJK = re.compile(r"[\u4e00-\u9fff]")


def doc_id(item):
    path, _ = item
    return str(path.relative_to(path.parents[2]))


def errors_of(name: str, instance) -> list:
    return list(validator(name).iter_errors(instance))


# --- the schemas themselves -------------------------------------------------------------------


def test_every_kind_and_the_envelope_have_a_schema():
    present = {path.name.removesuffix(".schema.json") for path in SCHEMAS.glob("*.schema.json")}
    assert set(KINDS) | {"document", "pack", "common"} <= present
    assert set(schema("document")["properties"]["kind"]["enum"]) == set(KINDS)


@pytest.mark.parametrize("name", sorted(set(OUR_SCHEMAS) | COLLEAGUE_SCHEMAS))
def test_schema_is_valid_draft_2020_12(name):
    contents = schema(name)
    Draft202012Validator.check_schema(contents)
    assert contents["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert contents["$id"] == f"https://dealercover.org/schemas/{name}.schema.json"


def _walk(node, where="#"):
    """Every schema object with its location, leaving out if/then/else (conditions, not shapes)."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            if key not in ("if", "then", "else"):
                yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


@pytest.mark.parametrize("name", OUR_SCHEMAS)
def test_every_property_is_described_in_chinese_then_english(name):
    missing = []
    for where, node in _walk(schema(name)):
        for prop, sub in node.get("properties", {}).items() if "properties" in node else ():
            text = sub.get("description", "")
            zh, _, en = text.partition(" / ")
            if not (en and CJK.search(zh)):
                missing.append(f"{where}/properties/{prop}")
    assert missing == []


@pytest.mark.parametrize("name", OUR_SCHEMAS)
def test_every_object_with_properties_refuses_unknown_ones(name):
    open_objects = [
        where
        for where, node in _walk(schema(name))
        if "properties" in node and node.get("additionalProperties") is not False
    ]
    assert open_objects == []


# --- YAML reading -----------------------------------------------------------------------------


def test_yaml_reader_keeps_dates_as_text_and_refuses_duplicate_keys():
    assert load_yaml("effective_from: 2026-01-01")["effective_from"] == "2026-01-01"
    with pytest.raises(DuplicateKeyError, match="duplicate key 'key'"):
        load_yaml("key: a\nkey: b\n")
    with pytest.raises(yaml.YAMLError) as error:
        load_yaml("kind: product\nbody: {line: [\n")
    assert error.value.problem_mark.line >= 1


# --- packs ------------------------------------------------------------------------------------


def test_core_and_demo_exist():
    assert {pack.name for pack in pack_dirs()} >= {"core", "demo"}


@pytest.mark.parametrize("pack", pack_dirs(), ids=lambda path: path.name)
def test_manifest_is_valid_and_requirements_are_met(pack):
    data = manifest(pack)
    assert errors_of("pack", data) == []
    assert data["name"] == pack.name
    available = {other.name: manifest(other)["version"] for other in pack_dirs()}
    for name, spec in data.get("requires", {}).items():
        assert name in available, f"{pack.name} requires missing pack {name}"
        assert satisfies(available[name], spec), f"{name} {available[name]} not in {spec}"
    for reference in data.get("reference", []):
        assert isinstance(load_yaml((pack / reference["file"]).read_text(encoding="utf-8")), list)


def test_version_ranges():
    assert satisfies("1.0.0", ">=1.0,<2.0")
    assert satisfies("1.9.3", ">=1.0,<2.0")
    assert not satisfies("2.0.0", ">=1.0,<2.0")
    assert satisfies("1.2.0", "==1.2")
    assert satisfies("0.1.0", "*")


@pytest.mark.parametrize("item", DOCUMENTS, ids=doc_id)
def test_document_is_valid_and_filed_by_kind_and_key(item):
    path, document = item
    found = [f"{error.json_path}: {error.message}" for error in errors_of("document", document)]
    assert found == []
    assert path.parent.name == KIND_FOLDERS[document["kind"]]
    assert path.stem == document["key"]


def test_keys_are_unique_within_a_kind():
    seen: dict[tuple[str, str], str] = {}
    for path, document in DOCUMENTS:
        ident = (document["kind"], document["key"])
        assert ident not in seen, f"{ident} in {path} and {seen[ident]}"
        seen[ident] = str(path)


def test_the_envelope_validates_the_body_of_its_kind():
    _, document = next(item for item in DOCUMENTS if item[1]["kind"] == "fee_agreement")
    broken = copy.deepcopy(document)
    broken["body"]["lines"][0]["fee_type"] = "kickback"
    assert any(
        error.json_path == "$.body.lines[0].fee_type" for error in errors_of("document", broken)
    )


# --- the documents' own test cases ------------------------------------------------------------


def rules_library() -> rules.Library:
    return rules.Library(
        document for _, document in DOCUMENTS if document["kind"] in ("decision_table", "rule_set")
    )


RULE_KEYS = sorted(
    document["key"] for _, document in DOCUMENTS if document["kind"] in COLLEAGUE_SCHEMAS
)


@pytest.mark.parametrize("key", RULE_KEYS)
def test_rule_documents_load_and_their_cases_pass(key):
    compiled = rules_library().get(key)
    errors = [finding for finding in compiled.findings if finding.severity == "error"]
    assert errors == []
    report = rules.run_test_cases(compiled)
    assert report.results, f"{key} carries no test cases"
    assert report.passed, report.render("en")


def _cases(kind: str):
    return [
        pytest.param(document, case, id=f"{document['key']}: {case['name']}")
        for document in BY_KIND.get(kind, {}).values()
        for case in document.get("tests", [])
    ]


@pytest.mark.parametrize("product, case", _cases("product"))
def test_product_cases(product, case):
    priced = price_product(product, case["input"], rules_library())
    assert same(case["expected"], priced.as_dict())


@pytest.mark.parametrize("agreement, case", _cases("fee_agreement"))
def test_fee_agreement_cases(agreement, case):
    assert same(case["expected"], fees_for_line(agreement, case["input"]))


@pytest.mark.parametrize("template, case", _cases("message_template"))
def test_message_template_cases(template, case):
    assert render_template(template, case["input"]) == case["expected"]


@pytest.mark.parametrize("mapping, case", _cases("statement_mapping"))
def test_statement_mapping_cases(mapping, case):
    assert same(case["expected"], map_statement_row(mapping, case["input"]))


def test_kinds_with_cases_carry_some():
    for kind in ("product", "fee_agreement", "message_template", "statement_mapping"):
        assert _cases(kind), f"no {kind} carries a test case"


def test_brochure_figures():
    """交强险 950.00 × 4% = 38.00; 22,770.41 含税 → 21,481.52 不含税."""
    agreement = next(iter(BY_KIND["fee_agreement"].values()))
    fees = fees_for_line(
        agreement, {"product": "compulsory_motor", "business_type": "new", "premium": "950.00"}
    )
    assert fees["commission"] == Decimal("38.00")
    assert cents(Decimal("22770.41") / Decimal("1.06")) == Decimal("21481.52")


# --- cross-document consistency ---------------------------------------------------------------


def _pack_of(path) -> str:
    return path.relative_to(path.parents[2]).parts[0]


def visible_keys(pack: str) -> dict[str, set[str]]:
    """Keys of each kind visible from a pack: its own and those of the packs it requires."""
    packs = {pack}
    pending = [pack]
    while pending:
        for required in manifest(pack_dirs()[0].parent / pending.pop()).get("requires", {}):
            if required not in packs:
                packs.add(required)
                pending.append(required)
    keys: dict[str, set[str]] = {}
    for path, document in DOCUMENTS:
        if _pack_of(path) in packs:
            keys.setdefault(document["kind"], set()).add(document["key"])
    return keys


def references(document: dict) -> list[tuple[tuple[str, ...], str]]:
    """(kinds the key may be, key) for every reference a document makes to another document."""
    body, kind, found = document["body"], document["kind"], []
    rules_kinds = ("rule_set", "decision_table")
    if kind == "product":
        found.append((rules_kinds, body["pricing"]["rule_set"]))
        found += [(rules_kinds, item["rule_set"]) for item in body.get("collected_with", [])]
        found += [(("carrier",), key) for key in body.get("carriers", [])]
    elif kind == "fee_agreement":
        found += [(("carrier",), key) for key in body["carriers"]]
        found += [(("product",), line["product"]) for line in body["lines"]]
    elif kind == "service_package":
        found.append((("service_catalog",), body["catalog"]))
    elif kind == "renewal_policy":
        found += [(("product",), key) for key in body["products"]]
        found += [(("message_template",), s["template"]) for s in body["stages"] if "template" in s]
        for ref in (body.get("risk_score"), body["assign"].get("rule_set")):
            if ref:
                found.append((rules_kinds, ref["rule_set"]))
    elif kind == "carrier":
        found += [(("product",), key) for key in body.get("products", [])]
        if "statement_mapping" in body:
            found.append((("statement_mapping",), body["statement_mapping"]))
    elif kind == "statement_mapping":
        found += [(("carrier",), key) for key in body.get("carriers", [])]
    elif kind == "rule_set":
        found += [(rules_kinds, step["table"]) for step in body["steps"] if "table" in step]
    return found


@pytest.mark.parametrize("item", DOCUMENTS, ids=doc_id)
def test_references_resolve_within_the_pack_and_its_requirements(item):
    path, document = item
    keys = visible_keys(_pack_of(path))
    missing = [
        f"{'/'.join(kinds)} {key}"
        for kinds, key in references(document)
        if not any(key in keys.get(kind, set()) for kind in kinds)
    ]
    assert missing == []


def test_service_packages_use_catalogue_categories_and_respect_its_price_rules():
    for package in BY_KIND.get("service_package", {}).values():
        catalog = BY_KIND["service_catalog"][package["body"]["catalog"]]["body"]
        categories = {item["code"]: item for item in catalog["categories"]}
        guide = Decimal(0)
        for item in package["body"]["items"]:
            assert item["category"] in categories
            guide += Decimal(str(categories[item["category"]]["guide_price"])) * item["quantity"]
        price, rules_ = Decimal(str(package["body"]["price"])), catalog.get("price_rules", {})
        if "min_ratio_of_guide" in rules_:
            assert price >= guide * Decimal(str(rules_["min_ratio_of_guide"]))
        if "max_ratio_of_guide" in rules_:
            assert price <= guide * Decimal(str(rules_["max_ratio_of_guide"]))


SYSTEM_COLUMNS = {"org_node", "created_at", "changed_at", "created_by", "changed_by"}


def test_entity_layouts_name_declared_fields():
    for entity in BY_KIND.get("entity", {}).values():
        body = entity["body"]
        fields = {field["name"]: field for field in body["fields"]}
        named = list(body.get("list_columns", [])) + list(body.get("search_fields", []))
        named += [name for section in body.get("form_sections", []) for name in section["fields"]]
        if "order_by" in body:
            named.append(body["order_by"]["field"])
        assert [name for name in named if name not in fields and name not in SYSTEM_COLUMNS] == []
        for field in fields.values():
            if field["type"] == "enum" and "default" in field:
                assert field["default"] in {choice["value"] for choice in field["choices"]}
            if (
                field["type"] == "reference"
                and field["target"] not in schema("common")["$defs"]["core_model"]["enum"]
            ):
                assert field["target"] in BY_KIND["entity"]


def test_message_templates_declare_every_placeholder():
    for template in BY_KIND["message_template"].values():
        declared = {variable["name"] for variable in template["body"]["variables"]}
        assert set(PLACEHOLDER.findall(template["body"]["text"])) <= declared


def test_vocabularies_match_the_schema_enums():
    common = schema("common")["$defs"]
    library = rules_library()
    for key, vocabulary in (("business_types", "business_type"), ("fee_types", "fee_type")):
        table = library.get(key)
        codes = next(item for item in table.declared_inputs() if item["name"] == "code")["values"]
        assert list(codes) == common[vocabulary]["enum"]
        for code in codes:
            label = table.evaluate({"code": code})["label_zh"]
            assert label == common[vocabulary]["x-labels"][code]["zh"]


def test_default_vehicle_tax_figures_lie_within_the_national_bands():
    library = rules_library()
    bands, annual = library.get("vehicle_tax_bands"), library.get("vehicle_tax_annual")
    for litres in ("0.8", "1.0", "1.2", "1.6", "1.8", "2.0", "2.4", "3.0", "3.5", "4.0", "5.0"):
        band = bands.evaluate({"displacement_l": litres})
        tax = annual.evaluate({"province": "示例", "displacement_l": litres})["annual_tax"]
        assert band["band_min"] <= tax <= band["band_max"], litres


def test_commercial_fees_stay_under_the_expense_loading_cap():
    cap = rules_library().get("commercial_motor_parameters").evaluate({"province": "-"})
    for agreement in BY_KIND.get("fee_agreement", {}).values():
        for business_type in ("new", "renewal", "transfer", "combined_first", "combined_other"):
            fees = fees_for_line(
                agreement,
                {
                    "product": "commercial_motor",
                    "business_type": business_type,
                    "premium": "10600.00",
                    "vehicle_age": 1,
                },
            )
            assert sum(fees.values(), Decimal(0)) <= Decimal("10000.00") * Decimal(
                str(cap["expense_loading_cap"])
            )


# --- broken documents are refused where they are broken ---------------------------------------


def _document(kind: str, key: str | None = None) -> dict:
    documents = BY_KIND[kind]
    return copy.deepcopy(documents[key] if key else next(iter(documents.values())))


def _set(document: dict, path: str, value) -> dict:
    """Set ``value`` at a dotted/indexed path like ``body.fields[1].type`` (None deletes)."""
    parts = re.findall(r"[^.\[\]]+", path)
    target = document
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return document


BROKEN = [
    # (kind, key or None, path to change, new value (None deletes), expected JSON path of an error)
    ("entity", None, "body.fields[2].choices", None, "$.body.fields[2]"),
    ("entity", None, "body.fields[0].name", "id", "$.body.fields[0].name"),
    ("entity", None, "body.fields[0].type", "licence_plate", "$.body.fields[0].type"),
    ("entity", None, "body.fields[0].lable", {"zh": "车牌"}, "$.body.fields[0]"),
    ("entity", None, "body.permissions.boss", "write", "$.body.permissions"),
    (
        "entity",
        None,
        "body.permissions.store_manager",
        "delete",
        "$.body.permissions.store_manager",
    ),
    ("entity", None, "body.name", "Annual-Inspection", "$.body.name"),
    ("entity", None, "body.name", "vehicle", "$.body.name"),
    ("entity", None, "body.fields[3].max_length", 300, None),  # allowed on a string: no error
    ("entity", None, "body.fields[1].max_length", 20, "$.body.fields[1]"),
    ("product", "compulsory_motor", "body.pricing.rule_set", None, "$.body.pricing"),
    ("product", "compulsory_motor", "body.line", "motor", "$.body.line"),
    (
        "product",
        "compulsory_motor",
        "body.coverages[0].limit",
        180000.5,
        "$.body.coverages[0].limit",
    ),
    ("fee_agreement", None, "body.lines[0].rates.新保", {"ratio": "0.04"}, "$.body.lines[0].rates"),
    (
        "fee_agreement",
        None,
        "body.lines[0].rates.new",
        {"ratio": "4%"},
        "$.body.lines[0].rates.new.ratio",
    ),
    (
        "fee_agreement",
        None,
        "body.lines[0].rates.new",
        {"ratio": "0.04", "amount": "38.00"},
        "$.body.lines[0].rates.new",
    ),
    ("fee_agreement", None, "body.lines[0].base", "premium", "$.body.lines[0].base"),
    ("fee_agreement", None, "body.valid_from", "2026/01/01", "$.body.valid_from"),
    (
        "service_catalog",
        None,
        "body.categories[0].guide_price",
        12.345,
        "$.body.categories[0].guide_price",
    ),
    ("service_catalog", None, "body.categories[0].unit", "piece", "$.body.categories[0].unit"),
    ("service_package", None, "body.sale_modes", ["online"], "$.body.sale_modes[0]"),
    ("service_package", None, "body.items[0].quantity", 0, "$.body.items[0].quantity"),
    ("list_view", None, "body.page_size", 25, "$.body.page_size"),
    ("list_view", None, "body.columns[0].visible", True, "$.body.columns[0]"),
    ("report", None, "body.measures[0].aggregate", "median", "$.body.measures[0].aggregate"),
    ("report", None, "body.periods", ["last_week"], "$.body.periods[0]"),
    ("renewal_policy", None, "body.stages[2].template", None, "$.body.stages[2]"),
    ("renewal_policy", None, "body.overdue.escalate_to", "boss", "$.body.overdue.escalate_to"),
    ("message_template", None, "body.channel", "fax", "$.body.channel"),
    ("message_template", None, "body.schedule.send_at", "9:30", "$.body.schedule.send_at"),
    ("carrier", "sim_http", "body.credentials.api_key", "s3cr3t", "$.body.credentials.api_key"),
    ("carrier", None, "body.capabilities", ["quote", "fly"], "$.body.capabilities[1]"),
    (
        "statement_mapping",
        None,
        "body.columns[0].field",
        "policy_number",
        "$.body.columns[0].field",
    ),
    ("statement_mapping", None, "body.match_keys", [], "$.body.match_keys"),
    (
        "policy_import_mapping",
        "standard_book",
        "body.columns[2].field",
        "policy_number",
        "$.body.columns[2].field",
    ),
    ("decision_table", "jqx_floating_rate", "body.hit_policy", "fastest", "$.body.hit_policy"),
    ("issue_check", None, "body.mode", "stop", "$.body.mode"),
    ("rule_set", "jqx_premium", "body.steps[0].expression", "1", "$.body.steps[0]"),
    ("product", "compulsory_motor", "version", "1", "$.version"),
    ("product", "compulsory_motor", "key", "Compulsory-Motor", "$.key"),
    ("product", "compulsory_motor", "kind", "widget", "$.kind"),
    ("product", "compulsory_motor", "effective_from", "19/09/2020", "$.effective_from"),
    ("product", "compulsory_motor", "tests[0].expect", {}, "$.tests[0]"),
]


@pytest.mark.parametrize(
    "kind, key, path, value, where",
    BROKEN,
    ids=[
        f"{kind}:{path}={json.dumps(value, ensure_ascii=False)}"
        for kind, _, path, value, _ in BROKEN
    ],
)
def test_broken_document_is_refused_at_its_path(kind, key, path, value, where):
    broken = _set(_document(kind, key), path, value)
    paths = [error.json_path for error in errors_of("document", broken)]
    if where is None:
        assert paths == []
    else:
        assert where in paths, paths


def test_every_kind_has_a_broken_example():
    assert {kind for kind, *_ in BROKEN} >= set(KINDS)


@pytest.mark.parametrize(
    "change, where",
    [
        ({"version": "1.0"}, "$.version"),
        ({"requires": {"core": "1.x"}}, "$.requires.core"),
        ({"name": "Demo Pack"}, "$.name"),
        ({"tenant_scope": True}, "$"),
    ],
)
def test_broken_manifest_is_refused_at_its_path(change, where):
    data = {**manifest(pack_dirs()[0].parent / "demo"), **change}
    assert where in [error.json_path for error in errors_of("pack", data)]


def test_document_files_are_found_outside_reference_data():
    core = pack_dirs()[0].parent / "core"
    files = document_files(core)
    assert files and not any("reference" in path.parts for path in files)
    assert all(read_document(path)["kind"] in KINDS for path in files)
