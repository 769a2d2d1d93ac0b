"""The blank county submission workbook (workbook.md): every sheet, dropdowns, input hints and notes."""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from tr_excel import layout
from tr_excel.columns import (
    CITY,
    CONTACT,
    COUNT,
    COUNTY,
    INVOICES,
    LIST,
    MONEY,
    MONTH,
    NODE,
    NOTES_SHEET,
    PERCENT,
    RANGE,
    SEQ,
    SHEET_KINDS,
    SIGNED_MONEY,
    SUMMARY,
    USCC,
    YESNO,
    Column,
    SheetKind,
)
from tr_excel.output import write_atomic
from tr_excel.policy import Policy

LIST_SHEET = "_选项"
LAST_ROW = 999  # 0-based: validations and the 汇总表's borders cover rows up to 1000
YESNO_LIST = "是否"
CITY_LIST = "所在市"
COUNTY_LIST = "所在县"
SCENE_LIST = "典型场景名称"
NOTES_WIDTHS = (18, 70, 30)

SHEET_NOTES = {
    "汇总表": (
        "附件3 申报汇总表（与附件2 情况表各栏相同），每个项目一行，从第5行起填写；可直接 A3 横向打印盖章。",
        "必填",
    ),
    "承诺书": ("附件2（三）承诺书，每个项目一行。", "必填"),
    "申报主体": (
        "每个申报企业一行：统一社会信用代码、资产负债率、失信名单、安全事故，以及部分方向要求的 DCMM 认证、"
        "首席数据官、两化融合管理体系贯标证书。",
        "必填",
    ),
    "投资明细": (
        "附件2 表二（投资明细表）逐项展开，每个投资项一行；各项概算投资额之和应等于总投资；不要填小计、合计行。",
        "每个项目都要填",
    ),
    "建设计划": ("附件2 表一（项目建设计划表），每个时间节点一行。", "未完工项目要填"),
    "智能制造环节": ("附件2 表三（智能制造环节情况表），每个典型场景一行。", "智能化升级方向项目要填"),
    "现场核查": ("附件2（四）现场核查表，每个项目一行，由市工信局现场核查后填写。", "县级可不填"),
}


@dataclass(frozen=True)
class Dropdown:
    """Where a column's dropdown comes from: a full list, optionally narrowed by another column's value."""

    key: str  # the list's key on the list sheet
    parent: str = ""  # the list key whose chosen value selects the sub-list
    error_type: str = "stop"  # warning / information: the list is a suggestion, other values allowed


