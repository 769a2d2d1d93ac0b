"""退回/<name>_审核意见.xlsx: each county's own workbook with every finding filled and commented at its cell."""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import python_calamine

from tr_excel.consolidate.patch import XlsxPatch
from tr_excel.findings import ERROR, SEVERITY_LABEL, WARNING, Finding, column_index, column_letter
from tr_excel.output import write_atomic
from tr_excel.reader import WORKBOOK_SUFFIXES, Workbook, open_calamine
from tr_excel.sniff import ZIP_MAGIC

# openpyxl is imported where a copy needs it (a workbook the patcher cannot edit, or an .xls): most copies are
# patched, and consolidate starts its workers sooner without it (a tenth of a second of imports).
if TYPE_CHECKING:
    import openpyxl
    from openpyxl.comments import Comment

RETURN_DIR = "退回"
RETURN_SUFFIX = "_审核意见.xlsx"
COMMENT_AUTHOR = "tr-excel 审核"
COLOURS = {ERROR: "FFFF8080", WARNING: "FFFFFF00"}  # ARGB fill of a cell with a finding, by severity
# Control characters, which XML 1.0 cannot hold (openpyxl refuses them in a cell: its ILLEGAL_CHARACTERS_RE).
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_CELL = re.compile(r"([A-Z]{1,3})([0-9]+)")
COMMENT_WIDTH = 320  # pixels: about 22 Chinese characters a line
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


def _fills() -> dict:
    """openpyxl's fill of each severity (COLOURS)."""
    from openpyxl.styles import PatternFill

    return {severity: PatternFill("solid", start_color=argb, end_color=argb) for severity, argb in COLOURS.items()}


def safe_name(file: str) -> str:
    """A file's relative path as one safe file-name stem: no extension, folders joined by "_"."""
    path = PurePosixPath(file)
    stem = str(path.with_suffix("")) if path.suffix.lower() in WORKBOOK_SUFFIXES else file
    # Control and format characters (a right-to-left override can make "…exe.xlsx" read "…xlsx.exe"),
    # and the lone surrogates of a name that was not UTF-8 on disk: "_" too.
    stem = "".join("_" if unicodedata.category(char).startswith("C") else char for char in stem)
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
    """A return copy: its bytes, where each finding's comment went (sheet, cell) and, when the copy holds only
    the values of the county's workbook, a note saying why (shown in 退回清单)."""

    data: bytes
    anchors: dict[Finding, tuple[str, str]] = field(default_factory=dict)
    note: str | None = None


# openpyxl holds every cell of a workbook it loads as a Python object of about 450 bytes: a workbook at the
# [limits] max_cells of 2,000,000 cells took 1 GB and 30 s to annotate. When a copy cannot be patched (patch.py)
# and the workbook is above the policy's max_annotated_cells, it is streamed row by row instead, values only
# (about 350 MB and 17 s there).
DEFAULT_MAX_ANNOTATED_CELLS = 300_000
VALUES_ONLY = "退回文件只含原文件各单元格的值，未保留原格式、公式和批注"
NOTE_XLS = "原文件为 .xls 格式，" + VALUES_ONLY
NOTE_LARGE = "原文件有 {cells} 个单元格（超过 {limit} 个），" + VALUES_ONLY
NOTE_UNCOPIED = "原文件的格式无法完整复制，" + VALUES_ONLY
# Characters a sheet title cannot hold (openpyxl refuses them).
_BAD_TITLE = re.compile(r"[\\*?:/\[\]]")


def annotate(book: Workbook, findings: list[Finding], max_cells: int = DEFAULT_MAX_ANNOTATED_CELLS) -> Annotated:
    """Fill and comment every finding of this book on a copy of it; the original file is only read.

    An .xlsx/.xlsm is copied part by part with only the marked sheets, the styles and the comments edited
    (patch.py: everything kept, macros dropped). One the patcher cannot edit goes through openpyxl (what it
    keeps) when its sheets' used area is at most max_cells cells. An .xls, a larger workbook, or one openpyxl
    cannot open or save either comes back as the values of its cells, with a note saying so.
    """
    if book.path.suffix.lower() == ".xls":
        return _annotate_values(book, findings, NOTE_XLS)
    try:
        return _annotate_patch(book, findings, XlsxPatch(book.path))
    except Exception:  # Unsupported, or a bug of ours met on a strange file: openpyxl still makes the copy
        pass
    cells = used_cells(book.path)
    if cells > max_cells:
        return _annotate_values(book, findings, NOTE_LARGE.format(cells=cells, limit=max_cells))
    try:
        import openpyxl

        # openpyxl warns about parts it cannot keep (e.g. extension lists); nothing a clerk can act on.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(book.path, keep_vba=False, rich_text=True)
            return _annotate_workbook(book, findings, workbook)
    except Exception:  # openpyxl raises many kinds on files calamine reads: fall back to the values
        return _annotate_values(book, findings, NOTE_UNCOPIED)


