"""Excel import and export of entity records, and of a record's child-table rows.

Every entity gets them from its document, nothing to declare. Columns are the fields' labels
(Chinese, or English, or the field name is accepted on import). An import is all-or-nothing by
default: when any row is wrong nothing is saved, and the answer is a workbook of the bad rows
naming each row and column. With `good_rows` the right rows are saved and the workbook lists
the others. Each row is saved through app.configuration.records, so states, computed fields,
masks and audit apply as on the form.
"""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.recorder import record_event
from app.configuration import records
from app.configuration.masking import hidden_fields
from app.configuration.runtime import EntityRuntime
from app.configuration.states import check_new
from app.errors import BadInput, as_domain_error
from app.exports import spreadsheet_cell
from app.organisation.models import OrgNode

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
STORE_HEADER = ("门店", "Store", "org_node_id")
ROW_ID_HEADER = ("行编号", "Row id")  # a child row's id in an export, so a re-import keeps it
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
MODES = ("all", "good_rows")


def _label(spec: dict, lang: str = "zh") -> str:
    return spec["label"].get(lang) or spec["label"]["zh"]


def importable(specs: list[dict]) -> list[dict]:
    """The fields an import fills: column fields that are not computed."""
    return [
        s
        for s in specs
        if s["type"] not in ("table", "attachment", "photo") and not s.get("compute")
    ]


def template(specs: list[dict], with_store: bool = True) -> bytes:
    """An empty workbook with the import's header row (required columns marked *)."""
    book = Workbook()
    sheet = book.active
    headers = [_label(s) + ("*" if s.get("required") else "") for s in importable(specs)]
    sheet.append([*headers, *(["门店"] if with_store else [])])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass
class RowProblem:
    row: int  # the sheet's row number (the header is row 1)
    column: str  # the column's header, "" for the whole row
    message: str


@dataclass
class ImportResult:
    mode: str
    rows: int = 0
    saved: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    error_workbook: bytes | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict:
        return {
            "mode": self.mode,
            "rows": self.rows,
            "saved": self.saved,
            "errors": [
                {"row": p.row, "column": p.column, "message": p.message} for p in self.problems
            ],
        }


def _cell_text(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    return value if value is None else str(value)


def _from_label(spec: dict, value: Any) -> Any:
    """An enum cell may hold the choice's value or its label; a yes/no cell 是/否."""
    if value in (None, ""):
        return value
    if spec["type"] == "enum":
        for choice in spec["choices"]:
            if value == choice["value"] or value in choice["label"].values():
                return choice["value"]
    if spec["type"] == "boolean":
        if value in ("是", "✔", "Y", "y"):
            return True
        if value in ("否", "✘", "N", "n"):
            return False
    return value


EXPORTED_REFERENCE = re.compile(r"\(#(\d{1,18})\)$")


class References:
    """Reference cells may hold the target record's id or its title (an employee's name or
    number, a plate): the title is looked up among the records the user sees, and must match
    exactly one."""

    def __init__(self, session: Session, tenant_id):
        self.session, self.tenant_id = session, tenant_id
        self.cache: dict[tuple[str, str], int | str] = {}

    def resolve(self, spec: dict, value: Any) -> tuple[Any, str | None]:
        """(the value to save, or None and why it cannot be). An export writes a reference as
        "title (#id)": the id in it is taken as is."""
        if spec["type"] != "reference" or value in (None, "") or str(value).isdigit():
            return value, None
        exported = EXPORTED_REFERENCE.search(str(value))
        if exported:
            return exported.group(1), None
        key = (spec["target"], str(value))
        if key not in self.cache:
            self.cache[key] = self._find(spec, str(value))
        found = self.cache[key]
        return (found, None) if isinstance(found, int) else (None, found)

    def _find(self, spec: dict, text: str) -> int | str:
        from app.configuration.related import title_field
        from app.configuration.runtime import REGISTRY

        if spec["target"] == "user":  # a login, by its user name, among those the user sees
            from app.security.models import DealerUser

            found = self.session.scalar(
                select(DealerUser.id).where(
                    DealerUser.username == text, DealerUser.tenant_id.is_not(None)
                )
            )
            return found if found is not None else f"找不到用户「{text}」"
        target = REGISTRY.get(self.session, spec["target"], self.tenant_id)
        name = title_field(target) if target is not None else None
        if name is None:
            return f"请填写编号，找不到「{text}」"
        ids = self.session.scalars(
            select(target.model.id).where(getattr(target.model, name) == text).limit(2)
        ).all()
        if not ids:
            return f"找不到「{text}」"
        if len(ids) > 1:
            return f"「{text}」对应多条记录，请填写编号"
        return ids[0]


def read_sheet(data: bytes, specs: list[dict], with_store: bool):
    """(headers, {column index: spec or "store"}, [(row number, values)]) of an uploaded
    workbook, or BadInput naming what is wrong with the file as a whole."""
    if len(data) > MAX_IMPORT_BYTES:
        raise BadInput("the file is larger than 5 MB", "文件超过 5 MB", field="file")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise BadInput(
            "not an Excel workbook (.xlsx)", "不是 Excel 工作簿（.xlsx）", field="file"
        ) from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None) or ()
    headers = [str(h).strip().rstrip("*") if h is not None else "" for h in header]
    by_name = {}
    for spec in importable(specs):
        for key in (spec["name"], *spec["label"].values()):
            by_name[key] = spec
    columns: dict[int, Any] = {}
    for index, name in enumerate(headers):
        if not name:
            continue
        if with_store and name in STORE_HEADER:
            columns[index] = "store"
        elif not with_store and name in ROW_ID_HEADER:
            columns[index] = "row_id"
        elif name in by_name:
            columns[index] = by_name[name]
        else:
            raise BadInput(
                f"column {name!r} is not a field of this entity",
                f"第 1 行：列「{name}」不是此数据类型的字段",
                field="file",
                row=1,
                column=name,
            )
    present = {id(s) for s in columns.values() if s not in ("store", "row_id")}
    missing = [_label(s) for s in importable(specs) if s.get("required") and id(s) not in present]
    if missing:
        raise BadInput(
            f"required columns missing: {', '.join(missing)}",
            f"缺少必填列：{'、'.join(missing)}",
            field="file",
        )
    body = []
    for number, row in enumerate(rows, start=2):
        if all(v in (None, "") for v in row):
            continue
        if len(body) >= MAX_IMPORT_ROWS:
            raise BadInput(
                f"at most {MAX_IMPORT_ROWS} rows", f"最多 {MAX_IMPORT_ROWS} 行", field="file"
            )
        body.append((number, list(row)))
    book.close()
    return headers, columns, body


