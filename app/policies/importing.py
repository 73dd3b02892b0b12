"""Importing an existing book of policies from Excel or CSV through a `policy_import_mapping`
document (which header is which field, how values convert).

How it runs: the file is streamed once (Excel through app/policies/xlsx_stream.py, CSV through
the csv module), inside a savepoint of the caller's transaction. Every row is converted and
validated (identifiers normalised from full-width and checked, dates, amounts, the store, the
carrier, duplicates inside the file, the policy an endorsement row belongs to); every refusal
names its row and its column. The good rows are written as they come, in chunks of 2,000. At
the end, when a row was refused and the operator did not choose to import the good rows
(`accept_good_rows`), the savepoint is rolled back: nothing stays. `check` validates without
writing. The caller commits once.

Idempotent by carrier + policy number + endorsement number: a row already imported is skipped
when nothing changed and updated (through the ORM, so the audit trail records before and after)
when something did. New rows are inserted in bulk, one statement a chunk (see `bulk_insert`:
on PostgreSQL one array per column, `ON CONFLICT DO NOTHING` on the unique key, so a first import
looks nothing up); a bulk insert bypasses the ORM's flush, so each chunk writes one audit event
naming the keys it inserted, and the write wall is kept by hand: every row's store comes from
the stores the caller's scope can see. Look-ups are per chunk, never per row. docs/policies.md
has the figures of bench/policies/bench_import.py.
"""

from __future__ import annotations

import csv
import datetime
import enum
import io
import itertools
import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    Column,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.audit.models import utcnow
from app.audit.recorder import record_event
from app.customers.models import Vehicle
from app.errors import ValidationFailed
from app.fees.arithmetic import cents, excl_vat
from app.identifiers import (
    InvalidIdentifier,
    check_mobile,
    check_plate,
    check_resident_id,
    check_uscc,
    check_vin,
    half_width,
)
from app.organisation.models import NodeKind, OrgNode
from app.policies.labels import (
    BusinessType,
    EndorsementKind,
    EndorsementStatus,
    IssuingTerminal,
    PolicyLine,
    PolicySource,
    PolicyStatus,
)
from app.policies.models import Endorsement, Policy
from app.policies.services import one_year_end
from app.tenancy.scope import current_scope

CHUNK = 2000
MAX_ROWS = 1_000_000
IMPORT_ACTION = "import"
LINE_ALIASES = {"motor_non_motor": PolicyLine.DRIVER_PASSENGER_ACCIDENT.value}
TRUE_TEXTS = {"是", "y", "yes", "true", "1", "新车", "新", "t"}
FALSE_TEXTS = {"否", "n", "no", "false", "0", "旧车", "二手车", "旧", "f"}
DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")
# Fields of a policy row compared on re-import (what the file may change).
POLICY_FIELDS = (
    "carrier_name",
    "line",
    "product_key",
    "insured_name",
    "insured_id_number",
    "insured_mobile",
    "plate",
    "vin",
    "vehicle_is_new",
    "compulsory_only",
    "business_type",
    "status",
    "source",
    "issuing_terminal",
    "start_date",
    "end_date",
    "issued_at",
    "premium_incl_tax",
    "premium_excl_tax",
    "vat_amount",
    "vehicle_tax",
    "sum_insured",
    "salesperson_name",
    "practitioner_no",
    "org_node_id",
)
ENDORSEMENT_FIELDS = (
    "kind",
    "effective_date",
    "premium_change_incl_tax",
    "premium_change_excl_tax",
    "vehicle_tax_change",
    "reason",
)


class ImportRefused(ValidationFailed):
    """The file as a whole cannot be read with this mapping (a required column is missing, the
    file is not a spreadsheet, …)."""


# --- the mapping ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MappedColumn:
    header: str
    names: tuple[str, ...]  # the header and its aliases
    field: str
    required: bool
    transform: Mapping[str, Any]


@dataclass
class CompiledMapping:
    key: str
    version: str
    format: str | None
    encoding: str
    delimiter: str
    sheet: str | int
    header_row: int
    date_formats: tuple[str, ...]
    columns: list[MappedColumn]
    defaults: dict[str, str]
    carriers: dict[str, str]

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> CompiledMapping:
        body = document.get("body", document)
        columns = [
            MappedColumn(
                header=c["header"],
                names=(c["header"], *c.get("aliases", [])),
                field=c["field"],
                required=bool(c.get("required", False)),
                transform=c.get("transform", {"type": "text"}),
            )
            for c in body["columns"]
        ]
        return cls(
            key=str(document.get("key", "")),
            version=str(document.get("version", "")),
            format=body.get("format"),
            encoding=body.get("encoding", "utf-8-sig"),
            delimiter=body.get("delimiter", ","),
            sheet=body.get("sheet", 1),
            header_row=int(body.get("header_row", 1)),
            date_formats=tuple(body.get("date_formats") or DEFAULT_DATE_FORMATS),
            columns=columns,
            defaults=dict(body.get("defaults") or {}),
            carriers=dict(body.get("carriers") or {}),
        )


CORE_MAPPINGS = Path(__file__).resolve().parents[2] / "metadata/packs/core/policy_import_mappings"


def load_mapping(session: Session, key: str, tenant_id: int | None) -> CompiledMapping:
    """The mapping document `key` in force for the tenant today, or the core pack's file of that
    key when no version is installed."""
    from app.configuration.lookup import document_in_force

    version = document_in_force(
        session, "policy_import_mapping", key, tenant_id, datetime.date.today()
    )
    if version is not None:
        return CompiledMapping.of(version.data)
    path = CORE_MAPPINGS / f"{key}.yaml"
    if not key.replace("_", "").isalnum() or not path.exists():
        raise ValidationFailed(
            f"mapping: no policy_import_mapping {key!r}",
            f"mapping：没有名为 {key} 的保单导入映射",
            field="mapping",
        )
    from app.configuration.safe_input import load_yaml

    data, _ = load_yaml(path.read_text(encoding="utf-8"))
    return CompiledMapping.of(data)


# --- converting one row (pure) -----------------------------------------------------------------


