"""退回/<name>_审核意见.xlsx: each county's own workbook with every finding filled and commented at its cell."""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import openpyxl
import python_calamine
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter

from tr_excel.findings import ERROR, SEVERITY_LABEL, WARNING, Finding
from tr_excel.reader import WORKBOOK_SUFFIXES, Workbook, open_calamine

RETURN_DIR = "退回"
RETURN_SUFFIX = "_审核意见.xlsx"
COMMENT_AUTHOR = "tr-excel 审核"
FILLS = {
    ERROR: PatternFill("solid", start_color="FFFF8080", end_color="FFFF8080"),
    WARNING: PatternFill("solid", start_color="FFFFFF00", end_color="FFFFFF00"),
}
# Windows device names: a file whose name before the first dot is one of these cannot be created there.
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"{device}{number}" for device in ("COM", "LPT") for number in (*"123456789", "¹", "²", "³")}
)
# Forbidden on Windows (\/:*?"<>|), control characters, and what a hyperlink to the file would have to
# escape (# ends the path, % [ ] ^ ` { } and spaces get percent-encoded): replaced by "_".
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f#%\[\]^`{}\s]')
# Bytes of UTF-8 kept from a name: with "_审核意见.xlsx", a clash number and the 退回 folder the path stays
# well inside the 255-byte file names of ext4/NTFS and Windows' 260-character paths.
MAX_NAME_BYTES = 120


def safe_name(file: str) -> str:
    """A file's relative path as one safe file-name stem: no extension, folders joined by "_"."""
    path = PurePosixPath(file)
    stem = str(path.with_suffix("")) if path.suffix.lower() in WORKBOOK_SUFFIXES else file
    # NFC: macOS stores names decomposed; two spellings of one name must clash, not coexist.
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", stem))
    name = name.lstrip(".")  # a leading dot hides the file on Unix
    encoded = name.encode("utf-8")[:MAX_NAME_BYTES]
    name = encoded.decode("utf-8", errors="ignore")
    if not name.strip("_"):
        name = "文件"
    if name.split(".")[0].rstrip(" ").upper() in _RESERVED:
        name = "_" + name
    return name


def return_names(books: list[Workbook]) -> dict[int, str]:
    """Book index → return copy file name, unique even on case-insensitive file systems (_2, _3… added)."""
    names: dict[int, str] = {}
    taken: set[str] = set()
    for book in books:
        base = safe_name(book.file)
        name, number = base, 1
        while name.casefold() in taken:
            number += 1
            name = f"{base}_{number}"
        taken.add(name.casefold())
        names[book.index] = name + RETURN_SUFFIX
    return names


def link_anchor(sheet: str, cell: str) -> str:
    """An Excel location such as 'Sheet 1'!V7 (quotes doubled inside the sheet name)."""
    return "'" + sheet.replace("'", "''") + "'!" + cell


@dataclass
class Annotated:
    """A return copy: its bytes and where each finding's comment went (sheet, cell)."""

    data: bytes
    anchors: dict[Finding, tuple[str, str]] = field(default_factory=dict)


def load_copy(book: Workbook) -> openpyxl.Workbook:
    """The county's workbook to annotate: everything openpyxl keeps of an .xlsx/.xlsm (macros dropped), else
    (an .xls, or a file openpyxl cannot open although it was read) a plain copy of every sheet's values."""
    if book.path.suffix.lower() != ".xls":
        try:
            # openpyxl warns about parts it cannot keep (e.g. extension lists); nothing a clerk can act on.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return openpyxl.load_workbook(book.path, keep_vba=False, rich_text=True)
        except Exception:  # openpyxl raises many kinds on files calamine reads: fall back to the values
            pass
    return _values_copy(book.path)


