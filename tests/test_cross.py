"""X01–X23 and R17: each rule fires at its sheet, row and cell, and a near-miss does not fire it.

The clean workbook is conftest's: projects 0 产业基础核心支撑 (in progress), 1 智能化升级, 2 数字化融合应用,
3 数字化改造 (in progress), 4 绿色低碳转型. 汇总表 rows 5–9; 承诺书 and 申报主体 rows 3–7; 投资明细 six line items
a project (project p's item k on row 3 + 6p + k; item 5 is the 其他投资 one, items 0–4 alternate between the
basis categories); 建设计划 three nodes for projects 0 (rows 3–5) and 3 (rows 6–8); 智能制造环节 project 1's four
环节 (rows 3–6: three core, the last not).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import (
    CITY_UNIT,
    PROJECTS,
    at,
    cell,
    clean_submission,
    edit,
    listing,
    of_rule,
    row_of,
    title,
    typed_frames,
)

from tr_excel import columns as K
from tr_excel.batch import PID, records
from tr_excel.engine import validate
from tr_excel.reconcile import COLUMNS, reconciliation
from tr_excel.synth import Submission, submission_of, write_submission

SUMMARY, PLEDGE, ENTITY = "汇总表", "承诺书", "申报主体"
ITEMS, PLAN, SMART, INSPECTION = "投资明细", "建设计划", "智能制造环节", "现场核查"
TOTAL = "总投资"
DONE = "已完成投资（按照发票金额核定）"
ITEM_DONE = "已完成投资额（按照发票金额核定）"
ESTIMATE = "概算投资额"
REST = "未完成投资额"
INVOICES = "对应发票编号"
INVOICE_DATE = "开票日期"
PROMISED = "承诺完成时间（开票时间）"
CUMULATIVE = "累计完成投资额（发票金额）"
FIRST = {ITEMS: 3, PLAN: 3, SMART: 3, INSPECTION: 3}
X_RULES = [f"X{n:02d}" for n in range(1, 24)] + ["R17"]


def item(project: int, k: int) -> int:
    """The index in rows[投资明细] of project's k-th line item."""
    return 6 * project + k


def row(sheet: str, index: int) -> int:
    """The Excel row of rows[sheet][index] (汇总表, 承诺书, 申报主体: index is the project)."""
    return FIRST[sheet] + index if sheet in FIRST else row_of(sheet, index)


def plus(value, delta: str) -> str:
    """A money value moved by an exact decimal amount, as text (read exactly)."""
    return f"{Decimal(str(value)) + Decimal(delta)}"


def where(report, rule: str) -> set[tuple]:
    """(file, sheet, row, column, cell) of every finding of the rule."""
    return {(f.file, *at(f)) for f in of_rule(report, rule)}


def place(policy, sheet: str, index: int, column: str, file: str = "繁峙县.xlsx") -> tuple:
    r = row(sheet, index)
    return file, sheet, r, title(policy, sheet, column), cell(sheet, column, r)


def expect(report, policy, rule: str, sheet: str, index: int, column: str, file: str = "繁峙县.xlsx"):
    """The one finding of the rule, at that row and cell."""
    found = of_rule(report, rule)
    assert [(f.file, *at(f)) for f in found] == [place(policy, sheet, index, column, file)], listing(report)
    return found[0]


def absent(report, *rules: str) -> None:
    for rule in rules:
        assert not of_rule(report, rule), listing(report)


def clean_value(policy, sheet: str, index: int, column: str):
    return clean_submission(policy).rows[sheet][index][column]


def rename(old: str, new: str):
    """A mutation renaming a project in every sheet."""

    def mutate(rows):
        for sheet_rows in rows.values():
            for values in sheet_rows:
                if values.get("项目名称") == old:
                    values["项目名称"] = new

    return mutate


def inspection(policy, project: int, **values) -> dict:
    """A 现场核查 row confirming a project's declared figures, with some cells overridden."""
    summary = clean_submission(policy).rows[SUMMARY][project]
    row_values = {
        "项目申报企业（单位）": summary["企业名称"],
        "项目名称": summary["项目名称"],
        "项目形象进度": "已完工",
        "建设内容与申报内容是否相符（是/否）": "是",
        "项目总投资": summary[TOTAL],
        "核定项目已完成投资": summary[DONE],
        "申报资料和建设项目的真实性、完整性、合规性、一致性是否符合政策规定和申报要求（是/否）": "是",
        f"{policy.data_year}年度是否发生较大及以上生产安全事故（是/否）": "否",
        "核查组组长": "张三",
    }
    row_values.update(values)
    return row_values


def add_inspection(row_values: dict):
    return lambda rows: rows[INSPECTION].append(row_values)


# A second county's workbook: its own projects and invoice numbers, so that it is clean next to the first.
OTHER_UNIT = "忻州市代县工业和信息化局"
OTHER_PROJECTS = (
    ("代县恒信机械有限公司", "数控机床生产线智能化升级项目", "智能化升级", True),
    ("代县华美材料有限公司", "新型耐火材料生产线项目", "产业基础核心支撑", True),
)


