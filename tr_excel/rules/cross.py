"""The X rules and R17: across the sheets of a file and across the files of a batch.

Each rule stacks the rows of every file's sheet into one DataFrame (batch.stack) and works on whole columns,
so its cost does not grow with the number of files; only the rows that fail are visited one by one, to build
their findings. Sheets of one file join on (_book, _ekey, _pkey), the normalised project key within that file.
Rows whose enterprise or project is blank are F01's business and never join. A summary input holds only a
汇总表, so the rules that need another sheet leave its rows alone.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable

import numpy as np
import pandas as pd

from tr_excel import columns as K
from tr_excel import values as V
from tr_excel.batch import PID, Batch, first_rows, keyed, records, shared, unnest
from tr_excel.reconcile import BASIS_CATEGORIES, basis_total, item_totals
from tr_excel.rules.project import month_text, wan
from tr_excel.rules.registry import check
from tr_excel.tables import Frame
from tr_excel.values import MONEY_SCALE, plain_money

TOTAL = "总投资"
COMPLETED = "已完成投资（按照发票金额核定）"
FINISHED = "项目是否完工（是/否）"
FINISH_MONTH = "完工时间"
DIRECTION = "申报方向"
ESTIMATE = "概算投资额"
DONE = "已完成投资额（按照发票金额核定）"
REST = "未完成投资额"
INVOICE_DATE = "开票日期"
INVOICES = "对应发票编号"
PROMISED = "承诺完成时间（开票时间）"
NODE = "时间节点"
CUMULATIVE = "累计完成投资额（发票金额）"
LINK = "智能制造环节名称"
CORE_FLAG = "是否核心生产环节（是/否）"
SCENE = "典型场景名称"
CORE_COUNT = "项目建设完成智能制造核心生产环节数量"
PLEDGE_FINISH = "项目完工时间"


def _tolerance(batch: Batch) -> int:
    return int(batch.policy.money_tolerance * MONEY_SCALE)


def _books(batch: Batch, kind: K.SheetKind) -> set[int]:
    """The workbooks that have a sheet of this kind."""
    return {frame.book.index for frame in batch.frames_of(kind)}


def _keys(df: pd.DataFrame, names: list[str]) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(df[names])


def _true(mask: pd.Series) -> pd.Series:
    """A nullable comparison as plain booleans: unknown (NA) is not a failure."""
    return mask.fillna(False).astype(bool)


def _join(batch: Batch, data: pd.DataFrame, kind: K.SheetKind, columns: Iterable[str]) -> pd.DataFrame:
    """data with the columns of the first row of the same project in the same file's sheet of kind, named
    "<sheet>.<column>", and "<sheet>._row" (all NA where there is no such row)."""
    columns = list(columns)
    _, other = batch.stack(kind, columns)
    other = first_rows(other)[["_row", *columns]]
    return data.join(other.add_prefix(f"{kind.name}."), on=PID)


def _title(batch: Batch, kind: K.SheetKind, name: str) -> str:
    return kind.column(name).title(batch.policy.data_year)


def _place(frame: Frame, row: int) -> str:
    return f"{frame.book.file} › {frame.table.sheet} › 第{row}行"


def _per_distinct(values: pd.Series, compute, missing: int) -> np.ndarray:
    """compute of every value as an int array, missing for NA: a column of 180,000 dates holds a few hundred
    distinct ones, and each is looked at once."""
    codes, distinct = pd.factorize(values)
    return np.array([compute(value) for value in distinct] + [missing])[codes]  # code -1 (NA) takes missing


def _month_number(values: pd.Series, of_start: bool = False) -> pd.Series:
    """Months (When) as consecutive numbers, for comparing whole columns; NA where blank or not joined. With
    of_start, the values are spans (起止年月) and the months their starts."""

    def number(value) -> int:
        when = (value[0] if isinstance(value, tuple) else None) if of_start else value
        return when.year * 12 + when.month if isinstance(when, V.When) else -1

    months = _per_distinct(values, number, -1)
    return pd.Series(pd.arrays.IntegerArray(months, months < 0), index=values.index)


def _day(values: pd.Series) -> pd.Series:
    """The day of each date (When), 0 where the cell gave a month only, is blank or not joined."""
    days = _per_distinct(values, lambda when: when.day or 0 if isinstance(when, V.When) else 0, 0)
    return pd.Series(days, index=values.index)


def _when_text(when: V.When) -> str:
    return f"{when.year}-{when.month:02d}-{when.day:02d}" if when.day else month_text(when.month_key)


def _in_order(keys: Iterable, items: Iterable) -> dict[object, list]:
    """The items grouped by their keys, groups and items in order of first appearance (as pandas' groupby with
    sort=False gives them, without its cost per group on the few rows a rule reports)."""
    groups: dict[object, list] = {}
    for key, item in zip(keys, items, strict=True):
        groups.setdefault(key, []).append(item)
    return groups


def _failing(frames: list[Frame], data: pd.DataFrame, mask: pd.Series):
    """(frame, record) for every row of data selected by mask."""
    for record in records(data[mask]):
        yield frames[record["_frame"]], record


def _compare(frames, data, mask, rule: str, column: str, theirs: str, labels: tuple[str, str]):
    """A finding at column of each selected row: "<first> a 万元，<second> b 万元，相差 …", a (data[column]) being
    the value found and b (data[theirs]) the value expected."""
    first, second = labels
    for frame, record in _failing(frames, data, mask):
        a, b = int(record[column]), int(record[theirs])
        yield frame.finding(
            rule,
            f"{first} {wan(a)}，{second} {wan(b)}，相差 {wan(abs(a - b))}",
            int(record["_row"]),
            column,
            value=plain_money(a),
            expected=plain_money(b),
        )


def _differ(data: pd.DataFrame, ours: str, theirs: str, tolerance: int) -> pd.Series:
    """Two money columns that differ by more than the tolerance (unknown on either side is not a difference)."""
    return _true((data[ours] - data[theirs]).abs() > tolerance)


# ---------------------------------------------------------------------------------------------------------
# Pairing: every project in 汇总表, 承诺书 and 申报主体, and nothing else
# ---------------------------------------------------------------------------------------------------------


def _unpaired(rule: str, frames: list[Frame], data: pd.DataFrame, other: pd.DataFrame, books: set, message: str):
    """A finding at every keyed row of data, in a file of books, whose project has no row in other."""
    mask = keyed(data) & data["_book"].isin(books) & ~data[PID].isin(other[PID])
    for frame, record in _failing(frames, data, mask):
        yield frame.finding(
            rule,
            f"{frame.table.sheet}中的项目“{record['_project']}”（{record['_enterprise']}）{message}",
            int(record["_row"]),
            "项目名称",
            value=record["_project"],
        )


@check("X01")
def pledge_and_summary_unpaired(batch: Batch):
    hint = "：请核对两表的企业名称和项目名称是否一致"
    summaries, summary = batch.stack(K.SUMMARY)
    pledges, pledge = batch.stack(K.PLEDGE)
    both = _books(batch, K.SUMMARY) & _books(batch, K.PLEDGE)  # a missing sheet is S02's, once
    yield from _unpaired("X01", summaries, summary, pledge, both, f"在承诺书中没有对应的行{hint}，或补填承诺书")
    yield from _unpaired("X01", pledges, pledge, summary, both, f"不在汇总表中{hint}")


@check("X12")
def orphan_rows(batch: Batch):
    _, summary = batch.stack(K.SUMMARY)
    with_summary = _books(batch, K.SUMMARY)
    for kind in (K.INVESTMENT, K.PLAN, K.SMART, K.INSPECTION):
        frames, data = batch.stack(kind)
        message = "不在汇总表中：请核对企业名称和项目名称是否与汇总表一致"
        yield from _unpaired("X12", frames, data, summary, with_summary, message)


@check("X04")
def enterprise_not_declared(batch: Batch):
    frames, summary = batch.stack(K.SUMMARY)
    _, entities = batch.stack(K.ENTITY)
    enterprise = ["_book", "_ekey"]
    declared = _keys(summary, enterprise).isin(_keys(entities, enterprise))
    mask = keyed(summary) & summary["_book"].isin(_books(batch, K.ENTITY)) & ~declared
    for frame, record in _failing(frames, summary, mask):
        yield frame.finding(
            "X04",
            f"企业“{record['_enterprise']}”不在申报主体表中：请在申报主体表补填该企业，或核对企业名称是否一致",
            int(record["_row"]),
            "企业名称",
            value=record["_enterprise"],
        )


# ---------------------------------------------------------------------------------------------------------
# 承诺书 against 汇总表
# ---------------------------------------------------------------------------------------------------------

# 承诺书 column → 汇总表 column. The basis columns are compared only for the direction that fills them
# (承诺书 备注1–3), keyed here by that basis.
_PLEDGE_MONEY = {"项目总投资": TOTAL, "项目已完成投资（按照发票金额核定）": COMPLETED}
_PLEDGE_BASIS = {
    "固定资产投资": "项目固定资产投资",
    "设备投资（含软硬件投资）": "项目设备投资（含软硬件投资）",
    "其他投资": "项目其他投资",
}


@check("X02")
def pledge_differs_from_summary(batch: Batch):
    tolerance = _tolerance(batch)
    policy = batch.policy
    directions = policy.direction_by_name
    columns = ["申报专项", DIRECTION, *_PLEDGE_MONEY, PLEDGE_FINISH, *_PLEDGE_BASIS.values()]
    frames, pledge = batch.stack(K.PLEDGE, columns, unread_of=[PLEDGE_FINISH])
    pledge = _join(
        batch, pledge, K.SUMMARY, ["申报专项", DIRECTION, *_PLEDGE_MONEY.values(), FINISH_MONTH, *_PLEDGE_BASIS]
    )
    paired = pledge["汇总表._row"].notna()
    for column, choices in (("申报专项", policy.specials), (DIRECTION, list(directions))):
        ours, theirs = pledge[column], pledge[f"汇总表.{column}"]
        differs = paired & ours.isin(choices) & theirs.isin(choices) & (ours != theirs)
        for frame, record in _failing(frames, pledge, differs):
            yield frame.finding(
                "X02",
                f"承诺书{column}“{record[column]}”与汇总表{column}“{record[f'汇总表.{column}']}”不一致",
                int(record["_row"]),
                column,
                value=record[column],
                expected=record[f"汇总表.{column}"],
            )
    # The direction in 汇总表 decides which basis column both tables fill (the 承诺书's own where 汇总表's is
    # not a direction).
    direction = pledge[f"汇总表.{DIRECTION}"].where(pledge[f"汇总表.{DIRECTION}"].isin(list(directions)))
    basis = direction.fillna(pledge[DIRECTION]).map({name: d.basis for name, d in directions.items()})
    pairs = [(mine, theirs, paired) for mine, theirs in _PLEDGE_MONEY.items()]
    pairs += [(mine, theirs, paired & (basis == theirs)) for theirs, mine in _PLEDGE_BASIS.items()]
    for mine, theirs, rows in pairs:
        labels = (f"承诺书{mine}", f"汇总表{theirs}")
        differs = rows & _differ(pledge, mine, f"汇总表.{theirs}", tolerance)
        yield from _compare(frames, pledge, differs, "X02", mine, f"汇总表.{theirs}", labels)
    ours, theirs = _month_number(pledge[PLEDGE_FINISH]), _month_number(pledge[f"汇总表.{FINISH_MONTH}"])
    blank = ours.isna() & ~pledge[f"{PLEDGE_FINISH}:unread"]
    differs = paired & theirs.notna() & (_true(ours != theirs) | blank)
    for frame, record in _failing(frames, pledge, differs):
        mine, declared = record[PLEDGE_FINISH], record[f"汇总表.{FINISH_MONTH}"].month_key
        shown = f" {month_text(mine.month_key)}" if mine else "为空"
        yield frame.finding(
            "X02",
            f"承诺书项目完工时间{shown}，汇总表完工时间 {month_text(declared)}，两表应一致",
            int(record["_row"]),
            PLEDGE_FINISH,
            value=month_text(mine.month_key) if mine else None,
            expected=month_text(declared),
        )


@check("X03")
def revenue_increase_wrong(batch: Batch):
    tolerance = _tolerance(batch)
    fixed_asset = {d.name for d in batch.policy.directions if d.basis == "固定资产投资"}
    names = (
        "项目申报企业（单位）{Y}年营业收入",
        "项目申报企业（单位）{Y1}年营业收入",
        "项目申报企业（单位）{Y}年营业收入增量",
    )
    this_year, last_year, increase = names
    frames, pledge = batch.stack(K.PLEDGE, [DIRECTION, *names], blank_of=names)
    required = pledge[DIRECTION].isin(fixed_asset)  # F01 reports these cells blank for these directions
    for name in names:
        pledge[name] = pledge[name].mask(required & pledge[f"{name}:blank"])
    pledge["expected"] = pledge[this_year] - pledge[last_year]
    differs = _differ(pledge, increase, "expected", tolerance)
    titles = {name: _title(batch, K.PLEDGE, name) for name in names}
    for frame, record in _failing(frames, pledge, differs):
        found, right = int(record[increase]), int(record["expected"])
        yield frame.finding(
            "X03",
            f"{titles[increase]} {wan(found)}，{titles[this_year]} {wan(record[this_year])} 减"
            f"{titles[last_year]} {wan(record[last_year])} 为 {wan(right)}，相差 {wan(abs(found - right))}",
            int(record["_row"]),
            increase,
            value=plain_money(found),
            expected=plain_money(right),
        )


# ---------------------------------------------------------------------------------------------------------
# 投资明细 (表二)
# ---------------------------------------------------------------------------------------------------------


def _with_items(batch: Batch, columns: list[str]) -> tuple[list[Frame], pd.DataFrame]:
    """The keyed 汇总表 rows with their project's 投资明细 totals (明细.条数 0 when it has no line item)."""
    frames, summary = batch.stack(K.SUMMARY, columns)
    summary = summary[keyed(summary)].join(item_totals(batch), on=PID)
    summary["明细.条数"] = summary["明细.条数"].fillna(0).astype(int)
    for name in ("明细.已完成未知", "明细.概算未知", "明细.类别未知"):
        summary[name] = summary[name].fillna(False).astype(bool)
    with_sheet = summary["_book"].isin(_books(batch, K.INVESTMENT))
    summary["无明细"] = with_sheet.map({True: "投资明细中没有该项目的明细", False: "本文件没有投资明细表"})
    return frames, summary


