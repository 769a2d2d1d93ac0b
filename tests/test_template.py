"""The blank template: sheets, the 附件3 header, dropdowns from named lists, formats, hints and overwriting."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from openpyxl.utils import get_column_letter

from tr_excel import columns as K
from tr_excel import layout
from tr_excel.output import OutputExists
from tr_excel.policy import Policy
from tr_excel.reader import read_workbook
from tr_excel.template import LIST_SHEET, write_template

UNIT = "忻州市繁峙县工业和信息化局"
KIND_NAMES = [kind.name for kind in K.SHEET_KINDS]


@pytest.fixture(scope="module")
def template(tmp_path_factory, policy: Policy) -> Path:
    path = tmp_path_factory.mktemp("template") / "模板.xlsx"
    write_template(path, policy, unit=UNIT)
    return path


@pytest.fixture(scope="module")
def book(template: Path):
    return openpyxl.load_workbook(template)


def letter(kind: K.SheetKind, name: str) -> str:
    return get_column_letter([column.name for column in kind.columns].index(name) + 1)


def validation(sheet, column: str, first_row: int):
    """The data validation covering column from first_row to row 1000 (exactly one)."""
    wanted = f"{column}{first_row}:{column}1000"
    found = [dv for dv in sheet.data_validations.dataValidation if str(dv.sqref) == wanted]
    assert len(found) == 1, f"{sheet.title}!{wanted}: {len(found)} validations"
    return found[0]


def named_list(book, name: str) -> list[str]:
    """The values a defined name points at on the hidden list sheet."""
    ((sheet, cells),) = list(book.defined_names[name].destinations)
    assert sheet == LIST_SHEET
    return [row[0].value for row in book[sheet][cells.replace("$", "")]]


def column_format(sheet, index: int) -> str:
    """A column's default number format (openpyxl files runs of alike columns under their first letter)."""
    for dimension in sheet.column_dimensions.values():
        if dimension.min <= index <= dimension.max:
            return dimension.number_format
    raise KeyError(index)


def first_row(kind: K.SheetKind) -> int:
    return 5 if kind is K.SUMMARY else 2


def test_sheets_in_order_and_list_sheet_hidden(book):
    assert book.sheetnames == [*KIND_NAMES, K.NOTES_SHEET, LIST_SHEET]
    assert book[LIST_SHEET].sheet_state == "hidden"
    assert all(book[name].sheet_state == "visible" for name in [*KIND_NAMES, K.NOTES_SHEET])


def test_summary_title_unit_line_and_two_level_header(book, policy):
    sheet = book[K.SUMMARY.name]
    merges = {str(merged) for merged in sheet.merged_cells.ranges}
    assert sheet["A1"].value == "山西省技术改造专项资金项目申报汇总表"
    assert "A1:AD1" in merges and len(K.SUMMARY.columns) == 30
    assert sheet["A2"].value == f"审核单位（公章）：{UNIT}"
    assert "A2:H2" in merges
    assert sheet["AB2"].value == "单位：万元" and "AB2:AD2" in merges
    for group, cells in (("项目投资", "O3:R3"), ("资金来源", "S3:T3"), ("投产后预期效益", "Y3:AB3")):
        assert sheet[cells.split(":")[0]].value == group
        assert cells in merges
    for index, column in enumerate(K.SUMMARY.columns, start=1):
        col = get_column_letter(index)
        if column.group:
            assert sheet[f"{col}4"].value == column.title(policy.data_year)
        else:
            assert sheet[f"{col}3"].value == column.title(policy.data_year)
            assert f"{col}3:{col}4" in merges
    assert sheet["H3"].value == "是否为省级重点产业链链主、链核企业（是/否）"
    assert sheet.freeze_panes == "A5"
    assert sheet.print_title_rows == "$1:$4"
    assert sheet.page_setup.paperSize == 8 and sheet.page_setup.orientation == "landscape"


def test_summary_without_unit_keeps_the_label(tmp_path, policy):
    path = tmp_path / "空.xlsx"
    write_template(path, policy)
    assert openpyxl.load_workbook(path)[K.SUMMARY.name]["A2"].value == "审核单位（公章）："


def test_flat_sheets_have_every_column_in_row_one(book, policy):
    for kind in K.SHEET_KINDS[1:]:
        sheet = book[kind.name]
        headers = [cell.value for cell in sheet[1]]
        assert headers == [column.title(policy.data_year) for column in kind.columns], kind.name
        assert sheet.freeze_panes == ("C2" if kind.per_project else "B2")
        assert all(cell.font.b and cell.alignment.wrap_text for cell in sheet[1])
    assert book[K.ENTITY.name]["D1"].value == f"{policy.data_year}年末资产负债率（%）"
    assert book[K.PLEDGE.name]["Q1"].value == f"项目申报企业（单位）{policy.data_year}年营业收入增量"


