"""consolidate: 汇总表 layout, totals and print set-up, the review workbook, return copies, names and OUTDIR."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import cell_values, row_of, typed_frames, unnumbered_rows
from conftest import edit as edit_row
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.cell.cell import MergedCell

from tr_excel import columns as K
from tr_excel.cli import main
from tr_excel.consolidate import OutdirRefused, consolidate
from tr_excel.consolidate.returns import MAX_NAME_BYTES, annotate, return_names, safe_name
from tr_excel.consolidate.summary import display_width
from tr_excel.findings import Finding
from tr_excel.policy import Policy
from tr_excel.reader import read_workbook
from tr_excel.synth import submission_of, write_submission

CITY_UNIT = "忻州市工业和信息化局"
FORMULA = '=HYPERLINK("http://x","y")'
PLUS = "+1+1"
MINUS = "-3+2 新建生产线"
AT = "@SUM(A1) 示范带动"
# 附件3 as the notice prints it: rows 3–4 of the header (group cells above their leaves), column 8 in
# workbook.md's wording.
HEADER_TOP = [
    "序号", "所在市", "所在县", "所在开发区", "企业名称", "项目名称", "企业性质",
    "是否为省级重点产业链链主、链核企业（是/否）", "申报专项", "申报方向", "行业分类", "所属行业", "主要内容",
    "起止年月", "项目投资", None, None, None, "资金来源", None, "申请专项资金",
    "已完成投资（按照发票金额核定）", "项目是否完工（是/否）", "完工时间", "投产后预期效益", None, None, None,
    "项目亮点", "项目联系人及手机",
]  # fmt: skip
HEADER_LEAVES = {
    15: "总投资", 16: "固定资产投资", 17: "设备投资（含软硬件投资）", 18: "其他投资", 19: "自筹资金", 20: "银行贷款",
    25: "销售收入", 26: "利润", 27: "新增税收", 28: "就业人数",
}  # fmt: skip
GROUPS = {"O3:R3": "项目投资", "S3:T3": "资金来源", "Y3:AB3": "投产后预期效益"}
SUMMED = [*range(15, 23), *range(25, 29)]  # 1-based columns the 合计 row sums
MONEY_COLUMNS = [*range(15, 23), 25, 26, 27]


def unit_of(county: str, city: str = "忻州市") -> str:
    return f"{city}{county}工业和信息化局"


def county_book(policy: Policy, path: Path, county: str, projects, seed: int, city: str = "忻州市", edits=()):
    """A clean county workbook of projects (enterprise, project, direction); edits change rows before writing."""
    submission = submission_of(
        policy, unit_of(county, city), projects, seed=seed, county=county, city=city, invoice_start=seed * 100_000
    )
    for sheet, index, values in edits:
        submission.rows[sheet][index].update(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_submission(path, submission, policy)
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, policy: Policy) -> Path:
    """Four workbooks and a broken file: 5 projects go into the 汇总表, 3 are kept out, 1 file cannot be read."""
    root = tmp_path_factory.mktemp("consolidate") / "县级报送"
    county_book(
        policy,
        root / "繁峙县.xlsx",
        "繁峙县",
        [
            ("繁峙甲钢铁有限公司", "甲钢铁技改项目", "产业基础核心支撑"),
            ("繁峙乙装备有限公司", "乙智能化升级项目", "智能化升级"),  # F03 below: kept out
            (FORMULA, PLUS, "中试项目"),
            ("繁峙丙食品有限公司", "丙数字化改造项目", "制造业数字化转型改造—数字化改造"),  # F10 (警告) only
        ],
        seed=1,
        edits=[
            ("汇总表", 1, {"申请专项资金": "待定"}),
            ("汇总表", 2, {"主要内容": MINUS, "项目亮点": AT, "就业人数": 3.5}),  # F10 (警告): in 问题清单 too
            ("汇总表", 3, {"就业人数": 12.5}),
        ],
    )
    county_book(
        policy,
        root / "五台县" / "五台县.xlsx",
        "五台县",
        [
            ("五台丁建材有限公司", "丁绿色低碳项目", "绿色低碳转型"),
            ("五台戊化工有限公司", "戊节能降碳项目", "生产线节能降碳改造"),
        ],
        seed=2,
        edits=[("申报主体", 0, {"统一社会信用代码": "91140981MA0K3XYZ1Q"})],  # F06 on the enterprise: kept out
    )
    no_pledge = county_book(
        policy, root / "原平市.xlsx", "原平市", [("原平己有色有限公司", "己项目", "智能化升级")], seed=3
    )
    book = openpyxl.load_workbook(no_pledge)
    del book["承诺书"]  # S02: every project of the file is kept out
    book.save(no_pledge)
    county_book(
        policy,
        root / "代县.xlsm",
        "代县",
        [("代县庚轻工有限公司", "庚项目", "制造业数字化转型供给提升—开源体系建设")],
        seed=4,
        edits=[("汇总表", 0, {"就业人数": 7.5})],
    )
    (root / "坏文件.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    return root


def digests(root: Path) -> dict[Path, str]:
    return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in root.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def inputs_before(inputs: Path) -> dict[Path, str]:
    return digests(inputs)


@pytest.fixture(scope="module")
def run(inputs: Path, inputs_before, policy: Policy):
    outdir = inputs.parent / "输出"
    return consolidate([inputs], outdir, CITY_UNIT, policy), outdir


@pytest.fixture(scope="module")
def small(tmp_path_factory, policy: Policy) -> Path:
    """A folder with one workbook of one project with an 错误."""
    folder = tmp_path_factory.mktemp("small") / "in"
    edits = [("汇总表", 0, {"申请专项资金": "待定"})]
    county_book(policy, folder / "繁峙县.xlsx", "繁峙县", [("甲公司", "甲项目", "中试项目")], seed=9, edits=edits)
    return folder


@pytest.fixture(scope="module")
def summary_sheets(run):
    _, outdir = run
    path = outdir / "汇总表.xlsx"
    return openpyxl.load_workbook(path)["汇总表"], openpyxl.load_workbook(path, data_only=True)["汇总表"]


def data_rows(sheet) -> list[int]:
    rows = []
    for row in range(5, sheet.max_row + 1):
        if sheet.cell(row, 1).value == "合计":
            return rows
        rows.append(row)
    raise AssertionError("no 合计 row")


# --- 汇总表 ---------------------------------------------------------------------------------------------


def test_writes_every_output(run, inputs):
    result, outdir = run
    names = sorted(path.relative_to(outdir).as_posix() for path in result.written)
    assert names == sorted(
        [
            "汇总表.xlsx",
            "审核报告.xlsx",
            "findings.json",
            "退回/繁峙县_审核意见.xlsx",
            "退回/五台县_五台县_审核意见.xlsx",
            "退回/原平市_审核意见.xlsx",
            "退回/代县_审核意见.xlsx",
        ]
    )
    assert sorted(path.relative_to(outdir).as_posix() for path in outdir.rglob("*") if path.is_file()) == names
    assert json.loads((outdir / "findings.json").read_text("utf-8")) == result.report.as_json()


def test_summary_header_is_the_official_layout(summary_sheets):
    sheet, _ = summary_sheets
    assert sheet.title == "汇总表"
    assert sheet["A1"].value == "山西省技术改造专项资金项目申报汇总表"
    assert sheet["A2"].value == f"审核单位（公章）：{CITY_UNIT}"
    assert "单位：万元" in [sheet.cell(2, column).value for column in range(20, 31)]
    merged = {str(cell_range) for cell_range in sheet.merged_cells.ranges}
    assert "A1:AD1" in merged
    for column, text in enumerate(HEADER_TOP, start=1):
        letter = openpyxl.utils.get_column_letter(column)
        if column in HEADER_LEAVES:
            assert sheet.cell(4, column).value == HEADER_LEAVES[column]
            assert f"{letter}3:{letter}4" not in merged
        else:
            assert sheet.cell(3, column).value == text
            assert f"{letter}3:{letter}4" in merged
    for cell_range, text in GROUPS.items():
        assert cell_range in merged
        assert sheet[cell_range.split(":")[0]].value == text
    assert [column.title(2023) for column in K.SUMMARY.columns] == [
        HEADER_LEAVES.get(index, text) for index, text in enumerate(HEADER_TOP, start=1)
    ]


def test_summary_holds_only_projects_without_errors_in_the_notice_order(summary_sheets, run, policy):
    sheet, _ = summary_sheets
    rows = data_rows(sheet)
    assert [sheet.cell(row, 1).value for row in rows] == [1, 2, 3, 4, 5]
    projects = [sheet.cell(row, 6).value for row in rows]
    # 专项 and 方向 in the notice's order: 核心竞争力提升, 开源体系建设, 数字化改造, 生产线节能降碳改造, 中试项目.
    assert projects == ["甲钢铁技改项目", "庚项目", "丙数字化改造项目", "戊节能降碳项目", PLUS]
    assert sheet.cell(rows[2], 10).value == "制造业数字化转型改造—数字化改造"
    specials = {name: order for order, name in enumerate(policy.specials)}
    keys = [
        (specials[sheet.cell(row, 9).value], policy.county_order[sheet.cell(row, 3).value], sheet.cell(row, 5).value)
        for row in rows
    ]
    assert keys == sorted(keys)
    result, _ = run
    assert len(result.selection.included) == 5
    assert len(result.selection.projects) == 8


def test_total_row_has_formulas_with_their_values(summary_sheets):
    sheet, values = summary_sheets
    rows = data_rows(sheet)
    total = rows[-1] + 1
    for column in SUMMED:
        letter = openpyxl.utils.get_column_letter(column)
        assert sheet.cell(total, column).value == f"=SUM({letter}{rows[0]}:{letter}{rows[-1]})"
        expected = sum(values.cell(row, column).value or 0 for row in rows)
        assert values.cell(total, column).value == pytest.approx(expected, abs=1e-6)
    assert values.cell(total, 15).value > 0
    for column in (23, 24, 29, 30):
        assert sheet.cell(total, column).value is None


def test_frame_texts_are_the_cells_as_written(write_book, policy):
    # What the outputs show of a 汇总表 cell as the county wrote it: edges trimmed, a number as plain text, a blank
    # cell (or one of spaces) and a column the sheet lacks as "".
    written = {"企业名称": "  山西繁峙特钢有限公司 ", "银行贷款": 1500, "项目亮点": "   "}
    path = write_book(edit_row("汇总表", 0, written))
    summary = typed_frames(path, policy)[K.SUMMARY.name]
    assert summary.texts("企业名称")[0] == "山西繁峙特钢有限公司"
    assert summary.texts("银行贷款")[0] == "1500"
    assert summary.texts("项目亮点")[0] == "" and summary.texts("项目亮点")[1]
    assert summary.texts("没有这一列") == [""] * len(summary.table.rows)


def test_summary_formats_borders_and_notes(summary_sheets):
    sheet, _ = summary_sheets
    rows = data_rows(sheet)
    total = rows[-1] + 1
    for row in [*rows, total]:
        for column in MONEY_COLUMNS:
            assert sheet.cell(row, column).number_format == "0.00"
    for row in range(3, total + 1):
        for column in range(1, 31):
            if isinstance(sheet.cell(row, column), MergedCell):
                continue  # openpyxl gives the inside of a merge only the merge's outer edges
            border = sheet.cell(row, column).border
            assert all(side.style for side in (border.left, border.right, border.top, border.bottom)), (row, column)
    for column in (5, 6, 13, 29):
        assert sheet.cell(rows[0], column).alignment.wrap_text
    notes = [sheet.cell(row, 1).value for row in range(total + 1, sheet.max_row + 1)]
    assert notes[0] is None  # a blank row between the table and the 填表说明
    assert notes[1] == "填表说明："
    assert any(note and note.startswith("3.申报方向") and "供给提升—数字技术创新" in note for note in notes)
    for row in rows:
        assert sheet.row_dimensions[row].height >= 20


@given(st.text(alphabet=st.sampled_from("ab 1,企业名称（盖章）\n\u3000\u10ff\u1100😀"), max_size=80))
def test_display_width_counts_wide_characters_twice(text):
    assert display_width(text) == sum(2 if ord(char) >= 0x1100 else 1 for char in text)


def test_summary_print_setup(summary_sheets):
    sheet, _ = summary_sheets
    setup = sheet.page_setup
    assert int(setup.paperSize) == 8
    assert setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert setup.fitToWidth in (None, 1)  # 1 is the default and then left out of the file
    assert setup.fitToHeight == 0
    assert sheet.print_title_rows == "$1:$4"
    assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"
    assert sheet.freeze_panes == "A5"
    assert sheet.page_margins.top >= 0.75


# --- formula-like input text ----------------------------------------------------------------------------


def texts(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Every string cell's (value, data type) per sheet; formulas have data type "f"."""
    book = openpyxl.load_workbook(path)
    return {
        sheet.title: [
            (cell.value, cell.data_type) for row in sheet.iter_rows() for cell in row if cell.value is not None
        ]
        for sheet in book.worksheets
    }


