"""Tests for tr_excel.values: every accepted form and every rejection of workbook.md "Value formats"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tr_excel.values import (
    MONEY_SCALE,
    Month,
    Parsed,
    When,
    format_money,
    is_blank,
    normalise_choice,
    normalise_key,
    parse_column,
    parse_contact,
    parse_count,
    parse_money,
    parse_money_column,
    parse_month_range,
    parse_node,
    parse_percent,
    parse_uscc,
    parse_when,
    parse_yesno,
    plain_money,
    split_invoices,
    text_value,
    uscc_check_char,
)

SCALAR_PARSERS = [
    parse_money,
    parse_percent,
    parse_count,
    parse_when,
    parse_month_range,
    parse_yesno,
    parse_contact,
    parse_uscc,
    parse_node,
]
BLANKS = {
    "none": None,
    "empty": "",
    "spaces": "   ",
    "tab_newline": "\t\n",
    "fullwidth_space": "\u3000",
    "nbsp": "\xa0",
    "zero_width_space": "\u200b",
}


def ok(value: object, warning: str | None = None) -> Parsed:
    return Parsed(value, None, warning)


# --------------------------------------------------------------------------------------------------- blanks


@pytest.mark.parametrize("raw", list(BLANKS.values()), ids=list(BLANKS))
@pytest.mark.parametrize("parser", SCALAR_PARSERS, ids=lambda p: p.__name__)
def test_blank_is_no_value_and_no_error(parser, raw):
    assert is_blank(raw)
    assert parser(raw) == Parsed(None, None, None)


@pytest.mark.parametrize("raw", list(BLANKS.values()), ids=list(BLANKS))
def test_blank_cell_has_no_invoices_and_no_text(raw):
    assert split_invoices(raw) == []
    assert text_value(raw) is None


@pytest.mark.parametrize("raw", [0, 0.0, False, "0", "-", dt.date(2024, 1, 1)], ids=repr)
def test_zero_false_and_dash_are_not_blank(raw):
    assert not is_blank(raw)


# ---------------------------------------------------------------------------------------------------- money

MONEY_OK = {
    "int_cell": (500, 5_000_000),
    "float_cell": (1234.5, 12_345_000),
    "formula_float_noise": (1234.5000000001, 12_345_000),
    "float_sum_0.1+0.2": (0.1 + 0.2, 3000),
    "float_more_than_4_decimals_rounds_half_even_down": (1.00005, 10000),
    "float_more_than_4_decimals_rounds_half_even_up": (1.00015, 10002),
    "float_negative_zero": (-0.0, 0),
    "text_plain": ("1234.5", 12_345_000),
    "text_four_decimals_exact": ("1,234.5678", 12_345_678),
    "text_thousands_comma": ("1,234,567.5", 12_345_675_000),
    "text_fullwidth_thousands_comma": ("1，234.5", 12_345_000),
    "text_fullwidth_digits_and_dot": ("１２３４．５", 12_345_000),
    "text_surrounding_spaces": ("  1234.5 ", 12_345_000),
    "text_fullwidth_space_and_nbsp": ("\u30001234.5\xa0", 12_345_000),
    "text_suffix_wan_yuan": ("500万元", 5_000_000),
    "text_suffix_wan": ("500万", 5_000_000),
    "text_suffix_fullwidth_bracket_wan_yuan": ("500（万元）", 5_000_000),
    "text_space_before_unit": ("500 万元", 5_000_000),
    "text_trailing_zeros_past_4_decimals": ("1234.50000", 12_345_000),
    "text_leading_dot": (".5", 5000),
    "text_trailing_dot": ("500.", 5_000_000),
    "text_plus_sign": ("+500", 5_000_000),
}


@pytest.mark.parametrize(("raw", "units"), list(MONEY_OK.values()), ids=list(MONEY_OK))
def test_money_accepted(raw, units):
    assert parse_money(raw) == ok(units)


MONEY_NEGATIVE_OK = {
    "hyphen": ("-5", -50000),
    "fullwidth_hyphen": ("－5", -50000),
    "minus_sign": ("\u22125.5万元", -55000),
    "float_cell": (-1234.5, -12_345_000),
    "int_cell": (-3, -30000),
}


@pytest.mark.parametrize(("raw", "units"), list(MONEY_NEGATIVE_OK.values()), ids=list(MONEY_NEGATIVE_OK))
def test_money_negative_only_where_allowed(raw, units):
    assert parse_money(raw, allow_negative=True) == ok(units)
    assert parse_money(raw) == Parsed(None, "为负数")


MONEY_BAD = {
    "word_prefix_about": ("约500", "不是有效的金额"),
    "word_tbd": ("待定", "不是有效的金额"),
    "word_suffix_around": ("500左右", "不是有效的金额"),
    "scientific_text": ("1.2E+03", "不是有效的金额"),
    "bad_thousands_grouping": ("12,34", "不是有效的金额"),
    "two_numbers_slash": ("500/600", "包含多个数字"),
    "two_numbers_space": ("500 600", "包含多个数字"),
    "two_numbers_range": ("500-600", "包含多个数字"),
    "two_amounts_with_units": ("500万元、600万元", "包含多个数字"),
    "two_numbers_or": ("500或600", "包含多个数字"),
    "unit_yuan": ("5000000元", "单位应为万元"),
    "unit_yuan_with_space": ("500 元", "单位应为万元"),
    "text_five_decimals": ("1234.56789", "小数超过4位"),
    "bool_true": (True, "不是有效的金额"),
    "bool_false": (False, "不是有效的金额"),
    "date_cell": (dt.date(2024, 6, 30), "不是有效的金额"),
    "datetime_cell": (dt.datetime(2024, 6, 30, 8, 0), "不是有效的金额"),
    "time_cell": (dt.time(8, 30), "不是有效的金额"),
    "duration_cell": (dt.timedelta(days=3), "不是有效的金额"),
    "nan": (float("nan"), "不是有效的金额"),
    "inf": (float("inf"), "不是有效的金额"),
    "absurdly_large_number": (1e16, "不是有效的金额"),
}


@pytest.mark.parametrize(("raw", "reason"), list(MONEY_BAD.values()), ids=list(MONEY_BAD))
def test_money_rejected(raw, reason):
    parsed = parse_money(raw, allow_negative=True)
    assert parsed.value is None
    assert reason in parsed.error


@pytest.mark.parametrize(
    ("units", "text"),
    [(12_345_000, "1234.50"), (12_250, "1.23"), (-12_250, "-1.23"), (-1, "0.00"), (0, "0.00")],
    ids=["pads_two_decimals", "half_up_not_half_even", "negative_half_up", "no_negative_zero", "zero"],
)
def test_format_money(units, text):
    assert format_money(units) == text


@pytest.mark.parametrize(
    ("units", "text"),
    [(12_345_000, "1234.5"), (0, "0"), (-32_500, "-3.25"), (1_000_000_000, "100000"), (1, "0.0001")],
    ids=["drops_trailing_zeros", "zero", "negative", "no_exponent_for_round_numbers", "one_yuan"],
)
def test_plain_money(units, text):
    assert plain_money(units) == text


def test_money_text_with_a_sign_or_a_word():
    assert MONEY_SCALE == 10000
    assert parse_money("1234.5").value == 12_345_000
    assert parse_money("-3.25", allow_negative=True).value == -32_500
    assert parse_money("待定").value is None and parse_money("待定").error


@given(st.decimals(min_value=0, max_value=10**9, places=4))
def test_money_text_and_float_round_trip_exactly(d):
    units = parse_money(str(d)).value
    assert units is not None
    assert Decimal(plain_money(units)) == d
    assert parse_money(plain_money(units)).value == units
    assert parse_money(float(d)).value == units


_NUMBER_CELLS = st.one_of(
    st.floats(min_value=-2e9, max_value=2e9),
    st.integers(min_value=-(10**16), max_value=10**16).map(lambda n: n / 10**4),
    # exact half units (x.xxxx5), where half-even rounding matters
    st.integers(min_value=0, max_value=10**12).map(lambda n: (n + 0.5) / 10**4),
    st.integers(min_value=-(10**16), max_value=10**16),
    st.floats(),
    st.sampled_from([None, "", "500万元", "约500", True, dt.date(2024, 1, 1)]),
)


@given(st.lists(_NUMBER_CELLS, max_size=30), st.booleans())
def test_money_column_fast_path_agrees_with_parse_money(values, allow_negative):
    expected = [parse_money(v, allow_negative) for v in values]
    assert parse_money_column(values, allow_negative) == (
        [p.value for p in expected],
        [p.error for p in expected],
    )


# -------------------------------------------------------------------------------------------------- percent

PERCENT_OK = {
    "text_plain": ("62.5", Decimal("62.5")),
    "text_percent_sign": ("62.5%", Decimal("62.5")),
    "text_fullwidth_percent_sign": ("62.5％", Decimal("62.5")),
    "text_fullwidth_digits": ("６２．５％", Decimal("62.5")),
    "text_spaces": (" 62.5 % ", Decimal("62.5")),
    "text_fraction_is_literal": ("0.625", Decimal("0.625")),
    "text_over_100_is_valid": ("150%", Decimal("150")),
    "number_cell_points": (62.5, Decimal("62.5")),
    "number_cell_percent_formatted_fraction": (0.625, Decimal("62.5")),
    "number_cell_one_is_100_percent": (1, Decimal("100")),
    "number_cell_zero": (0.0, Decimal("0")),
    "number_cell_over_100": (150, Decimal("150")),
}


@pytest.mark.parametrize(("raw", "value"), list(PERCENT_OK.values()), ids=list(PERCENT_OK))
def test_percent_accepted(raw, value):
    assert parse_percent(raw) == ok(value)


PERCENT_BAD = {
    "word": ("约60%", "不是有效的百分比"),
    "two_numbers": ("60%-70%", "不是有效的百分比"),
    "negative_text": ("-5%", "为负数"),
    "negative_number_cell": (-0.2, "为负数"),
    "bool_cell": (True, "不是有效的百分比"),
    "date_cell": (dt.date(2024, 1, 1), "不是有效的百分比"),
}


@pytest.mark.parametrize(("raw", "reason"), list(PERCENT_BAD.values()), ids=list(PERCENT_BAD))
def test_percent_rejected(raw, reason):
    assert parse_percent(raw) == Parsed(None, reason)


# ---------------------------------------------------------------------------------------------------- count

COUNT_CASES = {
    "int_cell": (12, ok(Decimal(12))),
    "integral_float_cell": (12.0, ok(Decimal(12))),
    "text_with_persons_unit": ("120人", ok(Decimal(120))),
    "text_fullwidth_with_item_unit": ("３个", ok(Decimal(3))),
    "text_thousands": ("1,200人", ok(Decimal(1200))),
    "fraction_kept_with_warning_F10": (12.5, ok(Decimal("12.5"), "不是整数")),
    "text_fraction_warning_F10": ("12.5", ok(Decimal("12.5"), "不是整数")),
    "negative": ("-1", Parsed(None, "为负数")),
    "word": ("若干", Parsed(None, "不是有效的数量")),
    "bool_cell": (False, Parsed(None, "不是有效的数量")),
}


@pytest.mark.parametrize(("raw", "expected"), list(COUNT_CASES.values()), ids=list(COUNT_CASES))
def test_count(raw, expected):
    assert parse_count(raw) == expected


# ---------------------------------------------------------------------------------------------------- months

WHEN_OK = {
    "date_cell": (dt.date(2024, 6, 30), When(2024, 6, 30)),
    "datetime_cell": (dt.datetime(2024, 6, 30, 8, 30), When(2024, 6, 30)),
    "text_year_month": ("2024年6月", When(2024, 6)),
    "text_year_month_zero_padded": ("2024年06月", When(2024, 6)),
    "text_dot_padded": ("2024.06", When(2024, 6)),
    "text_dot": ("2024.6", When(2024, 6)),
    "text_dot_10_kept_as_text": ("2024.10", When(2024, 10)),
    "text_dot_1_is_january_without_warning": ("2024.1", When(2024, 1)),
    "text_hyphen": ("2024-06", When(2024, 6)),
    "text_slash": ("2024/6", When(2024, 6)),
    "text_yyyymm": ("202406", When(2024, 6)),
    "text_iso_date": ("2024-06-30", When(2024, 6, 30)),
    "text_slash_date": ("2024/6/30", When(2024, 6, 30)),
    "text_dot_date": ("2024.6.30", When(2024, 6, 30)),
    "text_chinese_date": ("2024年6月30日", When(2024, 6, 30)),
    "text_yyyymmdd": ("20240630", When(2024, 6, 30)),
    "text_fullwidth": ("２０２４年６月", When(2024, 6)),
    "text_fullwidth_dot": ("２０２４．０６", When(2024, 6)),
    "text_inner_spaces": (" 2024 年 6 月 ", When(2024, 6)),
    "number_cell_dot_padded": (2024.06, When(2024, 6)),
    "number_cell_dot": (2024.6, When(2024, 6)),
    "number_cell_december": (2024.12, When(2024, 12)),
    "number_cell_november_no_F11": (2024.11, When(2024, 11)),
    "number_cell_yyyymm": (202406, When(2024, 6)),
    "number_cell_yyyymm_float": (202406.0, When(2024, 6)),
    "number_cell_yyyymmdd": (20240630.0, When(2024, 6, 30)),
    "unformatted_excel_serial": (45473.0, When(2024, 6, 30)),
    "excel_serial_lower_bound": (20000, When(1954, 10, 3)),
}


@pytest.mark.parametrize(("raw", "when"), list(WHEN_OK.values()), ids=list(WHEN_OK))
def test_when_accepted(raw, when):
    assert parse_when(raw) == ok(when)


def test_when_number_2024_1_is_january_with_F11_warning():
    parsed = parse_when(2024.1)
    assert parsed.value == When(2024, 1)
    assert parsed.error is None
    assert "可能是2024年10月" in parsed.warning
    assert "2024年10月”" in parsed.warning


WHEN_BAD = {
    "month_13_text": ("2024年13月", "月份不在1–12之间"),
    "month_0_text": ("2024-00", "月份不在1–12之间"),
    "month_13_number_cell": (2024.13, "月份不在1–12之间"),
    "month_13_yyyymm": (202413, "月份不在1–12之间"),
    "no_such_day": ("2024-02-30", "不是存在的日期"),
    "no_such_day_yyyymmdd": ("20230229", "不是存在的日期"),
    "year_alone_text": ("2024", "缺少月份"),
    "year_alone_number": (2024, "缺少月份"),
    "word": ("明年6月", "不是有效的年月"),
    "bool_cell": (True, "不是有效的年月"),
    "time_cell": (dt.time(8, 30), "不是有效的年月"),
    "duration_cell": (dt.timedelta(days=1), "不是有效的年月"),
    "three_decimals_number_cell": (2024.123, "不是有效的年月"),
    "serial_with_time_fraction": (45473.5, "不是有效的年月"),
    "below_serial_range": (19999, "不是有效的年月"),
    "above_serial_range": (80001, "不是有效的年月"),
    "negative_number": (-2024.5, "不是有效的年月"),
    "nan": (float("nan"), "不是有效的年月"),
    "mixed_separators": ("2024-06/30", "不是有效的年月"),
}


@pytest.mark.parametrize(("raw", "reason"), list(WHEN_BAD.values()), ids=list(WHEN_BAD))
def test_when_rejected(raw, reason):
    parsed = parse_when(raw)
    assert parsed.value is None
    assert reason in parsed.error


def test_month_order_and_month_key():
    assert Month(2024, 6) < Month(2024, 10) < Month(2025, 1)
    assert When(2024, 6, 30).month_key == When(2024, 6).month_key == Month(2024, 6)


RANGE_OK = {
    "dot_hyphen": "2023.01-2024.06",
    "chinese_zhi": "2023年1月至2024年6月",
    "chinese_dao": "2023年1月到2024年6月",
    "hyphen_months_hyphen_joiner": "2023-01-2024-06",
    "hyphen_months_em_dash_joiner": "2023-01—2024-06",
    "unpadded_dot": "2023.1-2024.6",
    "ime_double_em_dash": "2023.01——2024.06",
    "fullwidth_hyphen": "2023.01－2024.06",
    "en_dash": "2023.01–2024.06",
    "tilde": "2023.01~2024.06",
    "fullwidth_tilde_and_spaces": "2023.01 ～ 2024.06",
    "yyyymm": "202301-202406",
}


@pytest.mark.parametrize("raw", list(RANGE_OK.values()), ids=list(RANGE_OK))
def test_month_range_accepted(raw):
    assert parse_month_range(raw) == ok((When(2023, 1), When(2024, 6)))


def test_month_range_full_dates_split_at_the_right_hyphen():
    assert parse_month_range("2023-01-15-2024-06-30").value == (When(2023, 1, 15), When(2024, 6, 30))


def test_month_range_same_month_with_days_is_not_end_before_start():
    assert parse_month_range("2024-06-30-2024-06-01").error is None


RANGE_BAD = {
    "one_month_only": ("2023.01", "缺少结束年月"),
    "trailing_joiner": ("2023.01-", "缺少结束年月"),
    "until_now": ("2023年1月至今", "缺少结束年月"),
    "end_before_start": ("2024.06-2023.01", "结束早于开始"),
    "unreadable_end": ("2023.01-2024.13", "结束年月“2024.13”无法识别"),
    "unreadable_start": ("2023.13-2024.06", "不是有效的起止年月"),
    "words": ("两年", "不是有效的起止年月"),
    "date_cell": (dt.date(2024, 6, 30), "只有一个年月"),
    "datetime_cell": (dt.datetime(2024, 6, 30), "只有一个年月"),
    "number_cell_month": (2024.06, "只有一个年月"),
    "bool_cell": (True, "不是有效的起止年月"),
}


@pytest.mark.parametrize(("raw", "reason"), list(RANGE_BAD.values()), ids=list(RANGE_BAD))
def test_month_range_rejected(raw, reason):
    parsed = parse_month_range(raw)
    assert parsed.value is None
    assert reason in parsed.error


# ----------------------------------------------------------------------------------------------------- 是/否


@pytest.mark.parametrize(
    ("raw", "value"),
    [("是", True), ("否", False), (" 是\u3000", True), ("否\n", False)],
    ids=["yes", "no", "yes_with_fullwidth_space", "no_with_newline"],
)
def test_yesno_accepted(raw, value):
    assert parse_yesno(raw) == ok(value)


@pytest.mark.parametrize(
    "raw",
    ["是/否", "Y", "是的", "不是", True, 1],
    ids=["prompt_left_in", "letter", "word", "negation", "bool", "int"],
)
def test_yesno_rejected(raw):
    parsed = parse_yesno(raw)
    assert parsed.value is None
    assert "“是”或“否”" in parsed.error


# --------------------------------------------------------------------------------------------------- contact

CONTACT_OK = {
    "name_space_mobile": "张三 13812345678",
    "mobile_then_name": "13812345678张三",
    "no_separator": "张三13812345678",
    "slash": "张三/13812345678",
    "fullwidth_colon": "张三：13812345678",
    "comma": "张三,13812345678",
    "ideographic_comma": "张三、13812345678",
    "hyphen": "张三-13812345678",
    "grouped_with_hyphens": "张三 138-1234-5678",
    "grouped_with_spaces": "138 1234 5678 张三",
    "fullwidth_digits": "张三１３８１２３４５６７８",
    "country_code": "张三 +86 13812345678",
    "labelled": "联系人：张三 手机：13812345678",
    "int_cell_without_name": 13812345678,
    "float_cell_without_name": 13812345678.0,
}


@pytest.mark.parametrize("raw", list(CONTACT_OK.values()), ids=list(CONTACT_OK))
def test_contact_accepted(raw):
    assert parse_contact(raw) == ok("13812345678")


CONTACT_BAD = {
    "name_only": "张三",
    "landline": "张三 0351-1234567",
    "prefix_12_not_mobile": "张三 12812345678",
    "ten_digits": "张三 1381234567",
    "twelve_digit_run": "张三 138123456789",
    "twelve_digit_run_mobile_at_end": "张三 913812345678",
    "bool_cell": True,
    "date_cell": dt.date(2024, 1, 1),
}


@pytest.mark.parametrize("raw", list(CONTACT_BAD.values()), ids=list(CONTACT_BAD))
def test_contact_rejected(raw):
    assert parse_contact(raw) == Parsed(None, "未找到有效的11位手机号码")


# ------------------------------------------------------------------------------------------------------ USCC

GENERATED_FIRST17 = ["91140100MA0K12345", "91140900MA0LABCDE", "12140000405000000", "52141000MJY123456"]


@pytest.mark.parametrize("first17", GENERATED_FIRST17)
def test_uscc_generated_codes_are_valid(first17):
    code = first17 + uscc_check_char(first17)
    assert parse_uscc(code) == ok(code)


@pytest.mark.parametrize(
    "code",
    ["9144030071526726XG", "91330100716105852F", "914403001922038216", "91350100M000100Y43"],
    ids=["letter_check_char", "letter_check_char_2", "digit_check_char", "letters_in_body"],
)
def test_uscc_published_codes_are_valid(code):
    assert parse_uscc(code) == ok(code)


def test_uscc_normalised_lowercase_fullwidth_and_spaces():
    assert parse_uscc(" ９１３５０１００m０００ 100y43\u3000") == ok("91350100M000100Y43")


USCC_BAD = {
    "seventeen_chars": ("91350100M000100Y4", "应为18位，实际为17位"),
    "nineteen_chars": ("91350100M000100Y433", "应为18位，实际为19位"),
    "letter_I": ("91350100I000100Y43", "无效字符“I”"),
    "letter_O": ("91350100O000100Y43", "无效字符“O”"),
    "letter_Z": ("91350100Z000100Y43", "无效字符“Z”"),
    "letter_S": ("91350100S000100Y43", "无效字符“S”"),
    "letter_V": ("91350100V000100Y43", "无效字符“V”"),
    "wrong_check_char_names_expected": ("91350100M000100Y44", "第18位应为“3”"),
    "number_cell_lost_digits": (9.1140100123456e17, "只保留15位有效数字"),
    "short_number_cell": (91140100, "应为18位"),
    "bool_cell": (True, "不是有效的统一社会信用代码"),
}


@pytest.mark.parametrize(("raw", "reason"), list(USCC_BAD.values()), ids=list(USCC_BAD))
def test_uscc_rejected(raw, reason):
    parsed = parse_uscc(raw)
    assert parsed.value is None
    assert reason in parsed.error


# -------------------------------------------------------------------------------------------------- invoices

PAPER, DIGITAL = "01234567", "24112000000012345678"

INVOICES_OK = {
    "paper_8_digits": (PAPER, [PAPER]),
    "digital_20_digits": (DIGITAL, [DIGITAL]),
    "ideographic_comma": (f"{PAPER}、{DIGITAL}", [PAPER, DIGITAL]),
    "fullwidth_comma": (f"{PAPER}，{DIGITAL}", [PAPER, DIGITAL]),
    "comma": (f"{PAPER},{DIGITAL}", [PAPER, DIGITAL]),
    "fullwidth_semicolon": (f"{PAPER}；{DIGITAL}", [PAPER, DIGITAL]),
    "semicolon_and_space": (f"{PAPER}; {DIGITAL}", [PAPER, DIGITAL]),
    "newline_in_cell": (f"{PAPER}\n{DIGITAL}", [PAPER, DIGITAL]),
    "fullwidth_space": (f"{PAPER}\u3000{DIGITAL}", [PAPER, DIGITAL]),
    "trailing_separator": (f"{PAPER}、", [PAPER]),
    "fullwidth_digits": ("０１２３４５６７", [PAPER]),
    "number_cell_8_digits": (12345678.0, ["12345678"]),
    "int_cell_8_digits": (12345678, ["12345678"]),
}


@pytest.mark.parametrize(("raw", "numbers"), list(INVOICES_OK.values()), ids=list(INVOICES_OK))
def test_invoices_accepted(raw, numbers):
    assert split_invoices(raw) == [ok(n) for n in numbers]


INVOICES_BAD = {
    "seven_digits_text": ("1234567", "发票号码应为8位或20位数字"),
    "nine_digits_text": ("123456789", "发票号码应为8位或20位数字"),
    "prefix_text": ("No.12345678", "发票号码应为8位或20位数字"),
    "lost_leading_zero_number_cell": (1234567.0, "去掉了开头的0"),
    "twenty_digits_number_cell": (2.4112000000012346e19, "只保留15位有效数字"),
    "sixteen_digits_int_cell": (10**15, "只保留15位有效数字"),
    "nine_to_15_digits_number_cell": (123456789.0, "发票号码应为8位或20位数字"),
    "fraction_number_cell": (12345678.5, "发票号码应为8位或20位数字"),
    "bool_cell": (True, "发票号码应为8位或20位数字"),
}


@pytest.mark.parametrize(("raw", "reason"), list(INVOICES_BAD.values()), ids=list(INVOICES_BAD))
def test_invoices_rejected(raw, reason):
    [parsed] = split_invoices(raw)
    assert parsed.value is None
    assert reason in parsed.error


def test_invoices_lost_digits_tell_clerk_to_use_text_format():
    for raw in (1234567, 2.4112000000012346e19):
        assert "文本格式" in split_invoices(raw)[0].error


def test_invoices_one_bad_part_among_good_names_the_part():
    good, bad = split_invoices(f"{PAPER}、1234")
    assert good == ok(PAPER)
    assert bad.value is None
    assert "“1234”" in bad.error and "发票号码应为8位或20位数字" in bad.error


# ------------------------------------------------------------------------------------------------ 时间节点

NODE_OK = {
    "filing_day": ("截至申报之日", ("申报", None)),
    "filing_day_jiezhi": ("截止申报之日", ("申报", None)),
    "month_end": ("截至2024年12月底", ("月", Month(2024, 12))),
    "month_end_jiezhi_spaces": ("截止 2024 年 6 月底", ("月", Month(2024, 6))),
    "month_end_fullwidth": ("截至２０２５年０３月底", ("月", Month(2025, 3))),
    "completion_day": ("截至项目完工之日", ("完工", None)),
}


@pytest.mark.parametrize(("raw", "node"), list(NODE_OK.values()), ids=list(NODE_OK))
def test_node_accepted(raw, node):
    assert parse_node(raw) == ok(node)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2024年12月", "截至YYYY年M月底"),
        ("申报之日", "截至YYYY年M月底"),
        ("截至2024年12月", "截至YYYY年M月底"),
        ("截至2024年13月底", "月份不在1–12之间"),
        (dt.date(2024, 12, 31), "截至YYYY年M月底"),
    ],
    ids=["month_without_prefix", "without_jiezhi", "without_di", "month_13", "date_cell"],
)
def test_node_rejected(raw, reason):
    parsed = parse_node(raw)
    assert parsed.value is None
    assert reason in parsed.error


# ------------------------------------------------------------------------------------------- keys and lists


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("年产10万吨（一期）项目", "年产10万吨(一期)项目"),
        ("【智能】工厂", "[智能]工厂"),
        ("【智能】工厂", "(智能)工厂"),
        ("山西 某某 有限公司", "山西某某有限公司"),
        ("山西\u3000某某\xa0有限\u200b公司\n", "山西某某有限公司"),
        ("ＡＢＣ１２３", "ABC123"),
    ],
    ids=[
        "fullwidth_brackets",
        "lenticular_vs_square",
        "lenticular_vs_round",
        "spaces",
        "invisible_spaces",
        "fullwidth_letters",
    ],
)
def test_normalise_key_merges_typing_variants(a, b):
    assert normalise_key(a) == normalise_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("ABC项目", "abc项目"), ("一期项目", "二期项目"), ("项目(一期)", "项目一期")],
    ids=["latin_case_kept", "phase_numbers_differ", "brackets_not_dropped"],
)
def test_normalise_key_keeps_different_names_apart(a, b):
    assert normalise_key(a) != normalise_key(b)


DIRECTION = "制造业数字化转型供给提升—数字技术创新"


@pytest.mark.parametrize(
    "raw",
    [
        "制造业数字化转型供给提升-数字技术创新",
        "制造业数字化转型供给提升－数字技术创新",
        "制造业数字化转型供给提升–数字技术创新",
        "制造业数字化转型供给提升―数字技术创新",
        "制造业数字化转型供给提升‒数字技术创新",
        "制造业数字化转型供给提升——数字技术创新",
        "制造业数字化转型供给提升 — 数字技术创新",
        "制造业数字化转型供给提升一数字技术创新",
    ],
    ids=[
        "hyphen",
        "fullwidth_hyphen",
        "en_dash",
        "horizontal_bar",
        "figure_dash",
        "ime_double_em_dash",
        "spaced_em_dash",
        "ocr_yi_after_tisheng",
    ],
)
def test_normalise_choice_dash_variants(raw):
    assert normalise_choice(raw) == DIRECTION


def test_normalise_choice_ocr_yi_after_gaizao():
    assert normalise_choice("制造业数字化转型改造一数字化改造") == "制造业数字化转型改造—数字化改造"


@pytest.mark.parametrize(
    "raw",
    ["一级", "统一市场", "第一产业", "改造一"],
    ids=["dcmm_level", "word_tongyi", "ordinal", "yi_not_before_cjk"],
)
def test_normalise_choice_leaves_ordinary_yi(raw):
    assert normalise_choice(raw) == raw


def test_normalise_choice_nfkc_and_spaces():
    assert normalise_choice(" 贴　息 ") == "贴息"
    assert normalise_choice("ＤＣＭＭ") == "DCMM"


# ----------------------------------------------------------------------------------------------- text_value

TEXT_CASES = {
    "str_stripped": ("  主要内容 ", "主要内容"),
    "str_invisible_edges_stripped": ("\u3000内容\u200b", "内容"),
    "str_inner_newline_kept": ("第一行\n第二行", "第一行\n第二行"),
    "int": (1234, "1234"),
    "integral_float": (1234.0, "1234"),
    "float_plain_decimal": (1234.5, "1234.5"),
    "tiny_float_no_exponent": (1e-7, "0.0000001"),
    "huge_float_no_exponent": (1.2345e20, "123450000000000000000"),
    "date": (dt.date(2024, 6, 30), "2024-06-30"),
    "datetime_midnight": (dt.datetime(2024, 6, 30), "2024-06-30"),
    "datetime_with_time": (dt.datetime(2024, 6, 30, 8, 30), "2024-06-30 08:30:00"),
    "time": (dt.time(8, 30), "08:30:00"),
    "bool_true": (True, "TRUE"),
    "bool_false": (False, "FALSE"),
}


@pytest.mark.parametrize(("raw", "text"), list(TEXT_CASES.values()), ids=list(TEXT_CASES))
def test_text_value(raw, text):
    assert text_value(raw) == text


# ------------------------------------------------------------------------------------------------- columns


def test_parse_column_parses_each_distinct_value_once():
    calls = []

    def counting(raw, **kw):
        calls.append(raw)
        return parse_money(raw, **kw)

    values = ["500", "500", 500.0, 500.0, None, None, "约500", "约500"]
    assert parse_column(values, counting) == [parse_money(v) for v in values]
    assert calls == ["500", 500.0, None, "约500"]


def test_parse_column_keeps_bool_int_and_float_apart():
    assert parse_column([True, 1, 1.0], parse_money) == [Parsed(None, "不是有效的金额"), ok(10000), ok(10000)]


def test_parse_column_passes_keywords_and_parses_unhashable_values():
    assert parse_column(["-5", ["x"]], parse_money, allow_negative=True) == [
        ok(-50000),
        Parsed(None, "不是有效的金额"),
    ]


def test_parse_money_column_mixed_cells():
    units, errors = parse_money_column([500, 0.1 + 0.2, "1,234.5", None, "约500", True, -1.0])
    assert units == [5_000_000, 3000, 12_345_000, None, None, None, None]
    assert errors == [None, None, None, None, "不是有效的金额", "不是有效的金额", "为负数"]
