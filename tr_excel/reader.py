"""Read a county workbook: find each table by its header, keep every value with its sheet, row and cell."""

from __future__ import annotations

import functools
import os
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import python_calamine

from tr_excel.columns import (
    KINDS_BY_NAME,
    NOTES_SHEET,
    SHEET_KINDS,
    SUMMARY,
    SheetKind,
    header_names,
    normalise_header,
)
from tr_excel.findings import Finding, cell_ref, column_index
from tr_excel.policy import Policy
from tr_excel.rules.registry import make_finding
from tr_excel.sniff import DEFAULT_LIMITS, ENCRYPTED_XLS, Unreadable, check_readable
from tr_excel.units import Unit, parse_unit

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
# A header is looked for in the first rows only: 0–4 title rows, then up to two header rows.
HEADER_SEARCH_ROWS = 8
# Words that mark a totals row; such rows are never projects or line items.
TOTAL_WORDS = ("合计", "小计", "总计")
# The 汇总表's notes block starts with these; everything below is not data.
NOTE_STARTS = ("填表说明", "说明:", "说明：", "注:", "注：", "备注:", "备注：")
# Columns whose vertically merged cells hand-made sheets use for a group of rows: the value is
# meant for every row of the merge. Amount columns are never filled down (that would double count).
FILL_DOWN_COLUMNS = frozenset({"企业名称", "项目名称", "项目申报企业（单位）", "投资类别", "子类"})


@dataclass
class Table:
    """One recognised table: its canonical columns mapped to the sheet's real columns."""

    kind: SheetKind
    sheet: str
    sheet_index: int
    header_row: int  # 1-based Excel row of the (last) header row
    columns: dict[str, int]  # canonical column name (template form, {Y}) → 0-based column index
    titles: dict[str, str]  # canonical column name → canonical title with the year written out
    rows: list[int]  # 1-based Excel rows of the data rows, in order
    cells: dict[str, list]  # canonical column name → raw values, aligned with rows
    formula_cells: set[tuple[int, str]] = field(default_factory=set)  # (row, column) formulas without value
    total_row: int | None = None
    total_cells: dict[str, object] = field(default_factory=dict)
    unit_line: str | None = None
    missing: list[str] = field(default_factory=list)
    extra_columns: list[tuple[int, str]] = field(default_factory=list)  # (column index, header text)

    def cell(self, row: int, column: str) -> str | None:
        return cell_ref(row, self.columns.get(column))


@dataclass
class Workbook:
    """What was read from one input file."""

    file: str  # relative to its input PATH
    path: Path
    index: int
    tables: dict[str, Table] = field(default_factory=dict)
    sheet_order: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    readable: bool = True
    unit: Unit | None = None  # the 汇总表's 审核单位
    frames: list = field(default_factory=list)  # its typed tables (tables.Frame), built where it was read

    @property
    def summary(self) -> Table | None:
        return self.tables.get(SUMMARY.name)

    @property
    def is_summary_input(self) -> bool:
        """A city summary sent on to the province: only a 汇总表, under a city-level 审核单位."""
        return set(self.tables) == {SUMMARY.name} and self.unit is not None and self.unit.level == "city"


def discover(paths: list[Path]) -> list[tuple[Path, str]]:
    """Every workbook file under the PATHs as (path, name relative to its PATH), lock files skipped."""
    found: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for root in paths:
        if root.is_dir():
            candidates = sorted(_walk(root), key=lambda p: p.relative_to(root).as_posix())
            for path in candidates:
                if _is_workbook_name(path.name):
                    _add(found, seen, path, path.relative_to(root).as_posix())
        elif _is_workbook_name(root.name) or root.exists():
            _add(found, seen, root, root.name)
    return found


def _add(found: list, seen: set, path: Path, name: str) -> None:
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a link that loops back to itself (Python < 3.13)
        real = path
    if real not in seen:
        seen.add(real)
        found.append((path, display_name(name)))


