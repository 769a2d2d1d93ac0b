"""R01–R16 and R18–R22: each rule fires at its sheet, row and cell, and a near-miss does not fire it.

Projects of the clean workbook (conftest.PROJECTS): 0 产业基础核心支撑 (in progress, 贴息), 1 智能化升级,
2 数字化融合应用, 3 数字化改造 (in progress), 4 绿色低碳转型 (贴息). 汇总表 rows 5–9, 承诺书 and 申报主体 rows 3–7.
Where a rule applies to several projects, one workbook carries a variant per project and the test asserts
exactly those cells.
"""

from __future__ import annotations

import pytest
from conftest import CITY_UNIT, PROJECTS, Change, absent, book, clean_submission, expect_cells

SUMMARY = "汇总表"
PLEDGE = "承诺书"
ENTITY = "申报主体"
TOTAL = "总投资"
DONE = "已完成投资（按照发票金额核定）"
FINISHED = "项目是否完工（是/否）"
FINISH = "完工时间"
RATIO = "{Y}年末资产负债率（%）"



def clean(policy, project: int, column: str):
    """A value of the clean workbook's 汇总表 (synth draws the amounts)."""
    return clean_submission(policy).rows[SUMMARY][project][column]


# ----------------------------------------------------------------------------------------------------- R01


def test_R01_direction_not_of_special_in_summary_and_in_pledge_each_at_its_row(make_book, policy):
    report = book(make_book, policy, [(SUMMARY, 1, "申报专项", "核心竞争力提升专项"),
                                      (PLEDGE, 3, "申报专项", "绿色低碳转型专项")])  # fmt: skip
    found = expect_cells(report, policy, "R01", [(SUMMARY, 1, "申报方向"), (PLEDGE, 3, "申报方向")])
    summary = next(f for f in found if f.sheet == SUMMARY)
    assert (summary.project, summary.value) == (PROJECTS[1][1], "智能化升级")


@pytest.mark.parametrize("dash", ["-", "一", " — ", "－"], ids=["hyphen", "ocr_yi", "spaced_em_dash", "fullwidth"])
def test_R01_direction_dash_variants_pass(make_book, policy, dash):
    variants = [(sheet, project, "申报方向", PROJECTS[project][2].replace("—", dash))
                for sheet in (SUMMARY, PLEDGE) for project in (2, 3)]  # fmt: skip
    absent(book(make_book, policy, variants), "R01", "F02")


# ----------------------------------------------------------------------------------------------------- R02


def test_R02_industry_not_of_class(make_book, policy):
    report = book(make_book, policy, [(SUMMARY, 0, "行业分类", "传统优势产业"), (SUMMARY, 0, "所属行业", "电子信息")])
    (finding,) = expect_cells(report, policy, "R02", [(SUMMARY, 0, "所属行业")])
    assert finding.expected.startswith("钢铁、有色")


def test_R02_industry_of_its_class_passes(make_book, policy):
    cells = [(SUMMARY, 0, "行业分类", "战略性新兴产业"), (SUMMARY, 0, "所属行业", "电子信息"),
             (SUMMARY, 1, "行业分类", " 传统优势产业"), (SUMMARY, 1, "所属行业", "传统装备制造 ")]  # fmt: skip
    absent(book(make_book, policy, cells), "R02")


def test_R02_not_run_on_industry_outside_list(make_book, policy):
    report = book(make_book, policy, [(SUMMARY, 0, "所属行业", "煤炭开采")])
    absent(report, "R02")
    expect_cells(report, policy, "F02", [(SUMMARY, 0, "所属行业")])


# ----------------------------------------------------------------------------------------------------- R03


def test_R03_support_not_allowed_for_special(make_book, policy):
    cells = [(PLEDGE, 0, "支持方式", "奖励"), (PLEDGE, 1, "支持方式", "补助"), (PLEDGE, 2, "支持方式", "贴息")]
    expect_cells(book(make_book, policy, cells), policy, "R03", cells)


def test_R03_allowed_support_passes(make_book, policy):
    cells = [(PLEDGE, 0, "支持方式", "补助"), (PLEDGE, 4, "支持方式", "补助"), (PLEDGE, 1, "支持方式", " 奖励")]
    absent(book(make_book, policy, cells), "R03")