def other_submission(policy, projects=OTHER_PROJECTS, usccs=None) -> Submission:
    return submission_of(policy, OTHER_UNIT, projects, seed=11, county="代县", invoice_start=30_000_000, usccs=usccs)


@pytest.fixture
def two_books(tmp_path: Path, write_book, policy):
    """two_books(mutations of the first, mutations of the second, projects=, usccs=) → the Report of both."""

    def make(first=(), second=(), projects=OTHER_PROJECTS, usccs=None):
        write_book(*first, name="繁峙县.xlsx")
        submission = other_submission(policy, projects, usccs)
        for mutate in second:
            mutate(submission.rows)
        write_submission(tmp_path / "代县.xlsx", submission, policy)
        return validate([tmp_path], policy)

    return make


# ------------------------------------------------------------------------------------------- clean inputs


def test_project_numbers_are_one_per_project_in_every_sheet(write_book, policy):
    # The rules join sheets and compare projects on _pid alone: the same project must have the same number in
    # every sheet of its file, another project or another file another number, and the numbers must sort as
    # (file, enterprise key, project key) do.
    path = write_book()
    numbered = {}
    for index in (0, 3):
        for frame in typed_frames(path, policy, index).values():
            for pid, ekey, pkey in zip(frame.df[PID], frame.df["_ekey"], frame.df["_pkey"], strict=True):
                assert numbered.setdefault((index, ekey, pkey), pid) == pid, frame.kind.name
    assert len({pid for pid in numbered.values()}) == len(numbered) > 2 * len(PROJECTS) - 1
    assert [numbered[key] for key in sorted(numbered)] == sorted(numbered.values())


def test_records_are_what_to_dict_gives():
    # The rules build their findings from records(); it must give what DataFrame.to_dict("records") gives, NA of a
    # nullable amount as None and numpy's numbers as Python's.
    data = pd.DataFrame(
        {
            "_row": np.array([5, 6, 7], dtype=np.int64),
            "amount": pd.array([10, None, 30], dtype="Int64"),
            "flag": np.array([True, False, True]),
            "text": ["甲", None, "丙"],
            "when": [None, (2024, 6), ("a",)],
        }
    ).iloc[[2, 0, 1]]
    expected = data.to_dict("records")
    got = records(data)
    assert got == expected
    assert [[type(value) for value in row.values()] for row in got] == [
        [type(value) for value in row.values()] for row in expected
    ]
    assert got[2]["amount"] is None
    assert records(data.iloc[:0]) == []


def test_clean_workbook_has_no_cross_finding(make_book):
    report = make_book()
    absent(report, *X_RULES)


def test_two_clean_workbooks_have_no_cross_finding(two_books):
    report = two_books()
    absent(report, *X_RULES)


def test_clean_workbook_with_confirming_inspection_has_no_cross_finding(make_book, policy):
    report = make_book(*(add_inspection(inspection(policy, p)) for p in range(len(PROJECTS))))
    absent(report, *X_RULES)


def test_summary_input_gets_no_rule_that_needs_another_sheet(tmp_path: Path, policy):
    path = tmp_path / "忻州市.xlsx"
    write_submission(path, clean_submission(policy, CITY_UNIT), policy)
    book = openpyxl.load_workbook(path)
    for name in book.sheetnames[1:]:
        del book[name]
    book.save(path)
    report = validate([path], policy)
    assert report.books[0].is_summary_input
    absent(report, *X_RULES)
    table = reconciliation(report.batch)
    assert len(table) == len(PROJECTS)
    assert table["发票合计"].isna().all() and table["明细条数"].isna().all()
    assert table["申报已完成投资"].iat[0] == Decimal(str(clean_value(policy, SUMMARY, 0, DONE)))


# ----------------------------------------------------------------------------------------------------- R17


def test_R17_same_project_in_two_files_reported_at_both(two_books, policy):
    enterprise, project, direction, finished = PROJECTS[0]
    uscc = clean_value(policy, ENTITY, 0, "统一社会信用代码")
    report = two_books(projects=(*OTHER_PROJECTS, (enterprise, project, direction, True)), usccs={enterprise: uscc})
    found = of_rule(report, "R17")
    assert {(f.file, f.sheet, f.row, f.cell) for f in found} == {
        ("繁峙县.xlsx", SUMMARY, 5, "F5"),
        ("代县.xlsx", SUMMARY, 7, "F7"),
    }, listing(report)
    mine = next(f for f in found if f.file == "繁峙县.xlsx")
    assert "代县.xlsx › 汇总表 › 第7行" in mine.message and mine.severity == "error"
    absent(report, "X22")


def test_R17_same_project_twice_in_one_file(make_book, policy):
    def duplicate(rows):
        rows[SUMMARY].append(dict(rows[SUMMARY][2]))

    report = make_book(duplicate)
    found = of_rule(report, "R17")
    assert {(f.row, f.cell) for f in found} == {(7, "F7"), (10, "F10")}, listing(report)
    assert any("繁峙县.xlsx › 汇总表 › 第10行" in f.message for f in found)


