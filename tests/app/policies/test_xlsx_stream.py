"""The lean .xlsx reader the import streams Excel files with gives what openpyxl gives."""

from __future__ import annotations

import datetime

import pytest
from openpyxl import Workbook, load_workbook

from app.policies.xlsx_stream import NotAWorkbook, SheetMissing, read_rows


@pytest.fixture()
def workbook(tmp_path):
    book = Workbook()
    first = book.active
    first.title = "说明"
    first.append(["这一页不是数据"])
    sheet = book.create_sheet("保单")
    sheet.append([])  # an empty first row: the header is on row 2
    sheet.append(["保单号", "起保日期", "保费", "新车", "备注"])
    sheet.append(["PD001", datetime.datetime(2025, 3, 1), 1234.5, True, "全角ＡＢＣ"])
    sheet["A5"] = "PD002"  # row 4 is missing, B5 is blank
    sheet["C5"] = 950
    sheet["E5"] = '=CONCAT("a","b")'
    path = tmp_path / "book.xlsx"
    book.save(path)
    return path


def test_rows_match_openpyxl(workbook):
    mine = list(read_rows(workbook, "保单"))
    sheet = load_workbook(workbook, read_only=True)["保单"]
    theirs = [
        (cells[0].row, [c.value for c in cells])
        for cells in sheet.iter_rows()
        if cells and any(c.value is not None for c in cells)
    ]
    assert [n for n, _ in mine] == [2, 3, 5]
    assert mine[1][1] == ["PD001", datetime.datetime(2025, 3, 1), 1234.5, True, "全角ＡＢＣ"]
    assert mine[2][1][:3] == ["PD002", None, 950]
    assert [(n, cells[:4]) for n, cells in mine] == [(n, cells[:4]) for n, cells in theirs]
    assert list(read_rows(workbook, 1))[0][1] == ["这一页不是数据"]


def test_bad_files_and_sheets_are_refused_before_any_row(workbook, tmp_path):
    with pytest.raises(SheetMissing):
        read_rows(workbook, 3)
    with pytest.raises(SheetMissing):
        read_rows(workbook, "没有")
    fake = tmp_path / "fake.xlsx"
    fake.write_text("保单号,起保日期\nPD1,2025-01-01\n", encoding="utf-8")
    with pytest.raises(NotAWorkbook):
        read_rows(fake)