@pytest.mark.parametrize("text", [FORMULA, PLUS, MINUS, AT])
def test_formula_like_text_stays_text_in_every_output(run, text):
    _, outdir = run
    summary = texts(outdir / "汇总表.xlsx")["汇总表"]
    assert (text, "s") in summary
    review = texts(outdir / "审核报告.xlsx")
    if text in (FORMULA, PLUS):
        for sheet in ("问题清单", "对账", "分办"):
            assert (text, "s") in review[sheet]
        findings = json.loads((outdir / "findings.json").read_text("utf-8"))["findings"]
        assert any(text in (finding["enterprise"], finding["project"]) for finding in findings)
    returned = texts(outdir / "退回" / "繁峙县_审核意见.xlsx")["汇总表"]
    assert (text, "s") in returned
    for path in outdir.rglob("*.xlsx"):
        for cells in texts(path).values():
            assert not [value for value, kind in cells if kind == "f" and "HYPERLINK" in str(value)], path


# --- 审核报告 -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def review(run):
    _, outdir = run
    return openpyxl.load_workbook(outdir / "审核报告.xlsx")


def column_values(sheet, header: str) -> list:
    headers = [cell.value for cell in sheet[1]]
    index = headers.index(header) + 1
    return [sheet.cell(row, index).value for row in range(2, sheet.max_row + 1)]


