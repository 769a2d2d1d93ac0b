"""The 附件3 申报汇总表 layout: title, 审核单位 line, two-level header, notes and print set-up."""

from __future__ import annotations

import math

from tr_excel.columns import COUNT, MONEY, SIGNED_MONEY, SUMMARY

TITLE = "山西省技术改造专项资金项目申报汇总表"
UNIT_LABEL = "审核单位（公章）："
MONEY_UNIT = "单位：万元"
HEADER_ROWS = 4  # title, 审核单位 line, two header rows: data starts on the fifth row
UNIT_SPAN = 8  # columns the 审核单位 line is merged over: room for the name and the seal beside it
MONEY_UNIT_SPAN = 3

# Excel width units (about one Latin character; a Chinese character takes about two). The sheet is
# printed one A3 page wide, so the sum decides the print scale: these keep 10-point text readable.
SUMMARY_COLUMN_WIDTHS: dict[str, float] = {
    "序号": 5,
    "所在市": 7,
    "所在县": 8,
    "所在开发区": 9,
    "企业名称": 15,
    "项目名称": 16,
    "企业性质": 7,
    "是否为省级重点产业链链主、链核企业（是/否）": 9,
    "申报专项": 10,
    "申报方向": 12,
    "行业分类": 8,
    "所属行业": 8,
    "主要内容": 20,
    "起止年月": 10,
    "总投资": 9,
    "固定资产投资": 9,
    "设备投资（含软硬件投资）": 9,
    "其他投资": 9,
    "自筹资金": 9,
    "银行贷款": 9,
    "申请专项资金": 9,
    "已完成投资（按照发票金额核定）": 11,
    "项目是否完工（是/否）": 8,
    "完工时间": 8,
    "销售收入": 9,
    "利润": 9,
    "新增税收": 9,
    "就业人数": 6,
    "项目亮点": 20,
    "项目联系人及手机": 12,
}

_BODY_FONT = "宋体"
_POINTS_PER_LINE = 14  # 10-point 宋体 with leading


def formats(workbook) -> dict:
    """The cell formats of the 汇总表, shared by every writer (xlsxwriter merges identical formats): text, money
    and count for a data cell, and the same without the border (column_text…) for a template's columns."""
    body = {"font_name": _BODY_FONT, "font_size": 10, "valign": "vcenter"}
    data = {
        # Text format so that Excel keeps what is typed: "2024.10" stays a month, "1-3" stays page numbers
        # instead of turning into 2024.1 or a date, a 20-digit invoice number keeps its digits.
        "text": {**body, "text_wrap": True, "num_format": "@"},
        "money": {**body, "num_format": "0.00"},
        "count": {**body, "num_format": "0", "align": "center"},
    }
    return {
        "title": workbook.add_format(
            {"font_name": "黑体", "font_size": 18, "bold": True, "align": "center", "valign": "vcenter"}
        ),
        "unit": workbook.add_format({**body, "font_size": 11, "align": "left"}),
        "unit_right": workbook.add_format({**body, "font_size": 11, "align": "right"}),
        "header": workbook.add_format({**body, "border": 1, "bold": True, "text_wrap": True, "align": "center"}),
        **{name: workbook.add_format({**spec, "border": 1}) for name, spec in data.items()},
        **{f"column_{name}": workbook.add_format(spec) for name, spec in data.items()},
        "note": workbook.add_format({**body, "text_wrap": True, "valign": "top"}),
    }


def cell_format(styles: dict, kind: str, prefix: str = ""):
    """The 汇总表 data-cell format for a column kind (with prefix "column_", the one without a border)."""
    if kind in (MONEY, SIGNED_MONEY):
        return styles[f"{prefix}money"]
    if kind == COUNT:
        return styles[f"{prefix}count"]
    return styles[f"{prefix}text"]


def write_summary_header(workbook, worksheet, policy, unit: str) -> int:
    """Rows 1–4 of 附件3, column widths, frozen header and A3 print set-up; returns the first data row (0-based)."""
    styles = formats(workbook)
    columns = SUMMARY.columns
    last = len(columns) - 1
    for index, column in enumerate(columns):
        worksheet.set_column(index, index, SUMMARY_COLUMN_WIDTHS[column.name])
    worksheet.set_row(0, 36)
    worksheet.set_row(1, 24)
    worksheet.set_row(2, 30)
    worksheet.set_row(3, 66)  # with row 3, room for the longest header wrapped in its narrow column
    worksheet.merge_range(0, 0, 0, last, TITLE, styles["title"])
    worksheet.merge_range(1, 0, 1, UNIT_SPAN - 1, f"{UNIT_LABEL}{unit}", styles["unit"])
    worksheet.merge_range(1, last - MONEY_UNIT_SPAN + 1, 1, last, MONEY_UNIT, styles["unit_right"])
    index = 0
    while index < len(columns):
        group = columns[index].group
        if not group:
            worksheet.merge_range(2, index, 3, index, columns[index].title(policy.data_year), styles["header"])
            index += 1
            continue
        end = index
        while end + 1 < len(columns) and columns[end + 1].group == group:
            end += 1
        worksheet.merge_range(2, index, 2, end, group, styles["header"])
        for leaf in range(index, end + 1):
            worksheet.write_string(3, leaf, columns[leaf].title(policy.data_year), styles["header"])
        index = end + 1
    worksheet.freeze_panes(HEADER_ROWS, 0)
    worksheet.set_paper(8)  # A3
    worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)
    worksheet.repeat_rows(0, HEADER_ROWS - 1)
    worksheet.center_horizontally()
    # A wide top and left margin: the 公章 is stamped over the 审核单位 line.
    worksheet.set_margins(left=0.6, right=0.4, top=0.8, bottom=0.6)
    worksheet.set_footer("&C第 &P 页，共 &N 页")
    return HEADER_ROWS


def write_notes(worksheet, first_row: int, formats: dict, policy) -> int:
    """The policy's 附件3 填表说明 below the table, text in column A (merged across the table); returns the next
    row."""
    last = len(SUMMARY.columns) - 1
    # Excel does not grow a merged cell to fit wrapped text, so each row is given the height its text needs.
    line_width = sum(SUMMARY_COLUMN_WIDTHS.values())
    row = first_row
    for text in (policy.summary_notes_heading, *policy.summary_notes):
        lines = math.ceil(sum(1 if ch.isascii() else 2 for ch in text) / line_width)
        worksheet.merge_range(row, 0, row, last, text, formats["note"])
        worksheet.set_row(row, lines * _POINTS_PER_LINE + 4)
        row += 1
    return row