def write_template(path: Path, policy: Policy, unit: str = "", force: bool = False) -> None:
    """Write the blank workbook to path atomically; an existing file is refused without force (OutputExists)."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer, {"strings_to_formulas": False, "strings_to_numbers": False, "in_memory": True}
    )
    workbook.set_properties({"title": f"{layout.TITLE}（{policy.province_notice}）", "author": "tr-excel"})
    sheets = {kind.name: workbook.add_worksheet(kind.name) for kind in SHEET_KINDS}
    notes = workbook.add_worksheet(NOTES_SHEET)
    lists = _ListSheet(workbook, policy)
    # Its column_… formats have no border: Excel gives a column's format to every cell typed in, however far down.
    styles = layout.formats(workbook)
    for kind in SHEET_KINDS:
        if kind is SUMMARY:
            _write_summary(workbook, sheets[kind.name], policy, unit, styles, lists)
        else:
            _write_flat(sheets[kind.name], kind, policy, styles, lists)
    _write_notes_sheet(workbook, notes, policy, styles)
    workbook.close()
    write_atomic(Path(path), buffer.getvalue(), force=force)


def _lines(text: str, width: float) -> int:
    """How many lines text wraps to in a column this wide (a Chinese character is about two width units)."""
    return math.ceil(sum(1 if ch.isascii() else 2 for ch in text) / width)


def _ok(result: int, what: str) -> None:
    # xlsxwriter only warns and skips a bad call (a too-long hint, an invalid name); a template missing a
    # dropdown must not be written silently.
    if result != 0:
        raise ValueError(f"xlsxwriter rejected {what} ({result})")


# Excel's rule for a defined name: a letter or _ first, then letters, digits, _ and "."; CJK are letters,
# "—" and other punctuation are not.
_NAME = re.compile(r"[^\W\d][\w.]*")


class _ListSheet:
    """The hidden sheet holding every dropdown list, one column each, with a defined name per list."""

    def __init__(self, workbook, policy: Policy):
        self.workbook = workbook
        self.sheet = workbook.add_worksheet(LIST_SHEET)
        self.sheet.hide()
        self.next_column = 0
        self.full: dict[str, str] = {}  # list key → defined name of its full list
        self.dependent: set[str] = set()  # list keys with one defined name per parent value
        directions: dict[str, list[str]] = {special: [] for special in policy.specials}
        for direction in policy.directions:
            directions[direction.special].append(direction.name)
        counties = {city.name: [*city.counties, *city.zones] for city in policy.cities}
        scenes = {link.name: list(link.scenes) for link in policy.links}
        for key in (
            "企业性质",
            "申报专项",
            "申报方向",
            "支持方式",
            "行业分类",
            "所属行业",
            "DCMM认证等级",
            "投资类别",
            "子类",
            "智能制造环节",
        ):
            self._add_full(key, policy.choices(key))
        self._add_full(YESNO_LIST, ("是", "否"))
        self._add_full(CITY_LIST, [city.name for city in policy.cities])
        self._add_full(COUNTY_LIST, list(dict.fromkeys(c for names in counties.values() for c in names)))
        self._add_full(SCENE_LIST, list(dict.fromkeys(s for names in scenes.values() for s in names)))
        self._add_groups("申报方向", directions)
        self._add_groups("支持方式", dict(policy.support))
        self._add_groups("所属行业", dict(policy.industries))
        self._add_groups("子类", dict(policy.investment_categories))
        self._add_groups(COUNTY_LIST, counties)
        self._add_groups(SCENE_LIST, scenes)

    def _add_list(self, name: str, values) -> None:
        column = self.next_column
        self.next_column += 1
        self.sheet.write_string(0, column, name)  # the defined name, for whoever unhides the sheet
        for row, value in enumerate(values, start=1):
            self.sheet.write_string(row, column, value)
        letter = xl_col_to_name(column)
        _ok(self.workbook.define_name(name, f"='{LIST_SHEET}'!${letter}$2:${letter}${len(values) + 1}"), name)

    def _add_full(self, key: str, values) -> None:
        self.full[key] = f"选项_{key}"
        self._add_list(self.full[key], values)

    def _add_groups(self, key: str, groups: dict[str, list[str]]) -> None:
        names = {parent: f"{key}_{parent}" for parent in groups}
        # A parent value that cannot be part of a defined name (a future list with "—" or a space)
        # cannot be looked up by INDIRECT: that column keeps the full list.
        if not all(_NAME.fullmatch(name) for name in names.values()):
            return
        for parent, values in groups.items():
            if values:
                self._add_list(names[parent], values)
        self.dependent.add(key)

    def source(self, dropdown: Dropdown, parent_cell: str | None) -> str:
        """The list formula of a dropdown whose first cell's parent value is at parent_cell."""
        full = self.full[dropdown.key]
        if parent_cell is None or dropdown.key not in self.dependent:
            return f"={full}"
        # The whole list while the parent is blank: INDIRECT("…_") would be an error, and Excel then
        # accepts anything in the cell.
        return f'=IF({parent_cell}="",{full},INDIRECT("{dropdown.key}_"&{parent_cell}))'


