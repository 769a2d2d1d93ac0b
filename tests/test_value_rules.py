"""F01–F11: one value at a time, each at its cell, with near-misses that must not fire.

A value rule looks at one cell, so one workbook carries several variants, each in its own cell, and the test
asserts exactly that set of cells (no more, no fewer). Data rows as conftest lays them out: 汇总表 rows 5–9
(projects 0–4), 承诺书 and 申报主体 rows 3–7, 投资明细 rows 3–32 (project 0's six line items first),
建设计划 rows 3–8, 智能制造环节 rows 3–6 (project 1's four scenes).
"""

from __future__ import annotations

import random

import pytest
from conftest import PROJECTS, Change, absent, book, expect_cells, row_of

from tr_excel.synth import make_uscc

SUMMARY = "汇总表"
PLEDGE = "承诺书"
ENTITY = "申报主体"
ITEMS = "投资明细"
PLAN = "建设计划"
SMART = "智能制造环节"


# ----------------------------------------------------------------------------------------------------- F01

REQUIRED_BLANK: list[Change] = [
    (SUMMARY, 1, "所在市", None),
    (SUMMARY, 1, "企业性质", None),
    (SUMMARY, 1, "起止年月", None),
    (SUMMARY, 1, "总投资", None),
    (SUMMARY, 1, "已完成投资（按照发票金额核定）", None),
    (SUMMARY, 1, "完工时间", None),
    (SUMMARY, 1, "项目联系人及手机", None),
    (PLEDGE, 2, "支持方式", "   "),
    (PLEDGE, 2, "项目是否获得其他省级财政资金支持（是/否）", "\u3000"),
    (PLEDGE, 0, "项目{Y}年完成固定资产投资", None),  # 承诺书 备注1: required of the fixed-asset directions
    (PLEDGE, 4, "项目申报企业（单位）{Y1}年营业收入", "\u200b"),
    (ENTITY, 3, "统一社会信用代码", None),
    (ENTITY, 3, "{Y}年末资产负债率（%）", None),
    (ITEMS, 4, "概算投资额", None),
    (ITEMS, 4, "子类", None),
    (PLAN, 1, "累计完成投资额（发票金额）", None),
    (SMART, 2, "典型场景实例名称", None),
]


def test_F01_required_value_blank(make_book, policy):
    report = book(make_book, policy, REQUIRED_BLANK)
    expect_cells(report, policy, "F01", REQUIRED_BLANK)
    absent(report, "F02")  # a whitespace-only 是/否 or list cell is blank, not a wrong value


def test_F01_optional_value_may_be_blank(make_book, policy):
    optional: list[Change] = [
        (SUMMARY, 1, "所在开发区", None),
        (SUMMARY, 1, "项目亮点", None),
        (SUMMARY, 1, "银行贷款", None),
        (PLEDGE, 1, "项目{Y}年完成固定资产投资", None),  # 智能化升级 is not a fixed-asset direction
        (PLEDGE, 1, "项目申报企业（单位）{Y}年营业收入", None),
        (ENTITY, 0, "DCMM认证等级", None),  # matters only through R16
        (ITEMS, 4, "材质或型号", None),
        (SUMMARY, 3, "已完成投资（按照发票金额核定）", 0),  # 0 is a value
    ]
    absent(book(make_book, policy, optional), "F01")


# ----------------------------------------------------------------------------------------------------- F02

OUTSIDE_LIST: list[Change] = [
    (SUMMARY, 0, "企业性质", "私营企业"),
    (SUMMARY, 1, "申报专项", "核心竞争力专项"),
    (SUMMARY, 2, "行业分类", "传统产业"),
    (SUMMARY, 3, "是否为省级重点产业链链主、链核企业（是/否）", "Y"),
    (SUMMARY, 4, "项目是否完工（是/否）", "未完工"),
    (PLEDGE, 0, "支持方式", "资助"),
    (ENTITY, 0, "DCMM认证等级", "六级"),
    (ENTITY, 1, "是否独立法人（是/否）", "是的"),
    (ITEMS, 0, "投资类别", "设备购置"),
    (SMART, 0, "智能制造环节名称", "智能排产"),
]


def test_F02_value_outside_list(make_book, policy):
    report = book(make_book, policy, OUTSIDE_LIST)
    found = expect_cells(report, policy, "F02", OUTSIDE_LIST)
    assert sorted(f.value for f in found) == sorted(value for *_, value in OUTSIDE_LIST)
    assert next(f for f in found if f.column == "企业性质").expected == "央企、省属国企、地方国企、民营企业、其他"