def return_job(book: Workbook, findings: list[Finding], max_cells: int, path: Path) -> tuple:
    """What write_return needs, small enough to send to a pool worker: the book without its values and typed
    frames (a copy needs only where its tables are), its findings, and where its copy goes."""
    tables = {
        kind: replace(table, rows=[], cells={}, formula_cells=set(), total_cells={})
        for kind, table in book.tables.items()
    }
    light = Workbook(file=book.file, path=book.path, index=book.index, tables=tables, readable=book.readable)
    return light, findings, max_cells, path


def write_return(job: tuple) -> tuple[dict[Finding, tuple[str, str]], str | None]:
    """Annotate one book (a job of return_job) and write its copy under a temporary name, renamed when whole:
    run in a pool worker, so only where each comment went and the note come back, not the copy's bytes."""
    book, findings, max_cells, path = job
    annotated = annotate(book, findings, max_cells)
    write_atomic(path, annotated.data, force=True)
    return annotated.anchors, annotated.note


def _open(path: Path):
    """The python-calamine workbook of a file the reader has read (and checked against the limits): opened by
    its content, so that an .xlsx renamed .xls is read as what it is, without checking it all over again."""
    with path.open("rb") as handle:
        real_format = "xlsx" if handle.read(4) == ZIP_MAGIC else "xls"
    return open_calamine(path, real_format)


def used_cells(path: Path) -> int:
    """The used area (rows × columns from A1) of every worksheet together, as [limits] max_cells counts it."""
    source = _open(path)
    total = 0
    for index, meta in enumerate(source.sheets_metadata):
        if meta.typ == python_calamine.SheetTypeEnum.WorkSheet:
            end = source.get_sheet_by_index(index).end
            if end is not None:
                total += (end[0] + 1) * (end[1] + 1)
    return total


def _targets(book: Workbook, findings: list[Finding], sheets: list[str]) -> dict[str, list[tuple]]:
    """Where each finding goes, sheet by sheet: (finding, row, column, whole row), 1-based. A finding on the
    whole file, or on a sheet the copy does not have, goes to A1 of the first sheet; one on a row without a
    cell to the first column of the row's table, with the row filled across the table."""
    placed: dict[str, list[tuple]] = defaultdict(list)
    for finding in findings:
        sheet = finding.sheet if finding.sheet in sheets else sheets[0]
        if finding.row is None or sheet != finding.sheet:
            placed[sheet].append((finding, 1, 1, False))
        elif finding.cell:
            letters, digits = _CELL.fullmatch(finding.cell).groups()
            placed[sheet].append((finding, int(digits), column_index(letters) + 1, False))
        else:
            span = _table_span(book, sheet)
            placed[sheet].append((finding, finding.row, span[0] if span else 1, True))
    return placed


@dataclass
class _Plan:
    """What one sheet of a copy gets: each finding's cell, the severity each cell is filled with, and the
    findings commented at each cell (1-based (row, column); a cell covered by a merge gives way to the merge's
    top-left cell, the one that can hold a comment)."""

    anchors: dict[Finding, str]
    fills: dict[tuple[int, int], str]
    comments: dict[tuple[int, int], list[Finding]]


