"""Reading one row of a carrier's statement through a statement mapping document: the carrier's
column headers (or their aliases) → platform fields, with each column's transform. Pure, so a
mapping's pack test cases and the statements imported read rows the same way."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def map_statement_row(mapping: Mapping, row: Mapping[str, Any]) -> dict[str, str]:
    """One carrier statement row (header → text) → platform fields (field → text)."""
    body, record = mapping["body"], {}
    for column in body["columns"]:
        headers = [column["header"], *column.get("aliases", [])]
        header = next((name for name in headers if name in row), None)
        if header is None or column["field"] == "ignore":
            continue
        record[column["field"]] = transform_value(
            str(row[header]).strip(), column.get("transform", {"type": "text"})
        )
    if "fee_type" not in record and "default_fee_type" in body:
        record["fee_type"] = body["default_fee_type"]
    return record


def transform_value(raw: str, transform: Mapping) -> str:
    """A cell's text as the column's transform reads it: decimal ("1,234.50" → "1234.50"),
    percent ("4%" → "0.04"), map (a table of carrier codes), or the text itself."""
    kind = transform["type"]
    if kind == "decimal" and raw:
        return str(Decimal(raw.replace(",", "")))
    if kind == "percent" and raw:
        return str(Decimal(raw.rstrip("%")) / 100)
    if kind == "map":
        return transform["values"].get(raw, raw)
    return raw