def _dropdown(column: Column) -> Dropdown | None:
    if column.kind == LIST:
        parent = {"申报方向": "申报专项", "支持方式": "申报专项", "所属行业": "行业分类", "子类": "投资类别"}
        return Dropdown(column.list_name, parent.get(column.list_name, ""))
    if column.kind == YESNO:
        return Dropdown(YESNO_LIST)
    if column.kind == CITY:
        return Dropdown(CITY_LIST)
    if column.kind == COUNTY:
        # Zones other than the listed ones are accepted (F08): warn, do not refuse.
        return Dropdown(COUNTY_LIST, CITY_LIST, "warning")
    if column.name == SCENE_LIST:
        # The notice's scenes are "可参考但不限于": a suggestion only.
        return Dropdown(SCENE_LIST, "智能制造环节", "information")
    return None


def _list_key(column: Column) -> str:
    """The list key a column's values belong to (所在市 and 所在县 are named as their list)."""
    return column.list_name or column.name


def _hint(column: Column, title: str, policy: Policy) -> tuple[str, str] | None:
    """Input title and message shown when a cell of the column is selected."""
    year, data_year = policy.year, policy.data_year
    kind = column.kind
    if kind in (MONEY, SIGNED_MONEY):
        sign = "可为负数（营业收入减少时）" if kind == SIGNED_MONEY else "不能为负数"
        return "金额（万元）", f"单位：万元，含税，保留至多4位小数；只填数字，不写“万元”或文字；{sign}。"
    if kind == MONTH:
        return "年月", f"填写年月，如 {year}年6月，也可写 {year}.06 或 {year}-06-30。"
    if kind == RANGE:
        return "起止年月", f"开始和结束年月，如 {data_year}年1月至{year}年6月 或 {data_year}.01-{year}.06。"
    if kind == CONTACT:
        return "联系人及手机", "联系人姓名和11位手机号，如 张三 13912345678。"
    if kind == USCC:
        return "统一社会信用代码", "18位统一社会信用代码（数字和大写字母），按营业执照填写。"
    if kind == INVOICES:
        return "发票编号", "8位或20位，多个用顿号分隔，如 12345678、24142000000012345678。"
    if kind == NODE:
        return "时间节点", f"填写 截至申报之日、截至YYYY年M月底（如 截至{year}年12月底）或 截至项目完工之日。"
    if kind == PERCENT:
        return "百分比", "填写百分数的数值，如 62.5 表示 62.5%。"
    if kind == COUNT:
        return "数量", "填写整数。"
    if column.list_name == "申报方向":
        return "申报方向", "先选申报专项，下拉列表只列出该专项的方向。"
    if column.text_limit_key:
        limit = policy.text_limits[column.text_limit_key]
        return title[:32], f"不超过{limit}字。"
    return None


def _validate(worksheet, first_row: int, kind: SheetKind, policy: Policy, lists: _ListSheet) -> None:
    """Dropdowns, number checks and input hints for every column, from first_row (0-based) to LAST_ROW."""
    positions = {_list_key(column): index for index, column in enumerate(kind.columns)}
    for index, column in enumerate(kind.columns):
        title = column.title(policy.data_year)
        options: dict = {}
        dropdown = _dropdown(column)
        if dropdown is not None:
            parent = positions.get(dropdown.parent)
            parent_cell = xl_rowcol_to_cell(first_row, parent, col_abs=True) if parent is not None else None
            options = {
                "validate": "list",
                "source": lists.source(dropdown, parent_cell),
                "error_type": dropdown.error_type,
                "error_title": "不在可选范围内",
                "error_message": f"请从下拉列表中选择“{title}”。",
            }
        elif column.kind == MONEY or column.kind == PERCENT:
            options = {
                "validate": "decimal",
                "criteria": ">=",
                "value": 0,
                "error_title": "请填写数字",
                "error_message": "请填写不小于0的数字，不要写单位或文字。",
            }
        elif column.kind == SIGNED_MONEY:
            options = {
                "validate": "decimal",
                "criteria": "between",
                "minimum": -1e9,
                "maximum": 1e9,
                "error_title": "请填写数字",
                "error_message": "请填写数字（万元），不要写单位或文字。",
            }
        elif column.kind == COUNT:
            options = {
                "validate": "integer",
                "criteria": ">=",
                "value": 0,
                "error_title": "请填写整数",
                "error_message": "请填写不小于0的整数。",
            }
        hint = _hint(column, title, policy)
        if hint is not None:
            options = {"validate": "any", **options, "input_title": hint[0], "input_message": hint[1]}
        if options:
            _ok(worksheet.data_validation(first_row, index, LAST_ROW, index, options), f"{kind.name}/{title}")


