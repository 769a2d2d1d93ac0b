"""审核报告.xlsx: 概览 with a chart, 问题清单 linked to the return copies, 对账, 分办 and 退回清单."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

import pandas as pd
import xlsxwriter

from tr_excel.columns import SHEET_KINDS
from tr_excel.consolidate.projects import FILE_RULES, Project, Selection
from tr_excel.consolidate.returns import RETURN_DIR, link_anchor
from tr_excel.consolidate.summary import LINE_POINTS, WORKBOOK_OPTIONS, line_count
from tr_excel.engine import Report
from tr_excel.findings import ERROR, INFO, SEVERITY_LABEL, WARNING, Finding
from tr_excel.reader import Workbook
from tr_excel.reconcile import COLUMNS as RECONCILIATION_COLUMNS
from tr_excel.rules.registry import RULES

OVERVIEW, FINDINGS, RECONCILIATION, ROUTING, RETURNS = "概览", "问题清单", "对账", "分办", "退回清单"
# Excel keeps at most this many hyperlinks on one worksheet; further rows show the location as text.
MAX_LINKS = 65530
NOT_FILLED = "（未填）"
CHART_TOP, CHART_ROWS = 4, 16  # 0-based first row and height in rows of the 概览 chart
# Each sheet's column widths, in the order of the sheets.
WIDTHS = {
    OVERVIEW: [30, 40, *[13] * 7],
    FINDINGS: [6, 6, 6, 18, 10, 6, 8, 16, 20, 22, 60, 14, 24, 16],
    RECONCILIATION: [18, 10, 22, 24, *[12] * (len(RECONCILIATION_COLUMNS) - 4)],
    ROUTING: [9, 8, 13, 9, 22, 24, 14, 22, 10, 11, 11, 18, 12],
    RETURNS: [6, 18, 22, 9, 22, 24, 8, 80, 12, 30],
}
COUNTY_MEASURES = (
    "申报项目数",
    "无错误项目数",
    "有错误项目数",
    "纳入汇总表项目数",
    "纳入项目总投资",
    "纳入项目申请专项资金",
)


class _Sheets:
    """The workbook's shared formats and a typed cell writer: text always as text, Decimal as money."""

    def __init__(self, workbook: xlsxwriter.Workbook):
        self.workbook = workbook
        # Every sheet at once, in their order: Review fills them in another.
        self.worksheets = {name: self._sheet(name, widths) for name, widths in WIDTHS.items()}
        base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", "border": 1}
        self.title = workbook.add_format({"font_name": "黑体", "font_size": 16, "bold": True})
        self.heading = workbook.add_format({"font_name": "黑体", "font_size": 12, "bold": True})
        self.plain = workbook.add_format({"font_name": "宋体", "font_size": 10})
        self.header = workbook.add_format(
            {**base, "bold": True, "text_wrap": True, "align": "center", "bg_color": "#D9E1F2"}
        )
        self.text = workbook.add_format({**base, "text_wrap": True})
        self.money = workbook.add_format({**base, "num_format": "0.00"})
        self.count = workbook.add_format({**base, "num_format": "0"})
        self.link = workbook.add_format({**base, "font_color": "blue", "underline": 1})
        self.error = workbook.add_format({**base, "bg_color": "#FF8080"})
        self.warning = workbook.add_format({**base, "bg_color": "#FFFF00"})

    def _sheet(self, name: str, widths: list[float]):
        """A new worksheet with its column widths, printed on A4 landscape one page wide, pages numbered."""
        worksheet = self.workbook.add_worksheet(name)
        for column, width in enumerate(widths):
            worksheet.set_column(column, column, width)
        worksheet.set_paper(9)  # A4
        worksheet.set_landscape()
        worksheet.fit_to_pages(1, 0)
        worksheet.set_footer("&C第 &P 页，共 &N 页")
        return worksheet

    def severity(self, severity: str):
        return {ERROR: self.error, WARNING: self.warning}.get(severity, self.text)

    def write(self, worksheet, row: int, column: int, value, style=None) -> None:
        if isinstance(value, str):
            worksheet.write_string(row, column, value, style or self.text)
        # value != value: NaN (pandas' isna, which costs more than the rest of a cell, for the few there are).
        elif value is None or value is pd.NA or value != value:
            worksheet.write_blank(row, column, None, style or self.text)
        elif isinstance(value, Decimal):
            worksheet.write_number(row, column, float(value), style or self.money)
        else:
            worksheet.write_number(row, column, value, style or self.count)

    def row(self, worksheet, row: int, values: list, style=None) -> None:
        """One table row; its height fitted to the wrapped text, since LibreOffice does not grow it on open."""
        for column, value in enumerate(values):
            self.write(worksheet, row, column, value, style)
        widths = WIDTHS[worksheet.name]
        lines = max(
            (line_count(value, widths[column]) for column, value in enumerate(values) if isinstance(value, str)),
            default=1,
        )
        if lines > 1:
            worksheet.set_row(row, lines * LINE_POINTS + 4)

    def table(self, worksheet, row: int, headers: list[str], rows: list[list]) -> int:
        """A bordered table with a header row at row; returns the row after it."""
        self.row(worksheet, row, headers, self.header)
        for offset, values in enumerate(rows, start=1):
            self.row(worksheet, row + offset, values)
        return row + len(rows) + 1


