import json
import subprocess
import sys
from pathlib import Path

import pytest
from examples import all_documents

jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "metadata" / "schemas"


def validator(kind):
    schemas = {
        name: json.loads((SCHEMAS / f"{name}.schema.json").read_text())
        for name in ("decision_table", "rule_set")
    }
    registry = referencing.Registry().with_resources(
        (schema["$id"], referencing.Resource.from_contents(schema)) for schema in schemas.values()
    )
    schema = schemas[kind]
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=registry)


@pytest.mark.parametrize("document", all_documents(), ids=lambda d: d["key"])
def test_worked_examples_match_their_schema(document):
    errors = list(validator(document["kind"]).iter_errors(json.loads(json.dumps(document["body"]))))
    assert errors == []


@pytest.mark.parametrize(
    "kind, body, where",
    [
        ("decision_table", {"inputs": [], "outputs": [{"name": "o"}], "rules": []}, "inputs"),
        (
            "decision_table",
            {"inputs": [{"name": "a", "type": "enum"}], "outputs": [{"name": "o"}], "rules": []},
            "inputs",
        ),
        (
            "decision_table",
            {
                "inputs": [{"name": "__x", "type": "string"}],
                "outputs": [{"name": "o"}],
                "rules": [],
            },
            "inputs",
        ),
        (
            "decision_table",
            {
                "hit_policy": "fastest",
                "inputs": [{"name": "a", "type": "string"}],
                "outputs": [{"name": "o"}],
                "rules": [],
            },
            "hit_policy",
        ),
        ("rule_set", {"steps": [{"name": "a", "expression": "1", "table": "t"}]}, "steps"),
        ("rule_set", {"steps": [{"name": "a"}]}, "steps"),
    ],
)
def test_schema_refuses_malformed_bodies(kind, body, where):
    errors = list(validator(kind).iter_errors(body))
    assert errors and any(where in error.json_path for error in errors)


def test_rules_imports_nothing_of_the_app():
    code = (
        "import sys, rules; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('app', 'plugins', 'flask', 'flask_appbuilder', 'sqlalchemy')]; "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