def test_review_has_its_five_sheets_and_a_chart(review, run):
    _, outdir = run
    assert review.sheetnames == ["概览", "问题清单", "对账", "分办", "退回清单"]
    with zipfile.ZipFile(outdir / "审核报告.xlsx") as archive:
        assert any(name.startswith("xl/charts/chart") for name in archive.namelist())
    overview = review["概览"]
    values = [cell.value for row in overview.iter_rows() for cell in row if cell.value is not None]
    for heading in ("一、总体情况", "二、按县（市、区）", "三、按申报专项、申报方向", "四、按问题级别"):
        assert heading in values
    cells = {(cell.row, cell.column): cell.value for row in overview.iter_rows() for cell in row}
    label_row: dict[str, int] = {}
    for (row, column), value in sorted(cells.items()):
        if column == 1 and isinstance(value, str):
            label_row.setdefault(value, row)
    assert cells[(label_row["申报项目数"], 2)] == 8
    assert cells[(label_row["纳入汇总表项目数"], 2)] == 5
    assert cells[(label_row["无法读取的文件数"], 2)] == 1
    assert cells[(label_row["繁峙县"], 2)] == 4  # by county: 4 declared, 3 without 错误
    assert cells[(label_row["繁峙县"], 3)] == 3
    matrix = {
        cells[(row, 2)]: [cells[(row, column)] for column in range(3, 10)] for row in range(1, overview.max_row + 1)
    }
    assert matrix["坏文件.xlsx"] == ["不可读"] * 7
    assert matrix["原平市.xlsx"][:3] == ["已报", "缺失", "已报"]


