"""Parse hand-typed cell values (money, percents, months, codes…) as workbook.md "Value formats" says."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any, Generic, NamedTuple, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Parsed(Generic[T]):
    """One cell read: the typed value (None when blank or wrong), why it is wrong, and a softer doubt."""

    value: T | None = None
    error: str | None = None
    warning: str | None = None


# What every parser returns for a blank cell, and only for one: "result is BLANK" tells a blank cell.
BLANK: Parsed[Any] = Parsed()

# Python's \s already covers U+3000 and NBSP; zero-width characters come with text pasted from web pages
# and Word, and are invisible in the cell, so they count as whitespace too.
_WS = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]+")
_EDGE_WS = re.compile(rf"^{_WS.pattern}|{_WS.pattern}$")


def is_blank(raw: object) -> bool:
    """True for an empty cell: None, '' or text of whitespace only (full-width and zero-width included)."""
    return raw is None or (isinstance(raw, str) and not _WS.sub("", raw))


def _nfkc(text: str) -> str:
    # NFKC turns full-width digits, letters and punctuation (１２３４．５, －, ％, （）) into ASCII.
    return unicodedata.normalize("NFKC", text)


def _squeeze(text: str) -> str:
    return _WS.sub("", _nfkc(text))


def _is_number(raw: object) -> bool:
    # bool is an int subclass, but a TRUE/FALSE cell is never a number a clerk meant to type.
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _integral(raw: object) -> int | None:
    """The int a number cell holds when it has no fraction (xlsx stores every number as a float)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    return None


# ---------------------------------------------------------------------------------------------------------
# Numbers: money, percent, count
# ---------------------------------------------------------------------------------------------------------

MONEY_SCALE = 10000  # money is an int count of 0.0001 万元, i.e. of yuan

# No real figure reaches 10^15 (万元, %, persons): such a number is an ID or invoice number in the wrong
# column. The bound also keeps every Decimal below within the default 28-digit context.
_TOO_BIG = 10**15
_Q4 = Decimal("0.0001")
_HUNDRED = Decimal(100)

_SIGN = r"(?P<sign>[-+\u2212])?\s*"  # NFKC maps － to -, but not the minus sign U+2212
_PLAIN = r"\d{1,15}(?:\.\d*)?|\.\d+"
_GROUPED = r"\d{1,3}(?:,\d{3}){1,4}(?:\.\d*)?"  # strict thousands grouping: "12,34" is not a number
_MONEY_TEXT = re.compile(rf"{_SIGN}(?P<num>{_GROUPED}|{_PLAIN})\s*(?:万元|万|\(万元\))?", re.ASCII)
_YUAN_TEXT = re.compile(rf"{_SIGN}(?:{_GROUPED}|{_PLAIN})\s*元", re.ASCII)
_PERCENT_TEXT = re.compile(rf"{_SIGN}(?P<num>{_PLAIN})\s*%?", re.ASCII)
_COUNT_TEXT = re.compile(rf"{_SIGN}(?P<num>{_GROUPED}|{_PLAIN})\s*[人个]?", re.ASCII)
# How clerks put two figures in one cell: "500/600", "500 600", "500-600", "500万元、600万元".
_BETWEEN_TWO = re.compile(r"\s*[/、;~|\-\u2013\u2014至到和或]\s*|\s+")

_NOT_MONEY = "不是有效的金额"
_NEGATIVE = "为负数"


def _cell_decimal(raw: int | float) -> Decimal | None:
    """A number cell as an exact Decimal; a float goes through repr so 0.1 stays 0.1, not its binary value."""
    if isinstance(raw, float) and not math.isfinite(raw):
        return None
    if abs(raw) >= _TOO_BIG:
        return None
    return Decimal(raw) if isinstance(raw, int) else Decimal(repr(raw))


def _text_decimal(text: str, pattern: re.Pattern[str]) -> Decimal | None:
    """Text that is exactly one (signed) number with the suffixes the pattern allows."""
    match = pattern.fullmatch(_EDGE_WS.sub("", _nfkc(text)))
    if match is None:
        return None
    value = Decimal(match["num"].replace(",", ""))
    return -value if match["sign"] in ("-", "\u2212") else value