def test_F02_in_a_city_summary_sent_on_alone(write_book, policy):
    """A city's 汇总表 sent on to the province (a summary input, no other sheet) has its list values checked too."""
    from conftest import CITY_UNIT, edit, tweak

    from tr_excel.engine import validate

    def summary_only(workbook):
        for name in workbook.sheetnames:
            if name != SUMMARY:
                workbook.remove(workbook[name])

    path = tweak(write_book(edit(SUMMARY, 0, {"企业性质": "私营"}), unit=CITY_UNIT), summary_only)
    report = validate([path], policy)
    assert report.books[0].is_summary_input
    (finding,) = [f for f in report.findings if f.rule == "F02"]
    assert (finding.sheet, finding.column, finding.value) == (SUMMARY, "企业性质", "私营")


def test_F02_sub_category_not_of_its_category(make_book, policy):
    change = [(ITEMS, 0, "子类", "生产相关设备")]  # under 土建投资
    report = book(make_book, policy, [(ITEMS, 0, "投资类别", "土建投资"), *change])
    (finding,) = expect_cells(report, policy, "F02", change)
    assert finding.expected == "厂房投资、试验楼投资、其他土建投资"


def test_F02_list_values_with_spaces_dashes_or_aliases_pass(make_book, policy):
    variants: list[Change] = [
        (SUMMARY, 0, "企业性质", " 民营企业 "),
        (SUMMARY, 3, "项目是否完工（是/否）", "否\u3000"),
        (SUMMARY, 2, "申报方向", "制造业数字化转型改造－数字化融合应用"),
        (PLEDGE, 2, "申报方向", "制造业数字化转型改造一数字化融合应用"),  # the OCR'd dash of the notice
        (ENTITY, 0, "DCMM认证等级", "3"),
        (ENTITY, 1, "DCMM认证等级", "4级"),
        (ENTITY, 2, "是否独立法人（是/否）", " 是"),
    ]
    absent(book(make_book, policy, variants), "F02")


def test_F02_invalid_direction_is_reported_once(make_book, policy):
    # Not also R01 (its 专项), R04 (its basis), R16 or R19 (finished only): the direction is unknown.
    wrong: list[Change] = [(SUMMARY, 1, "申报方向", "智能制造升级")]
    report = book(make_book, policy, [*wrong, (SUMMARY, 1, "项目是否完工（是/否）", "否"),
                                      (SUMMARY, 1, "设备投资（含软硬件投资）", None)])  # fmt: skip
    expect_cells(report, policy, "F02", wrong)
    absent(report, "R01", "R04", "R05", "R16", "R19")


# ----------------------------------------------------------------------------------------------------- F03

NOT_A_NUMBER: list[Change] = [
    (SUMMARY, 1, "总投资", "约6000"),
    (SUMMARY, 1, "销售收入", "待定"),
    (SUMMARY, 1, "利润", "500/600"),  # two numbers
    (SUMMARY, 1, "银行贷款", -5),
    (SUMMARY, 1, "新增税收", "－12.5"),
    (SUMMARY, 1, "就业人数", "十人"),
    (SUMMARY, 1, "自筹资金", "5000元"),  # yuan, not 万元
    (ENTITY, 1, "{Y}年末资产负债率（%）", "较高"),
    (ENTITY, 2, "{Y}年末资产负债率（%）", -0.3),
    (ITEMS, 1, "概算投资额", "12.345678"),  # five decimals would be rounded silently
]


def test_F03_not_a_non_negative_number(make_book, policy):
    report = book(make_book, policy, NOT_A_NUMBER)
    found = expect_cells(report, policy, "F03", NOT_A_NUMBER)
    assert all(f.value is not None for f in found)
    # Each mistake once: the unreadable 总投资 and 银行贷款 are not compared by R05–R09, R13.
    absent(report, "R06", "R07", "R08", "R13")


def test_F03_numbers_as_text_and_negative_revenue_increase_pass(make_book, policy):
    variants: list[Change] = [
        (SUMMARY, 0, "利润", "1,234.5"),
        (SUMMARY, 1, "利润", "１２３４．５"),
        (SUMMARY, 2, "利润", "1234.5万元"),
        (SUMMARY, 3, "利润", "1234.5 万"),
        (SUMMARY, 4, "利润", " 1234.5678 "),
        (SUMMARY, 0, "就业人数", "135"),
        (SUMMARY, 1, "就业人数", "135人"),
        (SUMMARY, 2, "就业人数", 120.0),
        (ENTITY, 0, "{Y}年末资产负债率（%）", "62.5%"),
        (ENTITY, 1, "{Y}年末资产负债率（%）", "62.5％"),
        (ENTITY, 2, "{Y}年末资产负债率（%）", 0.625),
        (PLEDGE, 0, "项目申报企业（单位）{Y}年营业收入", 1000),
        (PLEDGE, 0, "项目申报企业（单位）{Y1}年营业收入", 1200.5),
        (PLEDGE, 0, "项目申报企业（单位）{Y}年营业收入增量", "-200.50"),
        (PLEDGE, 4, "项目申报企业（单位）{Y}年营业收入增量", "－0.5"),
    ]
    absent(book(make_book, policy, variants), "F03", "F10")


