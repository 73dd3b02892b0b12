"""How a document's page shows its content: the way its kind reads.

Each kind may register a presenter with its KindSpec (`present=`) or later with
`extend_kind(kind, present=...)`: a function of the version's data and the language that
returns a `Presentation` — a template fragment under templates/configuration/ and its context.
A kind without one, or a body its presenter cannot read, is shown as YAML.

Also here: the labels the presenters share (enumerations of metadata/schemas/common with
their `x-labels`, the Chinese half of a schema description).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

from app.configuration.kinds import UnknownKind, kind_spec
from app.configuration.reading import load_schema

log = logging.getLogger(__name__)
YAML_TEMPLATE = "configuration/document_part_yaml.html"
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Presentation:
    template: str  # a fragment included by document_show.html
    context: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # why the YAML is shown instead (a presenter refused the body)


def present(kind: str, data: Mapping[str, Any], lang: str = "zh") -> Presentation:
    """The presentation of a version's `data` by its kind's presenter, or as YAML."""
    try:
        presenter = kind_spec(kind).present
    except UnknownKind:
        presenter = None
    if presenter is None:
        return yaml_presentation(data)
    try:
        return presenter(data, lang)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # A draft saved before its kind's presenter learnt a shape: show it rather than fail.
        log.warning("presenter of %s could not read %s: %r", kind, data.get("key"), exc)
        shown = yaml_presentation(data)
        shown.note = str(exc)
        return shown


def yaml_presentation(data: Mapping[str, Any]) -> Presentation:
    return Presentation(YAML_TEMPLATE, {"text": as_yaml(data.get("body", data))})


def as_yaml(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


# --- labels shared by presenters ---------------------------------------------------------------


@cache
def _common_labels() -> dict[str, dict[str, dict[str, str]]]:
    definitions = load_schema("common")["$defs"]
    return {name: d["x-labels"] for name, d in definitions.items() if "x-labels" in d}


def enum_label(definition: str, value: Any, lang: str = "zh") -> str:
    """The label of `value` of an enumeration of common.schema.json (business_type, fee_type,
    product_line, field_type…); the value itself when it has none."""
    labels = _common_labels().get(definition, {}).get(str(value))
    if not labels:
        return "" if value is None else str(value)
    return labels.get(lang) or labels.get("zh") or str(value)


def text_of(label: Any, lang: str = "zh") -> str:
    """A `{zh, en}` label (or a plain text) in `lang`, falling back to Chinese."""
    if isinstance(label, Mapping):
        return str(label.get(lang) or label.get("zh") or "")
    return "" if label is None else str(label)


def chinese_half(description: str | None) -> str:
    """The Chinese half of a bilingual schema description ("付费方 / Who pays the fees.")."""
    if not description:
        return ""
    head = description.split(" / ", 1)[0].strip()
    return head if CJK.search(head) else ""


def chinese_title(description: str | None) -> str:
    """A short label from a description's Chinese half: up to its first colon or bracket."""
    head = chinese_half(description)
    return re.split(r"[：（(；;，,]", head, maxsplit=1)[0].strip() if head else ""


Presenter = Callable[[Mapping[str, Any], str], Presentation]