def display_name(name: str) -> str:
    """A file name as text that can be written anywhere. Linux hands a name that is not UTF-8 (a zip made on
    Chinese Windows, unpacked on Linux, keeps its GBK bytes) to Python as lone surrogates, which no UTF-8
    output can hold: such a name is read as GB18030 (which includes GBK), else with U+FFFD for what is left."""
    if _is_utf8(name):
        return name
    raw = os.fsencode(name)
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _walk(root: Path):
    """Files below root; a folder visited twice through links (a loop) is entered once."""
    visited: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            info = folder.stat()
        except OSError:
            continue
        if (info.st_dev, info.st_ino) in visited:
            continue
        visited.add((info.st_dev, info.st_ino))
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir():
                    stack.append(entry)
                elif entry.is_file() or entry.is_symlink():
                    yield entry
            except OSError:
                continue


def _is_workbook_name(name: str) -> bool:
    # Excel and WPS leave "~$name.xlsx" / ".~name.xlsx" lock files beside an open workbook, and a Mac
    # leaves "._name.xlsx" (its resource fork) on a USB stick or in a zip: none is a submission.
    return name.lower().endswith(WORKBOOK_SUFFIXES) and not name.startswith(("~$", ".~", "._"))


def read_workbook(path: Path, file: str, index: int, policy: Policy) -> Workbook:
    """Read one file. Never raises for a bad file: it becomes an S01 finding."""
    book = Workbook(file=file, path=path, index=index)
    try:
        scanned: dict[str, tuple[str, bool]] = {}
        real_format = check_readable(path, policy.limits, scanned)
        _read_tables(book, policy, real_format, scanned)
    except Unreadable as reason:
        _unreadable(book, str(reason))
    except Exception as error:  # a bug of ours, met on a strange file: still one finding, never a crash
        _unreadable(book, f"{INTERNAL_ERROR}（{type(error).__name__}），请把此文件发给技术支持；其他文件照常审核")
    return book


# The start of the S01 reason for an exception of our own code (the fuzz tests look for it).
INTERNAL_ERROR = "读取时发生程序内部错误"


def _unreadable(book: Workbook, reason: str) -> None:
    book.readable = False
    book.tables.clear()
    book.sheet_order.clear()
    book.unit = None
    book.findings = [make_finding("S01", reason, file=book.file, file_index=book.index)]


def _parser_failed(error: BaseException) -> bool:
    """An exception python-calamine raised for a bad file. Its Rust panics arrive as PanicException,
    which derives from BaseException, not Exception."""
    return isinstance(error, Exception) or type(error).__name__ == "PanicException"


def open_calamine(path: Path, real_format: str | None = None):
    """The python-calamine workbook of a file, opened by its content when the name's extension lies (an
    .xlsx renamed .xls); real_format is what check_readable returned ("xlsx"/"xls"), sniffed when None.
    Raises Unreadable or what python-calamine raises."""
    if real_format is None:
        real_format = check_readable(path)
    suffix = path.suffix.lower()
    if (real_format == "xls") == (suffix == ".xls") and _is_utf8(str(path)):
        return python_calamine.CalamineWorkbook.from_path(str(path))
    # By content (or a path that is not UTF-8, which python-calamine cannot take): from the open file.
    with path.open("rb") as handle:
        return python_calamine.CalamineWorkbook.from_filelike(handle)


def _read_tables(book: Workbook, policy: Policy, real_format: str, scanned: dict[str, tuple[str, bool]]) -> None:
    try:
        calamine = open_calamine(book.path, real_format)
    except python_calamine.PasswordError as error:
        raise Unreadable(ENCRYPTED_XLS) from error
    except BaseException as error:  # calamine raises many kinds for a broken file
        if not _parser_failed(error):
            raise
        reason = f"文件已损坏，无法作为 Excel 工作簿打开（{type(error).__name__}），请重新保存后报送"
        raise Unreadable(reason) from error
    metadata = calamine.sheets_metadata
    max_sheets = policy.limits.get("max_sheets", DEFAULT_LIMITS["max_sheets"])
    if len(metadata) > max_sheets:
        raise Unreadable(f"工作簿有 {len(metadata)} 个工作表，超过上限 {max_sheets} 个，请删除多余的工作表后重新报送")
    try:
        formulas = _formulas_without_value(book.path, scanned) if real_format == "xlsx" else {}
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as error:
        raise Unreadable(f"文件已损坏，无法解压（{type(error).__name__}），请重新保存后报送") from error
    candidates: list[tuple[Table, bool]] = []
    for sheet_index, meta in enumerate(metadata):
        if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue
        if normalise_header(meta.name) == NOTES_SHEET:
            continue
        try:
            sheet = calamine.get_sheet_by_index(sheet_index)
            _check_size(sheet, meta.name, policy)
            rows = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
        except Unreadable:
            raise
        except BaseException as error:
            if not _parser_failed(error):
                raise
            raise Unreadable(f"工作表“{meta.name}”无法读取（{type(error).__name__}），请重新保存后报送") from error
        table = _find_table(rows, merged, meta.name, sheet_index, policy)
        if table is None:
            continue
        table.formula_cells = {
            (row, name)
            for (row, col) in formulas.get(meta.name, ())
            for name, index in table.columns.items()
            if index == col and row > table.header_row
        }
        visible = meta.visible == python_calamine.SheetVisibleEnum.Visible
        candidates.append((table, visible))
        book.sheet_order.append(meta.name)
    _choose_tables(book, candidates, policy)