class CellError(ValueError):
    def __init__(self, english: str, chinese: str):
        super().__init__(english)
        self.chinese = chinese


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _to_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return half_width(str(value)).strip()


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise CellError("not an amount", "不是有效金额")
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    else:
        text = _to_text(value).replace(",", "").replace("¥", "").replace("￥", "")
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise CellError(f"{value!r} is not an amount", f"“{value}”不是有效金额") from exc
    if not amount.is_finite() or abs(amount) >= Decimal("1e10"):
        raise CellError("amount out of range", "金额超出范围")
    return cents(amount)


_DATES: dict[tuple[str, tuple[str, ...]], datetime.date] = {}
_DATES_KEPT = 20_000


def _to_date(value: Any, formats: Iterable[str]) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _to_text(value)
    formats = tuple(formats)
    # A book has a few hundred distinct dates over 100,000 rows: parse each once (strptime is
    # the slowest conversion of a row) and share the date objects the import keeps.
    cached = _DATES.get((text, formats))
    if cached is not None:
        return cached
    for fmt in formats:
        try:
            day = datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if len(_DATES) >= _DATES_KEPT:
            _DATES.clear()
        _DATES[(text, formats)] = day
        return day
    raise CellError(f"{text!r} is not a date", f"“{text}”不是有效日期")


def _to_datetime(value: Any, formats: Iterable[str]) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    text = _to_text(value)
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"):
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
    day = _to_date(value, formats)
    return datetime.datetime(day.year, day.month, day.day)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _to_text(value).lower()
    if text in TRUE_TEXTS:
        return True
    if text in FALSE_TEXTS:
        return False
    raise CellError(f"{value!r} is not yes or no", f"“{value}”应为 是/否")


def convert_cell(column: MappedColumn, value: Any, mapping: CompiledMapping) -> Any:
    """One cell → the field's value per the column's transform; CellError when it cannot."""
    kind = column.transform.get("type", "text")
    if kind == "decimal":
        return _to_decimal(value)
    if kind == "date":
        formats = [column.transform["format"]] if "format" in column.transform else []
        return _to_date(value, [*formats, *mapping.date_formats])
    if kind == "datetime":
        return _to_datetime(value, mapping.date_formats)
    if kind == "boolean":
        return _to_bool(value)
    text = _to_text(value)
    if kind == "map":
        return column.transform["values"].get(text, text)
    return text


IDENTIFIERS = {
    "plate": check_plate,
    "vin": check_vin,
    "insured_mobile": check_mobile,
}
ENUM_FIELDS = {
    "line": PolicyLine,
    "business_type": BusinessType,
    "status": PolicyStatus,
    "source": PolicySource,
    "issuing_terminal": IssuingTerminal,
    "endorsement_kind": EndorsementKind,
}
TEXT_LIMITS = {
    "policy_no": 40,
    "endorsement_no": 48,
    "carrier_key": 64,
    "carrier_name": 64,
    "insured_name": 128,
    "salesperson_name": 64,
    "practitioner_no": 40,
    "reason": 255,
    "product_key": 64,
    "store_code": 32,
}


def _party_id(text: str) -> str:
    upper = half_width(text).strip().upper()
    if len(upper) == 18 and not upper[:17].isdigit():
        return check_uscc(upper)
    return check_resident_id(upper)


def column_plan(
    mapping: CompiledMapping, headers: Iterable[str]
) -> list[tuple[MappedColumn, str, int]]:
    """Which cell feeds which mapped column, worked out once per file: (column, header, index)."""
    positions: dict[str, int] = {}
    for index, header in enumerate(headers):
        if header:
            positions.setdefault(header, index)
    plan = []
    for column in mapping.columns:
        if column.field == "ignore":
            continue
        name = next((n for n in column.names if n in positions), None)
        if name is not None:
            plan.append((column, name, positions[name]))
    return plan