def _tidy(value: Decimal) -> Decimal:
    """62.500 → 62.5 and 1E+2 → 100, so values print as a clerk wrote them."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value


def parse_money(raw: object, allow_negative: bool = False) -> Parsed[int]:
    """A 万元 amount as an exact int of MONEY_SCALE units; negative only if allow_negative (营业收入增量)."""
    if is_blank(raw):
        return BLANK
    if _is_number(raw):
        value = _cell_decimal(raw)
        if value is None:
            return Parsed(error=_NOT_MONEY)
        # A formula leaves binary noise (1234.5000000001), far below the 4th decimal (1 yuan): round it away,
        # half-even so that a genuine 5th decimal does not bias sums upwards.
        value = value.quantize(_Q4, rounding=ROUND_HALF_EVEN)
    elif isinstance(raw, str):
        value = _text_decimal(raw, _MONEY_TEXT)
        if value is None:
            text = _EDGE_WS.sub("", _nfkc(raw))
            if _YUAN_TEXT.fullmatch(text):
                return Parsed(error="单位应为万元，不是元")
            parts = [part for part in _BETWEEN_TWO.split(text) if part]
            if len(parts) > 1 and all(_MONEY_TEXT.fullmatch(part) for part in parts):
                return Parsed(error="包含多个数字，只能填写一个金额")
            return Parsed(error=_NOT_MONEY)
        if value != value.quantize(_Q4):
            # Typed text with 5+ decimals would be rounded without the clerk knowing: make them fix it.
            return Parsed(error="小数超过4位（万元最多保留4位小数，即精确到元）")
    else:
        return Parsed(error=_NOT_MONEY)
    units = int(value * MONEY_SCALE)
    if units < 0 and not allow_negative:
        return Parsed(error=_NEGATIVE)
    return Parsed(units)


def _to_decimal(units: int) -> Decimal:
    return Decimal(units).scaleb(-4)


def format_money(units: int) -> str:
    """Two decimals, rounded half-up as a clerk rounds by hand: 12345000 → "1234.50"."""
    value = _to_decimal(units).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value + 0:f}"  # + 0 turns -0.00 into 0.00


def plain_money(units: int) -> str:
    """The exact amount without trailing zeros: 12345000 → "1234.5", 0 → "0", -32500 → "-3.25"."""
    return f"{_to_decimal(units).normalize():f}"


def parse_percent(raw: object) -> Parsed[Decimal]:
    """A percentage as a Decimal of percent points: 62.5, "62.5%", "62.5％", or a %-formatted cell 0.625."""
    if is_blank(raw):
        return BLANK
    if _is_number(raw):
        value = _cell_decimal(raw)
        # A cell formatted as % stores the fraction (62.5% is 0.625); only text is read literally.
        if value is not None and 0 <= value <= 1:
            value *= _HUNDRED
    elif isinstance(raw, str):
        value = _text_decimal(raw, _PERCENT_TEXT)
    else:
        value = None
    if value is None:
        return Parsed(error="不是有效的百分比")
    if value < 0:
        return Parsed(error=_NEGATIVE)
    return Parsed(_tidy(value))


def parse_count(raw: object) -> Parsed[Decimal]:
    """A non-negative count (persons, 环节); a fraction is kept but warned about (F10)."""
    if is_blank(raw):
        return BLANK
    if _is_number(raw):
        value = _cell_decimal(raw)
    elif isinstance(raw, str):
        value = _text_decimal(raw, _COUNT_TEXT)
    else:
        value = None
    if value is None:
        return Parsed(error="不是有效的数量")
    if value < 0:
        return Parsed(error=_NEGATIVE)
    value = _tidy(value)
    return Parsed(value, warning=None if value == value.to_integral_value() else "不是整数")


# ---------------------------------------------------------------------------------------------------------
# Months and dates
# ---------------------------------------------------------------------------------------------------------


class Month(NamedTuple):
    """A calendar month; tuples order chronologically."""

    year: int
    month: int


class When(NamedTuple):
    """A month, or a date when the cell gave a day; compare by month_key when only one side has a day."""

    year: int
    month: int
    day: int | None = None

    @property
    def month_key(self) -> Month:
        return Month(self.year, self.month)


_YEARS = range(1900, 2101)
# Excel's 1900 date system counts days from 1899-12-30 (the epoch absorbs Lotus's phantom 1900-02-29, so
# every serial after 60 is right). calamine converts date-formatted cells itself, using the workbook's own
# date system; a bare number only reaches us when the cell lost its date format, and then the 1904 system
# (old Mac workbooks) cannot be told apart, so we assume the 1900 one. 20000–80000 is 1954-10-03 to
# 2119-01-10, well clear of YYYYMM (≥ 190001) and of a year alone.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SERIALS = range(20000, 80001)

_WHEN_TEXT = (
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})日)?", re.ASCII),
    re.compile(r"(?P<y>\d{4})(?P<sep>[./-])(?P<m>\d{1,2})(?:(?P=sep)(?P<d>\d{1,2}))?", re.ASCII),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})?", re.ASCII),
)

_NOT_WHEN = "不是有效的年月（应如“2024年6月”或“2024-06-30”）"
_BAD_MONTH = "中的月份不在1–12之间"


def _when(year: int, month: int, day: int | None) -> Parsed[When]:
    if year not in _YEARS:
        return Parsed(error=_NOT_WHEN)
    if not 1 <= month <= 12:
        return Parsed(error=_BAD_MONTH)
    if day is not None:
        try:
            dt.date(year, month, day)
        except ValueError:
            return Parsed(error="不是存在的日期")
    return Parsed(When(year, month, day))


def _when_from_int(number: int) -> Parsed[When]:
    if number in _SERIALS:
        date = _EXCEL_EPOCH + dt.timedelta(days=number)
        return Parsed(When(date.year, date.month, date.day))
    if number in _YEARS:
        return Parsed(error="只有年份，缺少月份")
    digits = str(number)
    if len(digits) == 6:
        return _when(int(digits[:4]), int(digits[4:]), None)
    if len(digits) == 8:
        return _when(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    return Parsed(error=_NOT_WHEN)


def _when_from_float(number: float) -> Parsed[When]:
    # Excel turned typed "2024.06" into the number 2024.06: its shortest repr gives back the digits typed,
    # except that a trailing zero is gone, so 2024.10 arrives as 2024.1 (rule F11).
    year, _, fraction = repr(number).partition(".")
    if not (year.isdigit() and fraction.isdigit() and len(fraction) <= 2):
        return Parsed(error=_NOT_WHEN)
    parsed = _when(int(year), int(fraction), None)
    if parsed.value is not None and fraction == "1":
        return Parsed(
            parsed.value,
            warning=f"按{year}年1月读取，但可能是{year}年10月：Excel 会去掉末尾的0，"
            f"请以文本填写，如“{year}年10月”",
        )
    return parsed


def parse_when(raw: object) -> Parsed[When]:
    """A month or a date: a date cell, text such as 2024年6月 / 2024.06 / 202406 / 2024-06-30, or a number."""
    if is_blank(raw):
        return BLANK
    if isinstance(raw, dt.date):  # datetime is a date subclass; the time of day is irrelevant here
        return Parsed(When(raw.year, raw.month, raw.day))
    if _is_number(raw):
        if isinstance(raw, float) and not math.isfinite(raw):
            return Parsed(error=_NOT_WHEN)
        whole = _integral(raw)
        return _when_from_int(whole) if whole is not None else _when_from_float(raw)
    if not isinstance(raw, str):
        return Parsed(error=_NOT_WHEN)
    text = _squeeze(raw)
    for pattern in _WHEN_TEXT:
        match = pattern.fullmatch(text)
        if match:
            return _when(int(match["y"]), int(match["m"]), int(match["d"]) if match["d"] else None)
    if text.isascii() and text.isdigit() and int(text) in _YEARS:
        return Parsed(error="只有年份，缺少月份")
    return Parsed(error=_NOT_WHEN)


# "——" is what a Chinese IME types for a dash, so a joiner may be two dash characters.
_JOINER = re.compile(r"[-\u2010-\u2015\u2212~]{1,2}|至|到")
_NO_END = ("", "今", "现在")  # "2023.01至今": the project has no end month yet


def parse_month_range(raw: object) -> Parsed[tuple[When, When]]:
    """起止年月: two months joined by -, —, －, –, ~, ～, 至 or 到, the end not before the start."""
    if is_blank(raw):
        return BLANK
    if not isinstance(raw, str):
        # A date or number cell can only hold one month.
        return Parsed(error="只有一个年月" if parse_when(raw).value else "不是有效的起止年月")
    text = _squeeze(raw)
    # "-" is both the joiner and the separator inside 2023-01, so try every joiner position and keep the
    # split whose two halves are both months: "2023-01-2024-06" splits only after 2023-01.
    splits = [
        (text[: m.start()], text[m.end() :])
        for i in range(len(text))
        if (m := _JOINER.match(text, i)) and m.start() > 0
    ]
    found = [(parse_when(a), parse_when(b)) for a, b in splits]
    ranges = [(a.value, b.value) for a, b in found if a.value and b.value]
    if ranges:  # two splits that both read as months would need a half starting mid-year: none seen
        start, end = ranges[0]
        if end.month_key < start.month_key:
            return Parsed(error="结束早于开始")
        return Parsed((start, end))
    if parse_when(text).value:
        return Parsed(error="缺少结束年月")
    # Report against the longest start that reads: "2023-01-01-2024-06-31" blames "2024-06-31".
    for (_, tail), (start, _) in reversed(list(zip(splits, found, strict=True))):
        if start.value:
            return Parsed(error="缺少结束年月" if tail in _NO_END else f"中的结束年月“{tail}”无法识别")
    return Parsed(error="不是有效的起止年月（应如“2023.01-2024.06”）")


# ---------------------------------------------------------------------------------------------------------
# Yes/no, contact, USCC, invoices, 时间节点
# ---------------------------------------------------------------------------------------------------------


def parse_yesno(raw: object) -> Parsed[bool]:
    """是 or 否, nothing else (a TRUE/FALSE cell is not accepted: the notice asks for the word)."""
    if is_blank(raw):
        return BLANK
    text = _squeeze(raw) if isinstance(raw, str) else ""
    if text in ("是", "否"):
        return Parsed(text == "是")
    return Parsed(error="应填“是”或“否”")


# Mainland mobile numbers are 1[3-9] + 9 digits, often grouped 3-4-4 with spaces or hyphens, sometimes
# with +86. The digit look-arounds reject a longer run (an ID or landline) that merely contains 11 digits.
_NO_MOBILE = "未找到有效的11位手机号码"
_MOBILE = re.compile(r"(?<![0-9])(?:\+86[-\s]?)?(1[3-9][0-9])[-\s]?([0-9]{4})[-\s]?([0-9]{4})(?![0-9])")


def parse_contact(raw: object) -> Parsed[str]:
    """项目联系人及手机: the 11-digit mobile number anywhere in the cell, the name around it being free."""
    if is_blank(raw):
        return BLANK
    number = _integral(raw)
    if number is not None:
        text = str(number)  # a number cell holding just the mobile number
    elif isinstance(raw, str):
        text = _nfkc(raw)
    else:
        return Parsed(error=_NO_MOBILE)
    match = _MOBILE.search(text)
    if match is None:
        return Parsed(error=_NO_MOBILE)
    return Parsed("".join(match.groups()))


# GB 32100-2015: 31 characters, without I, O, Z, S, V (easily confused with 1, 0, 2, 5, U).
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_LOST_DIGITS = (
    "超过15位，Excel 存为数字时只保留15位有效数字，后面的数字已丢失；请把该列设为文本格式后重新填写"
)


def uscc_check_char(first17: str) -> str:
    """The 18th (check) character of a unified social credit code for its first 17 characters."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def parse_uscc(raw: object) -> Parsed[str]:
    """统一社会信用代码: 18 characters of the GB 32100-2015 alphabet with a valid check character."""
    if is_blank(raw):
        return BLANK
    number = _integral(raw)
    if number is not None and number >= _TOO_BIG:
        return Parsed(error=_LOST_DIGITS)
    if number is not None:
        code = str(number)
    elif isinstance(raw, str):
        code = _squeeze(raw).upper()
    else:
        return Parsed(error="不是有效的统一社会信用代码")
    if len(code) != 18:
        return Parsed(error=f"应为18位，实际为{len(code)}位")
    bad = next((c for c in code if c not in _USCC_ALPHABET), None)
    if bad is not None:
        return Parsed(error=f"含有无效字符“{bad}”（只能是数字和除I、O、Z、S、V以外的大写字母）")
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return Parsed(error=f"校验位错误：第18位应为“{expected}”，实际为“{code[17]}”")
    return Parsed(code)