def test_findings_sheet_links_every_finding_to_its_comment(review, run):
    result, outdir = run
    sheet = review["问题清单"]
    assert sheet.auto_filter.ref == f"A1:N{len(result.report.findings) + 1}"
    assert column_values(sheet, "规则") == [finding.rule for finding in result.report.findings]
    for row, finding in enumerate(result.report.findings, start=2):
        link = sheet.cell(row, 14).hyperlink
        if finding.rule == "S01":
            assert link is None
            continue
        target = link.target.replace("\\", "/")
        assert target.startswith("退回/") and target.endswith("_审核意见.xlsx")
        sheet_name, cell = link.location.rsplit("!", 1)
        copy = openpyxl.load_workbook(outdir / target)
        comment = copy[sheet_name.strip("'")][cell].comment
        assert comment is not None and finding.message in comment.text
        if finding.cell:
            assert cell == finding.cell


def test_reconciliation_routing_and_returns_sheets(review, policy):
    reconciliation = review["对账"]
    headers = ["文件", "所在县", "企业名称", "项目名称", "申报已完成投资", "发票合计", "差额"]
    assert [cell.value for cell in reconciliation[1]][:7] == headers
    assert len(column_values(reconciliation, "项目名称")) == 8
    routing = review["分办"]
    offices = dict(zip(column_values(routing, "项目名称"), column_values(routing, "负责科室"), strict=True))
    assert offices[PLUS] == policy.route("中试项目", "").office == "技装科"
    assert offices["甲钢铁技改项目"] == "投资科"
    results = dict(zip(column_values(routing, "项目名称"), column_values(routing, "审核结果"), strict=True))
    assert results["乙智能化升级项目"] == "退回（有错误）" and results["甲钢铁技改项目"] == "纳入汇总表"
    returns = review["退回清单"]
    left_out = dict(zip(column_values(returns, "项目名称"), column_values(returns, "退回原因（错误）"), strict=True))
    assert set(left_out) == {"乙智能化升级项目", "丁绿色低碳项目", "己项目", ""}
    assert "[F03]" in left_out["乙智能化升级项目"]
    assert "[F06]" in left_out["丁绿色低碳项目"]
    assert "[S02]" in left_out["己项目"]
    assert "[S01]" in left_out[""]
    assert "（无法读取，无退回文件）" in column_values(returns, "退回文件")