def _money(units: int) -> Decimal:
    return Decimal(units).scaleb(-4)


def _link(name: str, anchor: tuple[str, str]) -> str:
    return f"external:{RETURN_DIR}/{name}#{link_anchor(*anchor)}"


def _unit_label(book: Workbook) -> str:
    if book.unit is None:
        return ""
    return book.unit.division or book.unit.text


def _sheet_status(book: Workbook, kind) -> str:
    if not book.readable:
        return "不可读"
    if kind.name in book.tables:
        return "已报"
    return "无需" if book.is_summary_input else "缺失"


def _overview(sheets: _Sheets, report: Report, selection: Selection, unit: str) -> None:
    worksheet = sheets.worksheets[OVERVIEW]
    policy = report.policy
    worksheet.write_string(0, 0, "技术改造专项资金项目审核报告", sheets.title)
    worksheet.write_string(1, 0, f"审核单位：{unit}", sheets.plain)
    worksheet.write_string(
        2,
        0,
        f"依据：{policy.province_notice}、{policy.city_notice}（{policy.name}年度）    "
        f"生成日期：{dt.date.today().isoformat()}",
        sheets.plain,
    )
    projects = selection.projects
    included = selection.included
    summary = report.summary
    totals = [
        ["报送文件数", len(report.books)],
        ["无法读取的文件数", sum(not book.readable for book in report.books)],
        ["申报项目数", len(projects)],
        ["有错误的项目数", len(selection.with_errors)],
        ["纳入汇总表项目数", len(included)],
        ["纳入项目总投资（万元）", _money(sum(p.money("总投资") for p in included))],
        ["纳入项目申请专项资金（万元）", _money(sum(p.money("申请专项资金") for p in included))],
        ["错误（条）", summary[ERROR]],
        ["警告（条）", summary[WARNING]],
        ["提示（条）", summary[INFO]],
    ]
    worksheet.write_string(4, 0, "一、总体情况", sheets.heading)
    row = sheets.table(worksheet, 5, ["项目", "数值"], totals)

    def measures(group: list[Project]) -> list:
        chosen = [p for p in group if p.included]
        return [
            len(group),
            sum(not p.blocking for p in group),
            sum(bool(p.blocking) for p in group),
            len(chosen),
            _money(sum(p.money("总投资") for p in chosen)),
            _money(sum(p.money("申请专项资金") for p in chosen)),
        ]

    by_county: dict[str, list[Project]] = defaultdict(list)
    for project in projects:
        by_county[project.county or NOT_FILLED].append(project)
    order = policy.county_order
    counties = sorted(by_county, key=lambda name: (order.get(name, len(order)), name))
    # The chart stands beside 一、总体情况 (which uses two columns), so it prints on the first page.
    row = max(row, CHART_TOP + CHART_ROWS)
    worksheet.write_string(row + 1, 0, "二、按县（市、区）", sheets.heading)
    county_header = row + 2
    county_rows = [[county, *measures(by_county[county])] for county in counties]
    county_rows.append(["合计", *measures(projects)])
    row = sheets.table(worksheet, county_header, ["所在县", *COUNTY_MEASURES], county_rows)
    if counties:
        _chart(sheets.workbook, worksheet, county_header, len(counties), max(map(len, by_county.values())))

    by_direction: dict[tuple[str, str], list[Project]] = defaultdict(list)
    for project in projects:
        by_direction[(project.special or NOT_FILLED, project.direction or NOT_FILLED)].append(project)
    pairs = [(direction.special, direction.name) for direction in policy.directions]
    pairs += sorted(pair for pair in by_direction if pair not in pairs)
    worksheet.write_string(row + 1, 0, "三、按申报专项、申报方向", sheets.heading)
    direction_rows = [
        [special, direction, *measures(by_direction[(special, direction)])] for special, direction in pairs
    ]
    direction_rows.append(["合计", "", *measures(projects)])
    row = sheets.table(worksheet, row + 2, ["申报专项", "申报方向", *COUNTY_MEASURES], direction_rows)

    worksheet.write_string(row + 1, 0, "四、按问题级别", sheets.heading)
    severity_rows = []
    for severity in (ERROR, WARNING, INFO):
        findings = [f for f in report.findings if f.severity == severity]
        files = {f.file_index for f in findings}
        keyed = {(f.file_index, f.project_key) for f in findings if f.project_key is not None}
        severity_rows.append([SEVERITY_LABEL[severity], len(findings), len(files), len(keyed)])
    row = sheets.table(worksheet, row + 2, ["级别", "问题条数", "涉及文件数", "涉及项目数"], severity_rows)
    counts: dict[str, int] = defaultdict(int)
    for finding in report.findings:
        counts[finding.rule] += 1
    rule_rows = [
        [rule.id, rule.title, SEVERITY_LABEL[rule.severity], counts[rule.id]]
        for rule in RULES.values()
        if counts[rule.id]
    ]
    if rule_rows:
        row = sheets.table(worksheet, row + 1, ["规则", "说明", "级别", "条数"], rule_rows)

    worksheet.write_string(row + 1, 0, "五、各单位报送工作表情况（已报 / 缺失 / 不可读）", sheets.heading)
    row = sheets.table(worksheet, row + 2, ["单位", "文件", *(kind.name for kind in SHEET_KINDS)], [])
    for offset, book in enumerate(report.books):
        statuses = [_sheet_status(book, kind) for kind in SHEET_KINDS]
        sheets.row(worksheet, row + offset, [_unit_label(book), book.file, *statuses])
        for column, (kind, status) in enumerate(zip(SHEET_KINDS, statuses, strict=True), start=2):
            if status == "不可读" or (status == "缺失" and kind.required):
                worksheet.write_string(row + offset, column, status, sheets.error)