_INVOICE_SPLIT = re.compile(r"[、,;\s\u200b-\u200d\u2060\ufeff]+")  # after NFKC ，；are , ;
_INVOICE = re.compile(r"[0-9]{8}|[0-9]{20}")
_BAD_INVOICE = "发票号码应为8位或20位数字"


def split_invoices(raw: object) -> list[Parsed[str]]:
    """对应发票编号: each invoice number of the cell, 8 digits (paper VAT invoice) or 20 (全电发票)."""
    if is_blank(raw):
        return []
    if isinstance(raw, str):
        parts = [p for p in _INVOICE_SPLIT.split(_nfkc(raw)) if p]
        many = len(parts) > 1
        return [
            Parsed(part)
            if _INVOICE.fullmatch(part)
            else Parsed(error=f"中的“{part}”有误：{_BAD_INVOICE}" if many else _BAD_INVOICE)
            for part in parts
        ]
    number = _integral(raw)
    if number is None or number < 0:
        return [Parsed(error=_BAD_INVOICE)]
    digits = str(number)
    if len(digits) == 8:
        return [Parsed(digits)]
    if len(digits) < 8:
        lost = f"只有{len(digits)}位：Excel 把它存为数字，去掉了开头的0；请把该列设为文本格式后重新填写"
        return [Parsed(error=lost)]
    if 16 <= len(digits) <= 20:
        return [Parsed(error=_LOST_DIGITS)]
    return [Parsed(error=_BAD_INVOICE)]