def _plan(book: Workbook, sheet: str, placed, merges: list[tuple[int, int, int, int]], width) -> _Plan:
    """The marks of one sheet from _targets' placements; width() is the sheet's last column, asked for only
    when the sheet has no recognised table (a finding on a whole row fills the row across the table)."""
    plan = _Plan({}, {}, defaultdict(list))
    row_fills: dict[int, list[Finding]] = defaultdict(list)
    for finding, row, column, whole_row in placed:
        top, left = _top_left(merges, row, column)
        plan.anchors[finding] = f"{column_letter(left - 1)}{top}"
        plan.comments[top, left].append(finding)
        if whole_row:
            row_fills[row].append(finding)
    if row_fills:
        first, last = _table_span(book, sheet) or (1, max(1, width()))
        for row, row_findings in row_fills.items():
            severity = _severity(row_findings)
            if severity is not None:
                plan.fills.update(((row, column), severity) for column in range(first, last + 1))
    for cell, cell_findings in plan.comments.items():
        severity = _severity(cell_findings)
        if severity is not None:
            plan.fills[cell] = severity
    return plan


def _annotate_patch(book: Workbook, findings: list[Finding], patch: XlsxPatch) -> Annotated:
    """The copy as patch.py writes it: the same cells as _annotate_workbook's filled and commented."""
    anchors: dict[Finding, tuple[str, str]] = {}
    for sheet, placed in _targets(book, findings, patch.sheet_names).items():
        plan = _plan(book, sheet, placed, patch.merged(sheet), lambda sheet=sheet: patch.max_column(sheet))
        anchors.update((finding, (sheet, cell)) for finding, cell in plan.anchors.items())
        for (row, column), severity in plan.fills.items():
            patch.fill(sheet, row, column, COLOURS[severity])
        for (row, column), cell_findings in plan.comments.items():
            # A comment the county left there is kept above ours: the patcher joins the two.
            text = _comment_text(cell_findings)
            patch.comment(sheet, row, column, text, COMMENT_AUTHOR, COMMENT_WIDTH, _comment_height(text))
    return Annotated(patch.save(), anchors)


def _annotate_workbook(book: Workbook, findings: list[Finding], workbook: openpyxl.Workbook) -> Annotated:
    fills = _fills()
    anchors: dict[Finding, tuple[str, str]] = {}
    for sheet, placed in _targets(book, findings, [ws.title for ws in workbook.worksheets]).items():
        worksheet = workbook[sheet]
        merges = [(r.min_row, r.min_col, r.max_row, r.max_col) for r in worksheet.merged_cells.ranges]
        plan = _plan(book, sheet, placed, merges, lambda worksheet=worksheet: worksheet.max_column)
        anchors.update((finding, (sheet, cell)) for finding, cell in plan.anchors.items())
        for (row, column), severity in plan.fills.items():
            worksheet.cell(row, column).fill = fills[severity]
        for (row, column), cell_findings in plan.comments.items():
            cell = worksheet.cell(row, column)
            cell.comment = _comment(cell_findings, cell.comment.text if cell.comment is not None else None)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Annotated(buffer.getvalue(), anchors)


def _annotate_values(book: Workbook, findings: list[Finding], note: str) -> Annotated:
    """The copy as every worksheet's values, written row by row (openpyxl's write-only mode keeps one row in
    memory), with the fills, comments and merges of the annotated copy."""
    import openpyxl
    from openpyxl.worksheet.cell_range import CellRange

    fills = _fills()
    source = _open(book.path)
    sheets = [
        (index, meta)
        for index, meta in enumerate(source.sheets_metadata)
        if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
    ]
    visible = [meta.visible == python_calamine.SheetVisibleEnum.Visible for _, meta in sheets]
    names = [meta.name for _, meta in sheets] or ["Sheet1"]
    placed = _targets(book, findings, names)
    workbook = openpyxl.Workbook(write_only=True)
    anchors: dict[Finding, tuple[str, str]] = {}
    for position, name in enumerate(names):
        worksheet = workbook.create_sheet(_BAD_TITLE.sub("_", ILLEGAL_CHARACTERS.sub("", name)) or "Sheet")
        if not sheets:
            rows, merges = [], []
        else:
            sheet = source.get_sheet_by_index(sheets[position][0])
            rows = sheet.to_python(skip_empty_area=False)
            merges = _empty_merges(rows, sheet.merged_cell_ranges or [])
            # A workbook needs a visible sheet: the first stays visible when the county hid them all.
            if not visible[position] and (any(visible) or position > 0):
                worksheet.sheet_state = "hidden"
        plan = _plan(book, name, placed.get(name, ()), merges, lambda rows=rows: max(map(len, rows), default=0))
        anchors.update((finding, (worksheet.title, cell)) for finding, cell in plan.anchors.items())
        marks: dict[int, dict[int, tuple]] = defaultdict(dict)  # row → column → (fill, comment)
        for row, column in plan.fills.keys() | plan.comments.keys():
            severity, cell_findings = plan.fills.get((row, column)), plan.comments.get((row, column))
            marks[row][column] = (
                fills[severity] if severity is not None else None,
                _comment(cell_findings) if cell_findings else None,
            )
        for row in range(1, max(len(rows), max(marks, default=0)) + 1):
            values = rows[row - 1] if row <= len(rows) else []
            row_marks = marks.get(row, {})
            width = max(len(values), max(row_marks, default=0))
            worksheet.append(
                [
                    _value_cell(worksheet, values[column - 1] if column <= len(values) else None, row_marks.get(column))
                    for column in range(1, width + 1)
                ]
            )
        del rows
        for top, left, bottom, right in merges:
            worksheet.merged_cells.add(CellRange(min_row=top, min_col=left, max_row=bottom, max_col=right))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Annotated(buffer.getvalue(), anchors, note)