def _check_size(sheet, name: str, policy: Policy) -> None:
    """The sniffer has bounded an .xlsx already; this bounds an .xls before its cells become Python lists."""
    limits = {**DEFAULT_LIMITS, **policy.limits}
    # total_height/total_width are the last row's and column's 0-based index: the sheet is read from A1.
    height, width = sheet.total_height + 1, sheet.total_width + 1
    if height > limits["max_rows"]:
        raise Unreadable(
            f"工作表“{name}”有 {height} 行，超过上限 {limits['max_rows']} 行；如是误填或多余内容，请删除后重新保存"
        )
    if width > limits["max_columns"]:
        raise Unreadable(
            f"工作表“{name}”有 {width} 列，超过上限 {limits['max_columns']} 列；如是误填或多余内容，请删除后重新保存"
        )
    if height * width > limits["max_cells"]:
        raise Unreadable(
            f"工作表“{name}”的使用区域有 {height} 行 × {width} 列，超过上限 {limits['max_cells']} 个单元格，"
            "请删除表格以外多余的行、列和内容后重新保存"
        )


def _choose_tables(book: Workbook, candidates: list[tuple[Table, bool]], policy: Policy) -> None:
    """One table per kind: the first visible one; a hidden one only when no visible one exists."""
    by_kind: dict[str, list[tuple[Table, bool]]] = {}
    for table, visible in candidates:
        by_kind.setdefault(table.kind.name, []).append((table, visible))
    for kind in SHEET_KINDS:
        tables = by_kind.get(kind.name, [])
        visible = [table for table, is_visible in tables if is_visible]
        chosen = visible[0] if visible else (tables[0][0] if tables else None)
        if chosen is None:
            continue
        book.tables[kind.name] = chosen
        for duplicate in visible[1:]:
            book.findings.append(
                make_finding(
                    "S08",
                    f"工作簿中有两个“{kind.name}”表（“{chosen.sheet}”和“{duplicate.sheet}”），无法判断以哪个为准，"
                    f"请删除多余的一个",
                    file=book.file,
                    sheet=duplicate.sheet,
                    file_index=book.index,
                    sheet_index=duplicate.sheet_index,
                    value=duplicate.sheet,
                    expected=chosen.sheet,
                )
            )
    if book.summary is not None:
        book.unit = parse_unit(book.summary.unit_line, policy)
    for table in book.tables.values():
        _structure_findings(book, table, policy)
    present = set(book.tables)
    if not book.is_summary_input:
        for kind in SHEET_KINDS:
            if kind.required and kind.name not in present:
                book.findings.append(
                    make_finding(
                        "S02",
                        f"缺少“{kind.name}”表（按表头识别，未找到含“{kind.name}”各列的工作表）",
                        file=book.file,
                        sheet=kind.name,
                        file_index=book.index,
                        expected=kind.name,
                    )
                )


