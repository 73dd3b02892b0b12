"""The registry of entity field types: for each type a field of an `entity` document may have,
its database column, how a submitted value is read and checked, how a form shows it and its JSON
Schema in the entity's OpenAPI document. Entities (tables, values), forms and the OpenAPI
generator ask the registry instead of testing type names; a capability adds a type with
`register_field_type` (the entity schema's `field_type` enum must list it too).

Domain code: no Flask or WTForms here — a form maps the type's `widget` name to its own field.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, Text
from sqlalchemy.types import TypeEngine

from app.identifiers import CHECKS
from app.timebounds import check_plausible

STRING_MAX_LENGTH = 255
TEXT_MAX_LENGTH = 10_000
CENT = decimal.Decimal("0.01")


class FieldError(ValueError):
    """A field's value is wrong: `message` in English (the API), `chinese` for the console."""

    def __init__(self, field_name: str, message: str, chinese: str = ""):
        self.field = field_name
        self.message = message
        self.chinese = chinese or message
        super().__init__(f"{field_name}: {message}")


Spec = Mapping[str, Any]


@dataclass(frozen=True)
class FieldType:
    """One field type.

    - `column(spec)`: the SQLAlchemy column type of a field of this type;
    - `parse(spec, raw)`: a submitted, non-empty value as the type's value. Raises FieldError
      with its own words, or ValueError (InvalidIdentifier, OutOfRange…) which callers answer
      "not a valid <zh>";
    - `widget`: how a form shows it (string, textarea, checkbox, date, datetime, select,
      reference) — forms map these names to their fields;
    - `json_schema`: the schema of its values in the REST API's OpenAPI document;
    - `zh`: the type's Chinese name in error messages;
    - `as_text`: a form edits the value as text (numbers, references).
    """

    name: str
    column: Callable[[Spec], TypeEngine]
    parse: Callable[[Spec, Any], Any]
    widget: str = "string"
    json_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})
    zh: str = ""
    as_text: bool = False
    identifier: str | None = None  # the app.identifiers check behind it, if any

    def schema_for(self, spec: Spec) -> dict[str, Any]:
        """The JSON Schema of one field's values (its choices, its length)."""
        schema = dict(self.json_schema)
        if self.widget == "select":
            schema["enum"] = [choice["value"] for choice in spec["choices"]]
        if self.name == "string" and spec.get("max_length"):
            schema["maxLength"] = spec["max_length"]
        if self.identifier:
            schema["x-identifier"] = self.name
        return schema


class UnknownFieldType(KeyError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        return f"unknown field type {self.name!r} (known: {', '.join(sorted(_TYPES))})"


_TYPES: dict[str, FieldType] = {}


def register_field_type(field_type: FieldType) -> FieldType:
    existing = _TYPES.get(field_type.name)
    if existing is not None and existing != field_type:
        raise ValueError(f"field type {field_type.name!r} is already registered")
    _TYPES[field_type.name] = field_type
    return field_type


def field_type(name: str) -> FieldType:
    try:
        return _TYPES[name]
    except KeyError:
        raise UnknownFieldType(name) from None


def field_types() -> dict[str, FieldType]:
    return dict(_TYPES)


# --- the built-in types -------------------------------------------------------------------------


def max_length(spec: Spec) -> int | None:
    """The most characters a string or text field takes: the document's max_length, else 255 for
    string and 10,000 for text. Every text value is bounded, so no one stores megabytes."""
    if spec["type"] == "string":
        return spec.get("max_length", STRING_MAX_LENGTH)
    if spec["type"] == "text":
        return spec.get("max_length", TEXT_MAX_LENGTH)
    return None


def _text(spec: Spec, raw: Any) -> str:
    text = str(raw)
    limit = max_length(spec)
    if limit is not None and len(text) > limit:
        raise FieldError(spec["name"], f"at most {limit} characters", f"最多 {limit} 个字符")
    return text


def _number(spec: Spec, raw: Any) -> decimal.Decimal:
    value = decimal.Decimal(str(raw))  # InvalidOperation is a ValueError's cousin: see callers
    if not value.is_finite():
        raise FieldError(spec["name"], "must be a number", "必须是数字")
    return value


def _money(spec: Spec, raw: Any) -> decimal.Decimal:
    return _number(spec, raw).quantize(CENT, decimal.ROUND_HALF_UP)


def _date(spec: Spec, raw: Any) -> datetime.date:
    day = raw if isinstance(raw, datetime.date) else datetime.date.fromisoformat(str(raw))
    return check_plausible(day, spec["name"])


def _datetime(spec: Spec, raw: Any) -> datetime.datetime:
    moment = (
        raw if isinstance(raw, datetime.datetime) else datetime.datetime.fromisoformat(str(raw))
    )
    return check_plausible(moment, spec["name"])


def _boolean(spec: Spec, raw: Any) -> bool:
    return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "y", "yes", "on")


def _choice(spec: Spec, raw: Any) -> str:
    allowed = [choice["value"] for choice in spec["choices"]]
    if str(raw) not in allowed:
        raise FieldError(
            spec["name"],
            f"must be one of {', '.join(allowed)}",
            f"只能是 {'、'.join(allowed)} 之一",
        )
    return str(raw)


def _identifier(check: str) -> Callable[[Spec, Any], str]:
    def parse(spec: Spec, raw: Any) -> str:
        return CHECKS[check](str(raw))

    return parse


def _register_builtin_types() -> None:
    decimal_schema = {"type": "string", "format": "decimal"}
    for field_type_ in (
        FieldType("string", lambda s: String(s.get("max_length", STRING_MAX_LENGTH)), _text),
        FieldType("text", lambda s: Text(), _text, widget="textarea"),
        FieldType(
            "integer",
            lambda s: Integer(),
            lambda s, raw: int(raw),
            json_schema={"type": "integer"},
            zh="整数",
            as_text=True,
        ),
        FieldType(
            "decimal",
            lambda s: Numeric(s.get("precision", 18), s.get("scale", 4)),
            _number,
            json_schema=decimal_schema,
            zh="数字",
            as_text=True,
        ),
        FieldType(
            "money",
            lambda s: Numeric(14, 2),
            _money,
            json_schema={**decimal_schema, "pattern": r"^-?\d+(\.\d{1,2})?$"},
            zh="金额",
            as_text=True,
        ),
        FieldType(
            "date",
            lambda s: Date(),
            _date,
            widget="date",
            json_schema={"type": "string", "format": "date"},
            zh="日期",
        ),
        FieldType(
            "datetime",
            lambda s: DateTime(),
            _datetime,
            widget="datetime",
            json_schema={"type": "string", "format": "date-time"},
            zh="时间",
        ),
        FieldType(
            "boolean",
            lambda s: Boolean(),
            _boolean,
            widget="checkbox",
            json_schema={"type": "boolean"},
        ),
        FieldType("enum", lambda s: String(64), _choice, widget="select"),
        FieldType(
            "reference",
            lambda s: Integer(),
            lambda s, raw: int(raw),
            widget="reference",
            json_schema={"type": "integer"},
            as_text=True,
        ),
    ):
        register_field_type(field_type_)
    identifiers = {
        "phone": ("mobile", 20),
        "resident_id": ("resident_id", 18),
        "vin": ("vin", 17),
        "plate": ("plate", 10),
        "social_credit_code": ("uscc", 18),
    }
    for name, (check, length) in identifiers.items():
        register_field_type(
            FieldType(
                name,
                lambda s, length=length: String(length),
                _identifier(check),
                identifier=check,
            )
        )


_register_builtin_types()