# ----------------------------------------------------------------------------------------------------- F04

UNREADABLE_WHEN: list[Change] = [
    (SUMMARY, 0, "完工时间", "2024年13月"),
    (SUMMARY, 2, "完工时间", "今年8月"),
    (SUMMARY, 4, "完工时间", "2024"),
    (SUMMARY, 1, "起止年月", "2023.05"),  # one month
    (SUMMARY, 3, "起止年月", "2024.08-2023.05"),  # end before start
    (SUMMARY, 2, "起止年月", "2023.05-"),  # no end
    (ITEMS, 1, "开票日期", "2024-02-30"),
    (PLAN, 1, "时间节点", "2024年底"),
    (PLEDGE, 1, "项目完工时间", "8月"),
]


def test_F04_unreadable_month_range_or_node(make_book, policy):
    report = book(make_book, policy, UNREADABLE_WHEN)
    expect_cells(report, policy, "F04", UNREADABLE_WHEN)
    absent(report, "R10", "R11", "R12", "R20")  # an unreadable month is compared with nothing


MONTH_FORMS = ["2024年8月", "2024.08", "2024.8", "2024-08", "2024/8", "202408", 202408, 2024.08, "2024-08-31",
               "2024年8月31日", "2024/8/31", "20240831"]  # fmt: skip


def test_F04_every_month_and_date_form_passes(make_book, policy):
    variants = [(ITEMS, index, "开票日期", form) for index, form in enumerate(MONTH_FORMS)]
    absent(book(make_book, policy, variants), "F04", "F11")


@pytest.mark.parametrize(
    "joiners", [("-", "—", "－", "~", "～"), ("至", "——", "到")], ids=["dashes_and_tildes", "words_and_double_dash"]
)
def test_F04_every_range_joiner_passes(make_book, policy, joiners):
    variants = [(SUMMARY, index, "起止年月", f"2023.05{joiner}2024.08") for index, joiner in enumerate(joiners)]
    absent(book(make_book, policy, variants), "F04")


def test_F04_range_of_dates_and_chinese_months_passes(make_book, policy):
    variants: list[Change] = [
        (SUMMARY, 0, "起止年月", "2023年5月至2025年3月"),
        (SUMMARY, 1, "起止年月", "2023-05-2024-08"),
        (SUMMARY, 2, "起止年月", "2023/3—2024/5"),
    ]
    absent(book(make_book, policy, variants), "F04")


def test_F04_node_forms_pass(make_book, policy):
    nodes = ["截至申报之日", "截至2025年2月底", "截止项目完工之日", " 截至 2025年2月底 "]
    absent(book(make_book, policy, [(PLAN, index, "时间节点", node) for index, node in enumerate(nodes)]), "F04")


# ----------------------------------------------------------------------------------------------------- F05


def test_F05_no_valid_mobile_number(make_book, policy):
    bad = ["王工", "王工 1391234567", "王工 0350-3334026", "王工 23912345678"]
    changes = [(SUMMARY, index, "项目联系人及手机", value) for index, value in enumerate(bad)]
    expect_cells(book(make_book, policy, changes), policy, "F05", changes)


def test_F05_mobile_number_in_any_order_passes(make_book, policy):
    good = ["13912345678王工", "王工：139-1234-5678", "王工（+86 139 1234 5678）", 13912345678, "李四,15803501234"]
    changes = [(SUMMARY, index, "项目联系人及手机", value) for index, value in enumerate(good)]
    absent(book(make_book, policy, changes), "F05")


# ----------------------------------------------------------------------------------------------------- F06

CODE = make_uscc(random.Random(3))


def test_F06_invalid_credit_code(make_book, policy):
    wrong_check = CODE[:17] + ("0" if CODE[17] != "0" else "1")
    bad = [wrong_check, CODE[:17], CODE[:16] + "IO", 914_109_000_000_000_000]  # check, length, alphabet, number
    changes = [(ENTITY, index, "统一社会信用代码", value) for index, value in enumerate(bad)]
    found = expect_cells(book(make_book, policy, changes), policy, "F06", changes)
    assert sorted(f.enterprise for f in found) == sorted(enterprise for enterprise, *_ in PROJECTS[:4])


