"""A county workbook written the way clerks really fill it: every tolerance of workbook.md at once.

write_quirky_book(path, submission, policy) writes the same data as tr_excel.synth.write_submission, so a
clean submission must still read as clean; only the form changes:

- 0–4 title rows above each header (承诺书 0, 智能制造环节 1, 汇总表 and 建设计划 2, 投资明细 3, 申报主体 4);
- header text with line breaks, spaces, half-width brackets, no （是/否） suffix, the notice's column-8 wording;
- columns shuffled (承诺书, 投资明细) or reversed (申报主体); an extra column in 承诺书 and in 投资明细;
- the 汇总表 two-level header with merged cells, and 申报主体's header cells merged over two rows;
- 承诺书 renamed "附件2 承诺书" and the sheets reordered; a 填表说明 sheet first; a hidden stale copy of 汇总表
  full of mistakes and a hidden 数据字典 sheet;
- blank rows before, between and after the data, a hidden blank row and a hidden data row, 企业名称 and
  项目名称 merged down over one project's 投资明细 rows, 小计 and 合计 rows in 投资明细, a correct 合计 row with
  SUM formulas in 汇总表 and 填表说明 lines below it;
- trailing and leading spaces, numbers stored as text (thousands separators, full-width digits, 万元 and 万
  suffixes), formulas with cached values (arithmetic, cross-sheet, text), and every month and date form.
"""

from __future__ import annotations

import datetime as dt
import random
import zipfile
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from tr_excel import columns as K
from tr_excel.findings import column_letter
from tr_excel.policy import Policy
from tr_excel.synth import Submission
from tr_excel.values import parse_month_range, parse_when

PLEDGE_SHEET = "附件2 承诺书"
EXTRA_COLUMNS = {"承诺书": "县局审核意见", "投资明细": "发票金额（元）"}

# Header texts as counties retype them (keys: canonical titles).
HEADER_VARIANTS = {
    "企业名称": "企 业 名 称",
    "项目名称": "项目\n名称",
    "项目申报企业（单位）": "项目申报企业(单位)",
    "是否为省级重点产业链链主、链核企业（是/否）": "是否为省级重点产业链主、链核企业(是/否)",
    "设备投资（含软硬件投资）": "设备投资\n(含软硬件投资)",
    "已完成投资（按照发票金额核定）": "已完成投资\n（按照发票金额核定）",
    "项目是否完工（是/否）": "项目是否完工",
    "项目联系人及手机": "项目联系人\r\n及手机",
    "是否独立法人（是/否）": "是否独立法人(是/否)",
    "2023年末资产负债率（%）": "2023年末资产负债率(%)",
    "DCMM认证等级": " DCMM 认证等级 ",
    "项目是否获得其他省级财政资金支持（是/否）": "项目是否获得其他省级财政资金支持",
    "已完成投资额（按照发票金额核定）": "已完成投资额(按照发票金额核定)",
    "对应发票编号": "对应发票编号（逐项填写）",
    "累计完成投资额（发票金额）": "累计完成投资额\n（发票金额）",
    "是否核心生产环节（是/否）": "是否核心\n生产环节（是/否）",
}
TITLE_ROWS = {"汇总表": 2, "承诺书": 0, "申报主体": 4, "投资明细": 3, "建设计划": 2, "智能制造环节": 1}
# Sheet order in the file; "旧汇总表" and "数据字典" are hidden.
SHEET_ORDER = (
    "填表说明", "申报主体", "承诺书", "汇总表", "投资明细", "旧汇总表", "建设计划", "智能制造环节", "数据字典"
)

_FULL_WIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


class Formula:
    def __init__(self, text: str, value):
        self.text, self.value = text, value


class DateCell:
    def __init__(self, value: dt.date | dt.datetime):
        self.value = value


class Forms:
    """Cycles through the forms of one kind of value, so that every form appears."""

    def __init__(self):
        self.counters: dict[str, int] = {}

    def next(self, kind: str, count: int) -> int:
        index = self.counters.get(kind, 0)
        self.counters[kind] = index + 1
        return index % count


def _money(value, form: int):
    if value is None or isinstance(value, str):
        return value
    text = f"{Decimal(repr(value)):f}"
    return [
        value,  # a number cell
        f"{value:,.2f}",  # thousands separators
        text.translate(_FULL_WIDTH),  # full-width digits
        f"{text}万元",
        f"{text} 万",
        f" {text} ",
    ][form]