def _without_items(frames, summary, listed, rule: str, column: str, label: str, why: str):
    """A project declaring an amount while 投资明细 lists nothing for it (or the file has no such sheet)."""
    for frame, record in _failing(frames, summary, ~listed & _true(summary[column] > 0)):
        yield frame.finding(
            rule,
            f"{label} {wan(record[column])}，但{record['无明细']}（{why}）",
            int(record["_row"]),
            column,
            value=plain_money(int(record[column])),
            expected="0",
        )


@check("X05")
def invoices_differ_from_completed(batch: Batch):
    frames, summary = _with_items(batch, [COMPLETED])
    listed = summary["明细.条数"] > 0
    differs = listed & ~summary["明细.已完成未知"] & _differ(summary, COMPLETED, "明细.已完成", _tolerance(batch))
    labels = ("已完成投资", "投资明细已完成投资额合计")
    yield from _compare(frames, summary, differs, "X05", COMPLETED, "明细.已完成", labels)
    yield from _without_items(frames, summary, listed, "X05", COMPLETED, "已完成投资", "已完成投资须逐项列出发票")


@check("X06")
def estimates_differ_from_investment(batch: Batch):
    tolerance = _tolerance(batch)
    frames, summary = _with_items(batch, [TOTAL, DIRECTION, *BASIS_CATEGORIES])
    listed = summary["明细.条数"] > 0
    differs = listed & ~summary["明细.概算未知"] & _differ(summary, TOTAL, "明细.概算", tolerance)
    labels = ("总投资", "投资明细概算投资额合计")
    yield from _compare(frames, summary, differs, "X06", TOTAL, "明细.概算", labels)
    basis = summary[DIRECTION].map({d.name: d.basis for d in batch.policy.directions})
    for column, categories in BASIS_CATEGORIES.items():
        # A basis column left blank or 0 is R04's finding, not also this one.
        rows = listed & (basis == column) & ~summary["明细.类别未知"] & _true(summary[column] > 0)
        differs = rows & _differ(summary, column, basis_total(column), tolerance)
        labels = (column, f"投资明细{'与'.join(categories)}的概算投资额合计")
        yield from _compare(frames, summary, differs, "X06", column, basis_total(column), labels)
    yield from _without_items(frames, summary, listed, "X06", TOTAL, "总投资", "投资明细应列出项目的全部投资")