_NODE = re.compile(
    r"截[至止](?:(?P<filed>申报之日)|(?P<y>\d{4})年(?P<m>\d{1,2})月底|(?P<done>项目完工之日))",
    re.ASCII,
)


def parse_node(raw: object) -> Parsed[tuple[str, Month | None]]:
    """建设计划 时间节点: ("申报", None), ("月", Month) or ("完工", None)."""
    if is_blank(raw):
        return BLANK
    match = _NODE.fullmatch(_squeeze(raw)) if isinstance(raw, str) else None
    if match is None:
        return Parsed(error="应为“截至申报之日”“截至YYYY年M月底”或“截至项目完工之日”")
    if match["filed"]:
        return Parsed(("申报", None))
    if match["done"]:
        return Parsed(("完工", None))
    month = int(match["m"])
    if not 1 <= month <= 12:
        return Parsed(error=_BAD_MONTH)
    return Parsed(("月", Month(int(match["y"]), month)))


# ---------------------------------------------------------------------------------------------------------
# Keys, list values, free text
# ---------------------------------------------------------------------------------------------------------

_BRACKETS = str.maketrans({"【": "(", "】": ")", "[": "(", "]": ")"})  # NFKC already maps （）［］


def normalise_key(text: str) -> str:
    """A name as a join key across sheets: NFKC, no whitespace, all bracket styles alike; case is kept."""
    return _squeeze(text).translate(_BRACKETS)


