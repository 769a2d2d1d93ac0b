"""The reconciliation table (对账): per project, what 汇总表 declares against what its invoices, its 承诺书 and
the on-site review say."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from tr_excel import columns as K
from tr_excel.batch import PID, Batch, first_rows, keyed, shared, unnest
from tr_excel.values import MONEY_SCALE

COLUMNS = (
    "文件",
    "所在县",
    "企业名称",
    "项目名称",
    "申报已完成投资",
    "发票合计",
    "差额",
    "承诺书已完成投资",
    "核定已完成投资",
    "明细条数",
    "发票张数",
)
_COMPLETED = "已完成投资（按照发票金额核定）"
_ITEM_DONE = "已完成投资额（按照发票金额核定）"
_INVOICES = "对应发票编号"
_PLEDGED = "项目已完成投资（按照发票金额核定）"
_VERIFIED = "核定项目已完成投资"
_ESTIMATE = "概算投资额"
# 表二's categories that make up each basis column of 汇总表 (rules.md X06).
BASIS_CATEGORIES = {
    "固定资产投资": ("土建投资", "设备投资"),
    "设备投资（含软硬件投资）": ("设备投资", "信息化软硬件投资"),
}


def _wan(units) -> Decimal | None:
    """0.0001 万元 units as an exact Decimal of 万元; None where the figure is unknown."""
    return None if pd.isna(units) else Decimal(int(units)) / MONEY_SCALE


def basis_total(basis: str) -> str:
    """The name of the item_totals column that sums the line items making up a basis column."""
    return f"明细.{basis}"


@shared
def item_totals(batch: Batch) -> pd.DataFrame:
    """Per project (_pid) of 投资明细: line items, the sums, and whether each sum is unknown (the X rules and
    the reconciliation read it)."""
    _, items = batch.stack(K.INVESTMENT, ["投资类别", _ESTIMATE, _ITEM_DONE])
    items = items[keyed(items)]
    category, estimate = items["投资类别"], items[_ESTIMATE]
    columns = {
        PID: items[PID],
        "明细.条数": 1,
        "明细.已完成": items[_ITEM_DONE],
        # A line item whose amount cannot be read (F03, S05) leaves the project's invoice total unknown.
        "明细.已完成未知": items[_ITEM_DONE].isna(),
        "明细.概算": estimate,
        "明细.概算未知": estimate.isna(),
        # An item whose 投资类别 cannot be read (F01, F02) leaves the basis sums unknown.
        "明细.类别未知": estimate.isna() | ~category.isin(list(batch.policy.investment_categories)),
    }
    for basis, categories in BASIS_CATEGORIES.items():
        columns[basis_total(basis)] = estimate.where(category.isin(categories), 0)
    sums = ["明细.已完成", "明细.概算", *map(basis_total, BASIS_CATEGORIES)]
    unknown = ["明细.已完成未知", "明细.概算未知", "明细.类别未知"]
    grouped = pd.DataFrame(columns).groupby(PID)
    return pd.concat([grouped["明细.条数"].size(), grouped[sums].sum(), grouped[unknown].any()], axis=1)


@shared
def reconciliation(batch: Batch) -> pd.DataFrame:
    """One row per 汇总表 project row of the batch, in file and row order (columns: COLUMNS).

    Money is a Decimal of 万元, None where unknown or not applicable. 发票合计 sums the 已完成投资额 of the
    project's 投资明细 line items (0 when it has none; None when one cannot be read); 差额 is 申报已完成投资 −
    发票合计; 发票张数 counts distinct invoice numbers. 核定已完成投资 comes from 现场核查 (None when not
    reviewed). Rows of a summary input, and rows whose enterprise or project is blank, join nothing: their
    other columns are None. Worked out once a batch (findings.json and 审核报告 both show it): do not modify it.
    """
    summaries, projects = batch.stack(K.SUMMARY, ["所在县", _COMPLETED], summary_inputs=True)
    index = pd.Index(projects[PID])

    def aligned(series: pd.Series) -> pd.Series:
        return pd.Series(series.reindex(index).to_numpy(), index=projects.index)

    totals = item_totals(batch)
    count = aligned(totals["明细.条数"]).fillna(0).astype(int)
    unknown = aligned(totals["明细.已完成未知"]).fillna(False).astype(bool)
    invoiced = aligned(totals["明细.已完成"]).where(~unknown).where(count > 0, 0)
    _, items = batch.stack(K.INVESTMENT, [_INVOICES])
    items = items[keyed(items)]
    positions, numbers = unnest([cell if isinstance(cell, tuple) else () for cell in items[_INVOICES]])
    invoices = aligned(numbers.groupby(items[PID].to_numpy()[positions]).nunique()).fillna(0).astype(int)
    _, pledges = batch.stack(K.PLEDGE, [_PLEDGED])
    pledged = aligned(first_rows(pledges)[_PLEDGED])
    _, reviews = batch.stack(K.INSPECTION, [_VERIFIED], blank_of=[_VERIFIED])
    # The reviewers fill only what they verified: a blank 核定 cell means "not reviewed", not 0.
    reviews[_VERIFIED] = reviews[_VERIFIED].mask(reviews[f"{_VERIFIED}:blank"])
    verified = aligned(first_rows(reviews)[_VERIFIED])

    summary_input = {f.book.index: f.book.is_summary_input for f in summaries}
    joinable = ~projects["_book"].map(summary_input).astype(bool) & keyed(projects)
    declared = projects[_COMPLETED]
    table = pd.DataFrame(
        {
            "文件": projects["_book"].map({f.book.index: f.book.file for f in summaries}),
            "所在县": projects["所在县"],
            "企业名称": projects["_enterprise"],
            "项目名称": projects["_project"],
            "申报已完成投资": declared.map(_wan),
            "发票合计": invoiced.map(_wan),
            "差额": (declared - invoiced).map(_wan),
            "承诺书已完成投资": pledged.map(_wan),
            "核定已完成投资": verified.map(_wan),
            "明细条数": count.astype(object),
            "发票张数": invoices.astype(object),
        },
        columns=list(COLUMNS),
        dtype=object,  # Python values throughout: pandas would make the file names its string dtype
    )
    table.loc[~joinable, list(COLUMNS[5:])] = None
    return table
