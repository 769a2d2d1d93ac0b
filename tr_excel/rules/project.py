"""The R rules: one project's own figures and eligibility (R17, across the batch, is in cross.py)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from tr_excel import columns as K
from tr_excel.batch import Batch
from tr_excel.rules.cells import not_under_parent
from tr_excel.rules.registry import check
from tr_excel.units import parse_unit
from tr_excel.values import MONEY_SCALE, Month, format_money, plain_money

TOTAL = "总投资"
COMPLETED = "已完成投资（按照发票金额核定）"
FINISHED = "项目是否完工（是/否）"
FINISH_MONTH = "完工时间"


def wan(units) -> str:
    """Money for a message: two decimals and the unit."""
    return f"{format_money(int(units))} 万元"


def month_text(month: Month) -> str:
    return f"{month.year}年{month.month}月"


def deadline_month(batch: Batch) -> Month:
    deadline = batch.policy.province_deadline
    return Month(deadline.year, deadline.month)


def add_months(month: Month, count: int) -> Month:
    index = month.year * 12 + month.month - 1 + count
    return Month(index // 12, index % 12 + 1)


def direction_of(policy, special, name):
    """The row's Direction when it is valid and belongs to the row's 专项; else None (F02 or R01 says why),
    so that the rules that depend on the direction do not report the same mistake again."""
    direction = policy.direction_by_name.get(name)
    return direction if direction is not None and direction.special == special else None


def _rows(frame, *names):
    """(row, values…) for every data row of a frame, as Python values (None where money is NA): from the lists
    the frame keeps, since the R rules read a few dozen rows of many sheets."""
    return zip(frame.values("_row"), *(frame.values(name) for name in names), strict=True)


@check("R01")
def direction_not_of_special(batch: Batch):
    policy = batch.policy
    for frame in batch.frames_of(K.SUMMARY) + batch.frames_of(K.PLEDGE):
        for row, special, name in _rows(frame, "申报专项", "申报方向"):
            direction = policy.direction_by_name.get(name)
            if direction is None or special not in policy.specials or direction.special == special:
                continue
            allowed = "、".join(d.name for d in policy.directions if d.special == special)
            yield frame.finding(
                "R01",
                f"申报方向“{name}”不属于申报专项“{special}”，{special}的方向为：{allowed}",
                row,
                "申报方向",
                value=name,
                expected=allowed,
            )


@check("R02")
def industry_not_of_class(batch: Batch):
    yield from not_under_parent(batch, "R02", K.SUMMARY, "行业分类", "所属行业", batch.policy.industries, "行业")


@check("R03")
def support_not_allowed(batch: Batch):
    support = batch.policy.support
    for frame in batch.frames_of(K.PLEDGE):
        for row, special, way in _rows(frame, "申报专项", "支持方式"):
            if special in support and way in batch.policy.choices("支持方式") and way not in support[special]:
                allowed = "或".join(support[special])
                yield frame.finding(
                    "R03",
                    f"{special}的支持方式应为{allowed}，填写的是“{way}”",
                    row,
                    "支持方式",
                    value=way,
                    expected=allowed,
                )


@check("R04")
def basis_investment_missing(batch: Batch):
    for frame in batch.frames_of(K.SUMMARY):
        # One column of flags per basis (three at most), looked up by row rather than sliced row by row.
        empty = {  # blank (read as 0) or 0; unknown (None) is neither
            basis: [amount == 0 for amount in frame.values(basis)]
            for basis in {d.basis for d in batch.policy.directions}
            if basis in frame.table.columns
        }
        for position, (row, special, name) in enumerate(_rows(frame, "申报专项", "申报方向")):
            direction = direction_of(batch.policy, special, name)
            if direction is None or direction.basis not in empty:
                continue
            if empty[direction.basis][position]:
                yield frame.finding(
                    "R04",
                    f"申报方向“{name}”须填写{direction.basis}（填表说明6），现为空或0",
                    row,
                    direction.basis,
                    value=plain_money(0),
                    expected="大于0",
                )


@check("R05")
def total_below_minimum(batch: Batch):
    policy = batch.policy
    minimum = int(policy.min_total_investment * MONEY_SCALE)
    for frame in batch.frames_of(K.SUMMARY):
        for row, special, name, total in _rows(frame, "申报专项", "申报方向", TOTAL):
            direction = direction_of(policy, special, name)
            if direction and direction.min_total and not pd.isna(total) and total < minimum:
                yield frame.finding(
                    "R05",
                    f"申报方向“{name}”的项目总投资须在{wan(minimum)}以上，填写的是{wan(total)}",
                    row,
                    TOTAL,
                    value=plain_money(total),
                    expected=f">={plain_money(minimum)}",
                )


@check("R06")
def part_above_total(batch: Batch):
    parts = ("固定资产投资", "设备投资（含软硬件投资）", "其他投资")
    for frame in batch.frames_of(K.SUMMARY):
        for row, total, *amounts in _rows(frame, TOTAL, *parts):
            for part, amount in zip(parts, amounts, strict=True):
                if not pd.isna(total) and not pd.isna(amount) and amount > total:
                    yield frame.finding(
                        "R06",
                        f"{part} {wan(amount)} 大于总投资 {wan(total)}",
                        row,
                        part,
                        value=plain_money(amount),
                        expected=f"<={plain_money(total)}",
                    )


@check("R07")
def sources_differ_from_total(batch: Batch):
    tolerance = int(batch.policy.money_tolerance * MONEY_SCALE)
    for frame in batch.frames_of(K.SUMMARY):
        for row, total, own, loan in _rows(frame, TOTAL, "自筹资金", "银行贷款"):
            if pd.isna(total) or pd.isna(own) or pd.isna(loan):
                continue
            if abs(own + loan - total) > tolerance:
                yield frame.finding(
                    "R07",
                    f"自筹资金 {wan(own)} 加银行贷款 {wan(loan)} 为 {wan(own + loan)}，总投资 {wan(total)}，"
                    f"相差 {wan(abs(own + loan - total))}",
                    row,
                    "自筹资金",
                    value=plain_money(own),
                    expected=plain_money(total - loan),
                )


@check("R08")
def completed_above_total(batch: Batch):
    for frame in batch.frames_of(K.SUMMARY):
        for row, total, done in _rows(frame, TOTAL, COMPLETED):
            if not pd.isna(total) and not pd.isna(done) and done > total:
                yield frame.finding(
                    "R08",
                    f"已完成投资 {wan(done)} 大于总投资 {wan(total)}",
                    row,
                    COMPLETED,
                    value=plain_money(done),
                    expected=f"<={plain_money(total)}",
                )


@check("R09")
def in_progress_below_ratio(batch: Batch):
    ratio = batch.policy.min_completed_ratio
    for frame in batch.frames_of(K.SUMMARY):
        for row, finished, total, done in _rows(frame, FINISHED, TOTAL, COMPLETED):
            if finished is not False or pd.isna(total) or pd.isna(done):
                continue
            if Decimal(int(done)) < ratio * Decimal(int(total)):
                share = Decimal(int(done)) / Decimal(int(total)) * 100 if total else Decimal(0)
                minimum = (ratio * Decimal(int(total))).to_integral_value()
                yield frame.finding(
                    "R09",
                    f"在建项目已完成投资 {wan(done)}，占总投资 {wan(total)} 的 {share:.2f}%，"
                    f"不得低于 {ratio * 100:.0f}%（{wan(minimum)}）",
                    row,
                    COMPLETED,
                    value=plain_money(done),
                    expected=f">={plain_money(int(minimum))}",
                )


@check("R10")
def finished_too_early(batch: Batch):
    earliest = Month(*batch.policy.earliest_completion)
    for frame in batch.frames_of(K.SUMMARY):
        for row, finished, when in _rows(frame, FINISHED, FINISH_MONTH):
            if finished is True and when is not None and when.month_key < earliest:
                yield frame.finding(
                    "R10",
                    f"完工项目的完工时间 {month_text(when.month_key)} 早于 {month_text(earliest)}，"
                    f"须为{earliest.year}年{earliest.month}月1日后完工的项目",
                    row,
                    FINISH_MONTH,
                    value=month_text(when.month_key),
                    expected=f">={month_text(earliest)}",
                )


@check("R11")
def finished_flag_contradicts_month(batch: Batch):
    deadline = batch.policy.province_deadline
    last_month = deadline_month(batch)
    for frame in batch.frames_of(K.SUMMARY):
        for row, finished, when in _rows(frame, FINISHED, FINISH_MONTH):
            if when is None or finished is None:
                continue
            after_deadline = (
                when.month_key > last_month
                if when.day is None
                else (when.year, when.month, when.day) > (deadline.year, deadline.month, deadline.day)
            )
            if finished is True and after_deadline:
                message = f"项目填“已完工”，但完工时间 {month_text(when.month_key)} 晚于省截止日期 {deadline:%Y-%m-%d}"
            elif finished is False and when.month_key < last_month:
                message = (
                    f"项目填“未完工”，但完工时间 {month_text(when.month_key)} 早于省截止日期所在月份"
                    f" {month_text(last_month)}"
                )
            else:
                continue
            yield frame.finding(
                "R11", message, row, FINISHED, value="是" if finished else "否", expected="否" if finished else "是"
            )


@check("R12")
def range_end_differs(batch: Batch):
    for frame in batch.frames_of(K.SUMMARY):
        for row, span, when in _rows(frame, "起止年月", FINISH_MONTH):
            if span is None or when is None:
                continue
            end = span[1].month_key
            if end != when.month_key:
                yield frame.finding(
                    "R12",
                    f"起止年月的结束年月 {month_text(end)} 与完工时间 {month_text(when.month_key)} 不一致",
                    row,
                    "起止年月",
                    value=month_text(end),
                    expected=month_text(when.month_key),
                )


@check("R13")
def requested_funds_invalid(batch: Batch):
    for frame in batch.frames_of(K.SUMMARY):
        for row, total, asked in _rows(frame, TOTAL, "申请专项资金"):
            if pd.isna(asked):
                continue
            if asked == 0:
                message, expected = "申请专项资金为0", ">0"
            elif not pd.isna(total) and asked > total:
                message, expected = f"申请专项资金 {wan(asked)} 大于总投资 {wan(total)}", f"<={plain_money(total)}"
            else:
                continue
            yield frame.finding("R13", message, row, "申请专项资金", value=plain_money(asked), expected=expected)


@check("R14")
def enterprise_ineligible(batch: Batch):
    limit = batch.policy.max_debt_ratio
    year = batch.policy.data_year
    for frame in batch.frames_of(K.ENTITY):
        checks = (
            ("是否独立法人（是/否）", lambda v: v is False, "不是独立法人，不得申报", "是"),
            ("是否列入失信名单（是/否）", lambda v: v is True, "列入失信名单，不得申报", "否"),
            (
                "{Y}年度是否发生较大及以上生产安全事故（是/否）",
                lambda v: v is True,
                f"{year}年度发生较大及以上生产安全事故，不得申报",
                "否",
            ),
        )
        for name, failed, message, expected in checks:
            for row, value in _rows(frame, name):
                if failed(value):
                    yield frame.finding(
                        "R14", message, row, name, value="是" if value else "否", expected=expected
                    )
        ratio_column = "{Y}年末资产负债率（%）"
        for row, ratio in _rows(frame, ratio_column):
            if ratio is not None and ratio > limit:
                yield frame.finding(
                    "R14",
                    f"{year}年末资产负债率 {ratio}% 超过 {limit}%，不得申报",
                    row,
                    ratio_column,
                    value=str(ratio),
                    expected=f"<={limit}",
                )


@check("R15")
def other_provincial_funds(batch: Batch):
    name = "项目是否获得其他省级财政资金支持（是/否）"
    for frame in batch.frames_of(K.PLEDGE):
        for row, value in _rows(frame, name):
            if value is True:
                yield frame.finding(
                    "R15", "项目已获得其他省级财政资金支持，不得申报", row, name, value="是", expected="否"
                )


_DCMM_LEVELS = {"一级": 1, "二级": 2, "三级": 3, "四级": 4, "五级": 5}
# The 申报主体 columns R16 reads.
_PREREQUISITE_COLUMNS = ("DCMM认证等级", "是否设立首席数据官（是/否）", "两化融合管理体系贯标证书有效期至")


@check("R16")
def prerequisite_unmet(batch: Batch):
    policy = batch.policy
    deadline = policy.province_deadline
    for frame in batch.frames_of(K.SUMMARY):
        entities = batch.frame(frame.book, K.ENTITY)
        if entities is None:
            continue
        first_row: dict[str, int] = {}  # enterprise key → its first row in 申报主体
        for position, ekey in enumerate(entities.values("_ekey")):
            first_row.setdefault(ekey, position)
        for row, ekey, special, name in _rows(frame, "_ekey", "申报专项", "申报方向"):
            direction = direction_of(policy, special, name)
            if direction is None or not direction.prerequisite or ekey not in first_row:
                continue
            entity = {name: entities.values(name)[first_row[ekey]] for name in _PREREQUISITE_COLUMNS}
            if direction.prerequisite == "dcmm":
                level = _DCMM_LEVELS.get(entity["DCMM认证等级"] or "", 0)
                problems = []
                if level < 2:
                    problems.append(f"DCMM认证等级为“{entity['DCMM认证等级'] or '空'}”，须为二级及以上")
                if entity["是否设立首席数据官（是/否）"] is not True:
                    problems.append("未设立首席数据官")
                if problems:
                    yield frame.finding(
                        "R16",
                        f"申报方向“{name}”要求 DCMM 二级及以上认证且由首席数据官担任项目负责人：" + "；".join(problems),
                        row,
                        "申报方向",
                        value=name,
                        expected="DCMM二级及以上且设立首席数据官",
                    )
            else:
                valid_until = entity["两化融合管理体系贯标证书有效期至"]
                if valid_until is None:
                    problem = "申报主体未填写两化融合管理体系贯标证书有效期"
                else:
                    # A certificate valid "to 2024年10月" is read as valid through the end of that month.
                    end = (valid_until.year, valid_until.month, valid_until.day or 31)
                    if end >= (deadline.year, deadline.month, deadline.day):
                        continue
                    problem = f"两化融合管理体系贯标证书有效期至 {month_text(valid_until.month_key)}，已过期"
                yield frame.finding(
                    "R16",
                    f"申报方向“{name}”要求两化融合管理体系贯标证书在 {deadline:%Y-%m-%d} 有效：{problem}",
                    row,
                    "申报方向",
                    value=name,
                    expected=f"证书有效期至{deadline:%Y-%m-%d}或以后",
                )


@check("R18")
def place_differs_from_unit(batch: Batch):
    for frame in batch.frames_of(K.SUMMARY):
        unit = parse_unit(frame.table.unit_line, batch.policy)
        if unit is None:
            continue
        for row, city, county, zone in _rows(frame, "所在市", "所在县", "所在开发区"):
            if unit.level == "city":
                if unit.city and city and city != unit.city:
                    yield frame.finding(
                        "R18",
                        f"所在市“{city}”与审核单位“{unit.text}”（{unit.city}）不符",
                        row,
                        "所在市",
                        value=city,
                        expected=unit.city,
                    )
                continue
            named = unit.division or ""
            places = [p for p in (county, zone) if p]
            if not places or any(named in p or p in named for p in places):
                continue
            yield frame.finding(
                "R18",
                f"所在县“{county or ''}”、所在开发区“{zone or ''}”都不是审核单位“{unit.text}”（{named}）",
                row,
                "所在县",
                value=county,
                expected=named,
            )


@check("R19")
def unfinished_in_finished_only_direction(batch: Batch):
    for frame in batch.frames_of(K.SUMMARY):
        for row, special, name, finished in _rows(frame, "申报专项", "申报方向", FINISHED):
            direction = direction_of(batch.policy, special, name)
            if direction and direction.finished_only and finished is False:
                yield frame.finding(
                    "R19",
                    f"申报方向“{name}”只支持已完工项目，本项目填写为未完工",
                    row,
                    FINISHED,
                    value="否",
                    expected="是",
                )


@check("R20")
def finish_too_far(batch: Batch):
    months = batch.policy.max_months_after_deadline
    latest = add_months(deadline_month(batch), months)
    for frame in batch.frames_of(K.SUMMARY):
        for row, finished, when in _rows(frame, FINISHED, FINISH_MONTH):
            if finished is False and when is not None and when.month_key > latest:
                yield frame.finding(
                    "R20",
                    f"在建项目完工时间 {month_text(when.month_key)} 晚于 {month_text(latest)}"
                    f"（承诺书承诺申报之日起{months // 12}年内完工）",
                    row,
                    FINISH_MONTH,
                    value=month_text(when.month_key),
                    expected=f"<={month_text(latest)}",
                )


@check("R21")
def interest_subsidy_without_loan(batch: Batch):
    for frame in batch.frames_of(K.PLEDGE):
        loans = batch.partner(frame, "银行贷款")
        if loans is None:
            continue
        for row, way, loan in zip(frame.values("_row"), frame.values("支持方式"), loans, strict=True):
            if way == "贴息" and loan == 0:
                yield frame.finding(
                    "R21",
                    "支持方式为贴息，但汇总表中银行贷款为空或0（贴息须有借款合同）",
                    row,
                    "支持方式",
                    value="贴息",
                    expected="银行贷款大于0，或支持方式为补助",
                )


@check("R22")
def year_investment_above_completed(batch: Batch):
    column = "项目{Y}年完成固定资产投资"
    for frame in batch.frames_of(K.PLEDGE):
        completed = batch.partner(frame, COMPLETED)
        if completed is None:
            continue
        for row, year_amount, done in zip(frame.values("_row"), frame.values(column), completed, strict=True):
            if year_amount is None or done is None or year_amount <= done:
                continue
            yield frame.finding(
                "R22",
                f"{frame.title(column)} {wan(year_amount)} 大于汇总表已完成投资 {wan(done)}",
                row,
                column,
                value=plain_money(year_amount),
                expected=f"<={plain_money(done)}",
            )