@check("X07")
def completed_item_without_invoice(batch: Batch):
    frames, items = batch.stack(K.INVESTMENT, [DONE, INVOICES, INVOICE_DATE], unread_of=[INVOICES, INVOICE_DATE])
    done = _true(items[DONE] > 0)
    for column in (INVOICES, INVOICE_DATE):
        # A cell with no invoice number holds an empty tuple; an unreadable or missing one is not blank.
        values = items[column]
        empty = pd.Series(np.fromiter(map(operator.not_, values.tolist()), dtype=bool, count=len(values)), values.index)
        blank = empty & ~items[f"{column}:unread"]
        for frame, record in _failing(frames, items, done & blank):
            yield frame.finding(
                "X07",
                f"已完成投资额 {wan(record[DONE])}，但未填写{column}（按发票金额核定的投资须逐项填写）",
                int(record["_row"]),
                column,
                expected=column,
            )


@check("X08")
def remaining_differs(batch: Batch):
    frames, items = batch.stack(K.INVESTMENT, [ESTIMATE, DONE, REST])
    # An item invoiced beyond its estimate is reported as that, not also as a wrong remainder.
    over = _true(items[DONE] > items[ESTIMATE])
    for frame, record in _failing(frames, items, over):
        yield frame.finding(
            "X08",
            f"已完成投资额 {wan(record[DONE])} 大于概算投资额 {wan(record[ESTIMATE])}：请核对这两项金额",
            int(record["_row"]),
            REST,
            value=plain_money(int(record[REST])) if not pd.isna(record[REST]) else None,
            expected=f"已完成投资额<={plain_money(int(record[ESTIMATE]))}",
        )
    items["expected"] = items[ESTIMATE] - items[DONE]
    wrong = ~over & _differ(items, REST, "expected", _tolerance(batch))
    yield from _compare(frames, items, wrong, "X08", REST, "expected", ("未完成投资额", "概算投资额减已完成投资额"))