def _chart(workbook, worksheet, header_row: int, count: int, most: int) -> None:
    """Stacked columns of projects with and without 错误 per county: the picture for a briefing."""
    chart = workbook.add_chart({"type": "column", "subtype": "stacked"})
    first, last = header_row + 1, header_row + count
    for column, colour in ((2, "#5B9BD5"), (3, "#FF8080")):
        chart.add_series(
            {
                "name": [OVERVIEW, header_row, column],
                "categories": [OVERVIEW, first, 0, last, 0],
                "values": [OVERVIEW, first, column, last, column],
                "fill": {"color": colour},
                "data_labels": {"value": True},
            }
        )
    chart.set_title({"name": "各县（市、区）申报项目审核结果", "name_font": {"name": "黑体", "size": 12}})
    # Whole projects: ticks of 1 while they stay legible, else the chart's own choice.
    axis = {"name": "项目数", "min": 0, "major_gridlines": {"visible": True}}
    chart.set_y_axis({**axis, "major_unit": 1} if most <= 10 else axis)
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 640, "height": CHART_ROWS * 20})  # rows of the default 20 pixels
    worksheet.insert_chart(CHART_TOP, 2, chart, {"x_offset": 20})


def _locate(finding: Finding) -> str:
    if finding.cell:
        return finding.cell
    if finding.row is not None:
        return f"第{finding.row}行"
    return "整个工作表" if finding.sheet else "整个文件"