def _empty_merges(rows: list[list], ranges) -> list[tuple[int, int, int, int]]:
    """The merged ranges (1-based top, left, bottom, right) whose cells but the first are all empty: merging
    blanks every cell but the first, so a merge over values is left out and no value is lost."""
    merges = []
    for (top, left), (bottom, right) in ranges:
        inner = (
            rows[r][c]
            for r in range(top, min(bottom + 1, len(rows)))
            for c in range(left, min(right + 1, len(rows[r])))
            if (r, c) != (top, left)
        )
        if all(value in (None, "") for value in inner):
            merges.append((top + 1, left + 1, bottom + 1, right + 1))
    return merges


def _value_cell(worksheet, value, mark: tuple | None):
    """One value of a values copy, as appended to a write-only sheet: a cell where it needs one."""
    from openpyxl.cell.cell import WriteOnlyCell

    if isinstance(value, str):
        # openpyxl refuses control characters in text, and writes a carriage return as is, which XML reads
        # back as a line feed: Excel's own escape keeps it.
        value = ILLEGAL_CHARACTERS.sub("", value).replace("\r", "_x000D_") or None
    if mark is None and not isinstance(value, str):
        return value
    cell = WriteOnlyCell(worksheet, value)
    if isinstance(value, str):
        cell.data_type = "s"  # a text starting with "=" is a value, not a formula
    if mark is not None:
        fill, comment = mark
        if fill is not None:
            cell.fill = fill
        if comment is not None:
            cell.comment = comment
    return cell


def _top_left(merges: list[tuple[int, int, int, int]], row: int, column: int) -> tuple[int, int]:
    """A cell covered by a merge (top, left, bottom, right) cannot hold a comment: the merge's top-left cell."""
    for top, left, bottom, right in merges:
        if top <= row <= bottom and left <= column <= right:
            return top, left
    return row, column


def _comment_text(findings: list[Finding]) -> str:
    lines = [f"【{SEVERITY_LABEL[f.severity]} {f.rule}】{f.message}" for f in findings]
    return ILLEGAL_CHARACTERS.sub("", "\n".join(lines))


def _comment_height(text: str) -> int:
    """Pixels for the text at COMMENT_WIDTH (about 22 Chinese characters a line), at most 600."""
    return min(600, 24 + 16 * sum(1 + len(line) // 22 for line in text.split("\n")))


def _comment(findings: list[Finding], existing: str | None = None) -> Comment:
    """The comment of a cell: every finding there, below the county's own note when it had one."""
    from openpyxl.comments import Comment

    text = _comment_text(findings)
    if existing:
        text = f"{existing}\n\n{text}"
    comment = Comment(text, COMMENT_AUTHOR)
    comment.width = COMMENT_WIDTH
    comment.height = _comment_height(text)
    return comment


def _table_span(book: Workbook, sheet: str) -> tuple[int, int] | None:
    """1-based first and last column of the table recognised on this sheet."""
    for table in book.tables.values():
        if table.sheet == sheet and table.columns:
            return min(table.columns.values()) + 1, max(table.columns.values()) + 1
    return None


def _severity(findings: list[Finding]) -> str | None:
    """The severity whose colour a cell with these findings is filled with (none for 提示 alone)."""
    severities = {finding.severity for finding in findings}
    return next((severity for severity in (ERROR, WARNING) if severity in severities), None)