# Dash variants left after NFKC (which already maps － and ﹣ to -): hyphen, figure dash, en dash, em dash,
# horizontal bar, minus sign. A run such as the IME's "——" is one dash.
_DASHES = re.compile(r"[-\u2010\u2012-\u2015\u2212]+")
# The notice's PDF text has "供给提升一数字技术创新" and "转型改造一数字化改造": OCR read the em dash as 一.
# 一 is also an ordinary character (一级, 统一, 一期), so it is replaced only where the notice's directions
# put their dash: right after 提升 or 改造 and before another Chinese character.
_OCR_DASH = re.compile(r"(?<=提升|改造)一(?=[\u3400-\u4dbf\u4e00-\u9fff])")


def normalise_choice(text: str) -> str:
    """A list value for comparison with the notice's wording: NFKC, no whitespace, every dash as "—"."""
    return _OCR_DASH.sub("—", _DASHES.sub("—", _squeeze(text)))


def text_value(raw: object) -> str | None:
    """A cell as text: stripped str, plain-decimal numbers (never 1.2345e+03), ISO dates, TRUE/FALSE."""
    if is_blank(raw):
        return None
    if isinstance(raw, str):
        return _EDGE_WS.sub("", raw)
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float):
        if not math.isfinite(raw):
            return repr(raw)
        return str(int(raw)) if raw.is_integer() else f"{Decimal(repr(raw)):f}"
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat() if raw.time() == dt.time() else raw.isoformat(sep=" ")
    if isinstance(raw, dt.date | dt.time):
        return raw.isoformat()
    return str(raw)