def _values_copy(path: Path) -> openpyxl.Workbook:
    # By content, not by name: an .xlsx renamed .xls is read as what it is (reader.open_calamine).
    source = open_calamine(path)
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for index, meta in enumerate(source.sheets_metadata):
        if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue
        sheet = source.get_sheet_by_index(index)
        worksheet = workbook.create_sheet(meta.name)
        if meta.visible != python_calamine.SheetVisibleEnum.Visible:
            worksheet.sheet_state = "hidden"
        rows = sheet.to_python(skip_empty_area=False)
        for row_index, row in enumerate(rows, start=1):
            for column_index, value in enumerate(row, start=1):
                if value is None or value == "":
                    continue
                cell = worksheet.cell(row_index, column_index)
                if isinstance(value, str):
                    # openpyxl refuses control characters in text; a text starting with "=" is a value, not
                    # a formula, so its type is set after the assignment.
                    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                    cell.data_type = "s"
                else:
                    cell.value = value
        for (top, left), (bottom, right) in sheet.merged_cell_ranges or []:
            inner = [
                rows[r][c]
                for r in range(top, min(bottom + 1, len(rows)))
                for c in range(left, min(right + 1, len(rows[r])))
                if (r, c) != (top, left)
            ]
            # Merging blanks every cell but the first: only merge where they are empty, so no value is lost.
            if all(value in (None, "") for value in inner):
                worksheet.merge_cells(
                    start_row=top + 1, start_column=left + 1, end_row=bottom + 1, end_column=right + 1
                )
    return workbook


def _merged_anchor(worksheet, cell):
    """A cell covered by a merge cannot hold a comment: the merge's top-left cell does."""
    if not isinstance(cell, MergedCell):
        return cell
    for merged in worksheet.merged_cells.ranges:
        if cell.coordinate in merged:
            return worksheet.cell(merged.min_row, merged.min_col)
    return cell


def _comment_text(findings: list[Finding]) -> str:
    lines = [f"【{SEVERITY_LABEL[f.severity]} {f.rule}】{f.message}" for f in findings]
    return ILLEGAL_CHARACTERS_RE.sub("", "\n".join(lines))


def _table_span(book: Workbook, sheet: str) -> tuple[int, int] | None:
    """1-based first and last column of the table recognised on this sheet."""
    for table in book.tables.values():
        if table.sheet == sheet and table.columns:
            return min(table.columns.values()) + 1, max(table.columns.values()) + 1
    return None


def annotate(book: Workbook, findings: list[Finding]) -> Annotated:
    """Fill and comment every finding of this book on a copy of it; the original file is only read."""
    workbook = load_copy(book)
    first_sheet = workbook.worksheets[0].title
    anchors: dict[Finding, tuple[str, str]] = {}
    at_cell: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    row_fills: dict[tuple[str, int], list[Finding]] = defaultdict(list)
    for finding in findings:
        sheet = finding.sheet if finding.sheet in workbook.sheetnames else first_sheet
        if finding.row is None or sheet != finding.sheet:
            cell = "A1"  # a finding on the whole file or sheet
        elif finding.cell:
            cell = finding.cell
        else:
            span = _table_span(book, sheet)
            cell = f"{get_column_letter(span[0] if span else 1)}{finding.row}"
            row_fills[(sheet, finding.row)].append(finding)
        worksheet = workbook[sheet]
        target = _merged_anchor(worksheet, worksheet[cell])
        anchors[finding] = (sheet, target.coordinate)
        at_cell[(sheet, target.coordinate)].append(finding)
    for (sheet, row), row_findings in row_fills.items():
        fill = _fill(row_findings)
        if fill is None:
            continue
        worksheet = workbook[sheet]
        first, last = _table_span(book, sheet) or (1, max(1, worksheet.max_column))
        for column in range(first, last + 1):
            worksheet.cell(row, column).fill = fill
    for (sheet, coordinate), cell_findings in at_cell.items():
        cell = workbook[sheet][coordinate]
        fill = _fill(cell_findings)
        if fill is not None:
            cell.fill = fill
        text = _comment_text(cell_findings)
        if cell.comment is not None:
            text = f"{cell.comment.text}\n\n{text}"  # the county's own note is kept above ours
        comment = Comment(text, COMMENT_AUTHOR)
        # Sized for the messages (about 22 Chinese characters a line at this width).
        comment.width = 320
        comment.height = min(600, 24 + 16 * sum(1 + len(line) // 22 for line in text.split("\n")))
        cell.comment = comment
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Annotated(buffer.getvalue(), anchors)


def _fill(findings: list[Finding]) -> PatternFill | None:
    severities = {finding.severity for finding in findings}
    for severity in (ERROR, WARNING):
        if severity in severities:
            return FILLS[severity]
    return None