def _structure_findings(book: Workbook, table: Table, policy: Policy) -> None:
    common = dict(file=book.file, sheet=table.sheet, file_index=book.index, sheet_index=table.sheet_index)
    if normalise_header(table.sheet) != table.kind.name:
        book.findings.append(
            make_finding(
                "S07",
                f"工作表“{table.sheet}”按表头识别为“{table.kind.name}”表",
                value=table.sheet,
                expected=table.kind.name,
                **common,
            )
        )
    for index, text in table.extra_columns:
        book.findings.append(
            make_finding(
                "S04",
                f"“{table.kind.name}”表有规定之外的列“{text}”，已忽略",
                row=table.header_row,
                column=text,
                cell=cell_ref(table.header_row, index),
                value=text,
                column_index=index,
                **common,
            )
        )
    for name in table.missing:
        title = table.titles[name]
        book.findings.append(
            make_finding(
                "S03",
                f"“{table.kind.name}”表缺少“{title}”列",
                row=table.header_row,
                column=title,
                expected=title,
                **common,
            )
        )


def _text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


# The same header texts (and the numbers and names of the first data rows) come in every workbook of a batch.
# typed: True and 1 are different cells.
_header = functools.lru_cache(maxsize=8192, typed=True)(normalise_header)


def _find_table(rows: list[list], merged: list, sheet_name: str, sheet_index: int, policy: Policy) -> Table | None:
    """Recognise the sheet's kind from its header and collect its data rows."""
    best = None  # (score, kind, header_index, last_header_index, names, alternatives)
    search = min(len(rows), HEADER_SEARCH_ROWS)
    # Each row of the search normalised once: a row is the upper header row of one layout, the lower of another.
    normalised = [[_header(v, policy.data_year) for v in row] for row in rows[: search + 1]]
    known = _all_headers()
    for top in range(search):
        single = normalised[top]
        layouts = [(top, single, _alternatives(single))]
        if top + 1 < len(rows):
            below = normalised[top + 1]
            # A two-level header: a leaf in the lower row names the column; a cell merged over both
            # rows has its text in the upper row only.
            names = [low or high for high, low in zip(single, below, strict=False)]
            alternatives = _alternatives(names)
            if not known.isdisjoint(below):  # the lower row is a header row too, not the first data row
                for index, (high, low) in enumerate(zip(single, below, strict=False)):
                    # A leaf under a group that names the column itself: 表二's 未完成投资额 is a group over 投资额
                    # and 承诺完成时间（开票时间）, and its 投资额 is the column 未完成投资额.
                    group = _known_forms(high) if low and high and low != high else []
                    if group:
                        alternatives.setdefault(index, []).extend(group)
            layouts.append((top + 1, names, alternatives))
        for last, names, alternatives in layouts:
            present = set(names)
            for kind in SHEET_KINDS:
                score = _score(kind, names, present, alternatives)
                if score and (best is None or score > best[0]):
                    best = (score, kind, top, last, names, alternatives)
    if best is None:
        return None
    score, kind, top, last, names, alternatives = best
    # Half of a kind's columns must be there for the sheet to count as that kind.
    if score < max(3, len(kind.columns) // 2):
        return None
    columns: dict[str, int] = {}
    # Headers as written first, then the others by their alternative forms (所在县（市、区） without its
    # bracket, a leaf by its group): a sheet with both 企业名称 and 企业名称（盖章） reads the first as 企业名称.
    for index, name in enumerate(names):
        column = _match(kind, name) if name else None
        if column is not None and column.name not in columns:
            columns[column.name] = index
    for index, forms in alternatives.items():
        if index in columns.values():
            continue
        column = next(filter(None, (_match(kind, form) for form in forms)), None)
        if column is not None and column.name not in columns:
            columns[column.name] = index
    extras = [index for index, name in enumerate(names) if name and index not in columns.values()]
    table = Table(
        kind=kind,
        sheet=sheet_name,
        sheet_index=sheet_index,
        header_row=last + 1,
        columns=columns,
        titles={column.name: column.title(policy.data_year) for column in kind.columns},
        rows=[],
        cells={name: [] for name in columns},
        missing=[column.name for column in kind.columns if column.name not in columns],
    )
    table.extra_columns = [(index, _text(rows[top][index]) or _text(rows[last][index])) for index in extras]
    if kind is SUMMARY:
        table.unit_line = _unit_line(rows[:top])
    _fill_merged_down(rows, merged, last, columns)
    _collect_rows(table, rows, last + 1)
    return table


def _score(kind: SheetKind, names: list[str], present: set[str], alternatives: dict[int, list[str]]) -> int:
    # The header texts the kind knows, met in a set intersection with present (set(names), made once for every
    # kind), and the few headers the kind knows only by an alternative form (see _alternatives).
    headers = _headers(kind.name)
    found = {headers[name].name for name in headers.keys() & present}
    for index, forms in alternatives.items():
        if names[index] not in headers:
            known = next((form for form in forms if form in headers), None)
            if known is not None:
                found.add(headers[known].name)
    return len(found)


# A last bracket that explains a header rather than naming it: 所在县（市、区）, 就业人数（人）, 企业名称（盖章）,
# 起止年月（年.月）. (Units and 是/否 are dropped by normalise_header already; a canonical name that ends in a
# bracket, such as 设备投资（含软硬件投资）, is matched whole first.)
_LAST_BRACKET = re.compile(r"\([^()]*\)$")


def _bare(name: str) -> str:
    """A normalised header without its last bracket; "" when it has none or nothing is left."""
    return _LAST_BRACKET.sub("", name) if name.endswith(")") else ""


@functools.cache
def _all_headers() -> frozenset[str]:
    """Every header text any sheet kind knows."""
    return frozenset(name for kind in SHEET_KINDS for name in _headers(kind.name))


def _known_forms(name: str) -> list[str]:
    """The forms of a header cell that some sheet kind knows: itself, or without its last bracket."""
    return [form for form in (name, _bare(name)) if form and form in _all_headers()]


def _alternatives(names: list[str]) -> dict[int, list[str]]:
    """Position → the other form a header cell is known by: without its last bracket."""
    return {
        index: [bare]
        for index, name in enumerate(names)
        if name.endswith(")") and (bare := _bare(name)) in _all_headers()
    }


@functools.cache
def _headers(kind_name: str) -> dict[str, object]:
    """Every normalised header text that names one of the kind's columns → that column (the first, as before)."""
    headers: dict[str, object] = {}
    for column in KINDS_BY_NAME[kind_name].columns:
        for name in header_names(column):
            headers.setdefault(name, column)
    return headers


def _match(kind: SheetKind, name: str):
    return _headers(kind.name).get(name)


# The 审核单位 line of 附件3; hand-made sheets also say 填报单位 or 报送单位.
_UNIT_LABEL = re.compile(r"(?:审核|填报|报送)单位\s*(?:\(公章\))?\s*[:：]?")
_MONEY_UNIT = re.compile(r"单位\s*[:：]\s*万元")


def _unit_line(rows: list[list]) -> str | None:
    """The unit named on the 审核单位 line above the header: after the label in the same cell, or in the next
    filled cell of the row when the label has a cell of its own."""
    for row in rows:
        texts = [unicodedata.normalize("NFKC", _text(value)).strip() for value in row]
        for index, text in enumerate(texts):
            label = _UNIT_LABEL.search(text)
            if label is None or _MONEY_UNIT.fullmatch(text):
                continue
            rest = _MONEY_UNIT.split(text[label.end() :])[0].strip()
            if not rest:
                rest = next((t for t in texts[index + 1 :] if t and not _MONEY_UNIT.fullmatch(t)), "")
            return rest or None
    return None


def _fill_merged_down(rows: list[list], merged: list, last_header: int, columns: dict[str, int]) -> None:
    fill_indexes = {index for name, index in columns.items() if name in FILL_DOWN_COLUMNS}
    for (top, left), (bottom, right) in merged:
        if top <= last_header or left != right or left not in fill_indexes:
            continue
        value = rows[top][left] if top < len(rows) and left < len(rows[top]) else None
        for row in range(top + 1, min(bottom + 1, len(rows))):
            if left < len(rows[row]) and rows[row][left] in (None, ""):
                rows[row][left] = value


def _is_total_word(value) -> bool:
    # 合计, 小计 and 总计 all have 计, which NFKC leaves as it is: every other cell is turned away at C speed.
    if not isinstance(value, str) or "计" not in value:
        return False
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).rstrip(":：")
    # 表二 as printed labels its subtotals "土建投资 小计：" or "一、设备投资小计", and counties write "合计（万元）":
    # a short cell that starts or ends with the word is a totals row too. Names of real items are longer.
    return len(text) <= 12 and (text.startswith(TOTAL_WORDS) or text.endswith(TOTAL_WORDS))


