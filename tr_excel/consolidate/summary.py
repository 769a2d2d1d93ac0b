"""汇总表.xlsx: the 附件3 申报汇总表 of the selected projects, sorted, totalled and set up to print on A3 and stamp."""

from __future__ import annotations

import functools
import io
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from tr_excel import layout
from tr_excel import values as V
from tr_excel.columns import COUNT, LIST, MONEY, MONTH, RANGE, SEQ, SIGNED_MONEY, SUMMARY, YESNO, Column
from tr_excel.consolidate.projects import Project
from tr_excel.output import write_atomic
from tr_excel.policy import Policy
from tr_excel.tables import Frame

SHEET = "汇总表"
TOTAL_LABEL = "合计"
# 附件3's 合计 sums the amounts: columns 15–22 (项目投资, 资金来源, 申请专项资金, 已完成投资) and 25–28
# (投产后预期效益); 是否完工 and 完工时间 in between are not amounts.
SUMMED_COLUMNS = frozenset(range(14, 22)) | frozenset(range(24, 28))
# Every workbook written from input text: text that looks like a formula, number or URL stays text.
WORKBOOK_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}
# 10-point 宋体 needs about 14 points a line; a row never shrinks below one comfortable line.
LINE_POINTS = 14
MIN_ROW_POINTS = 20


_NARROW = re.compile("[^\u1100-\U0010ffff]+")


def display_width(text: str) -> int:
    """Width in Excel column units: a Chinese (or other wide) character takes two."""
    # The wide characters counted as what is left once the narrow runs are taken out: one pass at C speed, and
    # a text in Chinese has few runs to take out.
    return len(text) + len(_NARROW.sub("", text))


@functools.lru_cache(maxsize=4096)  # names of counties, directions, industries repeat down the sheet
def line_count(text: str, width: float) -> int:
    """Lines a wrapped cell of this column width shows (one unit is lost to the cell's padding)."""
    usable = max(1.0, width - 1)
    return sum(max(1, math.ceil(display_width(part) / usable)) for part in text.split("\n"))


def _month(when) -> str:
    return f"{when.year}.{when.month:02d}"


def column_cells(frame: Frame, column: Column) -> list[str | float | int | None]:
    """A 汇总表 column's values, one per row of the frame: typed and uniformly written where it was read, else
    as typed.

    Money and counts are numbers (the 合计 sums them), months are written "2024.06" as text (a number 2024.10
    would lose its 0), list values in the notice's wording ("—" in 申报方向). A value that could not be read
    (only there with --include-errors) is written as the county's text; a blank cell stays blank.
    """
    raws = frame.table.cells.get(column.name)
    if raws is None:
        return [None] * len(frame.table.rows)
    # Where the cells are blank (V.is_blank) was worked out as the frame was built.
    blanks = frame.blank(column.name).tolist()
    shown = _SHOWN.get(column.kind)
    if shown is None:  # shown as written
        return [None if blank else text for text, blank in zip(frame.texts(column.name), blanks, strict=True)]
    return [
        None if blank else V.text_value(raw) if typed is None else shown(typed)
        for raw, typed, blank in zip(raws, frame.values(column.name), blanks, strict=True)
    ]


# How a 汇总表 column shows a value that was read (column_cells); the other columns show the text as written.
_SHOWN = {
    MONEY: lambda units: units / V.MONEY_SCALE,  # int / int is correctly rounded, as float(Decimal) is
    SIGNED_MONEY: lambda units: units / V.MONEY_SCALE,
    COUNT: lambda count: int(count) if count == count.to_integral_value() else float(count),
    YESNO: lambda flag: "是" if flag else "否",
    MONTH: _month,
    RANGE: lambda span: f"{_month(span[0])}-{_month(span[1])}",
    LIST: lambda choice: choice,
}


def _total(projects: list[Project], column: Column) -> float:
    if column.kind == COUNT:
        counts = [project.typed(column.name) for project in projects]
        return float(sum((count for count in counts if count is not None), Decimal(0)))
    return float(Decimal(sum(project.money(column.name) for project in projects)).scaleb(-4))


@dataclass
class SummaryData:
    """What the 汇总表 shows, in plain values: small enough to send to a pool worker to write."""

    rows: list[list[str | float | int | None]]  # one list of 汇总表 column values per project, 序号 included
    totals: dict[int, float]  # column position → the 合计 row's value, for the summed columns


def summary_data(projects: list[Project]) -> SummaryData:
    """The 汇总表 values of these projects, in the order given."""
    columns = SUMMARY.columns
    by_frame: dict[int, list[list]] = {}  # id of a frame → its column_cells, column by column
    for project in projects:
        if id(project.frame) not in by_frame:
            by_frame[id(project.frame)] = [
                column_cells(project.frame, column) if column.kind != SEQ else [] for column in columns
            ]
    rows = [
        [
            offset + 1 if column.kind == SEQ else cells[project.position]
            for column, cells in zip(columns, by_frame[id(project.frame)], strict=True)
        ]
        for offset, project in enumerate(projects)
    ]
    return SummaryData(rows, {index: _total(projects, columns[index]) for index in SUMMED_COLUMNS})


def summary_bytes(data: SummaryData, policy: Policy, unit: str) -> bytes:
    """The 汇总表 workbook of these values, as .xlsx bytes."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    worksheet = workbook.add_worksheet(SHEET)
    first = layout.write_summary_header(workbook, worksheet, policy, unit)
    styles = layout.formats(workbook)
    columns = SUMMARY.columns
    widths = [layout.SUMMARY_COLUMN_WIDTHS[column.name] for column in columns]
    number_styles = [
        styles["count"] if column.kind == SEQ else layout.cell_format(styles, column.kind) for column in columns
    ]
    for offset, values in enumerate(data.rows):
        row = first + offset
        lines = 1
        for index, value in enumerate(values):
            if value is None:
                worksheet.write_blank(row, index, None, number_styles[index])
            elif isinstance(value, str):
                worksheet.write_string(row, index, value, styles["text"])
                lines = max(lines, line_count(value, widths[index]))
            else:
                worksheet.write_number(row, index, value, number_styles[index])
        # Excel and LibreOffice do not grow a row for wrapped text written by a program: size it here.
        worksheet.set_row(row, max(MIN_ROW_POINTS, lines * LINE_POINTS + 6))
    total_row = first + len(data.rows)
    worksheet.write_string(total_row, 0, TOTAL_LABEL, styles["header"])
    for index, column in enumerate(columns[1:], start=1):
        style = layout.cell_format(styles, column.kind)
        if index not in SUMMED_COLUMNS:
            worksheet.write_blank(total_row, index, None, style)
        elif not data.rows:
            worksheet.write_number(total_row, index, 0, style)
        else:
            letter = xl_col_to_name(index)
            # The computed value is stored with the formula, so viewers that never recalculate show it too.
            formula = f"=SUM({letter}{first + 1}:{letter}{total_row})"
            worksheet.write_formula(total_row, index, formula, style, data.totals[index])
    worksheet.set_row(total_row, MIN_ROW_POINTS)
    layout.write_notes(worksheet, total_row + 2, styles, policy)
    workbook.close()
    return buffer.getvalue()


def write_summary(job: tuple[SummaryData, Policy, str, Path]) -> None:
    """Write the 汇总表 of summary_data to a path (under a temporary name, renamed when whole): in a pool worker,
    while the parent writes the 审核报告."""
    data, policy, unit, path = job
    write_atomic(path, summary_bytes(data, policy, unit), force=True)