def test_F06_valid_code_with_spaces_and_lower_case_passes(make_book, policy):
    absent(book(make_book, policy, [(ENTITY, 4, "统一社会信用代码", f" {CODE.lower()} ")]), "F06")


# ----------------------------------------------------------------------------------------------------- F07

LIMITS = {"典型场景实例描述": 300, "建设内容": 500, "实施成效": 300, "先进性和可推广性": 300}


def test_F07_text_over_limit(make_book, policy):
    changes = [(SMART, index, column, "字" * (limit + 1)) for index, (column, limit) in enumerate(LIMITS.items())]
    found = expect_cells(book(make_book, policy, changes), policy, "F07", changes, severity="warning")
    assert all(f"有 {LIMITS[f.column] + 1} 字，超过 {LIMITS[f.column]} 字" in f.message for f in found)


def test_F07_text_at_limit_passes(make_book, policy):
    changes = [(SMART, index, column, "字" * limit) for index, (column, limit) in enumerate(LIMITS.items())]
    absent(book(make_book, policy, changes), "F07")


# ----------------------------------------------------------------------------------------------------- F08


def test_F08_place_not_in_shanxi(make_book, policy):
    changes: list[Change] = [
        (SUMMARY, 0, "所在县", "朔城区"),  # a county of another city
        (SUMMARY, 1, "所在县", "繁峙"),
        (SUMMARY, 2, "所在市", "忻州"),
        (SUMMARY, 3, "所在市", "石家庄市"),
    ]
    found = expect_cells(book(make_book, policy, changes), policy, "F08", changes)
    assert "朔州市" in next(f for f in found if f.value == "朔城区").message
    assert "应写全称“繁峙县”" in next(f for f in found if f.value == "繁峙").message


def test_F08_counties_and_zones_pass(make_book, policy):
    places = ["原平市", "五台山风景名胜区", "忻州经济开发区", "繁峙县经济技术开发区", "某某工业园区"]
    changes = [(SUMMARY, index, "所在县", place) for index, place in enumerate(places)]
    absent(book(make_book, policy, changes), "F08")


def test_F08_yangquan_districts_read_within_their_city(make_book, policy):
    changes: list[Change] = [(SUMMARY, 2, "所在市", "阳泉市"), (SUMMARY, 2, "所在县", "郊区")]
    absent(book(make_book, policy, changes), "F08")


# ----------------------------------------------------------------------------------------------------- F09

INVOICE = "对应发票编号"


def test_F09_invoice_number_neither_8_nor_20_digits(make_book, policy):
    bad = ["1234567", 1234567, "123456789", 12345678901234567890, "12345678、1234", "2024年发票"]
    changes = [(ITEMS, 6 + index, INVOICE, value) for index, value in enumerate(bad)]
    found = expect_cells(book(make_book, policy, changes), policy, "F09", changes)
    assert "开头的0" in next(f for f in found if f.value == "1234567" and f.row == row_of(ITEMS, 7)).message


def test_F09_valid_invoice_numbers_pass(make_book, policy):
    good = ["01234567", 87654321, "24112000000012345678", "87654320、87654322",
            "87654323，87654324；87654325 87654326"]  # fmt: skip
    changes = [(ITEMS, 6 + index, INVOICE, value) for index, value in enumerate(good)]
    absent(book(make_book, policy, changes), "F09")


# ----------------------------------------------------------------------------------------------------- F10


def test_F10_not_a_whole_number(make_book, policy):
    changes: list[Change] = [(SUMMARY, 4, "就业人数", 12.5), (PLEDGE, 1, "项目建设完成智能制造核心生产环节数量", "3.5")]
    found = expect_cells(book(make_book, policy, changes), policy, "F10", changes, severity="warning")
    assert sorted(f.value for f in found) == ["12.5", "3.5"]


def test_F10_whole_number_passes(make_book, policy):
    changes = [(SUMMARY, index, "就业人数", value) for index, value in enumerate([12, 12.0, "12", " 12 "])]
    absent(book(make_book, policy, changes), "F10")


# ----------------------------------------------------------------------------------------------------- F11


def test_F11_month_typed_as_number_yyyy_1(make_book, policy):
    changes: list[Change] = [(SUMMARY, 3, "完工时间", 2025.1)]
    (finding,) = expect_cells(book(make_book, policy, changes), policy, "F11", changes, severity="warning")
    assert "2025年10月" in finding.message


def test_F11_month_as_text_or_with_two_digits_passes(make_book, policy):
    changes = [(SUMMARY, index, "完工时间", value) for index, value in enumerate(["2025.10", "2025.1", 2025.11])]
    absent(book(make_book, policy, changes), "F11", "F04")
