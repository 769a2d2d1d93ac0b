"""Turn a recognised table's raw cells into typed columns, noting every cell that cannot be read."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain

import numpy as np
import pandas as pd

from tr_excel import columns as K
from tr_excel import values as V
from tr_excel.findings import Finding
from tr_excel.policy import Policy
from tr_excel.reader import Table, Workbook
from tr_excel.rules.registry import make_finding

# The parser and the rule its failures belong to, by column kind.
_PARSERS = {
    K.PERCENT: (V.parse_percent, "F03"),
    K.COUNT: (V.parse_count, "F03"),
    K.MONTH: (V.parse_when, "F04"),
    K.RANGE: (V.parse_month_range, "F04"),
    K.NODE: (V.parse_node, "F04"),
    K.YESNO: (V.parse_yesno, "F02"),
    K.CONTACT: (V.parse_contact, "F05"),
    K.USCC: (V.parse_uscc, "F06"),
}
_WARNING_RULE = {K.COUNT: "F10", K.MONTH: "F11"}


@dataclass
class Frame:
    """A table with typed values: one DataFrame row per data row, plus the cells that could not be read.

    Money is an exact int of 0.0001 万元 (blank = 0); an unreadable cell is NA, so the rules that
    need it skip it and each mistake is reported once (rules.md).
    """

    book: Workbook
    table: Table
    columns: dict[str, np.ndarray | pd.arrays.IntegerArray]  # the typed columns, in df's order (see data_frame)
    findings: list[Finding] = field(default_factory=list)
    bad: set[tuple[int, str]] = field(default_factory=set)  # (row, column) with an F finding or S05
    blanks: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # column → blank mask (see blank())

    @property
    def kind(self) -> K.SheetKind:
        return self.table.kind

    @cached_property
    def df(self) -> pd.DataFrame:
        """The typed columns as a DataFrame, built where it is first needed: the workers send the columns
        (cheaper to send than a DataFrame, and most rules read them stacked, not frame by frame)."""
        return data_frame(self.columns, len(self.table.rows))

    def title(self, column: str) -> str:
        return self.table.titles[column]

    def finding(self, rule: str, message: str, row: int | None, column: str | None, **extra) -> Finding:
        """A finding at a row (and cell) of this table, attached to that row's project."""
        if row is not None:
            row = int(row)  # rules iterate DataFrame columns, which yield numpy ints that JSON cannot write
        where = dict(
            file=self.book.file,
            sheet=self.table.sheet,
            file_index=self.book.index,
            sheet_index=self.table.sheet_index,
            row=row,
        )
        if column is not None:
            where["column"] = self.title(column)
            where["cell"] = self.table.cell(row, column) if row is not None else None
            where["column_index"] = self.table.columns.get(column, -1)
        if row is not None and row in self.row_index:
            enterprise, ekey, project, pkey = self._keys[self.row_index[row]]
            where["enterprise"] = enterprise
            where["enterprise_key"] = ekey or None
            if self.kind.per_project:
                where["project"] = project
                where["project_key"] = (ekey, pkey)
        where.update(extra)
        return make_finding(rule, message, **where)

    @cached_property
    def row_index(self) -> dict[int, int]:
        """Excel row → position in df (df's rows are the table's rows, in order)."""
        return {row: position for position, row in enumerate(self.table.rows)}

    def blank(self, column: str) -> np.ndarray:
        """True where the column's cell was left blank in the sheet (V.is_blank), by position; all False for a
        column the sheet does not have. build_frame works it out for every column, in the worker."""
        found = self.blanks.get(column)
        return np.zeros(len(self.table.rows), dtype=bool) if found is None else found

    def values(self, column: str) -> list:
        """A column as Python values, None where df has NA (money that is blank or unreadable): what consolidate
        reads value by value, from a list (a DataFrame lookup per value costs more than the rest of its work)."""
        lists = self.__dict__.setdefault("_lists", {})
        if column not in lists:
            lists[column] = [None if value is pd.NA else value for value in self.columns[column].tolist()]
        return lists[column]

    def texts(self, column: str) -> list[str]:
        """A column's cells as read, as text ("" where blank or where the sheet has no such column): what the
        outputs show of a value as the county wrote it. Only the 汇总表 keeps its cells as read (engine)."""
        lists = self.__dict__.setdefault("_texts", {})
        if column not in lists:
            cells = self.table.cells.get(column)
            lists[column] = [""] * len(self.table.rows) if cells is None else [V.text_value(raw) or "" for raw in cells]
        return lists[column]

    def __getstate__(self) -> dict:
        # What cached_property keeps (a dict and a list of a row per data row) is rebuilt where it is needed,
        # for far less than sending it from the worker.
        state = self.__dict__.copy()
        state.pop("df", None)
        state.pop("row_index", None)
        state.pop("_keys", None)
        state.pop("_lists", None)
        state.pop("_texts", None)
        return state

    @cached_property
    def _keys(self) -> list[tuple]:
        """(enterprise, enterprise key, project, project key) by position: a finding's project without a
        DataFrame row lookup (which costs more than the finding)."""
        columns = (self.values(name) for name in ("_enterprise", "_ekey", "_project", "_pkey"))
        return list(zip(*columns, strict=True))


