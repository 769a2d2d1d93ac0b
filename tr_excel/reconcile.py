"""The reconciliation table (对账): per project, what 汇总表 declares against what its invoices, its 承诺书 and
the on-site review say."""

from __future__ import annotations

from decimal import Decimal
from itertools import chain

import numpy as np
import pandas as pd

from tr_excel import columns as K
from tr_excel.batch import Batch, first_rows, keyed
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
_PID = "_pid"  # the project (Batch.stack): one number per workbook, enterprise key and project key


def _wan(units) -> Decimal | None:
    """0.0001 万元 units as an exact Decimal of 万元; None where the figure is unknown."""
    return None if pd.isna(units) else Decimal(int(units)) / MONEY_SCALE


def reconciliation(batch: Batch) -> pd.DataFrame:
    """One row per 汇总表 project row of the batch, in file and row order (columns: COLUMNS).

    Money is a Decimal of 万元, None where unknown or not applicable. 发票合计 sums the 已完成投资额 of the
    project's 投资明细 line items (0 when it has none; None when one cannot be read); 差额 is 申报已完成投资 −
    发票合计; 发票张数 counts distinct invoice numbers. 核定已完成投资 comes from 现场核查 (None when not
    reviewed). Rows of a summary input, and rows whose enterprise or project is blank, join nothing: their
    other columns are None. Worked out once a batch (findings.json and 审核报告 both show it): do not modify it.
    """
    if "reconciliation" not in batch.memo:
        batch.memo["reconciliation"] = _reconciliation(batch)
    return batch.memo["reconciliation"]


def _reconciliation(batch: Batch) -> pd.DataFrame:
    summaries, projects = batch.stack(K.SUMMARY, ["所在县", _COMPLETED], summary_inputs=True)
    index = pd.Index(projects[_PID])

    def aligned(series: pd.Series) -> pd.Series:
        return pd.Series(series.reindex(index).to_numpy(), index=projects.index)

    _, items = batch.stack(K.INVESTMENT, [_ITEM_DONE, _INVOICES])
    items = items[keyed(items)]
    grouped = items.assign(_unknown=items[_ITEM_DONE].isna()).groupby(_PID)
    count = aligned(grouped.size()).fillna(0).astype(int)
    # A line item whose amount cannot be read (F03, S05) leaves the project's invoice total unknown.
    unknown = aligned(grouped["_unknown"].any()).fillna(False).astype(bool)
    invoiced = aligned(grouped[_ITEM_DONE].sum()).where(~unknown).where(count > 0, 0)
    cells = [cell if isinstance(cell, tuple) else () for cell in items[_INVOICES]]
    owners = np.repeat(items[_PID].to_numpy(), [len(cell) for cell in cells])
    numbers = pd.Series(list(chain.from_iterable(cells)), dtype=object).groupby(owners).nunique()
    invoices = aligned(numbers).fillna(0).astype(int)
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
    )
    table.loc[~joinable, list(COLUMNS[5:])] = None
    return table