def test_R17_key_normalisation_merges_spacing_and_bracket_styles(make_book):
    def duplicate(rows):
        copy = dict(rows[SUMMARY][1])
        copy["项目名称"] = f" {copy['项目名称']}（一期） "
        rows[SUMMARY][1]["项目名称"] += "(一期)"
        rows[SUMMARY].append(copy)

    report = make_book(duplicate)
    assert len(of_rule(report, "R17")) == 2, listing(report)


def test_R17_near_miss_two_phases_are_two_projects(make_book):
    def second_phase(rows):
        copy = dict(rows[SUMMARY][1])
        copy["项目名称"] += "（二期）"
        rows[SUMMARY][1]["项目名称"] += "（一期）"
        rows[SUMMARY].append(copy)

    report = make_book(second_phase)
    absent(report, "R17")


def test_R17_near_miss_same_project_name_of_another_enterprise(make_book):
    def other_enterprise(rows):
        copy = dict(rows[SUMMARY][1])
        copy["企业名称"] = "繁峙另一家装备有限公司"
        rows[SUMMARY].append(copy)

    report = make_book(other_enterprise)
    absent(report, "R17")


# ----------------------------------------------------------------------------------------------------- X01


def test_X01_summary_project_without_pledge_row(make_book, policy):
    report = make_book(lambda rows: rows[PLEDGE].pop(2))
    finding = expect(report, policy, "X01", SUMMARY, 2, "项目名称")
    assert "承诺书" in finding.message and finding.project == PROJECTS[2][1]


def test_X01_pledge_row_of_unknown_project_and_its_summary_row(make_book, policy):
    report = make_book(edit(PLEDGE, 2, {"项目名称": "另一个项目"}))
    assert where(report, "X01") == {
        place(policy, SUMMARY, 2, "项目名称"),
        place(policy, PLEDGE, 2, "项目名称"),
    }, listing(report)


def test_X01_near_miss_spacing_and_full_width_characters_join(make_book):
    name = PROJECTS[2][1]
    report = make_book(
        edit(PLEDGE, 2, {"项目名称": f"  {name[:4]}\u3000{name[4:]} ", "项目申报企业（单位）": "繁峙数据科技有限公司 "})
    )
    absent(report, "X01")


# ----------------------------------------------------------------------------------------------------- X02


def test_X02_pledge_total_differs_by_more_than_tolerance(make_book, policy):
    total = clean_value(policy, PLEDGE, 0, "项目总投资")
    report = make_book(edit(PLEDGE, 0, {"项目总投资": plus(total, "0.02")}))
    finding = expect(report, policy, "X02", PLEDGE, 0, "项目总投资")
    assert f"{total:.2f} 万元" in finding.message and "相差 0.02 万元" in finding.message


def test_X02_near_miss_within_tolerance(make_book, policy):
    total = clean_value(policy, PLEDGE, 0, "项目总投资")
    report = make_book(edit(PLEDGE, 0, {"项目总投资": plus(total, "0.005")}))
    absent(report, "X02")


def test_X02_one_finding_per_differing_field(make_book, policy):
    report = make_book(
        edit(
            PLEDGE,
            4,
            {"申报方向": "生产线节能降碳改造", "项目完工时间": "2023年1月", "项目已完成投资（按照发票金额核定）": None},
        )
    )
    assert where(report, "X02") == {
        place(policy, PLEDGE, 4, "申报方向"),
        place(policy, PLEDGE, 4, "项目完工时间"),
        place(policy, PLEDGE, 4, "项目已完成投资（按照发票金额核定）"),
    }, listing(report)


def test_X02_doubtful_month_is_compared_as_read(make_book):
    """2024.1 is read as January with an F11 warning; it still has to agree with 汇总表, so a
    warning alone cannot let a wrong month into the summary."""
    report = make_book(edit(PLEDGE, 1, {"项目完工时间": 2024.1}))
    assert of_rule(report, "F11")
    assert of_rule(report, "X02")


def test_X02_basis_column_compared_only_for_its_direction(make_book, policy):
    fixed = clean_value(policy, PLEDGE, 0, "项目固定资产投资")
    report = make_book(edit(PLEDGE, 0, {"项目固定资产投资": plus(fixed, "1"), "项目其他投资": 5}))
    expect(report, policy, "X02", PLEDGE, 0, "项目固定资产投资")


# ----------------------------------------------------------------------------------------------------- X03

INCREASE = "项目申报企业（单位）{Y}年营业收入增量"


def test_X03_revenue_increase_wrong(make_book, policy):
    column = title(policy, PLEDGE, INCREASE)
    report = make_book(edit(PLEDGE, 0, {column: plus(clean_value(policy, PLEDGE, 0, column), "0.02")}))
    finding = expect(report, policy, "X03", PLEDGE, 0, INCREASE)
    assert "相差 0.02 万元" in finding.message


def test_X03_near_miss_within_tolerance(make_book, policy):
    column = title(policy, PLEDGE, INCREASE)
    report = make_book(edit(PLEDGE, 0, {column: plus(clean_value(policy, PLEDGE, 0, column), "-0.005")}))
    absent(report, "X03")


