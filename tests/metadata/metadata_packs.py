"""Reading packs and schemas the way the configuration engine is expected to: shared by the tests.

- YAML is read with a SafeLoader that keeps dates as text (JSON Schema sees what was written)
  and refuses a key written twice in one mapping (PyYAML silently keeps the last one).
- Every schema under ``metadata/schemas`` is registered by its ``$id``, so that
  ``document.schema.json`` validates the envelope and, through ``kind``, the body.
"""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from app.configuration.reading import KIND_FOLDERS

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "metadata" / "schemas"
PACKS = ROOT / "metadata" / "packs"

KINDS = tuple(KIND_FOLDERS)
NOT_DOCUMENTS = {"reference"}  # folders of a pack holding data files, not documents


class DuplicateKeyError(yaml.constructor.ConstructorError):
    pass


class PackLoader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver, refusing duplicate keys."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DuplicateKeyError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r} (first at line {seen[key] + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


PackLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str):
    return yaml.load(text, Loader=PackLoader)  # noqa: S506 - a SafeLoader subclass


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


def registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(name), registry=registry())


def pack_dirs() -> list[Path]:
    return sorted(path.parent for path in PACKS.glob("*/pack.yaml"))


def document_files(pack: Path) -> list[Path]:
    return sorted(
        path
        for path in pack.rglob("*")
        if path.suffix in (".yaml", ".yml", ".json")
        and path.name != "pack.yaml"
        and path.relative_to(pack).parts[0] not in NOT_DOCUMENTS
    )


def read_document(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else load_yaml(text)


def all_documents() -> list[tuple[Path, dict]]:
    return [(path, read_document(path)) for pack in pack_dirs() for path in document_files(pack)]


def manifest(pack: Path) -> dict:
    return load_yaml((pack / "pack.yaml").read_text(encoding="utf-8"))


def cents(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)


_VERSION = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*([0-9]+(?:\.[0-9]+){0,2})\s*$")


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = [int(part) for part in re.match(r"[0-9.]+", text).group(0).split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def satisfies(version: str, spec: str) -> bool:
    """Whether ``version`` (semver) is inside ``spec`` (">=1.0,<2.0", "==1.2.0" or "*")."""
    if spec.strip() == "*":
        return True
    have = _version_tuple(version)
    for clause in spec.split(","):
        operator, wanted = _VERSION.match(clause).groups()
        want = _version_tuple(wanted)
        ok = {
            ">=": have >= want,
            "<=": have <= want,
            "==": have == want,
            "!=": have != want,
            ">": have > want,
            "<": have < want,
        }[operator]
        if not ok:
            return False
    return True