# ----------------------------------------------------------------------------------------------------- R04


def test_R04_required_investment_blank_or_zero(make_book, policy):
    cells = [
        (SUMMARY, 0, "固定资产投资", None),  # 产业基础核心支撑
        (SUMMARY, 4, "固定资产投资", "0"),  # 绿色低碳转型
        (SUMMARY, 1, "设备投资（含软硬件投资）", None),  # 智能化升级
        (SUMMARY, 2, "其他投资", 0),  # the other directions
        (SUMMARY, 3, "其他投资", "0.00万元"),
    ]
    expect_cells(book(make_book, policy, cells), policy, "R04", cells)


def test_R04_other_investment_columns_may_be_blank(make_book, policy):
    cells = [(SUMMARY, 0, "设备投资（含软硬件投资）", None), (SUMMARY, 0, "其他投资", None),
             (SUMMARY, 1, "固定资产投资", 0), (SUMMARY, 2, "设备投资（含软硬件投资）", None)]  # fmt: skip
    absent(book(make_book, policy, cells), "R04")


def test_R04_not_run_on_unreadable_amount(make_book, policy):
    report = book(make_book, policy, [(SUMMARY, 0, "固定资产投资", "待定")])
    absent(report, "R04")
    expect_cells(report, policy, "F03", [(SUMMARY, 0, "固定资产投资")])


# ----------------------------------------------------------------------------------------------------- R05

# Projects 0 and 4 are the fixed-asset directions with the 3000 万元 floor.


@pytest.mark.parametrize("totals", [(2999.99, "2,999.9999"), ("2999.99万元", 0.01)], ids=["number_and_text", "tiny"])
def test_R05_total_below_3000(make_book, policy, totals):
    cells = [(SUMMARY, 0, TOTAL, totals[0]), (SUMMARY, 4, TOTAL, totals[1])]
    found = expect_cells(book(make_book, policy, cells), policy, "R05", cells)
    assert {f.expected for f in found} == {">=3000"}


@pytest.mark.parametrize("totals", [(3000, "3000万元"), ("3,000.00", 3000.0)], ids=["number_and_wan", "grouped"])
def test_R05_total_exactly_3000_passes(make_book, policy, totals):
    absent(book(make_book, policy, [(SUMMARY, 0, TOTAL, totals[0]), (SUMMARY, 4, TOTAL, totals[1])]), "R05")


def test_R05_applies_only_to_fixed_asset_directions(make_book, policy):
    absent(book(make_book, policy, [(SUMMARY, p, TOTAL, 1000) for p in (1, 2, 3)]), "R05")


def test_R05_not_run_on_blank_total(make_book, policy):
    report = book(make_book, policy, [(SUMMARY, 0, TOTAL, None)])
    absent(report, "R05", "R06", "R08", "R09", "R13")
    expect_cells(report, policy, "F01", [(SUMMARY, 0, TOTAL)])


# ----------------------------------------------------------------------------------------------------- R06


def test_R06_part_above_total(make_book, policy):
    parts = [(0, "固定资产投资"), (1, "设备投资（含软硬件投资）"), (2, "其他投资")]
    cells = [(SUMMARY, p, column, round(clean(policy, p, TOTAL) + 0.01, 2)) for p, column in parts]
    expect_cells(book(make_book, policy, cells), policy, "R06", cells)


def test_R06_part_equal_to_total_passes(make_book, policy):
    total = clean(policy, 0, TOTAL)
    cells = [(SUMMARY, 0, column, total) for column in ("固定资产投资", "设备投资（含软硬件投资）", "其他投资")]
    absent(book(make_book, policy, cells), "R06")


# ----------------------------------------------------------------------------------------------------- R07


def _own_funds(policy, project: int, delta: float) -> Change:
    total, loan = clean(policy, project, TOTAL), clean(policy, project, "银行贷款") or 0
    return SUMMARY, project, "自筹资金", round(total - loan + delta, 2)


def test_R07_sources_differ_from_total_by_more_than_tolerance(make_book, policy):
    cells = [_own_funds(policy, 0, 0.02), _own_funds(policy, 2, -0.02)]
    found = expect_cells(book(make_book, policy, cells), policy, "R07", cells)
    assert all("相差 0.02 万元" in f.message for f in found)