@shared
def _invoice_rows(batch: Batch) -> tuple[list[Frame], pd.DataFrame]:
    """One row per (line item, invoice number) of the keyed 投资明细 rows in the batch, for every invoice number
    that more than one of them holds (X09 and X21 share it; an invoice used once is neither's concern)."""
    frames, items = batch.stack(K.INVESTMENT, [INVOICES])
    items = items[keyed(items)]
    # "12345678、12345678" in a cell is one use.
    numbers = [
        (cell if len(cell) < 2 else tuple(dict.fromkeys(cell))) if type(cell) is tuple else ()
        for cell in items[INVOICES].tolist()
    ]
    owners, flat = unnest(numbers)
    repeated = flat.duplicated(keep=False).to_numpy()
    items = items.iloc[owners[repeated]].copy()
    items[INVOICES] = flat[repeated].to_numpy()
    # A number per project key (not the two keys joined into one text, which could run together).
    items["_project_id"] = items.groupby(["_ekey", "_pkey"], sort=False).ngroup()
    items["_projects"] = items.groupby(INVOICES)["_project_id"].transform("nunique")
    return frames, items


def _invoice_findings(rule: str, frames: list[Frame], rows: pd.DataFrame, message: str):
    """A finding at every row holding a repeated invoice; the message names the other places."""
    places_of_rows = zip(rows["_frame"].tolist(), rows["_row"].tolist(), rows["_project"].tolist(), strict=True)
    for invoice, places in _in_order(rows[INVOICES].tolist(), places_of_rows).items():
        for position, row, _ in places:
            others = "；".join(
                f"{_place(frames[p], r)}（{project}）" for p, r, project in places if (p, r) != (position, row)
            )
            yield frames[position].finding(
                rule, f"发票号码 {invoice} {message}，另见：{others}", int(row), INVOICES, value=invoice
            )


