"""A template filled in as a county would, with valid values, validates with no finding at all."""

from __future__ import annotations

import openpyxl

from tests.conftest import UNIT, clean_submission
from tr_excel import columns as K
from tr_excel.engine import validate
from tr_excel.template import write_template


def _fill(path, submission, policy) -> None:
    """Type each row into the template under its header, found by the header text (not by position)."""
    workbook = openpyxl.load_workbook(path)
    for kind in K.SHEET_KINDS:
        sheet = workbook[kind.name]
        # 汇总表: leaves of a group in row 4, every other header merged over rows 3–4 (text in row 3).
        header_rows = (3, 4) if kind is K.SUMMARY else (1,)
        columns = {cell.value: cell.column for row in header_rows for cell in sheet[row] if cell.value}
        for offset, row in enumerate(submission.rows[kind.name], start=header_rows[-1] + 1):
            for title, value in row.items():
                if value is not None:
                    sheet.cell(offset, columns[title], value)
    workbook.save(path)


def test_filled_template_yields_no_finding(tmp_path, policy):
    path = tmp_path / "繁峙县.xlsx"
    write_template(path, policy, unit=UNIT)
    _fill(path, clean_submission(policy), policy)
    report = validate([path], policy)
    assert [(f.rule, f.sheet, f.cell, f.message) for f in report.findings] == []
    assert report.inputs()[0]["projects"] == 5