def test_summary_columns_formatted_by_kind_and_no_blank_cells_to_print(book):
    """Excel prints every cell with a border: the template's 汇总表 has no cells below its header, only column
    formats (what Excel gives a typed cell) and borders drawn on a row once something is typed after 序号."""
    sheet = book[K.SUMMARY.name]
    for index, column in enumerate(K.SUMMARY.columns, start=1):
        expected = {K.MONEY: "0.00", K.COUNT: "0"}.get(column.kind, "@")
        assert column_format(sheet, index) == expected, column.name
    assert sheet.max_row == 4
    (rule_range,) = [str(area.sqref) for area in sheet.conditional_formatting]
    (rule,) = sheet.conditional_formatting[rule_range]
    last = get_column_letter(len(K.SUMMARY.columns))
    assert rule_range == f"A5:{last}1000"
    assert rule.type == "expression" and rule.formula == [f"COUNTA($B5:${last}5)>0"]
    border = rule.dxf.border
    assert {side.style for side in (border.left, border.right, border.top, border.bottom)} == {"thin"}


def test_flat_sheet_column_formats(book):
    for kind in K.SHEET_KINDS[1:]:
        sheet = book[kind.name]
        for column in kind.columns:
            fmt = column_format(sheet, [c.name for c in kind.columns].index(column.name) + 1)
            if column.kind in (K.MONEY, K.SIGNED_MONEY, K.PERCENT):
                assert fmt == "0.00", column.name
            elif column.kind in (K.USCC, K.INVOICES, K.MONTH):
                # Text: leading zeros and 20-digit invoice numbers survive, 2024.10 stays October.
                assert fmt == "@", column.name


def test_list_and_yesno_columns_have_dropdowns(book):
    for kind in K.SHEET_KINDS:
        sheet = book[kind.name]
        for column in kind.columns:
            if column.kind not in (K.LIST, K.YESNO):
                continue
            dv = validation(sheet, letter(kind, column.name), first_row(kind))
            assert dv.type == "list", (kind.name, column.name)
            assert dv.errorStyle in (None, "stop")
            if column.kind == K.YESNO:
                assert dv.formula1 == "选项_是否"
    assert named_list(book, "选项_是否") == ["是", "否"]


def test_summary_dropdown_formulas(book, policy):
    sheet = book[K.SUMMARY.name]
    assert validation(sheet, "I", 5).formula1 == "选项_申报专项"
    assert validation(sheet, "J", 5).formula1 == 'IF($I5="",选项_申报方向,INDIRECT("申报方向_"&$I5))'
    assert validation(sheet, "L", 5).formula1 == 'IF($K5="",选项_所属行业,INDIRECT("所属行业_"&$K5))'
    assert validation(sheet, "B", 5).formula1 == "选项_所在市"
    county = validation(sheet, "C", 5)
    assert county.formula1 == 'IF($B5="",选项_所在县,INDIRECT("所在县_"&$B5))'
    assert county.errorStyle == "warning"  # other 开发区 are accepted
    assert named_list(book, "选项_申报专项") == list(policy.specials)
    assert named_list(book, "选项_申报方向") == [direction.name for direction in policy.directions]
    assert "所在县_忻州市" in book.defined_names
    assert "忻州经济开发区" in named_list(book, "所在县_忻州市")


def test_dependent_lists_follow_the_policy(book, policy):
    for special in policy.specials:
        expected = [direction.name for direction in policy.directions if direction.special == special]
        assert named_list(book, f"申报方向_{special}") == expected
        assert named_list(book, f"支持方式_{special}") == list(policy.support[special])
    for category, industries in policy.industries.items():
        assert named_list(book, f"所属行业_{category}") == list(industries)
    for category, subs in policy.investment_categories.items():
        assert named_list(book, f"子类_{category}") == list(subs)


def test_other_sheets_dependent_dropdowns(book):
    pledge = book[K.PLEDGE.name]
    assert validation(pledge, "D", 2).formula1 == 'IF($C2="",选项_申报方向,INDIRECT("申报方向_"&$C2))'
    assert validation(pledge, "E", 2).formula1 == 'IF($C2="",选项_支持方式,INDIRECT("支持方式_"&$C2))'
    investment = book[K.INVESTMENT.name]
    assert validation(investment, "C", 2).formula1 == "选项_投资类别"
    assert validation(investment, "D", 2).formula1 == 'IF($C2="",选项_子类,INDIRECT("子类_"&$C2))'
    smart = book[K.SMART.name]
    assert validation(smart, "D", 2).formula1 == "选项_智能制造环节"
    scene = validation(smart, "F", 2)
    assert scene.formula1 == 'IF($D2="",选项_典型场景名称,INDIRECT("典型场景名称_"&$D2))'
    assert scene.errorStyle == "information"  # the notice's scenes are suggestions