@check("X09")
def invoice_in_two_projects(batch: Batch):
    frames, items = _invoice_rows(batch)
    # The same project key in two files is R17's finding; its invoices are not also X09.
    message = "同时用于其他项目的明细，一张发票只能计入一个项目"
    yield from _invoice_findings("X09", frames, items[items["_projects"] > 1], message)


@check("X21")
def invoice_repeated_in_project(batch: Batch):
    frames, items = _invoice_rows(batch)
    uses = items.groupby(["_book", "_project_id", INVOICES])["_row"].transform("size")
    # An invoice also used by another project is X09, whose message already names every place.
    message = "用于本项目的多条明细（一张发票可对应多项，请确认金额未重复计算）"
    yield from _invoice_findings("X21", frames, items[(items["_projects"] == 1) & (uses > 1)], message)


@check("X10")
def invoice_after_deadline(batch: Batch):
    deadline = batch.policy.province_deadline
    last = deadline.year * 12 + deadline.month
    frames, items = batch.stack(K.INVESTMENT, [INVOICE_DATE])
    month = _month_number(items[INVOICE_DATE])
    day = _day(items[INVOICE_DATE])
    # A month without a day is late only when the whole month is after the deadline's month.
    late = _true(month > last) | (_true(month == last) & (day > deadline.day))
    for frame, record in _failing(frames, items, late):
        shown = _when_text(record[INVOICE_DATE])
        yield frame.finding(
            "X10",
            f"开票日期 {shown} 晚于省截止日期 {deadline:%Y-%m-%d}，该发票不能计入已完成投资",
            int(record["_row"]),
            INVOICE_DATE,
            value=shown,
            expected=f"<={deadline:%Y-%m-%d}",
        )


@check("X11")
def invoice_before_start(batch: Batch):
    frames, items = batch.stack(K.INVESTMENT, [INVOICE_DATE])
    items = _join(batch, items, K.SUMMARY, ["起止年月"])
    early = _true(_month_number(items[INVOICE_DATE]) < _month_number(items["汇总表.起止年月"], of_start=True))
    for frame, record in _failing(frames, items, early):
        shown, begin = _when_text(record[INVOICE_DATE]), month_text(record["汇总表.起止年月"][0].month_key)
        yield frame.finding(
            "X11",
            f"开票日期 {shown} 早于项目起止年月的开始年月 {begin}，请确认该发票属于本项目",
            int(record["_row"]),
            INVOICE_DATE,
            value=shown,
            expected=f">={begin}",
        )


@check("X23")
def remaining_without_promise(batch: Batch):
    frames, items = batch.stack(K.INVESTMENT, [REST, PROMISED], unread_of=[PROMISED])
    items = _join(batch, items, K.SUMMARY, [FINISH_MONTH])
    remaining = _true(items[REST] > 0) & items["汇总表._row"].notna()
    missing = remaining & items[PROMISED].isna() & ~items[f"{PROMISED}:unread"]
    for frame, record in _failing(frames, items, missing):
        yield frame.finding(
            "X23",
            f"未完成投资额 {wan(record[REST])}，但未填写承诺完成时间（开票时间）",
            int(record["_row"]),
            PROMISED,
            expected="不晚于项目完工时间的年月",
        )
    late = remaining & _true(_month_number(items[PROMISED]) > _month_number(items[f"汇总表.{FINISH_MONTH}"]))
    for frame, record in _failing(frames, items, late):
        shown, finish = _when_text(record[PROMISED]), month_text(record[f"汇总表.{FINISH_MONTH}"].month_key)
        yield frame.finding(
            "X23",
            f"承诺完成时间 {shown} 晚于项目完工时间 {finish}",
            int(record["_row"]),
            PROMISED,
            value=shown,
            expected=f"<={finish}",
        )