def _header_of(columns: dict, headers: list[str], name: str) -> str:
    for index, spec in columns.items():
        if isinstance(spec, dict) and spec["name"] == name:
            return headers[index]
    return name


def _store_id(session: Session, value: Any) -> int | None:
    if value in (None, ""):
        return None
    text = str(value)
    if text.isdigit():
        return int(text)
    found = session.scalars(select(OrgNode).where(OrgNode.name == text)).all()
    if len(found) != 1:
        raise LookupError(text)
    return found[0].id


def import_records(
    session: Session,
    runtime: EntityRuntime,
    data: bytes,
    user,
    mode: str = "all",
) -> ImportResult:
    """Import the rows of an uploaded workbook as new records of the entity."""
    if mode not in MODES:
        raise BadInput(
            "mode must be all or good_rows", "导入方式只能是 all 或 good_rows", field="mode"
        )
    specs = runtime.definition.fields
    headers, columns, body = read_sheet(data, specs, with_store=True)
    result = ImportResult(mode, rows=len(body))
    bad_rows, good = [], []
    references = References(session, getattr(user, "tenant_id", None))
    # First every row is checked without writing (values, states, stores); then the good rows
    # are written in one transaction. A row refused only when written (a reference outside the
    # scope, a duplicate) rolls the transaction back; with good_rows the others are written
    # again without it. No savepoints: all-or-nothing holds on SQLite as on PostgreSQL.
    for number, row in body:
        values: dict[str, Any] = {}
        row_problems = []
        for index, spec in columns.items():
            cell = _cell_text(row[index] if index < len(row) else None)
            if spec == "store":
                try:
                    store = _store_id(session, cell)
                except LookupError:
                    row_problems.append(RowProblem(number, headers[index], f"找不到门店「{cell}」"))
                    continue
                if store is not None:
                    values["org_node_id"] = store
            else:
                value, why = references.resolve(spec, _from_label(spec, cell))
                if why:
                    row_problems.append(RowProblem(number, headers[index], why))
                    continue
                values[spec["name"]] = value
        try:
            check_new(runtime.definition, records.clean_values(runtime, values))
        except Exception as exc:
            named = {p.column for p in row_problems}
            row_problems += [
                p for p in _problems_of(exc, number, columns, headers) if p.column not in named
            ]
        if row_problems:
            result.problems += row_problems
            bad_rows.append((number, row, row_problems))
        else:
            good.append((number, row, values))
    if result.problems and mode == "all":
        good = []
    while good:
        refused = None
        for number, row, values in good:
            try:
                records.create_record(
                    session, runtime, dict(values), user.username, user=user, commit=False
                )
            except Exception as exc:
                session.rollback()
                refused = (number, row, _problems_of(exc, number, columns, headers))
                break
        if refused is None:
            result.saved = len(good)
            break
        result.problems += refused[2]
        bad_rows.append(refused)
        good = [] if mode == "all" else [item for item in good if item[0] != refused[0]]
    bad_rows.sort(key=lambda item: item[0])
    if result.problems:
        result.error_workbook = error_workbook(headers, bad_rows)
    if result.saved:
        record_event(
            session,
            "import",
            tenant_id=getattr(user, "tenant_id", None),
            org_node_id=getattr(user, "org_node_id", None),
            entity=runtime.definition.table,
            detail={"rows": result.rows, "saved": result.saved, "mode": mode},
        )
        session.commit()
    else:
        session.rollback()
    return result