def _findings(sheets: _Sheets, report: Report, names: dict[int, str], anchors: dict[Finding, tuple[str, str]]) -> None:
    headers = [
        "序号",
        "级别",
        "规则",
        "文件",
        "工作表",
        "行",
        "单元格",
        "列",
        "企业名称",
        "项目名称",
        "问题说明",
        "填写值",
        "应为",
        "在退回文件中查看",
    ]
    worksheet = sheets.worksheets[FINDINGS]
    sheets.row(worksheet, 0, headers, sheets.header)
    links = 0
    for row, finding in enumerate(report.findings, start=1):
        anchor = anchors.get(finding)
        if anchor is None:
            where = "（无法读取，无退回文件）" if finding.rule == "S01" else None
        else:
            where = f"打开 {_locate(finding)}"
        sheets.row(
            worksheet,
            row,
            [
                row,
                SEVERITY_LABEL[finding.severity],
                finding.rule,
                finding.file,
                finding.sheet,
                finding.row,
                finding.cell,
                finding.column,
                finding.enterprise,
                finding.project,
                finding.message,
                finding.value,
                finding.expected,
                where,
            ],
        )
        worksheet.write_string(row, 1, SEVERITY_LABEL[finding.severity], sheets.severity(finding.severity))
        if anchor is not None and links < MAX_LINKS:
            worksheet.write_url(row, 13, _link(names[finding.file_index], anchor), sheets.link, where)
            links += 1
    worksheet.autofilter(0, 0, len(report.findings), len(headers) - 1)
    worksheet.freeze_panes(1, 0)
    worksheet.repeat_rows(0)


def _reconciliation(sheets: _Sheets, frame: pd.DataFrame, tolerance: float) -> None:
    worksheet = sheets.worksheets[RECONCILIATION]
    rows = [list(values) for values in frame.itertuples(index=False)]
    end = sheets.table(worksheet, 0, list(frame.columns), rows)
    if "差额" in frame.columns and rows:
        column = list(frame.columns).index("差额")
        # A difference beyond the policy's tolerance (0.01 万元) is what the clerk looks for first.
        worksheet.conditional_format(
            1,
            column,
            end - 1,
            column,
            {
                "type": "cell",
                "criteria": "not between",
                "minimum": -tolerance,
                "maximum": tolerance,
                "format": sheets.error,
            },
        )
    worksheet.autofilter(0, 0, end - 1, len(frame.columns) - 1)
    worksheet.freeze_panes(1, 0)
    worksheet.repeat_rows(0)


def _routing(sheets: _Sheets, report: Report, selection: Selection) -> None:
    worksheet = sheets.worksheets[ROUTING]
    policy = report.policy
    offices: dict[str, int] = {}
    for route in (*policy.routes, policy.default_route):
        offices.setdefault(route.office, len(offices))
    routed = [(policy.route(project.direction, project.industry), project) for project in selection.projects]
    routed.sort(key=lambda pair: offices.get(pair[0].office, len(offices)))  # stable: 汇总表 order within a 科室
    headers = [
        "负责科室",
        "联系人",
        "联系电话",
        "所在县",
        "企业名称",
        "项目名称",
        "申报专项",
        "申报方向",
        "所属行业",
        "总投资",
        "申请专项资金",
        "项目联系人及手机",
        "审核结果",
    ]
    rows = [
        [
            route.office,
            route.contact,
            route.phone,
            project.county,
            project.enterprise,
            project.name,
            project.special,
            project.direction,
            project.industry,
            project.amount("总投资"),
            project.amount("申请专项资金"),
            project.text("项目联系人及手机"),
            "纳入汇总表" if project.included else "退回（有错误）",
        ]
        for route, project in routed
    ]
    end = sheets.table(worksheet, 0, headers, rows)
    worksheet.autofilter(0, 0, end - 1, len(headers) - 1)
    worksheet.freeze_panes(1, 0)
    worksheet.repeat_rows(0)