# ----------------------------------------------------------------------------------------------------- X04


def test_X04_enterprise_not_in_entity_sheet(make_book, policy):
    report = make_book(edit(ENTITY, 0, {"企业名称": "山西繁峙特钢集团有限公司"}))
    finding = expect(report, policy, "X04", SUMMARY, 0, "企业名称")
    assert finding.value == PROJECTS[0][0]


def test_X04_near_miss_spacing_in_name(make_book):
    report = make_book(edit(ENTITY, 0, {"企业名称": " 山西繁峙 特钢有限公司"}))
    absent(report, "X04")


# ----------------------------------------------------------------------------------------------------- X05


def test_X05_completed_differs_from_invoices_by_two_cents(make_book, policy):
    done = clean_value(policy, SUMMARY, 0, DONE)
    report = make_book(edit(SUMMARY, 0, {DONE: plus(done, "0.02")}))
    finding = expect(report, policy, "X05", SUMMARY, 0, DONE)
    assert finding.message == (
        f"已完成投资 {Decimal(str(done)) + Decimal('0.02'):.2f} 万元，投资明细已完成投资额合计 {done:.2f} 万元，"
        "相差 0.02 万元"
    )
    assert finding.value == plus(done, "0.02").rstrip("0").rstrip(".") and finding.expected == str(done)


def test_X05_near_miss_half_a_cent(make_book, policy):
    report = make_book(edit(SUMMARY, 0, {DONE: plus(clean_value(policy, SUMMARY, 0, DONE), "0.005")}))
    absent(report, "X05")


def test_X05_near_miss_unreadable_item_amount_is_F03_only(make_book):
    report = make_book(edit(ITEMS, item(0, 2), {ITEM_DONE: "待定"}))
    assert of_rule(report, "F03")
    absent(report, "X05", "X08")


def test_X05_and_X06_project_without_line_items(make_book, policy):
    def drop(rows):
        rows[ITEMS][:] = [values for values in rows[ITEMS] if values["项目名称"] != PROJECTS[2][1]]

    report = make_book(drop)
    assert "投资明细中没有该项目的明细" in expect(report, policy, "X05", SUMMARY, 2, DONE).message
    assert "投资明细中没有该项目的明细" in expect(report, policy, "X06", SUMMARY, 2, TOTAL).message


def test_X05_and_X06_file_without_investment_sheet(make_book):
    report = make_book(lambda rows: rows[ITEMS].clear())
    assert len(of_rule(report, "X05")) == len(PROJECTS) and len(of_rule(report, "X06")) == len(PROJECTS)
    assert all("本文件没有投资明细表" in f.message for f in of_rule(report, "X05") + of_rule(report, "X06"))


# ----------------------------------------------------------------------------------------------------- X06


def test_X06_estimates_differ_from_total(make_book, policy):
    values = clean_submission(policy).rows[ITEMS][item(0, 5)]
    report = make_book(
        edit(ITEMS, item(0, 5), {ESTIMATE: plus(values[ESTIMATE], "0.02"), REST: plus(values[REST], "0.02")})
    )
    finding = expect(report, policy, "X06", SUMMARY, 0, TOTAL)
    assert "投资明细概算投资额合计" in finding.message and "相差 0.02 万元" in finding.message


def test_X06_near_miss_estimates_within_tolerance(make_book, policy):
    values = clean_submission(policy).rows[ITEMS][item(0, 5)]
    report = make_book(
        edit(ITEMS, item(0, 5), {ESTIMATE: plus(values[ESTIMATE], "0.005"), REST: plus(values[REST], "0.005")})
    )
    absent(report, "X06", "X08")


def test_X06_basis_categories_differ_from_fixed_assets(make_book, policy):
    """1.00 万元 moved from a 土建投资 item to the 其他投资 one: the total still agrees, the basis does not."""
    rows = clean_submission(policy).rows[ITEMS]
    building, other = rows[item(0, 0)], rows[item(0, 5)]
    report = make_book(
        edit(ITEMS, item(0, 0), {ESTIMATE: plus(building[ESTIMATE], "-1"), ITEM_DONE: plus(building[ITEM_DONE], "-1")}),
        edit(ITEMS, item(0, 5), {ESTIMATE: plus(other[ESTIMATE], "1"), ITEM_DONE: plus(other[ITEM_DONE], "1")}),
    )
    finding = expect(report, policy, "X06", SUMMARY, 0, "固定资产投资")
    assert "土建投资与设备投资" in finding.message
    absent(report, "X05", "X08")


def test_X06_basis_categories_differ_from_equipment(make_book, policy):
    rows = clean_submission(policy).rows[ITEMS]
    equipment, other = rows[item(1, 0)], rows[item(1, 5)]
    report = make_book(
        edit(
            ITEMS,
            item(1, 0),
            {ESTIMATE: plus(equipment[ESTIMATE], "-0.02"), ITEM_DONE: plus(equipment[ITEM_DONE], "-0.02")},
        ),
        edit(ITEMS, item(1, 5), {ESTIMATE: plus(other[ESTIMATE], "0.02"), ITEM_DONE: plus(other[ITEM_DONE], "0.02")}),
    )
    expect(report, policy, "X06", SUMMARY, 1, "设备投资（含软硬件投资）")


