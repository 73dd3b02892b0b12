"""Rendering a message template document with values. Pure, so a template's pack test cases and
the messages sent render the same text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([a-z][a-z0-9_.]*)\s*\}\}")


def placeholders(template: Mapping) -> list[str]:
    """The names a template's text uses, in order of first use."""
    names = PLACEHOLDER.findall(template["body"]["text"])
    return list(dict.fromkeys(names))


def render_template(template: Mapping, values: Mapping[str, Any]) -> str:
    """The template's text with every {{ name }} replaced; KeyError names a missing value."""
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template["body"]["text"])