def _month(raw, form: int):
    """A month or date value of synth ("2025年3月", "2024-03-05") in one of the accepted forms."""
    if raw is None:
        return None
    when = parse_when(raw).value
    y, m, d = when.year, when.month, when.day
    if d is not None:
        return [
            DateCell(dt.date(y, m, d)),
            DateCell(dt.datetime(y, m, d, 14, 30)),
            f"{y}年{m}月{d}日",
            f"{y}/{m}/{d}",
            f"{y}{m:02d}{d:02d}",
            f"{y}-{m:02d}-{d:02d}",
            f"{y}.{m:02d}.{d:02d}",
        ][form % 7]
    forms = [
        f"{y}年{m}月",
        f"{y}.{m:02d}",
        f"{y}.{m}",
        f"{y}-{m:02d}",
        f"{y}/{m}",
        f"{y}{m:02d}",
        y * 100 + m,  # 202406 as a number
        # 2024.06 as a number; Excel keeps no trailing zero, so only where the month has none (F11 otherwise).
        float(f"{y}.{m:02d}") if m not in (1, 10) else f"{y}年{m:02d}月",
        DateCell(dt.date(y, m, 28)),  # a date cell for a month: the day is irrelevant
    ]
    return forms[form % len(forms)]


_JOINERS = ("-", "—", "－", "~", "～", "至", "——")


def _range(raw, form: int):
    start, end = parse_month_range(raw).value
    half = [
        lambda w: f"{w.year}.{w.month:02d}",
        lambda w: f"{w.year}年{w.month}月",
        lambda w: f"{w.year}-{w.month:02d}",
        lambda w: f"{w.year}/{w.month}",
    ][form % 4]
    return f"{half(start)}{_JOINERS[form * 3 % len(_JOINERS)]}{half(end)}"  # 5 ranges: 至 and —— among them


def _percent(value, form: int):
    return [value, f"{value}%", float(Decimal(repr(value)) / 100), f"{value}％", str(value)][form]


def quirk(column: K.Column, value, forms: Forms):
    """The value as a clerk might have typed it, read back as the same value."""
    if value is None:
        return None
    if column.kind in (K.MONEY, K.SIGNED_MONEY):
        if isinstance(value, int | float) and value < 0:
            return ["-" + f"{-value:,.2f}", f"－{-value}", value][forms.next("negative", 3)]
        return _money(value, forms.next("money", 6))
    if column.kind == K.MONTH:
        return _month(value, forms.next("month", 9 * 7))
    if column.kind == K.RANGE:
        return _range(value, forms.next("range", 7 * 4))
    if column.kind == K.PERCENT:
        return _percent(value, forms.next("percent", 5))
    if column.kind == K.COUNT:
        return [value, f"{value}", f"{value}人" if column.name == "就业人数" else f" {value} "][forms.next("count", 3)]
    if column.kind == K.CONTACT:
        name, number = value.split()
        return [value, f"{number}（{name}）", f"{name}：{number[:3]}-{number[3:7]}-{number[7:]}"][
            forms.next("contact", 3)
        ]
    if column.kind == K.INVOICES:
        return [int(value), f"{value} ", value][forms.next("invoice", 3)]
    if column.kind == K.LIST and column.list_name == "申报方向":
        return value.replace("—", ["-", "—", "－", "一"][forms.next("dash", 4)])
    if isinstance(value, str):
        return [value, f"{value} ", f"{value}\u3000", f" {value}  "][forms.next("spaces", 4)]
    return value


def _header(title: str) -> str:
    return HEADER_VARIANTS.get(title, title)


class _Writer:
    def __init__(self, path: Path, policy: Policy):
        self.book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
        self.policy = policy
        self.bold = self.book.add_format({"bold": True, "text_wrap": True, "border": 1})
        self.date = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm"})

    def put(self, sheet, row: int, col: int, value) -> None:
        if value is None:
            return
        if isinstance(value, Formula):
            sheet.write_formula(row, col, value.text, None, value.value)
        elif isinstance(value, DateCell):
            fmt = self.datetime if isinstance(value.value, dt.datetime) else self.date
            sheet.write_datetime(row, col, value.value, fmt)
        elif isinstance(value, str):
            sheet.write_string(row, col, value)
        else:
            sheet.write_number(row, col, value)


def _sum(values) -> Decimal:
    return sum((Decimal(repr(v)) for v in values if v is not None), Decimal(0))