# The characters V.is_blank and V.text_value take for white space besides str.isspace()'s (zero-width ones).
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")


def _is_blank(raw: object) -> bool:
    """V.is_blank, without its regular expression for the usual text (which starts with a visible character)."""
    if type(raw) is str and raw and not raw[0].isspace() and raw[0] not in _ZERO_WIDTH:
        return False
    return V.is_blank(raw)


def _text_value(raw: object) -> str | None:
    """V.text_value, without its regular expressions for the usual text (no white space at either end)."""
    if (
        type(raw) is str
        and raw
        and not raw[0].isspace()
        and not raw[-1].isspace()
        and raw[0] not in _ZERO_WIDTH
        and raw[-1] not in _ZERO_WIDTH
    ):
        return raw
    return V.text_value(raw)


def _key(text: str | None) -> str:
    return V.normalise_key(text) if text else ""


def _choice(raw: object) -> str | None:
    return None if _is_blank(raw) else V.normalise_choice(_text_value(raw))


def build_frames(book: Workbook, policy: Policy) -> list[Frame]:
    """The typed tables of a book (of a summary input, its 汇总表 only)."""
    tables = [table for table in book.tables.values() if not (book.is_summary_input and table.kind is not K.SUMMARY)]
    names: dict = {}  # the book's enterprise and project names, read once for all its tables
    keys = [_names_and_keys(table, names) for table in tables]
    projects = _project_numbers(book, keys)
    return [build_frame(book, table, policy, *known) for table, *known in zip(tables, keys, projects, strict=True)]


def _names_and_keys(table: Table, names: dict) -> dict[str, list]:
    """A table's enterprise and project names (_enterprise, _project) and keys (_ekey, _pkey), by position.
    names is shared by the tables of one book: each name is read and made a key once a book (keys repeat down
    a sheet, 30 line items of one project, and across its sheets)."""
    nothing = [None] * len(table.rows)
    columns = {}
    for text_column, key_column, raw in (
        ("_enterprise", "_ekey", table.cells.get(table.kind.enterprise_column, nothing)),
        ("_project", "_pkey", table.cells.get("项目名称", nothing)),
    ):
        read = V.parse_column(raw, _name, names=names)
        columns[text_column] = [text for text, _ in read]
        columns[key_column] = [key for _, key in read]
    return columns


PID = "_pid"  # the project of a row (_project_numbers): what the rules compare and join projects on


def _project_numbers(book: Workbook, keys: list[dict[str, list]]) -> list[np.ndarray]:
    """Each table's PID column: one number per (workbook, enterprise key, project key), the same in every sheet,
    so that the rules compare and join projects on one int64 column instead of three. The book's index comes
    first, then the rank of the key pair among the book's (blank keys like any other): a batch's numbers sort
    as (workbook, enterprise key, project key) do. Worked out here, where the cores are."""
    pairs = [list(zip(columns["_ekey"], columns["_pkey"], strict=True)) for columns in keys]
    rank = {pair: position for position, pair in enumerate(sorted(set(chain.from_iterable(pairs))))}
    first = book.index << 32  # a book has far fewer than 2**32 projects
    return [np.fromiter(map(rank.__getitem__, table), dtype=np.int64, count=len(table)) + first for table in pairs]