# ---------------------------------------------------------------------------------------------------------
# 建设计划 (表一)
# ---------------------------------------------------------------------------------------------------------


@check("X13")
def in_progress_without_plan(batch: Batch):
    frames, summary = batch.stack(K.SUMMARY, [FINISHED])
    _, plan = batch.stack(K.PLAN)
    missing = keyed(summary) & summary[FINISHED].eq(False) & ~summary[PID].isin(plan[PID][keyed(plan)])
    with_sheet = summary["_book"].isin(_books(batch, K.PLAN))
    summary["无计划"] = with_sheet.map({True: "建设计划中没有该项目的时间节点", False: "本文件没有建设计划表"})
    for frame, record in _failing(frames, summary, missing):
        yield frame.finding(
            "X13",
            f"在建项目（项目是否完工为“否”）须填写建设计划，但{record['无计划']}",
            int(record["_row"]),
            FINISHED,
            value="否",
            expected="建设计划",
        )


@check("X14")
def plan_inconsistent(batch: Batch):
    tolerance = _tolerance(batch)
    frames, plan = batch.stack(K.PLAN, [NODE, CUMULATIVE])
    plan = plan[keyed(plan)].copy()
    # Nodes in sheet order within each file's project: stack keeps the frames' row order.
    grouped = plan.groupby(PID, sort=False)
    plan["上一节点"] = grouped[CUMULATIVE].shift(1)
    plan["上一节点行"] = grouped["_row"].shift(1)
    falls = _true(plan["上一节点"] - plan[CUMULATIVE] > tolerance)
    for frame, record in _failing(frames, plan, falls):
        amount, before = int(record[CUMULATIVE]), int(record["上一节点"])
        yield frame.finding(
            "X14",
            f"累计完成投资额 {wan(amount)} 低于上一节点（第{int(record['上一节点行'])}行）的 {wan(before)}，"
            "累计数不应减少",
            int(record["_row"]),
            CUMULATIVE,
            value=plain_money(amount),
            expected=f">={plain_money(before)}",
        )
    plan = _join(batch, plan, K.SUMMARY, [COMPLETED, TOTAL])
    filed = plan[NODE].map(lambda node: isinstance(node, tuple) and node[0] == "申报").astype(bool)
    differs = filed & _differ(plan, CUMULATIVE, f"汇总表.{COMPLETED}", tolerance)
    labels = ("截至申报之日累计完成投资额", "汇总表已完成投资")
    yield from _compare(frames, plan, differs, "X14", CUMULATIVE, f"汇总表.{COMPLETED}", labels)
    last = ~plan.duplicated(PID, keep="last")
    differs = last & _differ(plan, CUMULATIVE, f"汇总表.{TOTAL}", tolerance)
    labels = ("最后一个时间节点的累计完成投资额", "汇总表总投资")
    yield from _compare(frames, plan, differs, "X14", CUMULATIVE, f"汇总表.{TOTAL}", labels)


# ---------------------------------------------------------------------------------------------------------
# 智能制造环节 (表三)
# ---------------------------------------------------------------------------------------------------------


def _with_links(batch: Batch, data: pd.DataFrame) -> pd.DataFrame:
    """data with its project's 环节 counts: 环节.数 distinct 环节, 环节.核心 distinct core 环节 (the notice's
    list), 环节.无法识别 rows whose 环节 cannot be read, 环节.核心名称 the core names (0 and "" when none)."""
    data = data.join(_link_counts(batch), on=PID)
    return data.fillna({"环节.数": 0, "环节.核心": 0, "环节.无法识别": 0, "环节.核心名称": ""})


@shared
def _link_counts(batch: Batch) -> pd.DataFrame:
    """_with_links' counts by project (_pid)."""
    policy = batch.policy
    _, links = batch.stack(K.SMART, [LINK])
    links = links[keyed(links)]
    valid = links[LINK].isin(list(policy.link_by_name))
    core = valid & links[LINK].isin(list(policy.core_links))
    counts = (
        pd.DataFrame(
            {PID: links[PID], "link": links[LINK].where(valid), "core": links[LINK].where(core), "unreadable": ~valid}
        )
        .groupby(PID)
        .agg(
            **{"环节.数": ("link", "nunique"), "环节.核心": ("core", "nunique"), "环节.无法识别": ("unreadable", "sum")}
        )
    )
    # The core names joined in Python, not by a function pandas would call once per project.
    names: dict[int, set[str]] = {}
    for project, name in zip(links[PID][core].tolist(), links[LINK][core].tolist(), strict=True):
        names.setdefault(project, set()).add(name)
    joined = {project: "、".join(sorted(found)) for project, found in names.items()}
    core_names = [joined.get(project, "") for project in counts.index]
    counts["环节.核心名称"] = pd.Series(core_names, index=counts.index, dtype=object)
    return counts