def _summary(writer: _Writer, sheet, rows: list[dict], unit: str, forms: Forms, stale: bool = False) -> None:
    policy = writer.policy
    kind = K.SUMMARY
    titles = [c.title(policy.data_year) for c in kind.columns]
    last = len(titles) - 1
    sheet.merge_range(0, 0, 0, last, "山西省技术改造专项资金项目申报汇总表")
    sheet.write_string(1, 0, f"审核单位（公章）：{unit}")
    sheet.write_string(1, last, "单位：万元")
    for index, column in enumerate(kind.columns):
        if column.group:
            sheet.write_string(3, index, _header(column.name), writer.bold)
        else:
            sheet.merge_range(2, index, 3, index, _header(column.name), writer.bold)
    for group in dict.fromkeys(c.group for c in kind.columns if c.group):
        members = [i for i, c in enumerate(kind.columns) if c.group == group]
        sheet.merge_range(2, members[0], 2, members[-1], group, writer.bold)
    # Data from Excel row 6: a blank row under the header, a hidden blank row after the second project.
    excel_rows = []
    row = 5
    for position in range(len(rows)):
        excel_rows.append(row)
        row += 2 if position == 1 else 1
    sheet.set_row(excel_rows[1] + 1, None, None, {"hidden": True})
    column_index = {c.name: i for i, c in enumerate(kind.columns)}
    for position, (record, at) in enumerate(zip(rows, excel_rows, strict=True)):
        for index, column in enumerate(kind.columns):
            value = record.get(titles[index])
            if column.name == "序号":
                value = str(position + 1) if position % 2 else position + 1
            elif stale and column.name == "总投资":
                value = "待定"
            elif column.name == "自筹资金" and value is not None and position % 2 == 0:
                # =总投资-银行贷款, as a clerk lets Excel fill it, with the value Excel cached.
                total, loan = column_letter(column_index["总投资"]), column_letter(column_index["银行贷款"])
                value = Formula(f"={total}{at + 1}-{loan}{at + 1}", value)
            else:
                value = quirk(column, value, forms)
            writer.put(sheet, at, index, value)
    total_row = excel_rows[-1] + 1
    sheet.write_string(total_row, 0, "合  计")
    summed = {c.name for c in kind.columns[14:22]} | {c.name for c in kind.columns[24:28]}
    for index, column in enumerate(kind.columns):
        if column.name in summed:
            letter = column_letter(index)
            total = _sum(record.get(titles[index]) for record in rows)
            cached = int(total) if total == total.to_integral_value() else float(total)
            writer.put(sheet, total_row, index, Formula(f"=SUM({letter}5:{letter}{total_row})", cached))
    notes = total_row + 2
    for offset, line in enumerate(("填表说明：", "1.申报专项：核心竞争力提升专项……", "2.金额单位为万元。")):
        sheet.write_string(notes + offset, 0, line)


def _flat(writer: _Writer, sheet, kind: K.SheetKind, rows: list[dict], forms: Forms, *, order: list[str],
          merged_project: str | None = None, subtotals: bool = False, formulas: str = "") -> None:
    """A one-row-header sheet: title rows, header in the given column order, blank rows, hidden rows.

    formulas: "numbers only" writes 项目总投资 as a cross-sheet formula, "with text" also one 项目名称.
    """
    policy = writer.policy
    by_title = {c.title(policy.data_year): c for c in kind.columns}
    header = TITLE_ROWS[kind.name]
    for line in range(header):
        sheet.write_string(line, 0, [kind.name, "申报单位：忻州市繁峙县工业和信息化局", "（盖章）", "　"][line])
    merge_header = kind is K.ENTITY  # header cells merged over two rows
    for index, title in enumerate(order):
        text = EXTRA_COLUMNS[kind.name] if title == "<extra>" else _header(title)
        if merge_header:
            sheet.merge_range(header, index, header + 1, index, text, writer.bold)
        else:
            sheet.write_string(header, index, text, writer.bold)
    row = header + (2 if merge_header else 1) + 1  # one blank row under the header
    written: dict[str, list[int]] = {}  # 项目名称 → its Excel rows (0-based)
    previous = None
    for position, record in enumerate(rows):
        project = record.get("项目名称") or record["企业名称"]
        if written and project not in written:
            if subtotals:
                _subtotal(writer, sheet, order, row, "小计", [r for r in rows if r["项目名称"] == previous])
                row += 1
            row += 1  # a blank row between projects
        written.setdefault(project, []).append(row)
        previous = project
        for index, title in enumerate(order):
            if title == "<extra>":
                writer.put(sheet, row, index, "同意" if kind is K.PLEDGE else None)
                continue
            column = by_title[title]
            value = record.get(title)
            summary_row = 6 + position + (position >= 2)  # the 汇总表 row of this project (Excel numbering)
            if formulas and column.name == "项目总投资":
                # The pledge copies the summary's figure: a cross-sheet formula with the value Excel cached.
                value = Formula(f"=汇总表!O{summary_row}", value)
            elif formulas == "with text" and column.name == "项目名称" and position == 0:
                value = Formula(f"=汇总表!F{summary_row}", value)
            elif merged_project == project and column.name in ("项目名称", kind.enterprise_column):
                value = None  # written by the merge below
            else:
                value = quirk(column, value, forms)
            writer.put(sheet, row, index, value)
        if kind is K.INVESTMENT and position == 2:
            sheet.set_row(row, None, None, {"hidden": True})  # a hidden line item still counts
        row += 1
    if subtotals:
        _subtotal(writer, sheet, order, row, "小计", [r for r in rows if r["项目名称"] == previous])
        _subtotal(writer, sheet, order, row + 1, "合计", rows)
    if merged_project is not None:
        first, last = written[merged_project][0], written[merged_project][-1]
        record = next(r for r in rows if r["项目名称"] == merged_project)
        for name in ("项目名称", kind.enterprise_column):
            index = order.index(name)
            sheet.merge_range(first, index, last, index, record[name])


