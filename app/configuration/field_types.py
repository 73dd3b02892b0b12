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
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, Text
from sqlalchemy.types import TypeEngine

from app.identifiers import CHECKS, InvalidIdentifier, check_mobile, check_resident_id
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
    # Where values live: "column" (a column of the entity's table), "rows" (a child table of its
    # own, type `table`) or "files" (rows of entity_attachment, types attachment and photo).
    storage: str = "column"
    masked: bool = False  # personal data: masked by role unless the field says mask: false

    @property
    def has_column(self) -> bool:
        return self.storage == "column"

    def schema_for(self, spec: Spec) -> dict[str, Any]:
        """The JSON Schema of one field's values (its choices, its length)."""
        schema = dict(self.json_schema)
        if self.widget == "select":
            schema["enum"] = [choice["value"] for choice in spec["choices"]]
        if self.name == "string" and spec.get("max_length"):
            schema["maxLength"] = spec["max_length"]
        if self.identifier:
            schema["x-identifier"] = self.name
        if self.storage == "rows":
            schema = {
                "type": "array",
                "maxItems": spec.get("max_rows", 500),
                "items": {
                    "type": "object",
                    "properties": {
                        child["name"]: field_type(child["type"]).schema_for(child)
                        for child in spec["fields"]
                    },
                    "required": [c["name"] for c in spec["fields"] if c.get("required")],
                },
            }
        if spec.get("compute"):
            schema["readOnly"] = True
            schema["x-compute"] = spec["compute"]
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


# The words a yes/no value may be written in (forms send "y", checkboxes "on", Excel 是/否);
# anything else ("也许", "maybe", "2") is refused naming the field, never read as 否.
YES = frozenset({"是", "1", "true", "y", "yes", "on", "✔"})
NO = frozenset({"否", "0", "false", "n", "no", "off", "✘"})


def _boolean(spec: Spec, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    word = str(raw).strip().lower()
    if word in YES:
        return True
    if word in NO:
        return False
    raise FieldError(
        spec["name"],
        f"must be yes or no (是/否, true/false, 1/0, yes/no, y/n), not {raw!r}",
        f"只能是 是 或 否（也可写 true/false、1/0、yes/no、y/n），不能是 {raw!r}",
    )


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


# GB/T 2260: the province-level codes a resident ID may start with (83: 台湾居民居住证,
# 81/82: 港澳居民居住证, 91: the 2023 foreigners' permanent residence ID).
PROVINCE_CODES = frozenset(
    {
        *("11", "12", "13", "14", "15", "21", "22", "23"),
        *("31", "32", "33", "34", "35", "36", "37"),
        *("41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54"),
        *("61", "62", "63", "64", "65", "71", "81", "82", "83", "91"),
    }
)


def check_id_number(value: str) -> str:
    """A 居民身份证号 (GB/T 11643): birth date and check character, and a GB/T 2260 province."""
    text = check_resident_id(value)
    if text[:2] not in PROVINCE_CODES:
        raise InvalidIdentifier(
            f"resident ID region code {text[:6]} is not a GB/T 2260 region",
            f"身份证号的地区码 {text[:6]} 不是有效的行政区划代码",
        )
    return text


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2 == 1:
            number = number * 2 - 9 if number > 4 else number * 2
        total += number
    return total % 10 == 0


def check_bank_card(value: str) -> str:
    """A bank card number: 12–19 digits (spaces and dashes ignored) with a Luhn check digit."""
    text = re.sub(r"[\s-]", "", str(value))
    if not re.fullmatch(r"\d{12,19}", text):
        raise InvalidIdentifier(
            "bank card number must be 12–19 digits", "银行卡号应为 12–19 位数字"
        )
    if not luhn_ok(text):
        raise InvalidIdentifier(
            "bank card number fails its check digit (Luhn)", "银行卡号校验位不正确（Luhn 校验）"
        )
    return text


# Area codes: 010 and 02x have three digits, all others four (0xxx).
LANDLINE = re.compile(r"^(010|02\d|0[3-9]\d{2})-?([2-9]\d{6,7})(?:-(\d{1,6}))?$")


def check_landline(value: str) -> str:
    """A mainland landline with its area code: 021-12345678, 0755-1234567-89 (extension)."""
    text = re.sub(r"[\s()（）]", "", str(value)).replace("—", "-")
    found = LANDLINE.match(text)
    if found is None:
        raise InvalidIdentifier(
            "landline must be an area code and number, e.g. 021-12345678",
            "座机号应为区号加号码，如 021-12345678",
        )
    area, number, extension = found.groups()
    return f"{area}-{number}" + (f"-{extension}" if extension else "")


def _checked(check: Callable[[str], str]) -> Callable[[Spec, Any], str]:
    def parse(spec: Spec, raw: Any) -> str:
        return check(str(raw))

    return parse


def _no_value(spec: Spec, raw: Any) -> Any:
    raise FieldError(spec["name"], "is not set this way", "不能这样填写")


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
                masked=name == "phone",
            )
        )
    for name, check, length, zh, masked in (
        ("id_number", check_id_number, 18, "身份证号", True),
        ("resident_id", check_id_number, 18, "身份证号", True),
        ("mobile", check_mobile, 20, "手机号", True),
        ("bank_card", check_bank_card, 19, "银行卡号", True),
        ("landline", check_landline, 24, "座机号", False),
    ):
        register_field_type(
            FieldType(
                name,
                lambda s, length=length: String(length),
                _checked(check),
                zh=zh,
                identifier=name,
                masked=masked,
            )
        )
    # Types without a column of their own: a child table, files.
    register_field_type(
        FieldType("table", lambda s: None, _no_value, widget="table", storage="rows")
    )
    for name in ("attachment", "photo"):
        register_field_type(
            FieldType(
                name,
                lambda s: None,
                _no_value,
                widget="files",
                storage="files",
                json_schema={"type": "array", "readOnly": True},
            )
        )


_register_builtin_types()
