"""The one reader of YAML and JSON that comes from outside (packs, uploads, the document editor,
the validation API, `flask pack`): bounded in size and nesting depth, and refusing YAML anchors
and aliases outright, so a few hundred bytes can never expand into gigabytes ("billion laughs").

Documents of the configuration engine never need anchors: a refusal names the file and line of
the first one, so its author can write the value out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_MAX_DEPTH = 64


@dataclass(frozen=True)
class InputLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH


def current_limits() -> InputLimits:
    """The limits set in the app's configuration (DOCUMENT_MAX_BYTES, DOCUMENT_MAX_DEPTH), or the
    defaults outside an app (a pure read of a pack folder)."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return InputLimits()
    config = current_app.config
    return InputLimits(
        int(config.get("DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES)),
        int(config.get("DOCUMENT_MAX_DEPTH", DEFAULT_MAX_DEPTH)),
    )


class InputRefused(ValueError):
    """The input is refused before (or while) it is read: `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None):
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


class SyntaxProblem(ValueError):
    """The input is not well-formed YAML or JSON."""

    def __init__(self, message: str, line: int | None = None):
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


def _check_size(text: str, limits: InputLimits) -> None:
    size = len(text.encode("utf-8"))
    if size > limits.max_bytes:
        raise InputRefused(
            f"the document is {size:,} bytes; at most {limits.max_bytes:,} are accepted"
        )


# --- YAML ------------------------------------------------------------------------------------


class SafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases, bounds nesting depth, keeps dates as text
    (the schema checks what was written) and refuses a key written twice (PyYAML would keep the
    last silently)."""

    max_depth = DEFAULT_MAX_DEPTH

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise InputRefused(
                f"alias *{event.anchor} refused: anchors and aliases are not accepted, "
                "write the value out",
                event.start_mark.line + 1,
            )
        if getattr(event, "anchor", None) is not None:
            raise InputRefused(
                f"anchor &{event.anchor} refused: anchors and aliases are not accepted",
                event.start_mark.line + 1,
            )
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                raise InputRefused(
                    f"nested deeper than {self.max_depth} levels", event.start_mark.line + 1
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first at line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


SafeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str, limits: InputLimits | None = None) -> tuple[Any, yaml.Node | None]:
    """The data of one YAML document and its node tree (for line numbers), composed once.
    Raises InputRefused (size, depth, anchors) or SyntaxProblem, both with the line."""
    limits = limits or current_limits()
    _check_size(text, limits)
    loader = SafeLoader(text)
    loader.max_depth = limits.max_depth
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise SyntaxProblem(str(exc.problem), mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise SyntaxProblem(str(exc)) from exc
    finally:
        loader.dispose()
    return data, node


# --- JSON ------------------------------------------------------------------------------------


def load_json(text: str, limits: InputLimits | None = None) -> Any:
    """A JSON document, refused if larger or more deeply nested than the limits (checked before
    parsing, so deep nesting never reaches the parser's recursion)."""
    limits = limits or current_limits()
    _check_size(text, limits)
    _check_json_depth(text, limits.max_depth)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SyntaxProblem(exc.msg, exc.lineno) from exc


def _check_json_depth(text: str, max_depth: int) -> None:
    depth, line, in_string, escaped = 0, 1, False, False
    for char in text:
        if char == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                raise InputRefused(f"nested deeper than {max_depth} levels", line)
        elif char in "]}":
            depth -= 1