def _write_summary(workbook, worksheet, policy: Policy, unit: str, styles: dict, lists: _ListSheet) -> None:
    """附件3's header, then no cells at all: Excel prints every cell that has a border, so bordered blank rows
    would print as pages of empty boxes under the county's projects. Instead each column has its format (what
    Excel gives a cell typed into), and a row is drawn with borders once something is typed in it after 序号
    (a 填表说明 line, text in column A only, stays unboxed)."""
    first = layout.write_summary_header(workbook, worksheet, policy, unit)
    for index, column in enumerate(SUMMARY.columns):
        style = layout.cell_format(styles, column.kind, prefix="column_")
        worksheet.set_column(index, index, layout.SUMMARY_COLUMN_WIDTHS[column.name], style)
    last_column = xl_col_to_name(len(SUMMARY.columns) - 1)
    worksheet.conditional_format(
        first,
        0,
        LAST_ROW,
        len(SUMMARY.columns) - 1,
        {
            "type": "formula",
            "criteria": f"=COUNTA($B{first + 1}:${last_column}{first + 1})>0",
            "format": workbook.add_format({"border": 1}),
        },
    )
    _validate(worksheet, first, SUMMARY, policy, lists)


_WIDTHS = {
    SEQ: 6,
    MONEY: 13,
    SIGNED_MONEY: 13,
    PERCENT: 12,
    COUNT: 10,
    MONTH: 13,
    RANGE: 20,
    YESNO: 10,
    CONTACT: 22,
    USCC: 22,
    INVOICES: 30,
    NODE: 20,
}
_WIDE_LISTS = {"申报方向": 30, "智能制造环节": 16, "子类": 14}


def _width(column: Column) -> float:
    if column.text_limit_key:
        return 40
    if column.kind == LIST:
        return _WIDE_LISTS.get(column.list_name, 18)
    return _WIDTHS.get(column.kind, 18)


def _write_flat(worksheet, kind: SheetKind, policy: Policy, styles: dict, lists: _ListSheet) -> None:
    """A one-header-row sheet: header, column widths and formats, frozen header and key columns."""
    header_lines = 1
    for index, column in enumerate(kind.columns):
        title = column.title(policy.data_year)
        width = _width(column)
        if column.kind in (MONEY, SIGNED_MONEY, PERCENT):
            style = styles["column_money"]
        elif column.kind in (COUNT, SEQ):
            style = styles["column_count"]
        else:
            style = styles["column_text"]
        worksheet.set_column(index, index, width, style)
        worksheet.write_string(0, index, title, styles["header"])
        # Excel does not size a row to wrapped text written by a program: the header row is made tall enough.
        header_lines = max(header_lines, _lines(title, width - 1))
    worksheet.set_row(0, header_lines * 14 + 6)
    worksheet.freeze_panes(1, 2 if kind.per_project else 1)
    worksheet.autofilter(0, 0, 0, len(kind.columns) - 1)
    worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)
    worksheet.repeat_rows(0)
    _validate(worksheet, 1, kind, policy, lists)