def convert_row(
    mapping: CompiledMapping, row: Mapping[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """A row (header → cell) → (record of fields, [(column header, english, chinese)]).
    Pure: the pack's test cases and the importer run this same conversion."""
    headers = list(row)
    cells = [row[h] for h in headers]
    return convert_cells(mapping, column_plan(mapping, headers), cells)


def convert_cells(
    mapping: CompiledMapping, plan: list[tuple[MappedColumn, str, int]], cells: Sequence[Any]
) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    record: dict[str, Any] = {}
    errors: list[tuple[str, str, str]] = []
    where: dict[str, str] = {}
    width = len(cells)
    for column, name, index in plan:
        where[column.field] = name
        value = cells[index] if index < width else None
        if _blank(value):
            continue
        try:
            record[column.field] = convert_cell(column, value, mapping)
        except CellError as exc:
            errors.append((name, f"{name}: {exc}", f"{name}：{exc.chinese}"))
    _apply_defaults(mapping, record)
    errors += _check_fields(record, where)
    return record, errors


def _apply_defaults(mapping: CompiledMapping, record: dict[str, Any]) -> None:
    if not record.get("carrier_key") and record.get("carrier_name"):
        key = mapping.carriers.get(record["carrier_name"])
        if key:
            record["carrier_key"] = key
    defaulted = [name for name in mapping.defaults if name not in record]
    for name in defaulted:
        record[name] = mapping.defaults[name]
    if defaulted:
        # A default never overwrites a stored value on re-import (a cancellation's status).
        record["_defaulted"] = tuple(defaulted)
    if record.get("line") in LINE_ALIASES:
        record["line"] = LINE_ALIASES[record["line"]]


def _check_fields(record: dict[str, Any], where: Mapping[str, str]) -> list[tuple[str, str, str]]:
    errors: list[tuple[str, str, str]] = []

    def refuse(name: str, english: str, chinese: str) -> None:
        column = where.get(name, name)
        errors.append((column, f"{column}: {english}", f"{column}：{chinese}"))

    for name in ("policy_no", "carrier_key", "line", "start_date"):
        if _blank(record.get(name)):
            refuse(name, "is required", "必填")
    endorsement = not _blank(record.get("endorsement_no"))
    if not endorsement and _blank(record.get("insured_name")):
        refuse("insured_name", "is required", "必填")
    for name in ("policy_no", "endorsement_no"):
        if isinstance(record.get(name), str):
            record[name] = record[name].upper().replace(" ", "")
    for name, limit in TEXT_LIMITS.items():
        value = record.get(name)
        if isinstance(value, str) and len(value) > limit:
            refuse(name, f"at most {limit} characters", f"最多 {limit} 个字符")
    for name, enum_cls in ENUM_FIELDS.items():
        value = record.get(name)
        if value is not None and not isinstance(value, enum_cls):
            try:
                record[name] = enum_cls(value)
            except ValueError:
                allowed = ", ".join(m.value for m in enum_cls)
                refuse(name, f"{value!r} is not one of {allowed}", f"“{value}”不是有效取值")
    for name, check in IDENTIFIERS.items():
        if not _blank(record.get(name)):
            try:
                record[name] = check(record[name])
            except InvalidIdentifier as exc:
                refuse(name, str(exc), exc.message("zh"))
    if not _blank(record.get("insured_id_number")):
        try:
            record["insured_id_number"] = _party_id(record["insured_id_number"])
        except InvalidIdentifier as exc:
            refuse("insured_id_number", str(exc), exc.message("zh"))
    start, end = record.get("start_date"), record.get("end_date")
    if isinstance(start, datetime.date) and isinstance(end, datetime.date) and end < start:
        refuse("end_date", "before the start date", "终保日期早于起保日期")
    for name in ("premium_incl_tax", "vehicle_tax", "sum_insured"):
        value = record.get(name)
        if isinstance(value, Decimal) and value < 0:
            refuse(name, "cannot be negative", "不能为负数")
    if endorsement:
        if record.get("endorsement_kind") is None:
            refuse("endorsement_kind", "is required on an endorsement row", "批改行必填")
        if record.get("effective_date") is None:
            refuse("effective_date", "is required on an endorsement row", "批改行必填")
        elif isinstance(start, datetime.date) and record["effective_date"] < start:
            refuse("effective_date", "before the policy starts", "早于起保日期")
    return errors


def map_import_row(mapping: Mapping[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    """A pack test case's view of `convert_row`: values as plain text, errors raised."""
    record, errors = convert_row(CompiledMapping.of(mapping), row)
    if errors:
        raise ValueError("; ".join(english for _, english, _ in errors))
    plain: dict[str, Any] = {}
    for name, value in record.items():
        if name.startswith("_"):
            continue
        if isinstance(value, bool) or value is None:
            plain[name] = value
        elif isinstance(value, datetime.date | Decimal):
            plain[name] = str(value)
        else:
            plain[name] = str(getattr(value, "value", value))
    return plain


# --- reading files ------------------------------------------------------------------------------


def file_format(path: Path, mapping: CompiledMapping) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("xlsx", "xlsm"):
        return "xlsx"
    if suffix in ("csv", "txt"):
        return "csv"
    return mapping.format or "csv"


def read_table(
    path: Path, mapping: CompiledMapping
) -> tuple[list[str], Iterator[tuple[int, list]]]:
    """(headers, iterator of (row number, cells)) — row numbers as the spreadsheet shows them."""
    if file_format(path, mapping) == "xlsx":
        return _read_xlsx(path, mapping)
    return _read_csv(path, mapping)


def _read_csv(path: Path, mapping: CompiledMapping):
    try:
        handle = open(path, encoding=mapping.encoding, newline="")  # noqa: SIM115 - streamed
        reader = csv.reader(handle, delimiter=mapping.delimiter)
        headers: list[str] = []
        for number, cells in enumerate(reader, start=1):
            if number == mapping.header_row:
                headers = [half_width(c).strip() for c in cells]
                break
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ImportRefused(
            f"file: cannot be read as {mapping.encoding} CSV ({exc})",
            f"file：无法按 {mapping.encoding} 编码读取 CSV 文件",
            field="file",
        ) from exc

    def rows():
        try:
            for number, cells in enumerate(reader, start=mapping.header_row + 1):
                if any(c.strip() for c in cells):
                    yield number, cells
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ImportRefused(
                f"file: cannot be read past row {reader.line_num} ({exc})",
                f"file：第 {reader.line_num} 行之后无法读取",
                field="file",
            ) from exc
        finally:
            handle.close()

    return headers, rows()


def _read_xlsx(path: Path, mapping: CompiledMapping):
    from app.policies import xlsx_stream

    try:
        rows = xlsx_stream.read_rows(path, mapping.sheet)
    except xlsx_stream.NotAWorkbook as exc:
        raise ImportRefused(
            "file: not an Excel workbook (.xlsx)",
            "file：不是有效的 Excel 文件（.xlsx）",
            field="file",
        ) from exc
    except xlsx_stream.SheetMissing as exc:
        wanted = mapping.sheet
        if isinstance(wanted, int):
            raise ImportRefused(
                f"sheet: the workbook has no sheet {wanted}",
                f"sheet：没有第 {wanted} 个工作表",
                field="sheet",
            ) from exc
        raise ImportRefused(
            f"sheet: no sheet named {wanted}", f"sheet：没有名为 {wanted} 的工作表", field="sheet"
        ) from exc
    headers: list[str] = []
    first: list[tuple[int, list]] = []
    try:
        for number, cells in rows:
            if number < mapping.header_row:
                continue
            if number == mapping.header_row:
                headers = [half_width(str(c)).strip() if c is not None else "" for c in cells]
            else:  # the header row is empty: this is already a row of data
                first.append((number, cells))
            break
    except xlsx_stream.NotAWorkbook as exc:
        _close(rows)
        raise ImportRefused(
            "file: not an Excel workbook (.xlsx)",
            "file：不是有效的 Excel 文件（.xlsx）",
            field="file",
        ) from exc

    def data():
        number = mapping.header_row
        try:
            for number, cells in itertools.chain(first, rows):
                if any(not _blank(c) for c in cells):
                    yield number, cells
        except xlsx_stream.NotAWorkbook as exc:
            raise ImportRefused(
                f"file: cannot be read past row {number} ({exc})",
                f"file：第 {number} 行之后无法读取",
                field="file",
            ) from exc
        finally:
            _close(rows)

    return headers, data()


def check_headers(headers: list[str], mapping: CompiledMapping) -> list[RowError]:
    present = set(headers)
    return [
        RowError(
            mapping.header_row,
            column.header,
            f"{column.header}: required column is missing",
            f"{column.header}：缺少必需的列",
        )
        for column in mapping.columns
        if column.required and not any(name in present for name in column.names)
    ]


# --- results ------------------------------------------------------------------------------------


@dataclass
class RowError:
    row: int
    column: str
    english: str
    chinese: str

    def message(self, lang: str = "zh") -> str:
        return self.chinese if lang == "zh" else self.english


@dataclass
class ImportSummary:
    file: str
    mapping: str
    rows: int = 0
    good_rows: int = 0
    refused_rows: int = 0
    imported: bool = False
    policies_inserted: int = 0
    policies_updated: int = 0
    policies_unchanged: int = 0
    endorsements_inserted: int = 0
    endorsements_updated: int = 0
    endorsements_unchanged: int = 0
    unmapped_headers: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    bad_rows: dict[int, list[Any]] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self, max_errors: int = 200) -> dict[str, Any]:
        return {
            "file": self.file,
            "mapping": self.mapping,
            "rows": self.rows,
            "good_rows": self.good_rows,
            "refused_rows": self.refused_rows,
            "imported": self.imported,
            "policies": {
                "inserted": self.policies_inserted,
                "updated": self.policies_updated,
                "unchanged": self.policies_unchanged,
            },
            "endorsements": {
                "inserted": self.endorsements_inserted,
                "updated": self.endorsements_updated,
                "unchanged": self.endorsements_unchanged,
            },
            "unmapped_headers": self.unmapped_headers,
            "errors": [
                {"row": e.row, "column": e.column, "message": e.english, "message_zh": e.chinese}
                for e in self.errors[:max_errors]
            ],
            "errors_total": len(self.errors),
            "seconds": round(self.seconds, 2),
        }


def error_workbook(summary: ImportSummary) -> bytes:
    """The refused rows back: row number, column, message, then the row as it was."""
    from app.exports import build_workbook

    header = ["行号", "列", "错误说明", *summary.headers]
    rows = (
        [error.row, error.column, error.chinese, *summary.bad_rows.get(error.row, [])]
        for error in summary.errors
    )
    return build_workbook(header, rows)


# --- the importer -------------------------------------------------------------------------------


@dataclass
class _Store:
    id: int
    tenant_id: int


class PolicyImporter:
    """Checks, then imports, one file for the stores the current scope can see."""

    def __init__(
        self,
        session: Session,
        mapping: CompiledMapping,
        *,
        default_store: str | None = None,
        tenant_id: int | None = None,
        source_name: str = "",
    ) -> None:
        self.session = session
        self.postgresql = session.get_bind().dialect.name == "postgresql"
        self.mapping = mapping
        self.source_name = source_name
        self.stores = self._visible_stores(tenant_id)
        self.default_store = default_store
        if default_store is not None and default_store not in self.stores:
            raise ValidationFailed(
                f"store: no store {default_store} in your scope",
                f"store：您的权限范围内没有门店 {default_store}",
                field="store",
            )

    def _visible_stores(self, tenant_id: int | None) -> dict[str, _Store]:
        query = select(OrgNode.code, OrgNode.id, OrgNode.tenant_id).where(
            OrgNode.kind == NodeKind.STORE
        )
        if tenant_id is not None:
            query = query.where(OrgNode.tenant_id == tenant_id)
        rows = self.session.execute(query).all()
        tenants = {row.tenant_id for row in rows}
        if len(tenants) > 1:
            raise ValidationFailed(
                "tenant: the import must name one tenant",
                "tenant：请指定导入到哪个租户",
                field="tenant",
            )
        return {row.code: _Store(row.id, row.tenant_id) for row in rows}

    # -- pass 1: check ----------------------------------------------------------------------

    def check(self, path: Path) -> ImportSummary:
        started = time.perf_counter()
        summary = ImportSummary(file=self.source_name or path.name, mapping=self.mapping.key)
        headers, rows = read_table(path, self.mapping)
        summary.headers = headers
        known = {name for column in self.mapping.columns for name in column.names}
        summary.unmapped_headers = [h for h in headers if h and h not in known]
        header_errors = check_headers(headers, self.mapping)
        if header_errors:
            summary.errors = header_errors
            summary.seconds = time.perf_counter() - started
            _close(rows)
            return summary
        seen: dict[tuple[str, str, str], int] = {}
        pending: list[tuple[int, dict[str, Any], list[Any]]] = []
        for number, cells in rows:
            summary.rows += 1
            if summary.rows > MAX_ROWS:
                _close(rows)
                raise ImportRefused(
                    f"file: more than {MAX_ROWS} rows", f"file：超过 {MAX_ROWS} 行", field="file"
                )
            record, errors = self._convert(headers, cells)
            key = _key(record)
            if not errors and key in seen:
                column = self._header_of("policy_no")
                errors.append(
                    (
                        column,
                        f"{column}: duplicate of row {seen[key]}",
                        f"{column}：与第 {seen[key]} 行重复",
                    )
                )
            if errors:
                self._refuse(summary, number, cells, errors)
                continue
            seen[key] = number
            if record.get("endorsement_no"):
                pending.append((number, record, cells))
        # after the whole file: a policy may come after its endorsements
        self._check_endorsed_policies(summary, pending, seen)
        summary.refused_rows = len(summary.bad_rows)
        summary.good_rows = summary.rows - summary.refused_rows
        summary.seconds = time.perf_counter() - started
        return summary

    def _convert(self, headers: list[str], cells: list[Any]):
        if getattr(self, "_plan_for", None) is not headers:
            self._plan_for, self._plan = headers, column_plan(self.mapping, headers)
        record, errors = convert_cells(self.mapping, self._plan, cells)
        code = record.get("store_code") or self.default_store
        if code is None:
            column = self._header_of("store_code")
            errors.append((column, f"{column}: is required", f"{column}：必填（或导入时指定门店）"))
        elif code not in self.stores:
            column = self._header_of("store_code")
            errors.append(
                (
                    column,
                    f"{column}: no store {code} in your scope",
                    f"{column}：您的权限范围内没有门店 {code}",
                )
            )
        else:
            record["store"] = self.stores[code]
        return record, errors

    def _header_of(self, field_name: str) -> str:
        column = next((c for c in self.mapping.columns if c.field == field_name), None)
        return column.header if column else field_name

    def _refuse(self, summary: ImportSummary, number: int, cells, errors) -> None:
        summary.bad_rows[number] = [_plain_cell(c) for c in cells]
        for column, english, chinese in errors:
            summary.errors.append(RowError(number, column, english, chinese))

    def _check_endorsed_policies(self, summary, pending, seen) -> None:
        """An endorsement row needs its policy: earlier in the file or already in the book."""
        if not pending:
            return
        missing = [
            (n, r, c) for n, r, c in pending if (r["carrier_key"], r["policy_no"], "") not in seen
        ]
        found = self._existing_policy_ids(
            {(r["carrier_key"], r["policy_no"]) for _, r, _ in missing}
        )
        for number, record, cells in missing:
            if (record["carrier_key"], record["policy_no"]) not in found:
                column = self._header_of("policy_no")
                self._refuse(
                    summary,
                    number,
                    cells,
                    [
                        (
                            column,
                            f"{column}: the policy of this endorsement is unknown",
                            f"{column}：找不到该批单对应的保单（文件中与系统中均无）",
                        )
                    ],
                )

    def _existing_policy_ids(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return {key: row.id for key, row in self._stored(keys).items()}

    def _stored(self, keys: Iterable[tuple[str, str]], *columns) -> dict[tuple[str, str], Any]:
        """The book's policies of these (carrier, policy number) keys, as rows of id, carrier,
        number and `columns`, looked up CHUNK keys per query.

        On PostgreSQL the keys travel as two arrays and each is looked up in a LATERAL subquery
        whose three equalities are the (tenant, carrier, number) unique key: a nested loop of
        index look-ups whatever the statistics say. In the middle of a large import they are
        stale (the book grew by 100,000 rows in this transaction) and a plain join or
        `IN (…)` was planned as a scan of the tenant's rows per key once the driver prepared
        the statement: 16 s a chunk at 20,000 rows."""
        keys = sorted(set(keys))
        tenant_id = self._tenant_id()
        found: dict[tuple[str, str], Any] = {}
        for start in range(0, len(keys), CHUNK):
            part = keys[start : start + CHUNK]
            if self.postgresql:
                text_array = ARRAY(String)
                wanted = select(
                    func.unnest(bindparam(None, [k[0] for k in part], type_=text_array)).label(
                        "carrier_key"
                    ),
                    func.unnest(bindparam(None, [k[1] for k in part], type_=text_array)).label(
                        "policy_no"
                    ),
                ).subquery("wanted")
                stored = (
                    select(Policy.id, Policy.carrier_key, Policy.policy_no, *columns)
                    .where(
                        Policy.tenant_id == tenant_id,
                        Policy.carrier_key == wanted.c.carrier_key,
                        Policy.policy_no == wanted.c.policy_no,
                    )
                    .lateral("stored")
                )
                query = select(stored).select_from(wanted).join(stored, true())
            else:
                query = select(Policy.id, Policy.carrier_key, Policy.policy_no, *columns).where(
                    Policy.tenant_id == tenant_id, Policy.policy_no.in_({k[1] for k in part})
                )
            for row in self.session.execute(query):
                found[(row.carrier_key, row.policy_no)] = row
        wanted_keys = set(keys)
        return {k: v for k, v in found.items() if k in wanted_keys}

    def _tenant_id(self) -> int | None:
        return next(iter(self.stores.values())).tenant_id if self.stores else None

    # -- pass 2: import ---------------------------------------------------------------------

    def import_rows(self, path: Path, accept_good_rows: bool = False) -> ImportSummary:
        """Check and write in one streaming pass, inside a savepoint: the good rows are written
        chunk by chunk as they are read; at the end, when a row was refused and the operator did
        not accept the good rows, the savepoint is rolled back and nothing stays. Flushes; the
        caller commits."""
        started = time.perf_counter()
        summary = ImportSummary(file=self.source_name or path.name, mapping=self.mapping.key)
        headers, rows = read_table(path, self.mapping)
        summary.headers = headers
        known = {name for column in self.mapping.columns for name in column.names}
        summary.unmapped_headers = [h for h in headers if h and h not in known]
        summary.errors = check_headers(headers, self.mapping)
        if summary.errors:
            _close(rows)
            return summary
        self.history = {}
        self.known_ids = {}
        written = self.session.begin_nested()
        try:
            self._stream(summary, headers, rows)
        except BaseException:
            written.rollback()
            raise
        summary.refused_rows = len(summary.bad_rows)
        summary.good_rows = summary.rows - summary.refused_rows
        if summary.errors and not (accept_good_rows and summary.good_rows):
            written.rollback()
            _forget_writes(summary)
        else:
            written.commit()
            summary.imported = True
        summary.seconds = time.perf_counter() - started
        return summary

    def _stream(self, summary: ImportSummary, headers: list[str], rows) -> None:
        seen: dict[tuple[str, str, str], int] = {}
        policies: list[tuple[int, dict]] = []
        endorsements: list[tuple[int, dict, list]] = []
        for number, cells in rows:
            summary.rows += 1
            if summary.rows > MAX_ROWS:
                _close(rows)
                raise ImportRefused(
                    f"file: more than {MAX_ROWS} rows", f"file：超过 {MAX_ROWS} 行", field="file"
                )
            record, errors = self._convert(headers, cells)
            key = _key(record)
            if not errors and key in seen:
                column = self._header_of("policy_no")
                errors.append(
                    (
                        column,
                        f"{column}: duplicate of row {seen[key]}",
                        f"{column}：与第 {seen[key]} 行重复",
                    )
                )
            if errors:
                self._refuse(summary, number, cells, errors)
                continue
            seen[key] = number
            if record.get("endorsement_no"):
                endorsements.append((number, record, cells))
                continue
            policies.append((number, record))
            if len(policies) >= CHUNK:
                self._write_policies(summary, policies)
                policies = []
        self._write_policies(summary, policies)
        self._check_endorsed_policies(summary, endorsements, seen)
        good = [(n, r) for n, r, _ in endorsements if n not in summary.bad_rows]
        for start in range(0, len(good), CHUNK):
            self._write_endorsements(summary, good[start : start + CHUNK])
        self.session.flush()

    def _policy_values(self, record: dict[str, Any]) -> dict[str, Any]:
        store: _Store = record["store"]
        incl = record.get("premium_incl_tax", Decimal("0.00"))
        excl = record.get("premium_excl_tax")
        if excl is None:
            excl = excl_vat(incl)
        start = record["start_date"]
        line = record["line"]
        values = {
            "tenant_id": store.tenant_id,
            "org_node_id": store.id,
            "policy_no": record["policy_no"],
            "carrier_key": record["carrier_key"],
            "carrier_name": record.get("carrier_name") or record["carrier_key"],
            "line": line,
            "product_key": record.get("product_key"),
            "insured_name": record["insured_name"],
            "insured_id_number": record.get("insured_id_number"),
            "insured_mobile": record.get("insured_mobile"),
            "plate": record.get("plate"),
            "vin": record.get("vin"),
            "vehicle_is_new": bool(record.get("vehicle_is_new", False)),
            "compulsory_only": bool(record.get("compulsory_only", False)),
            "status": record.get("status") or PolicyStatus.IN_FORCE,
            "source": record.get("source") or PolicySource.IMPORT,
            "issuing_terminal": record.get("issuing_terminal") or IssuingTerminal.IMPORT,
            "start_date": start,
            "end_date": record.get("end_date") or one_year_end(start),
            "issued_at": record.get("issued_at"),
            "premium_incl_tax": incl,
            "premium_excl_tax": excl,
            "vat_amount": incl - excl,
            "vehicle_tax": record.get("vehicle_tax", Decimal("0.00")),
            "sum_insured": record.get("sum_insured"),
            "salesperson_name": record.get("salesperson_name"),
            "practitioner_no": record.get("practitioner_no"),
        }
        if record.get("business_type") is not None:
            values["business_type"] = record["business_type"]
        if record.get("_defaulted"):
            values["_defaulted"] = record["_defaulted"]
        return values

    def _write_policies(self, summary: ImportSummary, chunk: list[tuple[int, dict]]) -> None:
        """One chunk of policy rows, in a handful of statements whatever its size: the chunk's
        vehicles and their earlier policies (two look-ups), one bulk insert that skips the keys
        already in the book (`ON CONFLICT DO NOTHING` on the unique key: no look-up at all on a
        first import), then one look-up of the skipped keys and ORM updates (audited with
        before and after) of the rows among them that changed."""
        if not chunk:
            return
        records = [self._policy_values(r) for _, r in chunk]
        vehicles = self._vehicles(records)
        earlier = self._earlier_policies({vehicle_id for vehicle_id, _ in vehicles.values()})
        for values in records:
            self._link_history(values, vehicles, earlier)
            self._remember(
                values.get("vin"),
                values.get("plate"),
                values["line"],
                values["carrier_key"],
                values["policy_no"],
                values["start_date"],
                None,
            )
        inserted, links = self._insert_policies(records)
        skipped = [v for v in records if (v["carrier_key"], v["policy_no"]) not in inserted]
        stored = self._stored(((v["carrier_key"], v["policy_no"]) for v in skipped), *_COMPARED)
        self.known_ids.update({key: row.id for key, row in stored.items()})
        self._link_renewals(links)
        changed: dict[int, dict[str, Any]] = {}
        for values in skipped:
            current = stored[(values["carrier_key"], values["policy_no"])]
            if _differs(current, values, self._compared(values)):
                changed[current.id] = values
            else:
                summary.policies_unchanged += 1
        if changed:
            for row in self.session.scalars(
                select(Policy).where(one_of(Policy.id, list(changed), self.postgresql))
            ):
                self._update(row, changed[row.id], self._compared(changed[row.id]))
            summary.policies_updated += len(changed)
        if inserted:
            summary.policies_inserted += len(inserted)
            self._audit_batch("policy", [f"{c}/{n}" for c, n in inserted])
        self.session.flush()

    @staticmethod
    def _compared(values: dict[str, Any]) -> tuple[str, ...]:
        defaulted = set(values.get("_defaulted", ()))
        return tuple(name for name in POLICY_FIELDS if name not in defaulted)

    def _insert_policies(
        self, records: list[dict[str, Any]]
    ) -> tuple[dict[tuple[str, str], int], list[tuple[tuple[str, str], tuple[str, str]]]]:
        """Insert the records whose key is not in the book yet, in one statement. Returns the
        inserted keys with their ids, and the renewal links still to set: (inserted key, key of
        the policy it renews) for policies renewing one of this same chunk."""
        now, who = utcnow(), _who()
        rows = []
        for values in records:
            row = {name: value for name, value in values.items() if not name.startswith("_")}
            row.setdefault("business_type", row["history_type"])
            row.update(created_at=now, updated_at=now, created_by=who)
            rows.append(row)
        table = Policy.__table__
        returned = bulk_insert(
            self.session,
            table,
            rows,
            (table.c.id, table.c.carrier_key, table.c.policy_no),
            skip_existing=("tenant_id", "carrier_key", "policy_no"),
        )
        # Keyed by the rows' own strings, not the copies the driver returns: known_ids lives as
        # long as the import, one entry per policy.
        own = {(v["carrier_key"], v["policy_no"]): v for v in records}
        ids = {}
        for pid, carrier_key, policy_no in returned:
            values = own[(carrier_key, policy_no)]
            ids[(values["carrier_key"], values["policy_no"])] = pid
        self.known_ids.update(ids)
        links = [
            ((v["carrier_key"], v["policy_no"]), v["_renews_key"])
            for v in records
            if v.get("_renews_key") is not None and (v["carrier_key"], v["policy_no"]) in ids
        ]
        return ids, links

    def _link_renewals(self, links: list[tuple[tuple[str, str], tuple[str, str]]]) -> None:
        updates = [
            {"pid": self.known_ids[key], "rid": self.known_ids[renews]}
            for key, renews in links
            if renews in self.known_ids
        ]
        if updates:
            table = Policy.__table__
            self.session.execute(
                update(table)
                .where(table.c.id == bindparam("pid"))
                .values(renews_policy_id=bindparam("rid")),
                updates,
            )

    def _vehicles(self, records: list[dict[str, Any]]) -> dict[str, tuple[int, bool]]:
        vins = sorted({r["vin"] for r in records if r.get("vin")})
        found: dict[str, tuple[int, bool]] = {}
        if vins:
            rows = self.session.execute(
                select(Vehicle.id, Vehicle.vin, Vehicle.is_new).where(
                    Vehicle.tenant_id == self._tenant_id(),
                    one_of(Vehicle.vin, vins, self.postgresql),
                )
            ).all()
            found = {r.vin: (r.id, r.is_new) for r in rows}
        return found

    def _remember(self, vin, plate, line, carrier_key, policy_no, start, policy_id) -> None:
        """The latest policy of the line seen so far for the VIN and for the plate. One dict per
        line keyed by the identifier itself: this lives for the whole import (two entries per
        row), so no key tuples and no copies of strings."""
        if policy_id is not None:
            self.known_ids[(carrier_key, policy_no)] = policy_id
        seen = self.history.setdefault(getattr(line, "value", line), {})
        for identity in (vin, plate):
            if identity:
                known = seen.get(identity)
                if known is None or known[1] <= start:
                    seen[identity] = (carrier_key, start, policy_no)

    def _earlier_policies(self, vehicle_ids: set[int]) -> dict[tuple[int, str], list[tuple]]:
        """The book's policies of the chunk's known vehicles, per (vehicle, line), latest first:
        one query per chunk where there was one per row."""
        if not vehicle_ids:
            return {}
        earlier: dict[tuple[int, str], list[tuple]] = {}
        rows = self.session.execute(
            select(
                Policy.vehicle_id,
                Policy.line,
                Policy.start_date,
                Policy.carrier_key,
                Policy.policy_no,
                Policy.id,
            )
            .where(one_of(Policy.vehicle_id, sorted(vehicle_ids), self.postgresql))
            .order_by(Policy.start_date.desc())
        )
        for row in rows:
            earlier.setdefault((row.vehicle_id, str(row.line)), []).append(tuple(row)[2:])
        return earlier

    def _link_history(self, values, vehicles, earlier) -> None:
        """新保/续保/转保 from the vehicle's earlier policy of the line: one imported earlier in
        this file, or one already in the book."""
        vehicle = vehicles.get(values.get("vin") or "")
        if vehicle is not None:
            values["vehicle_id"] = vehicle[0]
        previous = None
        line = getattr(values["line"], "value", values["line"])
        seen = self.history.get(line, {})
        for identity in (values.get("vin"), values.get("plate")):
            known = seen.get(identity) if identity else None
            if known is not None and known[1] < values["start_date"]:
                previous = known
                break
        if previous is None and vehicle is not None:
            for start, carrier_key, policy_no, policy_id in earlier.get((vehicle[0], line), ()):
                if start < values["start_date"]:
                    previous = (carrier_key, start, policy_no)
                    self.known_ids[(carrier_key, policy_no)] = policy_id
                    break
        if previous is None or values["vehicle_is_new"]:
            values["history_type"] = BusinessType.NEW
            return
        same = previous[0] == values["carrier_key"]
        values["history_type"] = BusinessType.RENEWAL if same else BusinessType.TRANSFER
        values["previous_carrier_key"] = previous[0]
        renews = self.known_ids.get((previous[0], previous[2]))
        if renews is not None:
            values["renews_policy_id"] = renews
        else:
            values["_renews_key"] = (previous[0], previous[2])

    def _update(self, row, values: Mapping[str, Any], fields: Iterable[str]) -> bool:
        """Set what changed on an ORM row (the recorder audits it); True when anything did."""
        changed = False
        for name in fields:
            if name not in values:
                continue
            new = values[name]
            if getattr(row, name) != new:
                setattr(row, name, new)
                changed = True
        return changed

    def _write_endorsements(self, summary: ImportSummary, chunk: list[tuple[int, dict]]) -> None:
        keys = {(r["carrier_key"], r["policy_no"]) for _, r in chunk}
        policy_ids = self._existing_policy_ids(keys)
        existing = {
            (e.policy_id, e.endorsement_no): e
            for e in self.session.scalars(
                select(Endorsement).where(
                    one_of(Endorsement.policy_id, sorted(set(policy_ids.values())), self.postgresql)
                )
            )
        }
        inserts: list[dict[str, Any]] = []
        inserted_keys: list[str] = []
        cancelled: dict[int, datetime.date] = {}
        for _, record in chunk:
            policy_id = policy_ids[(record["carrier_key"], record["policy_no"])]
            incl = record.get("premium_change_incl_tax", Decimal("0.00"))
            values = {
                "policy_id": policy_id,
                "endorsement_no": record["endorsement_no"],
                "kind": record["endorsement_kind"],
                "effective_date": record["effective_date"],
                "premium_change_incl_tax": incl,
                "premium_change_excl_tax": record.get("premium_change_excl_tax", excl_vat(incl)),
                "vehicle_tax_change": record.get("vehicle_tax_change", Decimal("0.00")),
                "reason": record.get("reason"),
            }
            if record["endorsement_kind"] == EndorsementKind.CANCEL:
                cancelled[policy_id] = record["effective_date"]
            current = existing.get((policy_id, record["endorsement_no"]))
            if current is None:
                store: _Store = record["store"]
                values.update(
                    tenant_id=store.tenant_id,
                    org_node_id=store.id,
                    status=EndorsementStatus.EFFECTIVE,
                    details={"imported_from": self.source_name},
                    created_at=utcnow(),
                    created_by=_who(),
                )
                inserts.append(values)
                inserted_keys.append(
                    f"{record['carrier_key']}/{record['policy_no']}/{record['endorsement_no']}"
                )
                existing[(policy_id, record["endorsement_no"])] = values  # a repeat is a no-op
            elif isinstance(current, Endorsement) and self._update(
                current, values, ENDORSEMENT_FIELDS
            ):
                summary.endorsements_updated += 1
            else:
                summary.endorsements_unchanged += 1
        if inserts:
            bulk_insert(self.session, Endorsement.__table__, inserts)
            summary.endorsements_inserted += len(inserts)
            self._audit_batch("endorsement", inserted_keys)
        self._mark_cancelled(cancelled)

    def _mark_cancelled(self, cancelled: dict[int, datetime.date]) -> None:
        if not cancelled:
            return
        for policy in self.session.scalars(
            select(Policy).where(one_of(Policy.id, list(cancelled), self.postgresql))
        ):
            if policy.status != PolicyStatus.CANCELLED:
                policy.status = PolicyStatus.CANCELLED
                day = cancelled[policy.id]
                policy.cancelled_at = datetime.datetime(day.year, day.month, day.day)
        self.session.flush()

    def _audit_batch(self, entity: str, keys: list[str]) -> None:
        store = next(iter(self.stores.values()), None)
        record_event(
            self.session,
            IMPORT_ACTION,
            tenant_id=store.tenant_id if store else None,
            entity=entity,
            detail={
                "file": self.source_name,
                "mapping": f"{self.mapping.key} {self.mapping.version}".strip(),
                "inserted": len(keys),
                "keys": keys,
            },
        )


_COMPARED = tuple(getattr(Policy, name) for name in POLICY_FIELDS)


def _differs(stored, values: Mapping[str, Any], fields: Iterable[str]) -> bool:
    """Whether a row of the book (a result row of the compared columns) differs from `values`."""
    return any(name in values and getattr(stored, name) != values[name] for name in fields)


def one_of(column, values: Sequence[Any], postgresql: bool):
    """`column IN (values)`; on PostgreSQL `column IN (SELECT unnest(:array))`: one parameter
    however many values (an IN list of 2,000 is 2,000 placeholders to render and for the driver
    to parse), and a semi-join the planner runs as index look-ups or one hash. Not `= ANY(:array)`:
    once the driver prepares the statement, that is a linear search of the array for every row
    the scan reads (2,000 × the tenant's book, per chunk: minutes at 100,000 rows)."""
    if postgresql:
        array = bindparam(None, list(values), type_=ARRAY(column.type))
        return column.in_(select(func.unnest(array)))
    return column.in_(values)


# --- writing in bulk ----------------------------------------------------------------------------

_MISSING = object()


def _rows_for(table: Table, rows: Sequence[Mapping[str, Any]]) -> tuple[list[Column], list[list]]:
    """The columns the rows name (plus those with a Python default), and the rows as value lists
    in that order: a key a row lacks takes the column's default, as the ORM would give it."""
    names = {name for row in rows for name in row}
    columns = [
        c for c in table.columns if c.name in names or (c.default is not None and not c.primary_key)
    ]
    defaults: dict[str, Any] = {}
    for column in columns:
        default = column.default
        if default is None:
            defaults[column.name] = None
        elif default.is_scalar:
            defaults[column.name] = default.arg
        elif default.is_callable:
            defaults[column.name] = _MISSING  # called once per row, as the ORM would
    values = []
    for row in rows:
        line = []
        for column in columns:
            value = row.get(column.name, _MISSING)
            if value is _MISSING:
                value = defaults[column.name]
                if value is _MISSING:
                    value = column.default.arg(None)
            line.append(value)
        values.append(line)
    return columns, values


def bulk_insert(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    returning: Sequence[Column] = (),
    skip_existing: Sequence[str] = (),
) -> list[tuple]:
    """Insert `rows` (dicts of column name → value) into `table` in one statement; returns the
    `returning` columns of each inserted row (in no particular order).

    On PostgreSQL the rows travel as one array per column, unnested by the server: `INSERT …
    SELECT * FROM unnest(…)`. One short statement per chunk, so the driver neither builds nor
    parses a statement with 60,000 placeholders (what a multi-row VALUES costs: most of the
    import's time was psycopg splitting that text), and row-level security checks every row as
    for any INSERT (COPY FROM refuses tables under row security). Elsewhere an executemany.
    `skip_existing` names the columns of a unique key: a row whose key is taken is skipped
    (`ON CONFLICT DO NOTHING`) and not returned.
    """
    if not rows:
        return []
    columns, values = _rows_for(table, rows)
    bind = session.connection()
    if bind.dialect.name != "postgresql":
        statement = insert(table)
        if skip_existing:
            statement = sqlite_insert(table).on_conflict_do_nothing(index_elements=skip_existing)
        if returning:
            statement = statement.returning(*returning)
        params = [dict(zip((c.name for c in columns), line, strict=True)) for line in values]
        result = session.execute(statement, params)
        return [tuple(row) for row in result] if returning else []
    dialect = bind.dialect
    arrays: dict[str, list] = {}
    casts = []
    for index, column in enumerate(columns):
        cells = [line[index] for line in values]
        if isinstance(column.type, JSON):
            cells = [None if v is None else json.dumps(v, ensure_ascii=False) for v in cells]
        else:  # enum members as their stored value; amounts stay Decimal, never float
            cells = [v.value if isinstance(v, enum.Enum) else v for v in cells]
        arrays[f"a{index}"] = cells
        casts.append(f"CAST(:a{index} AS {column.type.compile(dialect=dialect)}[])")
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    sql = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) "
        f"SELECT * FROM unnest({', '.join(casts)})"
    )
    if skip_existing:
        sql += " ON CONFLICT ({}) DO NOTHING".format(
            ", ".join(dialect.identifier_preparer.quote(name) for name in skip_existing)
        )
    if returning:
        sql += " RETURNING " + ", ".join(
            dialect.identifier_preparer.quote(c.name) for c in returning
        )
        return [tuple(row) for row in session.execute(text(sql), arrays)]
    session.execute(text(sql), arrays)
    return []


def _key(record: Mapping[str, Any]) -> tuple[str, str, str]:
    return (
        str(record.get("carrier_key") or ""),
        str(record.get("policy_no") or ""),
        str(record.get("endorsement_no") or ""),
    )


def _plain_cell(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def _who() -> str | None:
    scope = current_scope()
    return scope.username if scope else None


def _close(iterator) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def _forget_writes(summary: ImportSummary) -> None:
    for name in (
        "policies_inserted",
        "policies_updated",
        "policies_unchanged",
        "endorsements_inserted",
        "endorsements_updated",
        "endorsements_unchanged",
    ):
        setattr(summary, name, 0)


def import_file(
    session: Session,
    path: Path,
    mapping: CompiledMapping,
    *,
    default_store: str | None = None,
    tenant_id: int | None = None,
    accept_good_rows: bool = False,
    source_name: str = "",
) -> ImportSummary:
    """Check `path`, then import it when every row is good (or the good rows when
    `accept_good_rows`). Flushes; the caller commits (or rolls back)."""
    importer = PolicyImporter(
        session, mapping, default_store=default_store, tenant_id=tenant_id, source_name=source_name
    )
    return importer.import_rows(path, accept_good_rows)


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    """Rows as CSV text (used by tests and the benchmark's generator)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return out.getvalue()