# ----------------------------------------------------------------------------------------------------- X07


def test_X07_completed_item_without_invoice_number_or_date(make_book, policy):
    report = make_book(edit(ITEMS, item(1, 0), {INVOICES: None}), edit(ITEMS, item(1, 2), {INVOICE_DATE: None}))
    assert where(report, "X07") == {
        place(policy, ITEMS, item(1, 0), INVOICES),
        place(policy, ITEMS, item(1, 2), INVOICE_DATE),
    }, listing(report)


def test_X07_near_miss_unreadable_invoice_number_is_F09_only(make_book):
    report = make_book(edit(ITEMS, item(1, 0), {INVOICES: "发票见附件"}))
    assert of_rule(report, "F09")
    absent(report, "X07")


# ----------------------------------------------------------------------------------------------------- X08


def test_X08_remaining_differs(make_book, policy):
    rest = clean_value(policy, ITEMS, item(0, 3), REST)
    report = make_book(edit(ITEMS, item(0, 3), {REST: plus(rest, "0.02")}))
    finding = expect(report, policy, "X08", ITEMS, item(0, 3), REST)
    assert "相差 0.02 万元" in finding.message


def test_X08_near_miss_remaining_within_tolerance(make_book, policy):
    rest = clean_value(policy, ITEMS, item(0, 3), REST)
    report = make_book(edit(ITEMS, item(0, 3), {REST: plus(rest, "-0.005")}))
    absent(report, "X08")


def test_X08_completed_above_estimate(make_book, policy):
    estimate = clean_value(policy, ITEMS, item(1, 1), ESTIMATE)
    report = make_book(edit(ITEMS, item(1, 1), {ITEM_DONE: plus(estimate, "0.01")}))
    finding = expect(report, policy, "X08", ITEMS, item(1, 1), REST)
    assert "大于概算投资额" in finding.message


# ------------------------------------------------------------------------------------------------ X09, X21


def test_X09_same_invoice_in_two_files_reported_at_both_rows(two_books, policy):
    report = two_books(first=[edit(ITEMS, item(0, 0), {INVOICES: "30000000"})])
    assert where(report, "X09") == {
        place(policy, ITEMS, item(0, 0), INVOICES),
        place(policy, ITEMS, 0, INVOICES, file="代县.xlsx"),
    }, listing(report)
    mine = next(f for f in of_rule(report, "X09") if f.file == "繁峙县.xlsx")
    assert "代县.xlsx › 投资明细 › 第3行" in mine.message and mine.value == "30000000"


def test_X09_a_cell_listing_two_numbers_holds_two_invoices(two_books, policy):
    report = two_books(first=[edit(ITEMS, item(0, 0), {INVOICES: "12345678、30000000"})])
    found = of_rule(report, "X09")
    assert {f.value for f in found} == {"30000000"} and len(found) == 2, listing(report)
    absent(report, "F09", "X21")


def test_X09_same_invoice_on_two_projects_of_one_file(make_book, policy):
    invoice = clean_value(policy, ITEMS, item(2, 1), INVOICES)
    report = make_book(
        edit(ITEMS, item(3, 4), {INVOICES: f"{clean_value(policy, ITEMS, item(3, 4), INVOICES)}，{invoice}"})
    )
    assert where(report, "X09") == {
        place(policy, ITEMS, item(2, 1), INVOICES),
        place(policy, ITEMS, item(3, 4), INVOICES),
    }, listing(report)
    absent(report, "X21")


def test_X09_projects_whose_keys_run_together_are_two_projects(make_book, policy):
    # 甲公司 + 乙丙项目 and 甲公司乙 + 丙项目 read the same when the two keys are written one after the other.
    report = make_book(
        edit(ITEMS, item(0, 0), {"企业名称": "甲公司", "项目名称": "乙丙项目", INVOICES: "30000000"}),
        edit(ITEMS, item(1, 0), {"企业名称": "甲公司乙", "项目名称": "丙项目", INVOICES: "30000000"}),
    )
    assert where(report, "X09") == {
        place(policy, ITEMS, item(0, 0), INVOICES),
        place(policy, ITEMS, item(1, 0), INVOICES),
    }, listing(report)


def test_X21_invoice_repeated_inside_one_project(make_book, policy):
    invoice = clean_value(policy, ITEMS, item(0, 0), INVOICES)
    report = make_book(edit(ITEMS, item(0, 1), {INVOICES: invoice}))
    assert where(report, "X21") == {
        place(policy, ITEMS, item(0, 0), INVOICES),
        place(policy, ITEMS, item(0, 1), INVOICES),
    }, listing(report)
    assert {f.severity for f in of_rule(report, "X21")} == {"info"}
    absent(report, "X09")


def test_X21_near_miss_same_number_twice_in_one_cell(make_book, policy):
    invoice = clean_value(policy, ITEMS, item(0, 0), INVOICES)
    report = make_book(edit(ITEMS, item(0, 0), {INVOICES: f"{invoice} {invoice}"}))
    absent(report, "X09", "X21")