def _subtotal(writer: _Writer, sheet, order: list[str], row: int, word: str, rows: list[dict]) -> None:
    sheet.write_string(row, order.index("名称"), word)
    for title in ("概算投资额", "已完成投资额（按照发票金额核定）"):
        total = _sum(r.get(title) for r in rows)
        writer.put(sheet, row, order.index(title), float(total))


def write_quirky_book(path: Path, submission: Submission, policy: Policy, *, text_formulas: bool = True) -> None:
    """text_formulas=False leaves out the one formula whose cached value is text (see test_tolerance: .xls)."""
    writer = _Writer(path, policy)
    rows = submission.rows
    forms = Forms()
    rng = random.Random(5)
    sheets = {}
    for name in SHEET_ORDER:
        sheet_name = PLEDGE_SHEET if name == "承诺书" else name
        if name in K.KINDS_BY_NAME and not rows[name]:
            continue
        sheets[name] = writer.book.add_worksheet(sheet_name)
    sheets["填表说明"].write_string(0, 0, "填表说明")
    sheets["填表说明"].write_string(1, 0, "企业名称、项目名称应与营业执照、备案文件一致。")
    _summary(writer, sheets["汇总表"], rows["汇总表"], submission.unit, forms)
    stale = [dict(r, **{"申报方向": "智能升级", "企业性质": "私企"}) for r in rows["汇总表"]]
    _summary(writer, sheets["旧汇总表"], stale, submission.unit, Forms(), stale=True)
    sheets["旧汇总表"].hide()

    def titles(kind: K.SheetKind) -> list[str]:
        return [c.title(policy.data_year) for c in kind.columns]

    pledge_order = titles(K.PLEDGE)
    rng.shuffle(pledge_order)
    pledge_order.insert(5, "<extra>")
    formulas = "with text" if text_formulas else "numbers only"
    _flat(writer, sheets["承诺书"], K.PLEDGE, rows["承诺书"], forms, order=pledge_order, formulas=formulas)
    _flat(writer, sheets["申报主体"], K.ENTITY, rows["申报主体"], forms, order=titles(K.ENTITY)[::-1])
    investment_order = titles(K.INVESTMENT)
    rng.shuffle(investment_order)
    investment_order.append("<extra>")
    _flat(
        writer,
        sheets["投资明细"],
        K.INVESTMENT,
        rows["投资明细"],
        forms,
        order=investment_order,
        merged_project=rows["汇总表"][1]["项目名称"],
        subtotals=True,
    )
    for name in ("建设计划", "智能制造环节"):
        if name in sheets:
            kind = K.KINDS_BY_NAME[name]
            _flat(writer, sheets[name], kind, rows[name], forms, order=titles(kind))
    dictionary = sheets["数据字典"]
    for index, value in enumerate(policy.lists["企业性质"]):
        dictionary.write_string(index, 0, value)
    dictionary.hide()
    writer.book.close()


MACRO_CONTENT_TYPE = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
WORKBOOK_CONTENT_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def as_xlsm(source: Path, target: Path) -> None:
    """The workbook as a macro-enabled .xlsm package (Excel's content type; a workbook need hold no macro)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == "[Content_Types].xml":
                assert WORKBOOK_CONTENT_TYPE in data
                data = data.replace(WORKBOOK_CONTENT_TYPE, MACRO_CONTENT_TYPE)
            new.writestr(item, data)