@check("X15")
def too_few_links(batch: Batch):
    smart = {d.name for d in batch.policy.directions if d.smart_manufacturing}
    minimum_links, minimum_cores = 4, 3  # P-A1 二: 不少于4个环节，其中核心生产环节不少于3个
    frames, summary = batch.stack(K.SUMMARY, [DIRECTION])
    summary = _with_links(batch, summary)
    # Rows whose 环节 is unreadable (F01, F02) count as whatever would help: only a sure shortfall is reported.
    unreadable = summary["环节.无法识别"]
    short = (summary["环节.数"] + unreadable < minimum_links) | (summary["环节.核心"] + unreadable < minimum_cores)
    with_sheet = _books(batch, K.SMART)
    for frame, record in _failing(frames, summary, keyed(summary) & summary[DIRECTION].isin(smart) & short):
        links, cores, names = int(record["环节.数"]), int(record["环节.核心"]), record["环节.核心名称"]
        yield frame.finding(
            "X15",
            f"{record[DIRECTION]}项目须建设不少于{minimum_links}个智能制造环节、其中不少于{minimum_cores}个核心生产环节，"
            f"该项目有 {links} 个环节、{cores} 个核心生产环节{f'（{names}）' if names else ''}"
            f"{'' if record['_book'] in with_sheet else '（本文件没有智能制造环节表）'}",
            int(record["_row"]),
            DIRECTION,
            value=f"{links}个环节，{cores}个核心生产环节",
            expected=f">={minimum_links}个环节，>={minimum_cores}个核心生产环节",
        )


@check("X16")
def core_flag_wrong(batch: Batch):
    frames, links = batch.stack(K.SMART, [LINK, CORE_FLAG])
    core = links[LINK].map({link.name: link.core for link in batch.policy.links})
    wrong = core.notna() & links[CORE_FLAG].notna() & (links[CORE_FLAG] != core)
    for frame, record in _failing(frames, links, wrong):
        is_core = batch.policy.link_by_name[record[LINK]].core
        answer = "是" if is_core else "否"
        yield frame.finding(
            "X16",
            f"“{record[LINK]}”{'是' if is_core else '不是'}通知列明的核心生产环节，是否核心生产环节应填“{answer}”",
            int(record["_row"]),
            CORE_FLAG,
            value="否" if is_core else "是",
            expected=answer,
        )


@check("X17")
def scene_not_listed(batch: Batch):
    links = batch.policy.link_by_name
    frames, rows = batch.stack(K.SMART, [LINK, SCENE])
    listed = {(name, V.normalise_key(scene)) for name, link in links.items() for scene in link.scenes}
    known = rows[LINK].isin(list(links)) & rows[SCENE].notna()
    pairs = zip(rows[LINK], rows[SCENE].map(lambda scene: V.normalise_key(scene) if scene else ""), strict=True)
    other = known & ~pd.Series([pair in listed for pair in pairs], index=rows.index, dtype=bool)
    for frame, record in _failing(frames, rows, other):
        shown = "、".join(links[record[LINK]].scenes)
        yield frame.finding(
            "X17",
            f"典型场景“{record[SCENE]}”不在通知为“{record[LINK]}”列出的场景（{shown}）中；通知为“可参考但不限于”，请确认",
            int(record["_row"]),
            SCENE,
            value=record[SCENE],
            expected=shown,
        )


@check("X18")
def core_count_differs(batch: Batch):
    smart = {d.name for d in batch.policy.directions if d.smart_manufacturing}
    frames, pledge = batch.stack(K.PLEDGE, [DIRECTION, CORE_COUNT], unread_of=[CORE_COUNT])
    pledge = _with_links(batch, pledge)
    declared, cores = pledge[CORE_COUNT], pledge["环节.核心"]
    blank = declared.isna() & ~pledge[f"{CORE_COUNT}:unread"]
    # The count is unknown while a 环节 cannot be read; blank with no core 环节 at all is X15's finding.
    differs = (declared.notna() & (declared != cores)) | (blank & (cores > 0))
    rows = keyed(pledge) & pledge[DIRECTION].isin(smart) & (pledge["环节.无法识别"] == 0) & differs
    for frame, record in _failing(frames, pledge, rows):
        number, count, names = record[CORE_COUNT], int(record["环节.核心"]), record["环节.核心名称"]
        yield frame.finding(
            "X18",
            f"承诺书核心生产环节数量{'未填写' if number is None else f'为 {number}'}，智能制造环节表中该项目有 "
            f"{count} 个核心生产环节{f'（{names}）' if names else ''}",
            int(record["_row"]),
            CORE_COUNT,
            value=None if number is None else str(number),
            expected=str(count),
        )