# ------------------------------------------------------------------------------------------------ X10, X11


@pytest.mark.parametrize("date", ["2024-11-01", "2024年11月"])
def test_X10_invoice_after_province_deadline(make_book, policy, date):
    report = make_book(edit(ITEMS, item(1, 0), {INVOICE_DATE: date}))
    finding = expect(report, policy, "X10", ITEMS, item(1, 0), INVOICE_DATE)
    assert "2024-10-31" in finding.message


@pytest.mark.parametrize("date", ["2024-10-31", "2024年10月"])
def test_X10_near_miss_on_the_deadline(make_book, date):
    report = make_book(edit(ITEMS, item(1, 0), {INVOICE_DATE: date}))
    absent(report, "X10")


def test_X11_invoice_before_project_start(make_book, policy):
    start = clean_value(policy, SUMMARY, 0, "起止年月").split("-")[0]  # "2023.03"
    year, month = (int(part) for part in start.split("."))
    report = make_book(
        edit(ITEMS, item(0, 0), {INVOICE_DATE: f"{year - 1}-12-31" if month == 1 else f"{year}-{month - 1}-28"})
    )
    finding = expect(report, policy, "X11", ITEMS, item(0, 0), INVOICE_DATE)
    assert finding.severity == "warning" and f"{year}年{month}月" in finding.message


def test_X11_near_miss_first_day_of_start_month(make_book, policy):
    start = clean_value(policy, SUMMARY, 0, "起止年月").split("-")[0]
    year, month = (int(part) for part in start.split("."))
    report = make_book(edit(ITEMS, item(0, 0), {INVOICE_DATE: f"{year}-{month:02d}-01"}))
    absent(report, "X11")


# ----------------------------------------------------------------------------------------------------- X12


def test_X12_rows_whose_project_is_not_in_summary(make_book, policy):
    report = make_book(
        edit(ITEMS, item(2, 3), {"项目名称": "不存在的项目"}),
        add_inspection(inspection(policy, 2, 项目名称="不存在的项目")),
    )
    assert where(report, "X12") == {
        place(policy, ITEMS, item(2, 3), "项目名称"),
        place(policy, INSPECTION, 0, "项目名称"),
    }, listing(report)


def test_X12_near_miss_spacing_in_project_name(make_book, policy):
    report = make_book(edit(ITEMS, item(2, 3), {"项目名称": f" {PROJECTS[2][1]}\u3000"}))
    absent(report, "X12", "X05")


def test_X12_near_miss_blank_project_name_is_F01_only(make_book):
    report = make_book(edit(ITEMS, item(2, 3), {"项目名称": None}))
    assert of_rule(report, "F01")
    absent(report, "X12", "X09", "X21")


# ----------------------------------------------------------------------------------------------------- X13


def test_X13_in_progress_project_without_plan(make_book, policy):
    def drop(rows):
        rows[PLAN][:] = [values for values in rows[PLAN] if values["项目名称"] != PROJECTS[0][1]]

    report = make_book(drop)
    finding = expect(report, policy, "X13", SUMMARY, 0, "项目是否完工（是/否）")
    assert "建设计划中没有该项目" in finding.message


def test_X13_file_without_plan_sheet(make_book, policy):
    report = make_book(lambda rows: rows[PLAN].clear())
    assert where(report, "X13") == {
        place(policy, SUMMARY, 0, "项目是否完工（是/否）"),
        place(policy, SUMMARY, 3, "项目是否完工（是/否）"),
    }, listing(report)
    assert all("本文件没有建设计划表" in f.message for f in of_rule(report, "X13"))


def test_X13_near_miss_finished_projects_need_no_plan(make_book):
    report = make_book()  # projects 1, 2 and 4 are finished and have no 建设计划 rows
    assert report.batch.frames_of(K.PLAN)[0].df["_pkey"].nunique() == 2
    absent(report, "X13")


# ----------------------------------------------------------------------------------------------------- X14


def test_X14_cumulative_falls_reported_at_the_lower_node(make_book, policy):
    filed = clean_value(policy, PLAN, 0, CUMULATIVE)
    report = make_book(edit(PLAN, 1, {CUMULATIVE: plus(filed, "-0.02")}))
    finding = expect(report, policy, "X14", PLAN, 1, CUMULATIVE)
    assert "第3行" in finding.message


def test_X14_near_miss_fall_within_tolerance(make_book, policy):
    filed = clean_value(policy, PLAN, 0, CUMULATIVE)
    report = make_book(edit(PLAN, 1, {CUMULATIVE: plus(filed, "-0.005")}))
    absent(report, "X14")


def test_X14_filing_node_differs_from_completed(make_book, policy):
    filed = clean_value(policy, PLAN, 0, CUMULATIVE)
    report = make_book(edit(PLAN, 0, {CUMULATIVE: plus(filed, "-0.02")}))
    finding = expect(report, policy, "X14", PLAN, 0, CUMULATIVE)
    assert "截至申报之日" in finding.message and "汇总表已完成投资" in finding.message