def test_R07_sources_within_tolerance_pass(make_book, policy):
    cells = [_own_funds(policy, 0, 0.01), _own_funds(policy, 1, -0.01), _own_funds(policy, 2, 0)]
    absent(book(make_book, policy, cells), "R07")


def test_R07_blank_loan_counts_as_zero(make_book, policy):
    cells = [
        (SUMMARY, 1, "自筹资金", clean(policy, 1, TOTAL)),
        (SUMMARY, 1, "银行贷款", None),
        (SUMMARY, 2, "自筹资金", round(clean(policy, 2, TOTAL) - 1, 2)),
        (SUMMARY, 2, "银行贷款", None),
    ]
    expect_cells(book(make_book, policy, cells), policy, "R07", [(SUMMARY, 2, "自筹资金")])


# ----------------------------------------------------------------------------------------------------- R08


def test_R08_completed_above_total(make_book, policy):
    cells = [(SUMMARY, 1, DONE, round(clean(policy, 1, TOTAL) + 0.01, 2))]
    expect_cells(book(make_book, policy, cells), policy, "R08", cells)


def test_R08_completed_equal_to_total_passes(make_book, policy):
    absent(book(make_book, policy, [(SUMMARY, 2, DONE, clean(policy, 2, TOTAL))]), "R08")


# ----------------------------------------------------------------------------------------------------- R09

# Projects 0 and 3 are in progress; 总投资 5000 puts the 70% floor at exactly 3500.


def test_R09_in_progress_below_70_percent(make_book, policy):
    cells = [(SUMMARY, 0, TOTAL, 5000), (SUMMARY, 0, DONE, 3499.99),
             (SUMMARY, 3, TOTAL, "5,000"), (SUMMARY, 3, DONE, 0)]  # fmt: skip
    found = expect_cells(book(make_book, policy, cells), policy, "R09", [(SUMMARY, 0, DONE), (SUMMARY, 3, DONE)])
    assert {f.expected for f in found} == {">=3500"}


def test_R09_exactly_70_percent_passes(make_book, policy):
    cells = [(SUMMARY, 0, TOTAL, 5000), (SUMMARY, 0, DONE, 3500),
             (SUMMARY, 3, TOTAL, "5,000"), (SUMMARY, 3, DONE, "3,500.00")]  # fmt: skip
    absent(book(make_book, policy, cells), "R09")


def test_R09_applies_only_to_projects_not_completed(make_book, policy):
    absent(book(make_book, policy, [(SUMMARY, 1, DONE, 1)]), "R09")


# ----------------------------------------------------------------------------------------------------- R10

# Projects 1, 2 and 4 are completed.


def test_R10_completed_before_2022(make_book, policy):
    cells = [(SUMMARY, 1, FINISH, "2021年12月"), (SUMMARY, 2, FINISH, "2021-12-31"), (SUMMARY, 4, FINISH, "2021.12")]
    expect_cells(book(make_book, policy, cells), policy, "R10", cells)


@pytest.mark.parametrize("forms", [("2022年1月", "2022-01-01", "202201"), ("2022.01", "2022/1", "2022年1月1日")])
def test_R10_completed_2022_01_passes(make_book, policy, forms):
    cells = [(SUMMARY, project, FINISH, form) for project, form in zip((1, 2, 4), forms, strict=True)]
    absent(book(make_book, policy, cells), "R10")


def test_R10_not_for_projects_in_progress(make_book, policy):
    absent(book(make_book, policy, [(SUMMARY, 0, FINISH, "2021年12月")]), "R10")


# ----------------------------------------------------------------------------------------------------- R11


def test_R11_finished_flag_contradicts_month(make_book, policy):
    cells = [
        (SUMMARY, 1, FINISH, "2024年11月"),  # 是, after the deadline month
        (SUMMARY, 2, FINISH, "2024-11-01"),  # 是, the day after the deadline
        (SUMMARY, 0, FINISH, "2024年9月"),  # 否, before the deadline month
        (SUMMARY, 3, FINISH, "2024-09-30"),
    ]
    found = expect_cells(book(make_book, policy, cells), policy, "R11", [c[:2] + (FINISHED,) for c in cells],
                         severity="warning")  # fmt: skip
    assert sorted(f.expected for f in found) == ["否", "否", "是", "是"]