# --- 退回 copies ----------------------------------------------------------------------------------------


def test_return_copies_keep_every_value_and_comment_each_finding(run, inputs):
    result, outdir = run
    for source, name in [
        ("繁峙县.xlsx", "繁峙县"),
        ("五台县/五台县.xlsx", "五台县_五台县"),
        ("原平市.xlsx", "原平市"),
        ("代县.xlsm", "代县"),
    ]:
        copy = outdir / "退回" / f"{name}_审核意见.xlsx"
        assert cell_values(copy) == cell_values(inputs / source)
        book = openpyxl.load_workbook(copy)
        for finding in (f for f in result.report.findings if f.file == source):
            if finding.cell:
                cell = book[finding.sheet][finding.cell]
                assert finding.message in cell.comment.text
                colour = {"error": "FFFF8080", "warning": "FFFFFF00"}.get(finding.severity)
                if colour:
                    assert cell.fill.fgColor.rgb in (colour, "FFFF8080")
            elif finding.row is None:
                assert finding.message in book.worksheets[0]["A1"].comment.text
    with zipfile.ZipFile(outdir / "退回" / "代县_审核意见.xlsx") as archive:
        assert not [name for name in archive.namelist() if "vba" in name.lower()]
        assert b"macroEnabled" not in archive.read("[Content_Types].xml")
    # Made by the zip-level patcher (not openpyxl, which rewrites every part): what no mark touches is as sent.
    copy_path = outdir / "退回" / "繁峙县_审核意见.xlsx"
    with zipfile.ZipFile(inputs / "繁峙县.xlsx") as source, zipfile.ZipFile(copy_path) as copy:
        for name in ("docProps/app.xml", "xl/theme/theme1.xml", "xl/sharedStrings.xml"):
            assert copy.read(name) == source.read(name), name


def test_originals_are_never_touched(run, inputs, inputs_before):
    assert digests(inputs) == inputs_before