def _write_notes_sheet(workbook, worksheet, policy: Policy, styles: dict) -> None:
    """What each sheet is, how values are written, the 投资类别/子类 table, 时间节点 and 附件3's notes."""
    heading = workbook.add_format({"font_name": "黑体", "font_size": 12, "bold": True})
    header, text = styles["header"], styles["text"]
    for index, width in enumerate(NOTES_WIDTHS):
        worksheet.set_column(index, index, width)
    worksheet.set_paper(9)  # A4
    worksheet.fit_to_pages(1, 0)
    worksheet.merge_range(0, 0, 0, 2, f"填表说明（{policy.province_notice}）", styles["title"])
    worksheet.set_row(0, 32)
    year, data_year = policy.year, policy.data_year
    row = 2

    def table(title: str, head: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
        nonlocal row
        worksheet.write_string(row, 0, title, heading)
        row += 1
        for column, value in enumerate(head):
            worksheet.write_string(row, column, value, header)
        row += 1
        for values in rows:
            for column, value in enumerate(values):
                worksheet.write_string(row, column, value, text)
            # LibreOffice does not re-fit a written row to its wrapped text on opening: give it the height.
            lines = max(_lines(value, width - 1) for value, width in zip(values, NOTES_WIDTHS, strict=False))
            worksheet.set_row(row, lines * 14 + 4)
            row += 1
        row += 1

    table(
        "一、各工作表",
        ("工作表", "内容", "是否必填"),
        [(kind.name, *SHEET_NOTES[kind.name]) for kind in SHEET_KINDS] + [(NOTES_SHEET, "本说明，不需填写。", "")],
    )
    table(
        "二、填写格式",
        ("内容", "填写方式", "示例"),
        [
            (
                "金额",
                "单位万元，含税，保留至多4位小数；只填数字，不写“万元”“约”等文字；只有营业收入增量可为负数。",
                "1234.5",
            ),
            ("资产负债率", "填写百分数的数值。", "62.5（即62.5%）"),
            (
                "年月、日期",
                f"年月或日期均可；单元格已设为文本格式，填 {year}.10 不会被 Excel 改成 {year}.1。",
                f"{year}年6月、{year}.06、{year}-06-30",
            ),
            (
                "起止年月",
                "开始和结束年月之间用“-”“—”“~”或“至”连接，结束不早于开始。",
                f"{data_year}年1月至{year}年6月、{data_year}.01-{year}.06",
            ),
            ("是/否", "从下拉列表选择“是”或“否”。", "是"),
            ("联系人及手机", "联系人姓名和11位手机号。", "张三 13912345678"),
            ("统一社会信用代码", "18位，按营业执照填写（末位为校验码）。", ""),
            ("对应发票编号", "纸质发票号码8位，全电发票号码20位；多个用顿号分隔。", "12345678、24142000000012345678"),
            (
                "下拉选项",
                "企业性质、申报专项、申报方向、支持方式、行业分类、所属行业、投资类别、子类、智能制造环节等"
                "从下拉列表选择；先选申报专项、行业分类、投资类别、所在市，再选申报方向和支持方式、所属行业、子类、所在县，"
                "下拉列表只列出对应的选项。",
                "",
            ),
        ],
    )
    table(
        "三、投资类别与子类（附件2 表二）",
        ("投资类别", "子类", ""),
        [(category, "、".join(subs), "") for category, subs in policy.investment_categories.items()],
    )
    table(
        "四、建设计划的时间节点（附件2 表一）",
        ("时间节点", "说明", "示例"),
        [
            ("截至申报之日", "申报时已完成的建设内容和累计完成投资额。", "截至申报之日"),
            ("截至YYYY年M月底", "此后各阶段的计划进度。", f"截至{year}年12月底"),
            ("截至项目完工之日", "项目完工时的建设内容和累计完成投资额。", "截至项目完工之日"),
        ],
    )
    worksheet.write_string(row, 0, "五、附件3 申报汇总表填表说明", heading)
    row += 1
    for line in policy.summary_notes:
        worksheet.merge_range(row, 0, row, 2, line, styles["note"])
        worksheet.set_row(row, _lines(line, sum(NOTES_WIDTHS)) * 14 + 4)
        row += 1