def _has_content(value) -> bool:
    return value is not None and value != "" and not (isinstance(value, str) and not value.strip())


def _collect_rows(table: Table, rows: list[list], start: int) -> None:
    indexes = list(table.columns.items())
    names = [name for name, _ in indexes]
    first_column = min(table.columns.values(), default=0)
    marker_columns = [
        table.columns[name]
        for name in (
            "序号", "投资类别", "子类", "名称", "企业名称", "项目申报企业（单位）", "时间节点", "智能制造环节名称"
        )
        if name in table.columns
    ]
    width = max([index for _, index in indexes] + [first_column]) + 1
    pick = itemgetter(*[index for _, index in indexes], first_column)  # always a tuple; the last is dropped
    markers = itemgetter(*marker_columns, first_column)  # the same, when there is a marker column at all
    kept: list[tuple] = []
    for position in range(start, len(rows)):
        row = rows[position]
        if len(row) < width:  # calamine's rows are as wide as the sheet; a hand-built list may not be
            row = [*row, *([None] * (width - len(row)))]
        values = pick(row)[:-1]
        if not any(map(_has_content, values)):
            continue
        first = row[first_column]
        if isinstance(first, str) and first.strip().startswith(NOTE_STARTS):
            break  # the 填表说明 block: nothing below is data
        # A sheet can be recognised without any marker column: then no row is a totals row.
        if marker_columns and any(map(_is_total_word, markers(row)[:-1])):
            if table.kind is SUMMARY and table.total_row is None:
                table.total_row = position + 1
                table.total_cells = dict(zip(names, values, strict=True))
            continue
        if table.kind is SUMMARY and _is_note_line(row, table):
            continue
        table.rows.append(position + 1)
        kept.append(values)
    # One column at a time, at C speed, instead of one append per cell.
    for name, column in zip(names, zip(*kept, strict=True), strict=False):
        table.cells[name] = list(column)