def test_X14_last_node_differs_from_total(make_book, policy):
    last = clean_value(policy, PLAN, 2, CUMULATIVE)
    report = make_book(edit(PLAN, 2, {CUMULATIVE: plus(last, "0.02")}))
    finding = expect(report, policy, "X14", PLAN, 2, CUMULATIVE)
    assert "汇总表总投资" in finding.message


def test_X14_near_miss_last_node_within_tolerance(make_book, policy):
    last = clean_value(policy, PLAN, 2, CUMULATIVE)
    report = make_book(edit(PLAN, 2, {CUMULATIVE: plus(last, "0.005")}))
    absent(report, "X14")


# ------------------------------------------------------------------------------------------------ X15–X18


def test_X15_too_few_links(make_book, policy):
    report = make_book(lambda rows: rows[SMART].pop(3))
    finding = expect(report, policy, "X15", SUMMARY, 1, "申报方向")
    assert "3 个环节、3 个核心生产环节" in finding.message


def test_X15_too_few_core_links_whatever_the_flag_says(make_book, policy):
    report = make_book(
        edit(
            SMART,
            0,
            {"智能制造环节名称": "产品设计", "是否核心生产环节（是/否）": "是", "典型场景名称": "虚拟试验与调试"},
        )
    )
    finding = expect(report, policy, "X15", SUMMARY, 1, "申报方向")
    assert "4 个环节、2 个核心生产环节" in finding.message


def test_X15_file_without_smart_sheet(make_book, policy):
    report = make_book(lambda rows: rows[SMART].clear())
    assert "本文件没有智能制造环节表" in expect(report, policy, "X15", SUMMARY, 1, "申报方向").message


def test_X15_near_miss_unreadable_link_may_be_the_missing_one(make_book):
    report = make_book(edit(SMART, 3, {"智能制造环节名称": "数字工厂"}))
    assert of_rule(report, "F02")
    absent(report, "X15", "X18")


def test_X16_core_flag_wrong(make_book, policy):
    report = make_book(
        edit(SMART, 0, {"是否核心生产环节（是/否）": "否"}), edit(SMART, 3, {"是否核心生产环节（是/否）": "是"})
    )
    assert where(report, "X16") == {
        place(policy, SMART, 0, "是否核心生产环节（是/否）"),
        place(policy, SMART, 3, "是否核心生产环节（是/否）"),
    }, listing(report)
    absent(report, "X15", "X18")


def test_X17_scene_not_listed_is_info(make_book, policy):
    report = make_book(edit(SMART, 1, {"典型场景名称": "无人驾驶矿卡调度"}))
    finding = expect(report, policy, "X17", SMART, 1, "典型场景名称")
    assert finding.severity == "info"


def test_X17_near_miss_scene_with_spaces(make_book, policy):
    scene = clean_value(policy, SMART, 1, "典型场景名称")
    report = make_book(edit(SMART, 1, {"典型场景名称": " ".join(scene)}))
    absent(report, "X17")


def test_X18_core_count_differs(make_book, policy):
    report = make_book(edit(PLEDGE, 1, {"项目建设完成智能制造核心生产环节数量": 2}))
    finding = expect(report, policy, "X18", PLEDGE, 1, "项目建设完成智能制造核心生产环节数量")
    assert finding.value == "2" and finding.expected == "3"


def test_X18_near_miss_count_as_text(make_book):
    absent(make_book(edit(PLEDGE, 1, {"项目建设完成智能制造核心生产环节数量": "3个"})), "X18")


def test_X18_fractional_count_is_read_and_compared(make_book):
    """F10 warns about 2.5 but the value is read (docs/rules.md F11): 2.5 is not the 3 core 环节."""
    report = make_book(edit(PLEDGE, 1, {"项目建设完成智能制造核心生产环节数量": 2.5}))
    assert of_rule(report, "F10")
    assert of_rule(report, "X18")


# ------------------------------------------------------------------------------------------------ X19, X20


def test_X19_verified_figure_differs(make_book, policy):
    done = clean_value(policy, SUMMARY, 0, DONE)
    report = make_book(add_inspection(inspection(policy, 0, 核定项目已完成投资=plus(done, "-0.02"))))
    finding = expect(report, policy, "X19", INSPECTION, 0, "核定项目已完成投资")
    assert finding.severity == "warning" and "相差 0.02 万元" in finding.message


def test_X19_near_miss_within_tolerance_or_blank(make_book, policy):
    done = clean_value(policy, SUMMARY, 0, DONE)
    report = make_book(
        add_inspection(inspection(policy, 0, 核定项目已完成投资=plus(done, "-0.005"))),
        add_inspection(inspection(policy, 1, 核定项目已完成投资=None, 项目总投资=None)),
    )
    absent(report, "X19")


@pytest.mark.parametrize(
    ("column", "answer"),
    [
        ("建设内容与申报内容是否相符（是/否）", "否"),
        ("申报资料和建设项目的真实性、完整性、合规性、一致性是否符合政策规定和申报要求（是/否）", "否"),
        ("{Y}年度是否发生较大及以上生产安全事故（是/否）", "是"),
    ],
)
def test_X20_review_failed(make_book, policy, column, answer):
    report = make_book(add_inspection(inspection(policy, 2, **{title(policy, INSPECTION, column): answer})))
    expect(report, policy, "X20", INSPECTION, 0, column)