# ---------------------------------------------------------------------------------------------------------
# Whole columns
# ---------------------------------------------------------------------------------------------------------


def parse_column(values: list[object], parser: Callable[..., T], **kw: Any) -> list[T]:
    """parser applied to every value, each distinct value parsed once (results are shared: do not mutate).

    True == 1 == 1.0, yet they are different cells: when a column mixes those types, the type is part of the
    key. The loops over the cells are in C.
    """
    mixed = len(set(map(type, values)) & _EQUAL_NUMBERS) > 1
    keys = list(zip(map(type, values), values, strict=True)) if mixed else values
    try:
        results = dict.fromkeys(keys)
    except TypeError:  # an unhashable value: every cell on its own
        return [parser(raw, **kw) for raw in values]
    if keys is values:
        for key in results:
            results[key] = parser(key, **kw)
    else:
        for key in results:
            results[key] = parser(key[1], **kw)
    return list(map(results.__getitem__, keys))


# Types whose values can be equal across types (True == 1 == 1.0 == Decimal(1)).
_EQUAL_NUMBERS = frozenset({bool, int, float, Decimal})


# Below 2**43 units a float's rounding error is under 0.002 unit, so a product within 0.25 of an integer
# rounds to that integer in both float and Decimal arithmetic: the fast path gives parse_money's result.
_FAST_LIMIT = 2.0**43


def _fast_units(raw: object, allow_negative: bool) -> int | None:
    if type(raw) is int:  # exactly int: bool is a subclass
        units = raw * MONEY_SCALE
    elif type(raw) is float and abs(scaled := raw * MONEY_SCALE) < _FAST_LIMIT:  # False for nan
        units = round(scaled)
        if abs(scaled - units) >= 0.25:
            return None
    else:
        return None
    return units if abs(raw) < _TOO_BIG and (units >= 0 or allow_negative) else None


def parse_money_column(
    values: list[object], allow_negative: bool = False
) -> tuple[list[int | None], list[str | None]]:
    """parse_money over a column: (units, errors), None where blank or wrong; number cells skip Decimal."""
    units = [_fast_units(raw, allow_negative) for raw in values]
    errors: list[str | None] = [None] * len(values)
    slow = [i for i, value in enumerate(units) if value is None]
    parsed = parse_column([values[i] for i in slow], parse_money, allow_negative=allow_negative)
    for i, result in zip(slow, parsed, strict=True):
        units[i] = result.value
        errors[i] = result.error
    return units, errors