def build_frame(book: Workbook, table: Table, policy: Policy, keys: dict[str, list], projects: np.ndarray) -> Frame:
    """Parse every column of a table by its kind; collect S05, F01 and the parse findings. keys and projects are
    the table's names, keys and PIDs (see build_frames)."""
    data: dict[str, list] = {"_row": list(table.rows), **keys}
    blanks: dict[str, np.ndarray] = {}
    bad: set[tuple[int, str]] = set()
    parse_errors: list[tuple[str, int, str, str, object]] = []  # rule, row, column, reason, raw
    count = len(table.rows)
    for column in table.kind.columns:
        name = column.name
        if name not in table.columns:
            data[name] = [pd.NA] * count if column.kind in (K.MONEY, K.SIGNED_MONEY) else [None] * count
            continue
        raw = table.cells[name]
        data[name], blank = _parse(column, raw, table, parse_errors, policy)
        # Blank cells of every column, worked out here where the cores are (the raw values do not travel
        # further: engine._read_one). Text and list values are None exactly where the cell is blank.
        if blank is not None:
            blanks[name] = blank
    if table.formula_cells:
        positions = {row: position for position, row in enumerate(table.rows)}
        for row, name in table.formula_cells:
            if row in positions:
                money = table.kind.column(name).kind in (K.MONEY, K.SIGNED_MONEY)
                data[name][positions[row]] = pd.NA if money else None
                bad.add((row, name))
    money = [c.name for c in table.kind.columns if c.kind in (K.MONEY, K.SIGNED_MONEY)]
    # Money as exact nullable ints; everything else as plain Python objects (True is True, not numpy's; text
    # stays object, not pandas' string dtype).
    columns: dict = {PID: projects, "_row": np.array(data.pop("_row"), dtype=np.int64)}
    for name in money:
        values = data.pop(name)
        columns[name] = values if isinstance(values, pd.arrays.IntegerArray) else pd.array(values, dtype="Int64")
    objects = {name: np.fromiter(values, dtype=object, count=count) for name, values in data.items()}
    columns.update(objects)
    for name in table.columns:
        if name not in blanks:  # text and list columns: None exactly where the cell is blank
            blanks[name] = np.equal(objects[name], None)
    frame = Frame(book=book, table=table, columns=columns, bad=bad, blanks=blanks)
    for row, name in sorted(bad):  # so far, the formula cells of the table's rows
        frame.findings.append(
            frame.finding(
                "S05",
                f"{frame.title(name)} 是公式但没有计算结果，数值未知（不按0处理）：请在 Excel 中打开、重新计算并保存",
                row,
                name,
            )
        )
    for rule, row, name, reason, raw_value in parse_errors:
        if (row, name) in table.formula_cells:
            continue
        if rule not in ("F10", "F11"):  # a warned value is read, as its message says
            frame.bad.add((row, name))
        message = f"{frame.title(name)} 的值“{V.text_value(raw_value)}”{reason}"
        frame.findings.append(frame.finding(rule, message, row, name, value=V.text_value(raw_value)))
    return frame


def data_frame(columns: dict[str, np.ndarray | pd.arrays.IntegerArray], count: int) -> pd.DataFrame:
    """Typed columns as a DataFrame, as build_frame makes them: the numbers (int64, and money as nullable
    Int64) first, then the columns of Python objects in one block, which pandas builds without looking at a
    value. One index object for both parts, so pandas aligns nothing."""
    index = pd.RangeIndex(count)
    objects = {name: values for name, values in columns.items() if holds_objects(values)}
    numbers = {name: values for name, values in columns.items() if name not in objects}
    return pd.concat([pd.DataFrame(numbers, index=index), pd.DataFrame(objects, index=index, dtype=object)], axis=1)


def stacked_columns(parts: list[np.ndarray | pd.arrays.IntegerArray]) -> np.ndarray | pd.arrays.IntegerArray:
    """One column of several frames, end to end."""
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    # Nullable ints: pandas' documented extension-array concatenation (its reference shows it for IntegerArray),
    # a tenth of the cost of converting each part.
    return pd.arrays.IntegerArray._concat_same_type(parts)


def holds_objects(values: np.ndarray | pd.arrays.IntegerArray) -> bool:
    """A column of Python objects (text, dates, tuples…), not numbers."""
    return isinstance(values, np.ndarray) and values.dtype == object


def _name(raw: object, names: dict) -> tuple[str | None, str]:
    """An enterprise or project name cell as (text, key), looked up in names first (by type too: a TRUE cell and
    a 1 cell are equal in Python and different names)."""
    found = names.get((type(raw), raw))
    if found is None:
        text = _text_value(raw)
        found = names[type(raw), raw] = (text, _key(text))
    return found