@pytest.mark.parametrize("editor", ["patch", "openpyxl"])
def test_annotate_merges_findings_per_cell_and_marks_rows_and_files(tmp_path, policy, editor):
    path = county_book(policy, tmp_path / "繁峙县.xlsx", "繁峙县", [("甲公司", "甲项目", "中试项目")], seed=5)
    if editor == "openpyxl":
        unnumbered_rows(path)  # the patcher refuses it
    book = read_workbook(path, path.name, 0, policy)

    def finding(rule, severity, message, **where):
        return Finding(rule, severity, path.name, message=message, enterprise=None, project=None, **where)

    findings = [
        finding("F03", "error", "第一条", sheet="汇总表", row=5, column="总投资", cell="O5"),
        finding("R07", "warning", "第二条", sheet="汇总表", row=5, column="总投资", cell="O5"),
        finding("X01", "error", "整行", sheet="承诺书", row=3, column=None, cell=None),
        finding("S02", "error", "缺少表", sheet="建设计划", row=None, column=None, cell=None),
        finding("S03", "error", "表头", sheet="汇总表", row=4, column=None, cell=None),
    ]
    annotated = annotate(book, findings)
    (tmp_path / "copy.xlsx").write_bytes(annotated.data)
    copy = openpyxl.load_workbook(tmp_path / "copy.xlsx")
    comment = copy["汇总表"]["O5"].comment.text
    assert "【错误 F03】第一条" in comment and "【警告 R07】第二条" in comment
    assert copy["汇总表"]["O5"].fill.fgColor.rgb == "FFFF8080"
    assert "整行" in copy["承诺书"]["A3"].comment.text
    assert all(copy["承诺书"].cell(3, column).fill.fgColor.rgb == "FFFF8080" for column in range(1, 19))
    assert "缺少表" in copy.worksheets[0]["A1"].comment.text
    assert "表头" in copy["汇总表"]["A3"].comment.text  # A4 lies in the merged A3:A4 header cell
    assert annotated.anchors[findings[4]] == ("汇总表", "A3")
    assert annotated.anchors[findings[3]] == (copy.worksheets[0].title, "A1")