def _problems_of(exc: Exception, number: int, columns, headers) -> list[RowProblem]:
    if isinstance(exc, records.RecordErrors):
        return [
            RowProblem(number, _header_of(columns, headers, name), message)
            for name, message in exc.chinese.items()
        ]
    error = as_domain_error(exc)
    if error is None:
        raise exc
    column = _header_of(columns, headers, error.field) if error.field else ""
    return [RowProblem(number, column, error.message("zh"))]


def error_workbook(headers: list[str], bad_rows) -> bytes:
    """The bad rows as they were sent, with 行号 and 错误 columns and each bad cell marked."""
    book = Workbook()
    sheet = book.active
    sheet.title = "错误行"
    sheet.append(["行号", *headers, "错误"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, row, problems in bad_rows:
        cells = [spreadsheet_cell(_cell_text(v)) for v in row]
        cells += [None] * (len(headers) - len(cells))
        message = "；".join(
            f"第{p.row}行 [{p.column}]: {p.message}" if p.column else f"第{p.row}行: {p.message}"
            for p in problems
        )
        sheet.append([number, *cells[: len(headers)], spreadsheet_cell(message)])
        excel_row = sheet.max_row
        for problem in problems:
            if problem.column in headers:
                sheet.cell(excel_row, headers.index(problem.column) + 2).fill = ERROR_FILL
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def import_rows(
    session: Session,
    runtime: EntityRuntime,
    record,
    field_name: str,
    data: bytes,
    user,
    mode: str = "all",
    replace: bool = False,
) -> ImportResult:
    """Add the rows of an uploaded workbook to a record's table field (attendees of a
    course…), or with `replace` put them in place of the rows it had (download, fill in the
    scores, upload): all or nothing by default, like an import of records."""
    if mode not in MODES:
        raise BadInput(
            "mode must be all or good_rows", "导入方式只能是 all 或 good_rows", field="mode"
        )
    spec = runtime.definition.field(field_name)
    headers, columns, body = read_sheet(data, spec["fields"], with_store=False)
    result = ImportResult(mode, rows=len(body))
    good, bad_rows = [], []
    references = References(session, getattr(user, "tenant_id", None))
    hidden = {
        n.split(".", 1)[1]
        for n in hidden_fields(runtime.definition, user)
        if n.startswith(f"{field_name}.")
    }
    before = {r.id: r for r in records.child_rows(session, runtime, record, field_name)}
    for number, row in body:
        values, problems, kept = {}, [], None
        for index, column in columns.items():
            if column == "row_id":
                cell = _cell_text(row[index] if index < len(row) else None)
                kept = before.get(int(cell)) if str(cell or "").isdigit() else None
        for index, column in columns.items():
            if column == "row_id":
                continue
            cell = _from_label(column, _cell_text(row[index] if index < len(row) else None))
            if column["name"] in hidden and kept is not None and (not cell or "*" in str(cell)):
                # a masked cell sent back as exported (or emptied) keeps the row's value
                cell = _raw_value(getattr(kept, column["name"]))
            value, why = references.resolve(column, cell)
            if why:
                problems.append(RowProblem(number, headers[index], why))
            values[column["name"]] = value
        try:
            checked = records.clean_rows({**spec, "min_rows": 0}, [values])[0]
        except records.RecordErrors as exc:
            problems += [
                RowProblem(number, _header_of(columns, headers, name.split(".", 1)[1]), message)
                for name, message in exc.chinese.items()
                if not any(
                    p.column == _header_of(columns, headers, name.split(".", 1)[1])
                    for p in problems
                )
            ]
        if problems:
            result.problems += problems
            bad_rows.append((number, row, problems))
        else:
            good.append(checked)
    if result.problems and mode == "all":
        good = []
    if good:
        existing = [] if replace else records.child_rows(session, runtime, record, field_name)
        current = [{c["name"]: getattr(r, c["name"]) for c in spec["fields"]} for r in existing]
        limit = min(spec.get("max_rows", records.MAX_CHILD_ROWS), records.MAX_CHILD_ROWS)
        if len(current) + len(good) > limit:
            raise BadInput(
                f"{field_name}: at most {limit} rows",
                f"{field_name}：最多 {limit} 行",
                field=field_name,
            )
        records.update_record(
            session, runtime, record, {field_name: _as_raw(current + good)}, user=user
        )
        result.saved = len(good)
    if result.problems:
        result.error_workbook = error_workbook(headers, bad_rows)
    return result


def _raw_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value


def _as_raw(rows: list[dict]) -> list[dict]:
    """Typed rows back as submitted values (update_record checks them again)."""
    return [
        {k: v.isoformat() if isinstance(v, datetime.date) else v for k, v in row.items()}
        for row in rows
    ]


def export_rows(specs: list[dict], rows, shown) -> bytes:
    """A workbook of a table field's `rows`: 行编号 (the row's id, which a re-import with
    replace uses to keep masked cells), then a column per field as `shown(spec, row)` gives it."""
    from app.exports import build_workbook

    return build_workbook(
        [ROW_ID_HEADER[0], *(_label(s) for s in specs)],
        ([r.id, *(shown(s, r) for s in specs)] for r in rows),
    )