def test_R11_deadline_month_passes(make_book, policy):
    cells = [(SUMMARY, 1, FINISH, "2024年10月"), (SUMMARY, 2, FINISH, "2024-10-31"),
             (SUMMARY, 0, FINISH, "2024年10月"), (SUMMARY, 3, FINISH, "2024-10-01")]  # fmt: skip
    absent(book(make_book, policy, cells), "R11")


# ----------------------------------------------------------------------------------------------------- R12


def test_R12_range_end_differs_from_finish_month(make_book, policy):
    cells = [(SUMMARY, 1, "起止年月", "2023.05-2024.07"), (SUMMARY, 1, FINISH, "2024年8月")]
    expect_cells(book(make_book, policy, cells), policy, "R12", [(SUMMARY, 1, "起止年月")], severity="warning")


def test_R12_same_month_in_any_form_passes(make_book, policy):
    cells = [
        (SUMMARY, 0, "起止年月", "2023年5月至2025年3月"), (SUMMARY, 0, FINISH, "2025.03"),
        (SUMMARY, 1, "起止年月", "2023.05～2024.08"), (SUMMARY, 1, FINISH, "2024-08-15"),
        (SUMMARY, 2, "起止年月", "2023-05-2024-05-31"), (SUMMARY, 2, FINISH, 202405),
        (SUMMARY, 3, "起止年月", "2023/5—2025/11"), (SUMMARY, 3, FINISH, "2025年11月30日"),
    ]  # fmt: skip
    absent(book(make_book, policy, cells), "R12")


# ----------------------------------------------------------------------------------------------------- R13


def test_R13_requested_funds_zero_or_above_total(make_book, policy):
    cells = [(SUMMARY, 1, "申请专项资金", 0), (SUMMARY, 2, "申请专项资金", "0.00"),
             (SUMMARY, 3, "申请专项资金", round(clean(policy, 3, TOTAL) + 0.01, 2))]  # fmt: skip
    found = expect_cells(book(make_book, policy, cells), policy, "R13", cells)
    assert sorted(f.expected for f in found) == sorted([">0", ">0", f"<={clean(policy, 3, TOTAL)}"])


def test_R13_requested_funds_up_to_total_passes(make_book, policy):
    cells = [(SUMMARY, 1, "申请专项资金", clean(policy, 1, TOTAL)), (SUMMARY, 2, "申请专项资金", 0.0001)]
    absent(book(make_book, policy, cells), "R13")


def test_R13_blank_requested_funds_is_F01_only(make_book, policy):
    report = book(make_book, policy, [(SUMMARY, 1, "申请专项资金", None)])
    absent(report, "R13")
    expect_cells(report, policy, "F01", [(SUMMARY, 1, "申请专项资金")])


# ----------------------------------------------------------------------------------------------------- R14


def test_R14_debt_ratio_over_85(make_book, policy):
    cells = [(ENTITY, index, RATIO, ratio) for index, ratio in enumerate([85.01, "85.01%", "85.1％", 0.8501, 120])]
    found = expect_cells(book(make_book, policy, cells), policy, "R14", cells)
    assert sorted(f.enterprise for f in found) == sorted(enterprise for enterprise, *_ in PROJECTS)


@pytest.mark.parametrize("ratios", [(85, "85%", "85.0％", 0.85, 0.5), ("85.00", "0", 1e-9, 60, "84.99%")])
def test_R14_debt_ratio_85_passes(make_book, policy, ratios):
    absent(book(make_book, policy, [(ENTITY, index, RATIO, ratio) for index, ratio in enumerate(ratios)]), "R14")


def test_R14_ineligible_enterprise(make_book, policy):
    cells = [
        (ENTITY, 1, "是否独立法人（是/否）", "否"),
        (ENTITY, 2, "是否列入失信名单（是/否）", "是"),
        (ENTITY, 3, "{Y}年度是否发生较大及以上生产安全事故（是/否）", "是"),
    ]
    expect_cells(book(make_book, policy, cells), policy, "R14", cells)