def test_money_validation_and_hints(book):
    summary = book[K.SUMMARY.name]
    total = validation(summary, letter(K.SUMMARY, "总投资"), 5)
    assert (total.type, total.operator, total.formula1) == ("decimal", "greaterThanOrEqual", "0")
    assert "万元" in total.prompt and "4位小数" in total.prompt
    increase = validation(book[K.PLEDGE.name], letter(K.PLEDGE, "项目申报企业（单位）{Y}年营业收入增量"), 2)
    assert increase.type == "decimal" and increase.operator in (None, "between")  # between is the default
    assert float(increase.formula1) < 0 < float(increase.formula2)
    hints = [
        (K.SUMMARY, "起止年月", "起止年月"),
        (K.SUMMARY, "完工时间", "年月"),
        (K.SUMMARY, "项目联系人及手机", "联系人及手机"),
        (K.ENTITY, "统一社会信用代码", "统一社会信用代码"),
        (K.INVESTMENT, "对应发票编号", "发票编号"),
        (K.PLAN, "时间节点", "时间节点"),
    ]
    for kind, name, prompt_title in hints:
        dv = validation(book[kind.name], letter(kind, name), first_row(kind))
        assert dv.promptTitle == prompt_title and dv.prompt, name
    invoice = validation(book[K.INVESTMENT.name], letter(K.INVESTMENT, "对应发票编号"), 2)
    assert "8位或20位" in invoice.prompt and "顿号" in invoice.prompt


def test_notes_sheet(book, policy):
    texts = [cell.value for row in book[K.NOTES_SHEET].iter_rows() for cell in row if cell.value]
    joined = "\n".join(texts)
    for name in [*KIND_NAMES, "截至申报之日", "截至项目完工之日", *policy.investment_categories]:
        assert name in joined
    for line in policy.summary_notes:
        assert line in texts


def test_notice_notes_match_the_policy(policy):
    """附件3's notes are the notice's text: a new policy's lists must be reflected there too."""
    notes = "".join(policy.summary_notes)
    for value in (
        *policy.choices("企业性质"),
        *policy.specials,
        *(direction.name for direction in policy.directions),
        *policy.choices("所属行业"),
        *policy.industries,
    ):
        assert value in notes, value


def test_write_notes_in_column_a(tmp_path, policy):
    path = tmp_path / "notes.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet(K.SUMMARY.name)
    first = layout.write_summary_header(workbook, sheet, policy, "忻州市工业和信息化局")
    assert first == 4
    after = layout.write_notes(sheet, first + 2, layout.formats(workbook), policy)
    workbook.close()
    assert after == first + 2 + 1 + len(policy.summary_notes)
    sheet = openpyxl.load_workbook(path)[K.SUMMARY.name]
    assert sheet.cell(first + 3, 1).value == "填表说明："
    assert [sheet.cell(first + 4 + i, 1).value for i in range(7)] == list(policy.summary_notes)
    assert "—" in sheet.cell(first + 6, 1).value


def test_refuses_to_overwrite_without_force(tmp_path, policy):
    path = tmp_path / "模板.xlsx"
    path.write_bytes(b"keep me")
    with pytest.raises(OutputExists):
        write_template(path, policy)
    assert path.read_bytes() == b"keep me"
    write_template(path, policy, force=True)
    assert openpyxl.load_workbook(path).sheetnames[0] == K.SUMMARY.name
    assert [p.name for p in tmp_path.iterdir()] == ["模板.xlsx"]  # no temporary file left behind


def test_reader_recognises_every_sheet(template, policy):
    book = read_workbook(template, template.name, 0, policy)
    assert set(book.tables) == set(KIND_NAMES)
    assert not [f for f in book.findings if f.rule in ("S03", "S04", "S07", "S08")]
    assert all(not table.rows for table in book.tables.values())
    assert book.unit is not None and book.unit.division == "繁峙县"


def test_names_excel_cannot_hold_fall_back_to_the_full_list(tmp_path, policy):
    """A 专项 whose name cannot be part of a defined name: 申报方向 and 支持方式 offer every value instead."""
    renamed = {special: special.replace("专项", "—专项") for special in policy.specials}
    odd = dataclasses.replace(
        policy,
        specials=tuple(renamed.values()),
        directions=tuple(dataclasses.replace(d, special=renamed[d.special]) for d in policy.directions),
        support={renamed[special]: values for special, values in policy.support.items()},
    )
    path = tmp_path / "odd.xlsx"
    write_template(path, odd)
    book = openpyxl.load_workbook(path)
    summary, pledge = book[K.SUMMARY.name], book[K.PLEDGE.name]
    assert validation(summary, "J", 5).formula1 == "选项_申报方向"
    assert validation(pledge, "E", 2).formula1 == "选项_支持方式"
    assert validation(summary, "L", 5).formula1.startswith("IF(")  # other lists stay dependent
    assert not [name for name in book.defined_names if name.startswith("申报方向_")]