# ---------------------------------------------------------------------------------------------------------
# 现场核查
# ---------------------------------------------------------------------------------------------------------

# 现场核查 column → the 汇总表 column it verifies.
_VERIFIED = {
    "项目总投资": TOTAL,
    "核定项目固定资产投资": "固定资产投资",
    "核定项目已完成投资": COMPLETED,
    "核定项目设备投资（含软硬件投资）": "设备投资（含软硬件投资）",
    "核定项目其他投资": "其他投资",
}


@check("X19")
def verified_differs(batch: Batch):
    tolerance = _tolerance(batch)
    frames, review = batch.stack(K.INSPECTION, _VERIFIED, blank_of=_VERIFIED)
    review = _join(batch, review, K.SUMMARY, _VERIFIED.values())
    for column, declared in _VERIFIED.items():
        # The reviewers fill only the figures they verified: a blank cell is not a 0.
        review[column] = review[column].mask(review[f"{column}:blank"])
        differs = _differ(review, column, f"汇总表.{declared}", tolerance)
        labels = (f"现场核查{column}", f"汇总表申报的{declared}")
        yield from _compare(frames, review, differs, "X19", column, f"汇总表.{declared}", labels)


@check("X20")
def review_failed(batch: Batch):
    year = batch.policy.data_year
    conclusions = {
        "建设内容与申报内容是否相符（是/否）": (False, "现场核查结论：建设内容与申报内容不相符"),
        "申报资料和建设项目的真实性、完整性、合规性、一致性是否符合政策规定和申报要求（是/否）": (
            False,
            "现场核查结论：申报资料和建设项目不符合政策规定和申报要求",
        ),
        "{Y}年度是否发生较大及以上生产安全事故（是/否）": (True, f"现场核查发现{year}年度发生较大及以上生产安全事故"),
    }
    frames, review = batch.stack(K.INSPECTION, conclusions)
    for column, (failing, message) in conclusions.items():
        for frame, record in _failing(frames, review, review[column].eq(failing)):
            yield frame.finding(
                "X20",
                f"{message}，项目不得申报",
                int(record["_row"]),
                column,
                value="是" if failing else "否",
                expected="否" if failing else "是",
            )


# ---------------------------------------------------------------------------------------------------------
# Across the batch
# ---------------------------------------------------------------------------------------------------------


def _conflicts(frames: list[Frame], rows: pd.DataFrame, key: str, other: str, shown: str):
    """(frame, record, others) for every row whose key has rows with a different value of other; others
    names those rows' places with their shown value."""
    spread = rows.groupby(key)[other].transform("nunique")
    conflicting = records(rows[spread > 1])
    for rows_of_key in _in_order((record[key] for record in conflicting), conflicting).values():
        for record in rows_of_key:
            others = "；".join(
                f"{_place(frames[r['_frame']], r['_row'])}（{r[shown]}）"
                for r in rows_of_key
                if r[other] != record[other]
            )
            yield frames[record["_frame"]], record, others


@check("X22")
def enterprise_identity_conflict(batch: Batch):
    code = "统一社会信用代码"
    frames, rows = batch.stack(K.ENTITY, [code], summary_inputs=True)
    rows = rows[(rows["_ekey"] != "") & rows[code].notna()]
    for frame, record, others in _conflicts(frames, rows, code, "_ekey", "_enterprise"):
        yield frame.finding(
            "X22",
            f"统一社会信用代码 {record[code]} 在本批次中还对应其他企业名称，另见：{others}",
            int(record["_row"]),
            "企业名称",
            value=record["_enterprise"],
        )
    for frame, record, others in _conflicts(frames, rows, "_ekey", code, code):
        yield frame.finding(
            "X22",
            f"企业“{record['_enterprise']}”在本批次中还填写了其他统一社会信用代码，另见：{others}",
            int(record["_row"]),
            code,
            value=record[code],
        )


@check("R17")
def project_declared_twice(batch: Batch):
    frames, rows = batch.stack(K.SUMMARY, summary_inputs=True)
    rows = rows[keyed(rows)]
    repeated = rows[rows.duplicated(["_ekey", "_pkey"], keep=False)]
    for _, group in repeated.groupby(["_ekey", "_pkey"], sort=False):
        places = list(zip(group["_frame"], group["_row"], group["_project"], strict=True))
        for position, row, project in places:
            others = "；".join(_place(frames[p], r) for p, r, _ in places if (p, r) != (position, row))
            yield frames[position].finding(
                "R17",
                f"同一项目在本批次中申报了 {len(places)} 次（不得多头申报），另见：{others}",
                int(row),
                "项目名称",
                value=project,
            )