# ----------------------------------------------------------------------------------------------------- R15

FUNDS = "项目是否获得其他省级财政资金支持（是/否）"


def test_R15_other_provincial_funds(make_book, policy):
    (finding,) = expect_cells(book(make_book, policy, [(PLEDGE, 2, FUNDS, "是")]), policy, "R15", [(PLEDGE, 2, FUNDS)])
    assert finding.project == PROJECTS[2][1]


def test_R15_no_other_funds_passes(make_book, policy):
    absent(book(make_book, policy, [(PLEDGE, 2, FUNDS, " 否 ")]), "R15")


# ----------------------------------------------------------------------------------------------------- R16

# Project 2 (数字化融合应用) needs DCMM 二级+ and a 首席数据官; project 3 (数字化改造) a 两化融合 certificate.


@pytest.mark.parametrize(
    "entity",
    [{"DCMM认证等级": "一级"}, {"DCMM认证等级": None}, {"DCMM认证等级": "三级", "是否设立首席数据官（是/否）": "否"}],
    ids=["dcmm_level_1", "dcmm_blank", "no_chief_data_officer"],
)
def test_R16_data_fusion_needs_dcmm_2_and_chief_data_officer(make_book, policy, entity):
    report = book(make_book, policy, [(ENTITY, 2, column, value) for column, value in entity.items()])
    expect_cells(report, policy, "R16", [(SUMMARY, 2, "申报方向")])


@pytest.mark.parametrize("level", ["二级", "五级", "2", "3级"])
def test_R16_dcmm_level_2_or_above_passes(make_book, policy, level):
    absent(book(make_book, policy, [(ENTITY, 2, "DCMM认证等级", level)]), "R16")


@pytest.mark.parametrize("valid_until", ["2024年9月", "2024-10-30", None], ids=["month_before", "day_before", "blank"])
def test_R16_digital_upgrade_needs_certificate_valid_on_deadline(make_book, policy, valid_until):
    report = book(make_book, policy, [(ENTITY, 3, "两化融合管理体系贯标证书有效期至", valid_until)])
    expect_cells(report, policy, "R16", [(SUMMARY, 3, "申报方向")])


@pytest.mark.parametrize("valid_until", ["2024年10月", "2024-10-31", "2027.3"])
def test_R16_certificate_valid_on_deadline_passes(make_book, policy, valid_until):
    absent(book(make_book, policy, [(ENTITY, 3, "两化融合管理体系贯标证书有效期至", valid_until)]), "R16")


def test_R16_not_asked_of_other_directions(make_book, policy):
    columns = ("DCMM认证等级", "两化融合管理体系贯标证书有效期至")
    cells = [(ENTITY, p, column, None) for p in (0, 1, 4) for column in columns]
    absent(book(make_book, policy, cells), "R16")


# ----------------------------------------------------------------------------------------------------- R18


def test_R18_county_differs_from_county_unit(make_book, policy):
    (finding,) = expect_cells(book(make_book, policy, [(SUMMARY, 0, "所在县", "代县")]), policy, "R18",
                              [(SUMMARY, 0, "所在县")], severity="warning")  # fmt: skip
    assert finding.expected == "繁峙县"


def test_R18_zone_unit_named_in_development_zone_passes(make_book, policy):
    cells = [(SUMMARY, p, column, value) for p in range(len(PROJECTS))
             for column, value in (("所在县", "忻府区"), ("所在开发区", "忻州经济开发区"))]  # fmt: skip
    absent(book(make_book, policy, cells, unit="忻州经济开发区经济发展部"), "R18")


def test_R18_zone_unit_with_places_outside_the_zone(make_book, policy):
    report = make_book(unit="忻州经济开发区经济发展部")
    expect_cells(report, policy, "R18", [(SUMMARY, p, "所在县") for p in range(len(PROJECTS))], severity="warning")


def test_R18_city_differs_from_city_unit(make_book, policy):
    cells = [(SUMMARY, 4, "所在市", "太原市"), (SUMMARY, 4, "所在县", "小店区")]
    report = book(make_book, policy, cells, unit=CITY_UNIT)
    expect_cells(report, policy, "R18", [(SUMMARY, 4, "所在市")], severity="warning")


