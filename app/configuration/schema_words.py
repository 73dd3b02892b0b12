"""The document schemas in a business admin's words: Chinese labels and help for the editor's
form, and schema errors as Chinese sentences naming the field ("「正文 › 规则 › 第 3 项 ›
条件」：应为文本，不是数字").

Every property of our schemas is described "中文 / English" (tests/metadata check it): the
label is the Chinese half up to its first colon or bracket, the help the whole Chinese half.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jsonschema.exceptions import ValidationError

from app.configuration.kinds import UnknownKind
from app.configuration.presenting import chinese_half, chinese_title
from app.configuration.reading import bundled_body_schema, load_schema

TYPE_WORDS = {
    "string": "文本",
    "number": "数字",
    "integer": "整数",
    "boolean": "是/否（true/false）",
    "object": "一组字段",
    "array": "列表",
    "null": "空",
}
ENVELOPE_WORDS = {"body": "正文", "tests": "测试用例"}


def localised_schema(schema: Any, lang: str = "zh") -> Any:
    """A copy of `schema` whose nodes carry the Chinese label as `title` and the Chinese half
    of their description as help, for a form built from it (English: unchanged)."""
    if lang != "zh":
        return schema
    if isinstance(schema, list):
        return [localised_schema(item, lang) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    copy = {key: localised_schema(value, lang) for key, value in schema.items()}
    description = schema.get("description")
    if isinstance(description, str) and chinese_half(description):
        copy["title"] = chinese_title(description)
        help_text = chinese_half(description)
        if help_text != copy["title"]:
            copy["description"] = help_text
        else:
            copy.pop("description")
    options = dict(copy.get("options") or {})
    labels = schema.get("x-labels")
    if isinstance(schema.get("enum"), list) and isinstance(labels, Mapping):
        # the form's choices by their labels, not their codes
        options["enum_titles"] = [
            (labels.get(str(value)) or {}).get("zh") or str(value) for value in schema["enum"]
        ]
    if schema.get("type") == "array":
        options["collapsed"] = True  # long lists open on demand (a phone's screen is short)
    if options:
        copy["options"] = options
    choices = schema.get("enum")
    if (
        isinstance(choices, list)
        and "type" not in schema
        and all(isinstance(v, str) for v in choices)
    ):
        copy["type"] = "string"  # without a type the form offers a type switcher beside them
    kinds = schema.get("type")
    if (
        isinstance(kinds, list)
        and "string" in kinds
        and set(kinds) <= {"string", "number", "integer"}
    ):
        # amounts and ratios are written as text ("0.04"); the form asks for text only
        copy["type"] = "string"
    return copy


def _step(node: Any, part: Any) -> Any:
    """The schema of `part` (a key or an index) inside `node`, through combinators."""
    if not isinstance(node, Mapping):
        return {}
    if isinstance(part, int):
        if isinstance(node.get("items"), Mapping):
            return node["items"]
    else:
        if part in (node.get("properties") or {}):
            return node["properties"][part]
        if isinstance(node.get("additionalProperties"), Mapping):
            return node["additionalProperties"]
    for combinator in ("oneOf", "anyOf", "allOf"):
        for branch in node.get(combinator) or []:
            found = _step(branch, part)
            if found:
                return found
    return {}


def _envelope_schema() -> dict:
    return load_schema("document")


def _body_schema(kind: Any) -> dict:
    try:
        return bundled_body_schema(str(kind))
    except (UnknownKind, FileNotFoundError):
        return {}


def field_words(data: Any, parts: list[Any]) -> str:
    """The place `parts` (a JSON path as a list) of a document in words: 正文 › 规则 › 第 3 项."""
    words = []
    node: Any = _envelope_schema()
    for position, part in enumerate(parts):
        if position == 0 and part == "body":
            node = _body_schema(data.get("kind") if isinstance(data, Mapping) else None)
            words.append(ENVELOPE_WORDS["body"])
            continue
        if isinstance(part, int):
            words.append(f"第 {part + 1} 项")
            node = _step(node, part)
            continue
        named = isinstance(node, Mapping) and part in (node.get("properties") or {})
        if not named and isinstance(node, Mapping) and node.get("additionalProperties"):
            # a free key (a business type in a fee line's rates): the key, by its label
            labels = (node.get("propertyNames") or {}).get("x-labels") or {}
            words.append((labels.get(str(part)) or {}).get("zh") or str(part))
            node = _step(node, part)
            continue
        node = _step(node, part)
        label = chinese_title(node.get("description")) if isinstance(node, Mapping) else ""
        words.append(label or ENVELOPE_WORDS.get(part) or str(part))
    return " › ".join(words) if words else "文档"


def _property_label(node: Any, name: str) -> str:
    sub = _step(node, name) if isinstance(node, Mapping) else {}
    label = chinese_title(sub.get("description")) if isinstance(sub, Mapping) else ""
    return f"{label}（{name}）" if label else name


def _schema_at(data: Any, parts: list[Any]) -> Any:
    node: Any = _envelope_schema()
    for position, part in enumerate(parts):
        if position == 0 and part == "body":
            node = _body_schema(data.get("kind") if isinstance(data, Mapping) else None)
            continue
        node = _step(node, part)
    return node


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"“{value}”"
    return text if len(text) <= 60 else text[:57] + "…"


def _enum_words(error: ValidationError) -> str:
    labels = error.schema.get("x-labels") if isinstance(error.schema, Mapping) else None
    choices = []
    for value in error.validator_value:
        label = (labels or {}).get(str(value), {}).get("zh") if labels else None
        choices.append(f"{value}（{label}）" if label else str(value))
    return "、".join(choices)


def chinese_message(error: ValidationError, data: Any) -> str:
    """The error as a Chinese sentence, the field named first."""
    parts = list(error.absolute_path)
    place = field_words(data, parts)
    value = error.instance
    rule = error.validator
    if rule == "required":
        missing = [
            name
            for name in error.validator_value
            if isinstance(value, Mapping) and name not in value
        ]
        node = _schema_at(data, parts)
        names = "、".join(_property_label(node, n) for n in missing) or "必填项"
        return f"「{place}」缺少必填项：{names}"
    if rule == "type":
        wanted = error.validator_value
        wanted = wanted if isinstance(wanted, list) else [wanted]
        words = "或".join(TYPE_WORDS.get(w, w) for w in wanted)
        return f"「{place}」应为{words}，现在是 {_shown(value)}"
    if rule in ("enum", "const"):
        if rule == "const":
            return f"「{place}」只能是 {error.validator_value}"
        return f"「{place}」的值 {_shown(value)} 不在允许的范围内，应为：{_enum_words(error)}"
    if rule == "additionalProperties":
        allowed = set((error.schema.get("properties") or {}).keys())
        extra = [k for k in value if k not in allowed] if isinstance(value, Mapping) else []
        return f"「{place}」中有不认识的字段：{'、'.join(map(str, extra))}"
    if rule == "pattern":
        node = error.schema if isinstance(error.schema, Mapping) else {}
        hint = chinese_half(node.get("description"))
        return f"「{place}」的写法不对：{_shown(value)}" + (f"（{hint}）" if hint else "")
    if rule == "minLength":
        return f"「{place}」至少要 {error.validator_value} 个字符"
    if rule == "maxLength":
        return f"「{place}」最多 {error.validator_value} 个字符"
    if rule == "minItems":
        return f"「{place}」至少要 {error.validator_value} 项"
    if rule == "maxItems":
        return f"「{place}」最多 {error.validator_value} 项"
    if rule == "minimum":
        return f"「{place}」不能小于 {error.validator_value}"
    if rule == "maximum":
        return f"「{place}」不能大于 {error.validator_value}"
    if rule == "exclusiveMinimum":
        return f"「{place}」必须大于 {error.validator_value}"
    if rule == "exclusiveMaximum":
        return f"「{place}」必须小于 {error.validator_value}"
    if rule == "uniqueItems":
        return f"「{place}」中有重复项"
    if rule == "minProperties":
        return f"「{place}」至少要填写 {error.validator_value} 项"
    if rule == "format":
        return f"「{place}」应为 {error.validator_value} 格式（日期写作 2026-01-01）"
    if rule in ("oneOf", "anyOf"):
        return f"「{place}」不符合任何一种允许的写法"
    if rule == "propertyNames":
        return f"「{place}」中的名称不允许：{_shown(value)}"
    if rule == "not":
        return f"「{place}」不允许这样写"
    english = re.sub(r"\s+", " ", error.message)
    return f"「{place}」{english}"
