"""Turn a recognised table's raw cells into typed columns, noting every cell that cannot be read."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    df: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)
    bad: set[tuple[int, str]] = field(default_factory=set)  # (row, column) with an F finding or S05

    @property
    def kind(self) -> K.SheetKind:
        return self.table.kind

    def title(self, column: str) -> str:
        return self.table.titles[column]

    def finding(self, rule: str, message: str, row: int | None, column: str | None, **extra) -> Finding:
        """A finding at a row (and cell) of this table, attached to that row's project."""
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
            record = self.df.iloc[self.row_index[row]]
            where["enterprise"] = record["_enterprise"]
            where["enterprise_key"] = record["_ekey"] or None
            if self.kind.per_project:
                where["project"] = record["_project"]
                where["project_key"] = (record["_ekey"], record["_pkey"])
        where.update(extra)
        return make_finding(rule, message, **where)

    @property
    def row_index(self) -> dict[int, int]:
        if not hasattr(self, "_row_index"):
            self._row_index = {row: position for position, row in enumerate(self.df["_row"])}
        return self._row_index


def build_frame(book: Workbook, table: Table, policy: Policy) -> Frame:
    """Parse every column of a table by its kind; collect S05, F01 and the parse findings."""
    data: dict[str, list] = {"_row": list(table.rows)}
    frame = Frame(book=book, table=table, df=pd.DataFrame())
    enterprise = table.cells.get(table.kind.enterprise_column, [None] * len(table.rows))
    project = table.cells.get("项目名称", [None] * len(table.rows))
    data["_enterprise"] = [V.text_value(v) for v in enterprise]
    data["_ekey"] = [V.normalise_key(v) if v else "" for v in data["_enterprise"]]
    data["_project"] = [V.text_value(v) for v in project]
    data["_pkey"] = [V.normalise_key(v) if v else "" for v in data["_project"]]
    frame.df = pd.DataFrame(data)
    parse_errors: list[tuple[str, int, str, str, object]] = []  # rule, row, column, reason, raw
    for column in table.kind.columns:
        name = column.name
        if name not in table.cells:
            data[name] = [pd.NA] * len(table.rows) if column.kind in (K.MONEY, K.SIGNED_MONEY) else [None] * len(
                table.rows
            )
            continue
        raw = table.cells[name]
        data[name] = _parse(column, raw, table, parse_errors, policy)
    for row, name in table.formula_cells:
        position = frame.row_index.get(row)
        if position is None:
            continue
        data[name][position] = pd.NA if table.kind.column(name).kind in (K.MONEY, K.SIGNED_MONEY) else None
        frame.bad.add((row, name))
    money = {c.name for c in table.kind.columns if c.kind in (K.MONEY, K.SIGNED_MONEY)}
    # Money as exact nullable ints; everything else as plain Python objects (True is True, not numpy's).
    frame.df = pd.DataFrame(
        {
            name: pd.array(values, dtype="Int64") if name in money else pd.Series(values, dtype=object)
            for name, values in data.items()
        }
    )
    frame.df["_row"] = frame.df["_row"].astype(int)
    frame.df.attrs["columns_present"] = set(table.cells)
    for row, name in sorted(table.formula_cells):
        if row in frame.row_index:
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
        if rule in ("F10", "F11"):
            message = f"{frame.title(name)} 的值“{V.text_value(raw_value)}”{reason}"
        else:
            frame.bad.add((row, name))
            message = f"{frame.title(name)} 的值“{V.text_value(raw_value)}”{reason}"
        frame.findings.append(frame.finding(rule, message, row, name, value=V.text_value(raw_value)))
    return frame


def _parse(column: K.Column, raw: list, table: Table, errors: list, policy: Policy) -> list:
    rows = table.rows
    name = column.name
    if column.kind in (K.MONEY, K.SIGNED_MONEY):
        values, reasons = V.parse_money_column(raw, allow_negative=column.kind == K.SIGNED_MONEY)
        out = []
        for row, value, reason, raw_value in zip(rows, values, reasons, raw, strict=True):
            if reason:
                errors.append(("F03", row, name, reason, raw_value))
                out.append(pd.NA)
            elif value is None:
                # A blank required amount is F01's finding; unknown, not 0, to the rules that need it.
                out.append(pd.NA if column.required else 0)
            else:
                out.append(value)
        return out
    if column.kind in _PARSERS:
        parser, rule = _PARSERS[column.kind]
        out = []
        for row, parsed, raw_value in zip(rows, V.parse_column(raw, parser), raw, strict=True):
            if parsed.error:
                errors.append((rule, row, name, parsed.error, raw_value))
            elif parsed.warning:
                errors.append((_WARNING_RULE.get(column.kind, rule), row, name, parsed.warning, raw_value))
            out.append(None if parsed.error else parsed.value)
        return out
    if column.kind == K.INVOICES:
        out = []
        for row, raw_value in zip(rows, raw, strict=True):
            numbers = []
            for parsed in V.split_invoices(raw_value):
                if parsed.error:
                    errors.append(("F09", row, name, parsed.error, raw_value))
                else:
                    numbers.append(parsed.value)
            out.append(tuple(numbers))
        return out
    if column.kind == K.LIST:
        aliases = policy.aliases.get(column.list_name, {})
        choices = [V.normalise_choice(V.text_value(v)) if not V.is_blank(v) else None for v in raw]
        return [aliases.get(choice, choice) for choice in choices]
    return [V.text_value(v) for v in raw]