def test_R18_city_unit_with_its_own_counties_passes(make_book, policy):
    absent(book(make_book, policy, [(SUMMARY, 4, "所在县", "代县")], unit=CITY_UNIT), "R18")


# ----------------------------------------------------------------------------------------------------- R19


def test_R19_finished_only_direction_not_finished(make_book, policy):
    cells = [(SUMMARY, 1, FINISHED, "否"), (SUMMARY, 1, FINISH, "2025年6月"),
             (SUMMARY, 1, "起止年月", "2023.05-2025.06")]  # fmt: skip
    (finding,) = expect_cells(book(make_book, policy, cells), policy, "R19", [(SUMMARY, 1, FINISHED)])
    assert finding.expected == "是"


def test_R19_other_directions_may_be_in_progress(make_book):
    absent(make_book(), "R19")  # projects 0 and 3 are in progress in directions that allow it


# ----------------------------------------------------------------------------------------------------- R20

# Projects 0 and 3 are in progress; 24 months after 2024-10 is 2026-10.


def test_R20_in_progress_finishing_over_24_months_after_deadline(make_book, policy):
    cells = [(SUMMARY, 0, FINISH, "2026年11月"), (SUMMARY, 0, "起止年月", "2023.03-2026.11"),
             (SUMMARY, 3, FINISH, "2027-01-15"), (SUMMARY, 3, "起止年月", "2023.04-2027.01")]  # fmt: skip
    found = expect_cells(book(make_book, policy, cells), policy, "R20", [(SUMMARY, 0, FINISH), (SUMMARY, 3, FINISH)],
                         severity="warning")  # fmt: skip
    assert {f.expected for f in found} == {"<=2026年10月"}


def test_R20_exactly_24_months_after_2024_10_passes(make_book, policy):
    cells = [(SUMMARY, 0, FINISH, "2026年10月"), (SUMMARY, 0, "起止年月", "2023.03-2026.10"),
             (SUMMARY, 3, FINISH, "2026-10-31"), (SUMMARY, 3, "起止年月", "2023.04-2026.10")]  # fmt: skip
    absent(book(make_book, policy, cells), "R20")


# ----------------------------------------------------------------------------------------------------- R21

# Projects 0 and 4 ask for 贴息 (interest subsidy) in the clean workbook.


def test_R21_interest_subsidy_without_loan(make_book, policy):
    cells = [(SUMMARY, 0, "银行贷款", None), (SUMMARY, 0, "自筹资金", clean(policy, 0, TOTAL)),
             (SUMMARY, 4, "银行贷款", 0), (SUMMARY, 4, "自筹资金", clean(policy, 4, TOTAL))]  # fmt: skip
    expect_cells(book(make_book, policy, cells), policy, "R21", [(PLEDGE, 0, "支持方式"), (PLEDGE, 4, "支持方式")])


def test_R21_interest_subsidy_with_loan_passes(make_book, policy):
    cells = [(SUMMARY, 0, "银行贷款", 0.01), (SUMMARY, 0, "自筹资金", round(clean(policy, 0, TOTAL) - 0.01, 2))]
    absent(book(make_book, policy, cells), "R21")


def test_R21_not_run_without_partner_row(make_book, policy):
    cells = [(SUMMARY, 0, "银行贷款", None), (PLEDGE, 0, "项目名称", "另一个项目")]
    absent(book(make_book, policy, cells), "R21")


# ----------------------------------------------------------------------------------------------------- R22

YEAR_AMOUNT = "项目{Y}年完成固定资产投资"


def test_R22_year_investment_above_completed(make_book, policy):
    cells = [(PLEDGE, p, YEAR_AMOUNT, round(clean(policy, p, DONE) + 0.01, 2)) for p in (0, 4)]
    expect_cells(book(make_book, policy, cells), policy, "R22", cells)


def test_R22_year_investment_equal_to_completed_passes(make_book, policy):
    absent(book(make_book, policy, [(PLEDGE, p, YEAR_AMOUNT, clean(policy, p, DONE)) for p in (0, 4)]), "R22")

