"""S01–S08: files and structure; and the summary input (a city's 汇总表 alone) that needs no other sheet."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import (
    CITY_UNIT,
    PROJECTS,
    assert_clean,
    at,
    cell,
    clean_submission,
    edit,
    letter,
    listing,
    of_rule,
    only,
    row_of,
    tweak,
)
from quirky_book import write_quirky_book

from tr_excel import columns as K
from tr_excel.engine import validate
from tr_excel.findings import column_index, column_letter

SUMMARY = "汇总表"
PLEDGE = "承诺书"


def test_clean_workbook_has_no_findings(make_book):
    report = make_book()
    assert report.findings == [], listing(report)
    assert report.inputs() == [{"file": "繁峙县.xlsx", "status": "ok", "projects": len(PROJECTS)}]


# ----------------------------------------------------------------------------------------------------- S01

BROKEN = {
    "truncated_zip": lambda good: good[: len(good) // 2],
    "empty_file": lambda good: b"",
    "csv_renamed": lambda good: "企业名称,项目名称,总投资\n某公司,某项目,100\n".encode(),
    "random_bytes": lambda good: bytes(range(256)) * 8,
}


@pytest.mark.parametrize("damage", list(BROKEN.values()), ids=list(BROKEN))
def test_S01_unreadable_file_among_good_ones(write_book, policy, tmp_path, damage):
    folder = tmp_path / "inputs"
    good = write_book(edit(SUMMARY, 0, {"企业性质": "私营"}), name="a_good.xlsx", folder=folder)
    broken = folder / "b_broken.xlsx"
    broken.write_bytes(damage(good.read_bytes()))
    other = write_book(name="c_other.xlsx", folder=folder)
    report = validate([folder], policy)
    s01 = only(report, "S01")
    assert (s01.file, s01.sheet, s01.row, s01.cell, s01.severity) == ("b_broken.xlsx", None, None, None, "error")
    assert only(report, "F02").file == "a_good.xlsx"  # the other files' findings are still there
    assert report.inputs() == [
        {"file": "a_good.xlsx", "status": "ok", "projects": len(PROJECTS)},
        {"file": "b_broken.xlsx", "status": "unreadable", "projects": 0},
        {"file": other.name, "status": "ok", "projects": len(PROJECTS)},
    ]


def test_S01_lock_files_and_other_files_are_skipped_not_listed(write_book, policy, tmp_path):
    folder = tmp_path / "inputs"
    good = write_book(name="繁峙县.xlsx", folder=folder)
    (folder / "~$繁峙县.xlsx").write_bytes(b"\x00" * 165)  # Excel's lock file beside an open workbook
    (folder / "说明.docx").write_bytes(b"PK\x03\x04")
    (folder / "readme.txt").write_text("请查收", encoding="utf-8")
    report = validate([folder], policy)
    assert [entry["file"] for entry in report.inputs()] == [good.name]
    assert report.findings == []


# ----------------------------------------------------------------------------------------------------- S02


@pytest.mark.parametrize("missing", ["承诺书", "申报主体"])
def test_S02_missing_required_sheet(write_book, policy, missing):
    path = tweak(write_book(), lambda book: book.remove(book[missing]))
    report = validate([path], policy)
    finding = only(report, "S02")
    assert (finding.sheet, finding.row, finding.severity, finding.expected) == (missing, None, "error", missing)


def test_S02_missing_summary(write_book, policy):
    path = tweak(write_book(), lambda book: book.remove(book[SUMMARY]))
    assert only(validate([path], policy), "S02").sheet == SUMMARY


def test_S02_optional_sheets_may_be_missing(write_book, policy):
    def drop(book):
        for name in ("投资明细", "建设计划", "智能制造环节"):
            book.remove(book[name])

    report = validate([tweak(write_book(), drop)], policy)
    assert not of_rule(report, "S02"), listing(report)


def _summary_only(book):
    for name in book.sheetnames:
        if name != SUMMARY:
            book.remove(book[name])


def test_S02_not_for_a_summary_input_from_a_city(write_book, policy):
    path = tweak(write_book(unit=CITY_UNIT, name="忻州市.xlsx"), _summary_only)
    report = validate([path], policy)
    assert report.books[0].is_summary_input
    assert_clean(report)  # no S02, and no rule that needs the other sheets (X01, X04, X05…)
    assert report.inputs() == [{"file": "忻州市.xlsx", "status": "ok", "projects": len(PROJECTS)}]


def test_S02_summary_only_from_a_county_is_not_a_summary_input(write_book, policy):
    path = tweak(write_book(), _summary_only)
    report = validate([path], policy)
    assert sorted(f.sheet for f in of_rule(report, "S02")) == sorted([PLEDGE, "申报主体"])


# ----------------------------------------------------------------------------------------------------- S03


def test_S03_missing_column(write_book, policy):
    def drop_support(book):
        book[PLEDGE].delete_cols(5)  # 支持方式, column E

    report = validate([tweak(write_book(), drop_support)], policy)
    finding = only(report, "S03")
    assert (finding.sheet, finding.row, finding.column, finding.severity) == (PLEDGE, 2, "支持方式", "error")
    assert not of_rule(report, "R03") and not of_rule(report, "R21")  # nothing to check them on


def test_S03_missing_column_in_two_level_header(write_book, policy):
    def blank_header(book):
        book[SUMMARY]["D3"] = None  # 所在开发区, merged over rows 3–4

    finding = only(validate([tweak(write_book(), blank_header)], policy), "S03")
    assert (finding.sheet, finding.row, finding.column) == (SUMMARY, 4, "所在开发区")


def test_S03_not_for_header_variants(write_book, policy):
    def retitle(book):
        sheet = book[PLEDGE]
        sheet["E2"] = " 支持\n方式 "
        sheet["R2"] = "项目是否获得其他省级财政资金支持"  # without （是/否）
        book["申报主体"]["D2"] = "2023年末资产负债率(%)"

    report = validate([tweak(write_book(), retitle)], policy)
    assert report.findings == [], listing(report)


def retitled(titles: dict[str, dict[str, str]]):
    """A tweak giving headers (in a sheet's first four rows) other texts: {sheet: {header: new text}}."""

    def retitle(book):
        for sheet_name, renames in titles.items():
            for row in book[sheet_name].iter_rows(min_row=1, max_row=4):
                for header in row:
                    if header.value in renames:
                        header.value = renames[header.value]

    return retitle


def test_S03_not_for_headers_with_an_explaining_bracket(write_book, policy):
    """Counties write the official phrasing or a unit after a header: 所在县（市、区）, 就业人数（人）,
    企业名称（盖章）, 数量（台/套）. The header is known without its last bracket, and the values are read."""

    retitle = retitled(
        {
            SUMMARY: {"所在县": "所在县（市、区）", "就业人数": "就业人数（人）", "企业名称": "企业名称(盖章)"},
            "投资明细": {"数量": "数量（台/套）", "开票日期": "开票日期（年月日）"},
        }
    )
    report = validate([tweak(write_book(), retitle)], policy)
    assert report.findings == [], listing(report)
    (frame,) = report.batch.frames_of(K.SUMMARY)
    assert {"所在县", "就业人数", "企业名称"} <= set(frame.table.columns)
    assert all(frame.values("所在县")) and all(value is not None for value in frame.values("就业人数"))


def test_S03_not_for_the_invoice_and_contact_wordings_counties_use(write_book, policy):
    """发票号码 is what an invoice prints, 开票时间 and 手机号 are everyday words: the columns are found."""

    retitle = retitled(
        {
            SUMMARY: {"项目联系人及手机": "项目联系人及手机号码"},
            "投资明细": {"对应发票编号": "发票号码", "开票日期": "开票时间"},
        }
    )
    report = validate([tweak(write_book(), retitle)], policy)
    assert report.findings == [], listing(report)
    (items,) = report.batch.frames_of(K.INVESTMENT)
    assert {"对应发票编号", "开票日期"} <= set(items.table.columns) and any(items.values("对应发票编号"))


def test_S03_not_for_the_official_two_level_header_of_table_two(write_book, policy):
    """表二 as the notice prints it heads 未完成投资额 as a group over 投资额 and 承诺完成时间（开票时间）, every
    other header merged over both rows: the leaf 投资额 is the column 未完成投资额, and the values are read."""

    def two_levels(book):
        sheet = book["投资明细"]
        header = row_of("投资明细", 0) - 1
        titles = [cell.value for cell in sheet[header]]
        group, promised = titles.index("未完成投资额") + 1, titles.index("承诺完成时间（开票时间）") + 1
        assert promised == group + 1
        sheet.insert_rows(header + 1)
        sheet.cell(header + 1, group, "投资额")
        sheet.cell(header + 1, promised, "承诺完成时间（开票时间）")
        sheet.cell(header, promised, None)
        sheet.merge_cells(start_row=header, start_column=group, end_row=header, end_column=promised)
        for column in range(1, sheet.max_column + 1):
            if column not in (group, promised):
                sheet.merge_cells(start_row=header, start_column=column, end_row=header + 1, end_column=column)

    plain = validate([write_book()], policy)
    report = validate([tweak(write_book(name="两行表头.xlsx"), two_levels)], policy)
    assert report.findings == [], listing(report)
    (items,) = report.batch.frames_of(K.INVESTMENT)
    (expected,) = plain.batch.frames_of(K.INVESTMENT)
    assert items.values("未完成投资额") == expected.values("未完成投资额")
    assert items.values("承诺完成时间（开票时间）") == expected.values("承诺完成时间（开票时间）")


def test_a_header_as_written_wins_over_one_known_without_its_bracket(write_book, policy):
    """A sheet with 企业名称（盖章） before 企业名称: the one written exactly is the column, whatever the order;
    the other is an extra column (S04)."""

    def add_column(book):
        sheet = book["投资明细"]
        sheet.insert_cols(1)
        header = row_of("投资明细", 0) - 1
        sheet.cell(header, 1, "企业名称（盖章）")
        for row in range(header + 1, sheet.max_row + 1):
            sheet.cell(row, 1, "别的名字")

    report = validate([tweak(write_book(), add_column)], policy)
    finding = only(report, "S04")
    header_cell = f"A{row_of('投资明细', 0) - 1}"
    assert (finding.sheet, finding.cell, finding.column) == ("投资明细", header_cell, "企业名称（盖章）")
    assert_clean(report)


# ----------------------------------------------------------------------------------------------------- S04


def test_S04_extra_column_is_info_at_its_header_cell(write_book, policy):
    def add_column(book):
        sheet = book[PLEDGE]
        sheet["S2"] = "县局审核意见"
        sheet["S3"] = "同意"

    report = validate([tweak(write_book(), add_column)], policy)
    finding = only(report, "S04")
    assert (finding.sheet, finding.row, finding.column, finding.cell) == (PLEDGE, 2, "县局审核意见", "S2")
    assert finding.severity == "info" and finding.project is None
    assert_clean(report)


def test_S04_not_for_a_known_alias(write_book, policy):
    def alias(book):
        sheet = book["投资明细"]
        column = next(c for c in sheet[2] if c.value == "对应发票编号").column_letter
        sheet[f"{column}2"] = "对应发票编号（逐项填写）"

    assert validate([tweak(write_book(), alias)], policy).findings == []


# ----------------------------------------------------------------------------------------------------- S05


def test_S05_formula_without_cached_value_is_unknown_not_blank_or_zero(write_book, policy):
    total = cell(SUMMARY, "总投资", row_of(SUMMARY, 0))

    def formula(book):
        book[SUMMARY][total] = "=3000+3000"  # openpyxl stores the formula and no value

    report = validate([tweak(write_book(), formula)], policy)
    finding = only(report, "S05")
    assert at(finding) == (SUMMARY, row_of(SUMMARY, 0), "总投资", total)
    assert finding.severity == "error" and finding.project == PROJECTS[0][1]
    assert not of_rule(report, "F01")
    # Not zero: 总投资 of 0 would be R05 (under 3000), R06 (parts larger), R13 (funds larger) on this row.
    row = row_of(SUMMARY, 0)
    assert not [f for f in report.findings if f.rule in ("R05", "R06", "R08", "R09", "R13") and f.row == row]


def test_S05_formula_without_value_in_a_month_and_a_pledge_amount(write_book, policy):
    finish = cell(SUMMARY, "完工时间", row_of(SUMMARY, 1))
    pledge_total = cell(PLEDGE, "项目总投资", row_of(PLEDGE, 1))

    def formulas(book):
        book[SUMMARY][finish] = "=DATE(2024,8,31)"
        book[PLEDGE][pledge_total] = f"=汇总表!{cell(SUMMARY, '总投资', row_of(SUMMARY, 1))}"

    report = validate([tweak(write_book(), formulas)], policy)
    assert sorted((f.sheet, f.cell) for f in of_rule(report, "S05")) == sorted(
        [(SUMMARY, finish), (PLEDGE, pledge_total)]
    )
    assert not of_rule(report, "F01") and not of_rule(report, "F04")
    assert not of_rule(report, "R12") and not of_rule(report, "R11")  # 完工时间 unknown: not compared


def test_S05_not_for_formula_with_cached_value(tmp_path, policy):
    path = tmp_path / "formulas.xlsx"
    write_quirky_book(path, clean_submission(policy), policy)  # 自筹资金, 合计 and 承诺书 cells are formulas
    report = validate([path], policy)
    assert not of_rule(report, "S05"), listing(report)
    assert_clean(report)


# ----------------------------------------------------------------------------------------------------- S06

MONEY_TITLES = [c.name for c in K.SUMMARY.columns if c.kind == K.MONEY]


def _with_total_row(change=None):
    """Append a correct 合计 row under the projects (sums of the money columns), then apply change(cells)."""

    def add(book):
        sheet = book[SUMMARY]
        rows = range(row_of(SUMMARY, 0), row_of(SUMMARY, len(PROJECTS)))
        total_row = rows.stop
        sheet[f"A{total_row}"] = "合计"
        cells = {}
        for name in MONEY_TITLES:
            column = letter(SUMMARY, name)
            amounts = [sheet[f"{column}{r}"].value for r in rows]
            total = sum((Decimal(str(a)) for a in amounts if isinstance(a, int | float)), Decimal(0))
            cells[name] = f"{column}{total_row}"
            sheet[cells[name]] = float(total)
        if change:
            change(sheet, cells)

    return add


def test_S06_total_row_differs_from_sum(write_book, policy):
    def off(sheet, cells):
        sheet[cells["已完成投资（按照发票金额核定）"]] = sheet[cells["已完成投资（按照发票金额核定）"]].value + 0.02

    report = validate([tweak(write_book(), _with_total_row(off))], policy)
    finding = only(report, "S06")
    total_row = row_of(SUMMARY, len(PROJECTS))
    column = "已完成投资（按照发票金额核定）"
    assert at(finding) == (SUMMARY, total_row, column, cell(SUMMARY, column, total_row))
    assert finding.severity == "error"
    assert finding.project is None and finding.enterprise is None and finding.project_key is None
    assert "相差 0.02 万元" in finding.message


def test_S06_correct_total_row_passes(write_book, policy):
    report = validate([tweak(write_book(), _with_total_row())], policy)
    assert report.books[0].summary.total_row == row_of(SUMMARY, len(PROJECTS))
    assert report.findings == [], listing(report)


@pytest.mark.parametrize("delta", [0.01, -0.01])
def test_S06_within_tolerance_passes(write_book, policy, delta):
    def off(sheet, cells):
        sheet[cells["总投资"]] = round(sheet[cells["总投资"]].value + delta, 4)

    assert not of_rule(validate([tweak(write_book(), _with_total_row(off))], policy), "S06")


def test_S06_compares_only_cells_holding_numbers(write_book, policy):
    def words(sheet, cells):
        sheet[cells["总投资"]] = "—"
        sheet[cells["银行贷款"]] = None
        sheet[cells["利润"]] = "见附表"
        sheet[cells["销售收入"]] = f"{sheet[cells['销售收入']].value:,.2f}"  # a number typed as text is compared
        sheet[cells["新增税收"]] = "=SUM(AA5:AA9)"  # openpyxl stores no cached value: unknown, not compared

    report = validate([tweak(write_book(), _with_total_row(words))], policy)
    assert not of_rule(report, "S06"), listing(report)
    assert not of_rule(report, "S05")  # the 合计 row is no project's row


def test_S06_text_number_in_total_row_that_differs(write_book, policy):
    def text(sheet, cells):
        sheet[cells["销售收入"]] = f"{sheet[cells['销售收入']].value + 1:,.2f}"

    finding = only(validate([tweak(write_book(), _with_total_row(text))], policy), "S06")
    assert finding.column == "销售收入"


def test_S06_not_run_on_a_column_with_an_unreadable_amount(write_book, policy):
    report = validate([tweak(write_book(edit(SUMMARY, 2, {"利润": "约500"})), _with_total_row())], policy)
    assert not of_rule(report, "S06"), listing(report)
    assert only(report, "F03").column == "利润"


# ----------------------------------------------------------------------------------------------------- S07


def test_S07_renamed_and_reordered_sheet_is_info(write_book, policy):
    def rename(book):
        book[PLEDGE].title = "附件2 承诺书"
        book.move_sheet("附件2 承诺书", offset=3)

    report = validate([tweak(write_book(), rename)], policy)
    finding = only(report, "S07")
    assert (finding.sheet, finding.row, finding.severity) == ("附件2 承诺书", None, "info")
    assert (finding.value, finding.expected) == ("附件2 承诺书", PLEDGE)
    assert report.books[0].tables[PLEDGE].sheet == "附件2 承诺书"
    assert [f.rule for f in report.findings] == ["S07"]


def test_S07_not_for_canonical_names(make_book):
    assert not of_rule(make_book(), "S07")


# ----------------------------------------------------------------------------------------------------- S08


def test_S08_two_visible_summary_sheets(write_book, policy):
    def duplicate(book):
        copy = book.copy_worksheet(book[SUMMARY])
        copy.title = "汇总表（修改后）"

    report = validate([tweak(write_book(), duplicate)], policy)
    finding = only(report, "S08")
    assert (finding.sheet, finding.row, finding.severity) == ("汇总表（修改后）", None, "error")
    assert finding.expected == SUMMARY
    assert not of_rule(report, "S07")  # the second sheet is not read, so it is not "recognised" either


def test_S08_hidden_duplicate_is_skipped_silently(write_book, policy):
    def hidden_stale_copy(book):
        copy = book.copy_worksheet(book[SUMMARY])
        copy.title = "汇总表（旧）"
        copy[cell(SUMMARY, "总投资", row_of(SUMMARY, 0))] = "待定"  # its mistakes are never reported
        copy.sheet_state = "hidden"

    report = validate([tweak(write_book(), hidden_stale_copy)], policy)
    assert report.findings == [], listing(report)
    assert report.books[0].summary.sheet == SUMMARY


def test_S08_hidden_sheet_is_read_when_no_visible_one(write_book, policy):
    def hide(book):
        book[PLEDGE].sheet_state = "hidden"

    report = validate([tweak(write_book(edit(PLEDGE, 0, {"支持方式": "奖励"})), hide)], policy)
    assert not of_rule(report, "S02")
    assert only(report, "R03").sheet == PLEDGE


def test_findings_are_ordered_by_file_sheet_row_column_rule(write_book, policy, tmp_path):
    folder = tmp_path / "inputs"
    write_book(edit(SUMMARY, 3, {"企业性质": "私营"}), edit(PLEDGE, 0, {"支持方式": "奖励"}), name="b.xlsx",
               folder=folder)  # fmt: skip
    write_book(edit(SUMMARY, 4, {"申请专项资金": 0}), name="a.xlsx", folder=folder)
    write_book(edit(SUMMARY, 4, {"申请专项资金": 0}), name="sub/c.xlsx", folder=folder)
    report = validate([folder], policy)
    keys = [(f.file, f.sheet, f.row, f.rule) for f in report.findings if f.rule != "R17"]  # same projects thrice
    assert keys == [
        ("a.xlsx", SUMMARY, 9, "R13"),
        ("b.xlsx", SUMMARY, 8, "F02"),
        ("b.xlsx", PLEDGE, 3, "R03"),
        ("sub/c.xlsx", SUMMARY, 9, "R13"),
    ], listing(report)



def test_subtotal_rows_labelled_as_in_table_two_are_skipped(make_book):
    """表二 prints its subtotals as "土建投资 小计：" and counties add "合计（万元）": none is a line item, so
    none is checked (no F01/F02 for their blank columns) and none is summed (no X05/X06)."""

    def add_subtotals(rows):
        for label in ("土建投资 小计：", "一、设备投资小计", "合计（万元）"):
            rows["投资明细"].append({"名称": label, "概算投资额": 1.0})

    report = make_book(add_subtotals)
    assert [(f.rule, f.cell) for f in report.findings] == []


@pytest.mark.parametrize(
    "cells",
    [
        ["审核单位（公章）：忻州市繁峙县工业和信息化局", None, "单位：万元"],
        ["审核单位（公章）：", "忻州市繁峙县工业和信息化局", "单位：万元"],
        ["填报单位：忻州市繁峙县工业和信息化局          单位：万元"],
        ["审核单位(公章): 忻州市繁峙县工业和信息化局"],
    ],
    ids=["label_and_name_in_one_cell", "name_in_the_next_cell", "填报单位_with_money_unit_in_the_cell", "half_width"],
)
def test_unit_line_is_read_however_it_is_laid_out(cells):
    from tr_excel.reader import _unit_line

    assert _unit_line([["山西省技术改造专项资金项目申报汇总表"], cells]) == "忻州市繁峙县工业和信息化局"


def test_column_letters_and_indexes_round_trip():
    assert [column_letter(i) for i in (0, 25, 26, 199, 16383)] == ["A", "Z", "AA", "GR", "XFD"]
    assert all(column_index(column_letter(i)) == i for i in range(20000))
    assert column_index("gr") == 199


def test_no_header_text_names_two_columns_of_a_sheet():
    """Aliases are data (columns.py): one added for a county's wording must not also name another column."""
    from tr_excel.columns import header_names

    for kind in K.SHEET_KINDS:
        owners: dict[str, set[str]] = {}
        for column in kind.columns:
            for name in header_names(column):
                owners.setdefault(name, set()).add(column.name)
        assert {name: names for name, names in owners.items() if len(names) > 1} == {}, kind.name