def _is_note_line(row: list, table: Table) -> bool:
    """A 填表说明 line: text in column A only, and not a 序号."""
    seq_index = table.columns.get("序号")
    others = [v for i, v in enumerate(row) if i != seq_index and v not in (None, "")]
    if others or seq_index is None or seq_index >= len(row):
        return False
    value = row[seq_index]
    return isinstance(value, str) and not value.strip().isdigit()


_SHEET_XML_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)


def _formulas_without_value(path: Path, scanned: dict[str, tuple[str, bool]]) -> dict[str, set[tuple[int, int]]]:
    """(row, column) of every formula cell that has no cached value, per sheet name, of an xlsx/xlsm.

    python-calamine returns '' for such a cell, which would read as blank or zero; the value is in
    fact unknown (the file was written by a program that does not calculate), so it is an S05. scanned is
    what check_readable found (worksheet part → its sheet name, "<f" in it): only a part with a formula is
    inflated again, and a workbook without any is not opened again at all.
    """
    with_formulas = [(part, sheet_name) for part, (sheet_name, formula) in scanned.items() if formula]
    found: dict[str, set[tuple[int, int]]] = {}
    if not with_formulas:
        return found
    with zipfile.ZipFile(path) as archive:
        for part, sheet_name in with_formulas:
            try:
                data = archive.read(part)
            except KeyError:
                continue
            cells = set()
            for match in _SHEET_XML_CELL.finditer(data):
                attributes, body = match.group(1), match.group(2) or b""
                if b"<f" not in body:
                    continue
                value = re.search(rb"<v>(.*?)</v>", body, re.S)
                if value is not None and value.group(1) != b"":
                    continue
                ref = re.search(rb'\br="([A-Z]+)(\d+)"', attributes)
                if ref:
                    cells.add((int(ref.group(2)), column_index(ref.group(1).decode())))
            if cells:
                found[sheet_name] = cells
    return found


__all__ = ["KINDS_BY_NAME", "Table", "Workbook", "discover", "open_calamine", "read_workbook"]