def test_values_copy_keeps_values_and_formula_like_text(tmp_path, policy):
    """The copy an .xls or a workbook over max_annotated_cells comes back as: every value, merges, no formula."""
    path = county_book(policy, tmp_path / "b.xlsx", "繁峙县", [(FORMULA, PLUS, "中试项目")], seed=6)
    unnumbered_rows(path)  # not for the patcher; for openpyxl, over max_cells
    book = read_workbook(path, path.name, 0, policy)
    finding = Finding(
        "F03", "error", path.name, "汇总表", 5, "总投资", "O5", enterprise=None, project=None, message="金额"
    )
    annotated = annotate(book, [finding], max_cells=0)
    assert "单元格" in annotated.note
    (tmp_path / "copy.xlsx").write_bytes(annotated.data)
    assert cell_values(tmp_path / "copy.xlsx") == cell_values(path)
    assert (FORMULA, "s") in texts(tmp_path / "copy.xlsx")["汇总表"]
    copy = openpyxl.load_workbook(tmp_path / "copy.xlsx")
    assert "A1:AD1" in {str(cell_range) for cell_range in copy["汇总表"].merged_cells.ranges}


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is needed to make an .xls file")
def test_xls_input_comes_back_as_xlsx(tmp_path, policy):
    source = county_book(
        policy, tmp_path / "src" / "繁峙县.xlsx", "繁峙县", [("甲公司", "甲项目", "中试项目")], seed=7,
        edits=[("汇总表", 0, {"申请专项资金": "待定"})],
    )  # fmt: skip
    inputs = tmp_path / "in"
    # A LibreOffice profile of its own: parallel runs sharing one lock each other out.
    profile = f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}"
    subprocess.run(
        ["soffice", profile, "--headless", "--convert-to", "xls", "--outdir", str(inputs), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    result = consolidate([inputs], tmp_path / "out", CITY_UNIT, policy)
    copy = tmp_path / "out" / "退回" / "繁峙县_审核意见.xlsx"
    assert copy in result.written
    book = openpyxl.load_workbook(copy)
    assert "待定" in [cell.value for row in book["汇总表"].iter_rows() for cell in row]
    finding = next(f for f in result.report.findings if f.rule == "F03")
    assert finding.message in book["汇总表"][finding.cell].comment.text


# --- names ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "name"),
    [
        ("繁峙县.xlsx", "繁峙县"),
        ("忻州/繁峙县/报送.xlsm", "忻州_繁峙县_报送"),
        ('a:b*c?d"e<f>g|h.xls', "a_b_c_d_e_f_g_h"),
        ("..隐藏.xlsx", "隐藏"),
        ("tab\there#1 50%.xlsx", "tab_here_1_50_"),
        ("CON.xlsx", "_CON"),
        ("lpt1.备份.xlsx", "_lpt1.备份"),
        ("v1.2.xlsx", "v1.2"),
        ("....xlsx", "文件"),
    ],
)
def test_safe_name(file, name):
    assert safe_name(file) == name


def test_long_names_are_cut_on_a_character_and_clashes_numbered():
    long = safe_name("很" * 200 + ".xlsx")
    assert len(long.encode("utf-8")) <= MAX_NAME_BYTES and set(long) == {"很"}

    class Book:
        def __init__(self, index, file):
            self.index, self.file = index, file

    books = [Book(0, "a/b.xlsx"), Book(1, "a_b.xlsx"), Book(2, "A_B.xls"), Book(3, "c.xlsx")]
    assert return_names(books) == {
        0: "a_b_审核意见.xlsx",
        1: "a_b_2_审核意见.xlsx",
        2: "A_B_3_审核意见.xlsx",
        3: "c_审核意见.xlsx",
    }


# --- OUTDIR and the command line -------------------------------------------------------------------------


def test_outdir_rules(small, policy, tmp_path):
    outdir = tmp_path / "新建" / "输出"
    consolidate([small], outdir, CITY_UNIT, policy)  # created with its parents
    with pytest.raises(OutdirRefused, match="不是空的"):
        consolidate([small], outdir, CITY_UNIT, policy)
    stale = outdir / "退回" / "旧文件_审核意见.xlsx"
    stale.write_bytes(b"old")
    keep = outdir / "说明.txt"
    keep.write_text("mine", "utf-8")
    result = consolidate([small], outdir, CITY_UNIT, policy, force=True)
    assert not stale.exists() and keep.exists()
    assert not [path for path in outdir.rglob("*") if path.name.startswith(".tr-excel-")]
    assert len(result.written) == 4
    with pytest.raises(OutdirRefused, match="输入文件夹"):
        consolidate([small], small / "输出", CITY_UNIT, policy)
    with pytest.raises(OutdirRefused, match="是一个文件"):
        consolidate([small], keep, CITY_UNIT, policy, force=True)


def test_a_stale_copy_that_cannot_be_removed_is_named(small, policy, tmp_path, monkeypatch):
    """A return copy of an earlier run that this run did not write must not be sent out: when it cannot be
    deleted (open in Excel on Windows) the run says which file and what to do."""
    outdir = tmp_path / "输出"
    consolidate([small], outdir, CITY_UNIT, policy)
    stale = outdir / "退回" / "旧文件_审核意见.xlsx"
    stale.write_bytes(b"old")
    unlink = Path.unlink

    def refuse(path, *args, **kwargs):
        if path == stale:
            raise PermissionError(13, "Permission denied")
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", refuse)
    with pytest.raises(OSError, match="无法删除上次运行留下的退回文件 .*旧文件_审核意见.xlsx.*请先关闭再重试"):
        consolidate([small], outdir, CITY_UNIT, policy, force=True)


def test_include_errors_puts_every_readable_project_in(inputs, policy, tmp_path):
    result = consolidate([inputs], tmp_path / "out", CITY_UNIT, policy, include_errors=True)
    sheet = openpyxl.load_workbook(tmp_path / "out" / "汇总表.xlsx")["汇总表"]
    projects = [sheet.cell(row, 6).value for row in data_rows(sheet)]
    assert len(projects) == 8 and "乙智能化升级项目" in projects
    # The unreadable amount is written as the county typed it.
    assert "待定" in [sheet.cell(row, 21).value for row in data_rows(sheet)]
    assert len(result.selection.included) == 8


def test_cli_exit_codes(small, tmp_path, policy):
    runner = CliRunner()
    outdir = tmp_path / "out"
    first = runner.invoke(main, ["consolidate", str(small), "-o", str(outdir), "--unit", CITY_UNIT])
    assert first.exit_code == 1, first.output
    assert first.stdout.split() == ["汇总表.xlsx", "审核报告.xlsx", "findings.json", "退回/繁峙县_审核意见.xlsx"]
    again = runner.invoke(main, ["consolidate", str(small), "-o", str(outdir), "--unit", CITY_UNIT])
    assert again.exit_code == 2 and "--force" in again.output
    forced = runner.invoke(main, ["consolidate", str(small), "-o", str(outdir), "--unit", CITY_UNIT, "--force"])
    assert forced.exit_code == 1
    clean = county_book(
        policy, tmp_path / "clean" / "繁峙县.xlsx", "繁峙县", [("甲公司", "甲项目", "中试项目")], seed=8
    )
    ok = runner.invoke(main, ["consolidate", str(clean), "-o", str(tmp_path / "ok"), "--unit", CITY_UNIT])
    assert ok.exit_code == 0, ok.output
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == ["findings.json", "审核报告.xlsx", "汇总表.xlsx"]
    empty = tmp_path / "empty"
    empty.mkdir()
    none = runner.invoke(main, ["consolidate", str(empty), "-o", str(tmp_path / "x"), "--unit", CITY_UNIT])
    assert none.exit_code == 2
    blank = runner.invoke(main, ["consolidate", str(clean), "-o", str(tmp_path / "y"), "--unit", " "])
    assert blank.exit_code == 2
    missing = runner.invoke(main, ["consolidate", str(clean), "-o", str(tmp_path / "z")])
    assert missing.exit_code == 2


# --- city summaries into a province summary --------------------------------------------------------------


def totals(path: Path) -> list[float]:
    sheet = openpyxl.load_workbook(path, data_only=True)["汇总表"]
    total = data_rows(sheet)[-1] + 1
    return [sheet.cell(total, column).value for column in SUMMED]


def test_city_summaries_consolidate_into_a_province_summary(tmp_path, policy):
    cities = []
    for city, counties, seed in (("忻州市", ("繁峙县", "五台县"), 10), ("大同市", ("云州区",), 20)):
        folder = tmp_path / city
        for offset, county in enumerate(counties):
            county_book(
                policy,
                folder / f"{county}.xlsx",
                county,
                [
                    (f"{county}甲公司", f"{county}甲项目", "中试项目"),
                    (f"{county}乙公司", f"{county}乙项目", "绿色低碳转型"),
                ],
                seed=seed + offset,
                city=city,
            )
        outdir = tmp_path / "out" / city
        result = consolidate([folder], outdir, f"{city}工业和信息化局", policy)
        assert not result.report.has_errors
        cities.append(outdir / "汇总表.xlsx")
    province = consolidate(cities, tmp_path / "province", "山西省工业和信息化厅", policy)
    assert not [f for f in province.report.findings if f.severity != "info"], province.report.findings
    assert all(book.is_summary_input for book in province.report.books)
    path = tmp_path / "province" / "汇总表.xlsx"
    city_totals = [totals(city) for city in cities]
    assert totals(path) == pytest.approx([a + b for a, b in zip(*city_totals, strict=True)], abs=1e-6)
    sheet = openpyxl.load_workbook(path)["汇总表"]
    assert [sheet.cell(row, 1).value for row in data_rows(sheet)] == [1, 2, 3, 4, 5, 6]
    assert sheet["A2"].value == "审核单位（公章）：山西省工业和信息化厅"


def test_a_batch_with_nothing_readable_still_writes_its_outputs(tmp_path, policy):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "坏.xlsx").write_bytes(b"not a workbook")
    result = consolidate([tmp_path / "in"], tmp_path / "out", CITY_UNIT, policy)
    assert [path.name for path in result.written] == ["汇总表.xlsx", "审核报告.xlsx", "findings.json"]
    sheet = openpyxl.load_workbook(tmp_path / "out" / "汇总表.xlsx")["汇总表"]
    assert data_rows(sheet) == []
    assert [sheet.cell(5, column).value for column in SUMMED] == [0] * len(SUMMED)
    returns = openpyxl.load_workbook(tmp_path / "out" / "审核报告.xlsx")["退回清单"]
    assert column_values(returns, "文件") == ["坏.xlsx"]


def test_summary_cells_of_spaces_only_are_left_blank(make_book):
    """A cell a clerk cleared with the space bar (spaces, a full-width space, a zero-width space) holds nothing:
    the 汇总表 shows it blank, not as the spaces, and an amount so cleared is blank too (not 0)."""
    from tr_excel.consolidate.projects import select
    from tr_excel.consolidate.summary import summary_data

    report = make_book(
        edit_row(K.SUMMARY.name, 0, {"所在开发区": " \u3000 ", "项目亮点": "\u200b", "银行贷款": "  "}),
    )
    projects = select(report, include_errors=True).projects
    edited = [project.row for project in projects].index(row_of(K.SUMMARY.name, 0))
    cells = summary_data(projects).rows[edited]
    position = {column.name: index for index, column in enumerate(K.SUMMARY.columns)}
    assert [cells[position[name]] for name in ("所在开发区", "项目亮点", "银行贷款")] == [None, None, None]
    assert cells[position["自筹资金"]] is not None
