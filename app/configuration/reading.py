"""Reading packs from disk and validating their documents, with errors that name the pack, the
file, the line and the JSON path. No database; every document goes through the one safe reader
(app.configuration.safe_input), bounded by the app's limits when there is an app."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from app.configuration.kinds import KIND_FOLDERS, UnknownKind, kind_spec  # noqa: F401 (re-exported)
from app.configuration.safe_input import (
    InputLimits,
    InputRefused,
    SyntaxProblem,
    current_limits,
    load_json,
    load_yaml,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "metadata" / "schemas"
DATA_FOLDERS = {"reference"}  # folders of a pack holding data files, not documents
DOCUMENT_SUFFIXES = (".yaml", ".yml", ".json")
REFUSED = "refused:"  # how a problem says the input was refused unread (size, depth, anchors)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a pack, located as precisely as the input allows."""

    pack: str
    file: str
    message: str
    line: int | None = None
    path: str = "$"

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return f"{self.pack}: {where}: {self.path}: {self.message}"


class PackError(Exception):
    """A pack cannot be used; `problems` says every reason found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class SourceDocument:
    file: str
    data: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)  # JSON path → line (1-based)

    @property
    def kind(self) -> str:
        return self.data.get("kind", "")

    @property
    def key(self) -> str:
        return self.data.get("key", "")

    def line_of(self, path: str) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = _parent_path(path)
        return None


@dataclass
class PackSource:
    folder: Path
    manifest: dict[str, Any]
    documents: list[SourceDocument]

    @property
    def name(self) -> str:
        return self.manifest.get("name", self.folder.name)

    @property
    def version(self) -> str:
        return self.manifest.get("version", "")


# --- YAML ------------------------------------------------------------------------------------


def parse_yaml(text: str, limits: InputLimits | None = None) -> tuple[Any, dict[str, int]]:
    """The data and a map of JSON path → line of each node, read by the one safe loader
    (no anchors or aliases, bounded size and depth). Raises InputRefused or SyntaxProblem."""
    data, node = load_yaml(text, limits)
    lines: dict[str, int] = {}
    _index_lines(node, "$", lines)
    return data, lines


def parse_document(text: str, pack: str, file: str) -> tuple[Any, dict[str, int]]:
    """A YAML or JSON document (by the file's suffix) from outside; PackError naming the file
    and line when it is refused or malformed."""
    try:
        if file.endswith(".json"):
            return load_json(text), {}
        return parse_yaml(text)
    except InputRefused as exc:
        raise PackError([Problem(pack, file, f"{REFUSED} {exc.message}", exc.line)]) from exc
    except SyntaxProblem as exc:
        kind = "JSON" if file.endswith(".json") else "YAML"
        raise PackError([Problem(pack, file, f"{kind} syntax: {exc.message}", exc.line)]) from exc


def _index_lines(node, path: str, lines: dict[str, int]) -> None:
    if node is None:
        return
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = f"{path}.{key_node.value}"
            lines[child] = key_node.start_mark.line + 1
            _index_lines(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, f"{path}[{index}]", lines)


def _parent_path(path: str) -> str:
    if path.endswith("]"):
        return path[: path.rindex("[")]
    return path[: path.rindex(".")] if "." in path else ""


def json_path(parts) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


# --- schemas ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def schema_registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


def load_schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name), registry=schema_registry())


def schema_problems(
    name: str, data: Any, pack: str, file: str, lines: dict[str, int], lang: str = "en"
) -> list[Problem]:
    """Every schema error of `data`, deepest first, with its line. With `lang` "zh" (the
    console) the message is a Chinese sentence naming the field (app.configuration.schema_words)
    for a document; the CLI and packs keep jsonschema's English."""
    source = SourceDocument(file, data if isinstance(data, dict) else {}, lines)
    problems = []
    for error in sorted(validator(name).iter_errors(data), key=lambda e: list(e.path)):
        path = json_path(error.absolute_path)
        message = error.message
        if lang == "zh" and name == "document":
            from app.configuration.schema_words import chinese_message

            message = chinese_message(error, data)
        problems.append(Problem(pack, file, message, source.line_of(path), path))
    return problems


# --- packs -----------------------------------------------------------------------------------


def read_pack(folder: Path) -> PackSource:
    """Read and validate a pack folder; raise PackError with every problem found."""
    folder = Path(folder)
    name = folder.name
    manifest_file = folder / "pack.yaml"
    if not manifest_file.is_file():
        raise PackError([Problem(name, "pack.yaml", "a pack needs a pack.yaml manifest")])
    problems: list[Problem] = []
    manifest, lines = _read_file(manifest_file, name, "pack.yaml", problems)
    if manifest is not None:
        name = manifest.get("name", name) if isinstance(manifest, dict) else name
        problems += schema_problems("pack", manifest, name, "pack.yaml", lines)
    documents = []
    for path in document_files(folder):
        relative = str(path.relative_to(folder))
        data, lines = _read_file(path, name, relative, problems)
        if data is None:
            continue
        document_problems = schema_problems("document", data, name, relative, lines)
        document_problems += _kind_problems(name, relative, data, lines, document_problems)
        problems += document_problems
        if not document_problems:
            documents.append(SourceDocument(relative, data, lines))
    problems += _duplicate_keys(name, documents)
    if problems:
        raise PackError(problems)
    return PackSource(folder, manifest, documents)


def _kind_problems(
    pack: str, file: str, data: Any, lines: dict[str, int], found: list[Problem]
) -> list[Problem]:
    """A document whose kind no capability registers (app.configuration.kinds) is refused,
    naming the file — unless the schema already refused its kind."""
    if found or not isinstance(data, dict):
        return []
    try:
        kind_spec(data.get("kind", ""))
    except UnknownKind as exc:
        return [
            Problem(
                pack, file, str(exc), SourceDocument(file, data, lines).line_of("$.kind"), "$.kind"
            )
        ]
    return []


def document_files(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and path.suffix in DOCUMENT_SUFFIXES
        and path.name != "pack.yaml"
        and path.relative_to(folder).parts[0] not in DATA_FOLDERS
    )


def _read_file(path: Path, pack: str, relative: str, problems: list[Problem]):
    limit = current_limits().max_bytes
    if path.stat().st_size > limit:  # refused before it is read into memory
        size = path.stat().st_size
        problems.append(
            Problem(pack, relative, f"{REFUSED} the document is {size:,} bytes; at most {limit:,}")
        )
        return None, {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(pack, relative, f"not UTF-8 text ({exc.reason})"))
        return None, {}
    try:
        return parse_document(text, pack, relative)
    except PackError as exc:
        problems.extend(exc.problems)
        return None, {}


def _duplicate_keys(pack: str, documents: list[SourceDocument]) -> list[Problem]:
    seen: dict[tuple[str, str], str] = {}
    problems = []
    for document in documents:
        identity = (document.kind, document.key)
        if identity in seen:
            problems.append(
                Problem(
                    pack,
                    document.file,
                    f"{document.kind} {document.key!r} is also defined in {seen[identity]}",
                    document.line_of("$.key"),
                    "$.key",
                )
            )
        seen[identity] = document.file
    return problems


def bundled_body_schema(kind: str) -> dict:
    """The body schema of `kind` with every $ref inlined: one self-contained schema a browser
    form can use without fetching anything."""
    registry = schema_registry()
    root = load_schema(kind_spec(kind).schema_name)
    resolver = registry.resolver(base_uri=root["$id"])
    return _inline(root, resolver, depth=0)


def _inline(node: Any, resolver, depth: int) -> Any:
    if depth > 12:  # a recursive schema: stop unfolding and accept anything there
        return {}
    if isinstance(node, list):
        return [_inline(item, resolver, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        target = _inline(resolved.contents, resolved.resolver, depth + 1)
        rest = {k: _inline(v, resolver, depth) for k, v in node.items() if k != "$ref"}
        return {**target, **rest} if isinstance(target, dict) else target
    return {
        key: _inline(value, resolver, depth)
        for key, value in node.items()
        if key not in ("$id", "$schema", "$defs", "definitions")
    }