def _parse(column: K.Column, raw: list, table: Table, errors: list, policy: Policy) -> tuple[list, np.ndarray | None]:
    """A column's values, and where its cells are blank when parsing tells (None: the caller works it out)."""
    rows = table.rows
    name = column.name
    if column.kind in (K.MONEY, K.SIGNED_MONEY):
        fast = _money_array(column, raw, rows, errors)
        if fast is not None:
            return fast
        values, reasons = V.parse_money_column(raw, allow_negative=column.kind == K.SIGNED_MONEY)
        # A blank required amount is F01's finding; unknown, not 0, to the rules that need it.
        blank_value = pd.NA if column.required else 0
        out = [blank_value if value is None else value for value in values]
        blank = np.array([value is None and not reason for value, reason in zip(values, reasons, strict=True)])
        for position in [position for position, reason in enumerate(reasons) if reason]:
            errors.append(("F03", rows[position], name, reasons[position], raw[position]))
            out[position] = pd.NA
        return out, blank
    if column.kind in _PARSERS:
        parser, rule = _PARSERS[column.kind]
        parsed = V.parse_column(raw, parser)
        out = [result.value for result in parsed]
        for position in [position for position, result in enumerate(parsed) if result.error or result.warning]:
            result = parsed[position]
            if result.error:
                errors.append((rule, rows[position], name, result.error, raw[position]))
                out[position] = None
            else:
                warning_rule = _WARNING_RULE.get(column.kind, rule)
                errors.append((warning_rule, rows[position], name, result.warning, raw[position]))
        return out, np.fromiter((result is V.BLANK for result in parsed), dtype=bool, count=len(parsed))
    if column.kind == K.INVOICES:
        # Invoice numbers rarely repeat, so no V.parse_column: the usual cell, one 8- or 20-digit number typed
        # as text, is taken as it is, the others through V.split_invoices.
        out = []
        blank = np.zeros(len(raw), dtype=bool)
        for position, (row, raw_value) in enumerate(zip(rows, raw, strict=True)):
            if type(raw_value) is str and len(raw_value) in (8, 20) and raw_value.isascii() and raw_value.isdigit():
                out.append((raw_value,))
                continue
            blank[position] = _is_blank(raw_value)
            numbers = []
            for parsed in V.split_invoices(raw_value):
                if parsed.error:
                    errors.append(("F09", row, name, parsed.error, raw_value))
                else:
                    numbers.append(parsed.value)
            out.append(tuple(numbers))
        return out, blank
    if column.kind == K.LIST:
        aliases = policy.aliases.get(column.list_name, {})
        return [aliases.get(choice, choice) for choice in V.parse_column(raw, _choice)], None
    return V.parse_column(raw, _text_value), None


# V._fast_units' bound: below it a float's product with MONEY_SCALE rounds exactly as parse_money's Decimal does.
_FAST_LIMIT = 2.0**43
_INT64_MAX = np.iinfo(np.int64).max


def _money_array(
    column: K.Column, raw: list, rows: list[int], errors: list
) -> tuple[pd.arrays.IntegerArray, np.ndarray] | None:
    """A money column as an Int64 array, and where its cells are blank: number cells converted in numpy, as
    V.parse_money_column would; the other cells (text, ints, blanks of spaces, floats off the fast path)
    through V.parse_money_column. None, having reported nothing, when an amount does not fit an int64 (the
    list path then says what it says)."""
    count = len(raw)
    allow_negative = column.kind == K.SIGNED_MONEY
    cells = np.fromiter(raw, dtype=object, count=count)
    kinds = np.fromiter(map(type, raw), dtype=object, count=count)
    units = np.zeros(count, dtype=np.int64)
    unknown = np.zeros(count, dtype=bool)
    floats = np.flatnonzero(np.equal(kinds, float))
    numbers = cells[floats].astype(np.float64)
    scaled = numbers * V.MONEY_SCALE
    with np.errstate(invalid="ignore"):
        rounded = np.rint(scaled)  # half to even, as round()
        fine = (np.abs(scaled) < _FAST_LIMIT) & (np.abs(scaled - rounded) < 0.25)
        if not allow_negative:
            fine &= rounded >= 0
    units[floats[fine]] = rounded[fine].astype(np.int64)
    blanks = np.equal(kinds, type(None))
    others = np.ones(count, dtype=bool)
    others[floats[fine]] = False
    others[blanks] = False
    slow = np.flatnonzero(others).tolist()
    values, reasons = V.parse_money_column([raw[position] for position in slow], allow_negative=allow_negative)
    if any(value is not None and abs(value) > _INT64_MAX for value in values):
        return None
    for position, value, reason in zip(slow, values, reasons, strict=True):
        if reason:
            errors.append(("F03", rows[position], column.name, reason, raw[position]))
            unknown[position] = True
        elif value is None:
            blanks[position] = True
        else:
            units[position] = value
    if column.required:
        # A blank required amount is F01's finding; unknown, not 0, to the rules that need it.
        unknown = unknown | blanks
    return pd.arrays.IntegerArray(units, unknown), blanks