def _reason(findings: list[Finding]) -> str:
    lines = []
    for finding in findings:
        where = " ".join(part for part in (finding.sheet, _locate(finding) if finding.sheet else "") if part)
        lines.append(f"[{finding.rule}] {where + '：' if where else ''}{finding.message}")
    return "\n".join(lines)


def _returns(
    sheets: _Sheets, report: Report, selection: Selection, names: dict[int, str], notes: dict[int, str]
) -> None:
    worksheet = sheets.worksheets[RETURNS]
    headers = [
        "序号",
        "文件",
        "退回文件",
        "所在县",
        "企业名称",
        "项目名称",
        "错误条数",
        "退回原因（错误）",
        "纳入汇总表",
        "退回文件说明",
    ]
    sheets.row(worksheet, 0, headers, sheets.header)
    entries: list[tuple[Workbook, Project | None, list[Finding]]] = [
        (project.book, project, project.blocking) for project in selection.with_errors
    ]
    file_errors: dict[int, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        if finding.rule in FILE_RULES:
            file_errors[finding.file_index].append(finding)
    with_projects = {project.book.index for project in selection.projects}
    for book in report.books:
        if file_errors[book.index] and book.index not in with_projects:
            # Nothing could be read as a project from this file: it is returned as a whole.
            entries.append((book, None, file_errors[book.index]))
    entries.sort(key=lambda entry: (entry[0].index, entry[1].row if entry[1] else 0))
    for row, (book, project, findings) in enumerate(entries, start=1):
        name = names.get(book.index)
        place = [project.county, project.enterprise, project.name] if project else ["", "（整个文件）", ""]
        included = project is not None and project.included
        sheets.row(
            worksheet,
            row,
            [
                row,
                book.file,
                name or "（无法读取，无退回文件）",
                *place,
                len(findings),
                _reason(findings),
                "是（--include-errors）" if included else "否",
                notes.get(book.index),  # a copy of the values only (an .xls, or too large to copy whole)
            ],
        )
        if name:
            worksheet.write_url(row, 2, f"external:{RETURN_DIR}/{name}", sheets.link, name)
    worksheet.autofilter(0, 0, len(entries), len(headers) - 1)
    worksheet.freeze_panes(1, 0)
    worksheet.repeat_rows(0)


class Review:
    """The 审核报告 being written. Its 概览, 对账 and 分办 need no return copy: they are written at once, while the
    workers write the copies; finish() adds 问题清单 and 退回清单, which link to the copies, and gives the bytes."""

    def __init__(self, report: Report, selection: Selection, unit: str):
        self.report = report
        self.selection = selection
        self.buffer = io.BytesIO()
        self.workbook = xlsxwriter.Workbook(self.buffer, WORKBOOK_OPTIONS)
        self.sheets = _Sheets(self.workbook)
        _overview(self.sheets, report, selection, unit)
        _reconciliation(self.sheets, report.reconciliation, float(report.policy.money_tolerance))
        _routing(self.sheets, report, selection)

    def finish(
        self, names: dict[int, str], anchors: dict[Finding, tuple[str, str]], notes: dict[int, str] | None = None
    ) -> bytes:
        """The workbook as .xlsx bytes; names and anchors say where each file's return copy and comment are,
        notes which copies hold the values only and why."""
        _findings(self.sheets, self.report, names, anchors)
        _returns(self.sheets, self.report, self.selection, names, notes or {})
        self.workbook.close()
        return self.buffer.getvalue()