# ----------------------------------------------------------------------------------------------------- X22


def test_X22_one_code_under_two_names(two_books, policy):
    uscc = clean_value(policy, ENTITY, 0, "统一社会信用代码")
    report = two_books(usccs={OTHER_PROJECTS[0][0]: uscc})
    assert where(report, "X22") == {
        place(policy, ENTITY, 0, "企业名称"),
        place(policy, ENTITY, 0, "企业名称", file="代县.xlsx"),
    }, listing(report)
    mine = next(f for f in of_rule(report, "X22") if f.file == "繁峙县.xlsx")
    assert "代县.xlsx › 申报主体 › 第3行（代县恒信机械有限公司）" in mine.message


def test_X22_one_name_under_two_codes(two_books, policy):
    enterprise = PROJECTS[0][0]
    report = two_books(projects=((enterprise, "特钢二期扩建项目", "产业基础核心支撑", True),))
    assert where(report, "X22") == {
        place(policy, ENTITY, 0, "统一社会信用代码"),
        place(policy, ENTITY, 0, "统一社会信用代码", file="代县.xlsx"),
    }, listing(report)


def test_X22_near_miss_same_enterprise_same_code_in_two_files(two_books, policy):
    enterprise = PROJECTS[0][0]
    uscc = clean_value(policy, ENTITY, 0, "统一社会信用代码")
    report = two_books(projects=((enterprise, "特钢二期扩建项目", "产业基础核心支撑", True),), usccs={enterprise: uscc})
    absent(report, "X22", "R17")


# ----------------------------------------------------------------------------------------------------- X23


def test_X23_remaining_without_promised_time(make_book, policy):
    report = make_book(edit(ITEMS, item(0, 3), {PROMISED: None}))
    finding = expect(report, policy, "X23", ITEMS, item(0, 3), PROMISED)
    assert finding.severity == "warning"


def test_X23_promised_after_completion(make_book, policy):
    finish = clean_value(policy, SUMMARY, 0, "完工时间")  # e.g. "2025年3月"
    year = int(finish.split("年")[0])
    report = make_book(edit(ITEMS, item(0, 3), {PROMISED: f"{year + 1}年1月"}))
    expect(report, policy, "X23", ITEMS, item(0, 3), PROMISED)


def test_X23_near_miss_promised_in_completion_month(make_book, policy):
    finish = clean_value(policy, SUMMARY, 0, "完工时间")
    year, month = int(finish.split("年")[0]), int(finish.split("年")[1].rstrip("月"))
    report = make_book(edit(ITEMS, item(0, 3), {PROMISED: f"{year}-{month:02d}-28"}))
    absent(report, "X23")


# ---------------------------------------------------------------------------------------------- 对账


def test_reconciliation_table(make_book, policy):
    done = clean_value(policy, SUMMARY, 0, DONE)
    report = make_book(
        edit(SUMMARY, 0, {DONE: plus(done, "12.5")}),
        edit(ITEMS, item(0, 1), {INVOICES: f"{clean_value(policy, ITEMS, item(0, 1), INVOICES)}、87654321"}),
        add_inspection(inspection(policy, 0, 核定项目已完成投资=done)),
    )
    table = reconciliation(report.batch)
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == len(PROJECTS)
    first = table.iloc[0].to_dict()
    assert first["文件"] == "繁峙县.xlsx" and first["所在县"] == "繁峙县"
    assert (first["企业名称"], first["项目名称"]) == PROJECTS[0][:2]
    assert first["申报已完成投资"] == Decimal(plus(done, "12.5"))
    assert first["发票合计"] == Decimal(str(done))
    assert first["差额"] == Decimal("12.5")
    assert first["承诺书已完成投资"] == Decimal(str(done))
    assert first["核定已完成投资"] == Decimal(str(done))
    assert (first["明细条数"], first["发票张数"]) == (6, 7)
    assert table["核定已完成投资"].iloc[1:].isna().all()
    assert (table["差额"].iloc[1:] == 0).all()


def test_reconciliation_of_project_without_items(make_book, policy):
    def drop(rows):
        rows[ITEMS][:] = [values for values in rows[ITEMS] if values["项目名称"] != PROJECTS[2][1]]

    table = reconciliation(make_book(drop).batch)
    third = table.iloc[2]
    assert third["发票合计"] == 0 and third["明细条数"] == 0 and third["发票张数"] == 0
    assert third["差额"] == Decimal(str(clean_value(policy, SUMMARY, 2, DONE)))


def test_json_carries_the_reconciliation_table(make_book):
    """validate --format json adds the per-project reconciliation (issue 3, item 3)."""
    report = make_book()
    rows = report.as_json()["reconciliation"]
    assert len(rows) == report.inputs()[0]["projects"]
    assert all(row["差额"] == "0" and row["申报已完成投资"] == row["发票合计"] for row in rows)
