"""Property: consistent projects of up to 1,000 two-decimal line items never give X05, X06 or X08; moving any one
amount by 0.02 万元 or more always gives the rule that compares it.

The tables are built in memory (no workbook written) and parsed by the real reader of typed columns.
"""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tr_excel import columns as K
from tr_excel.batch import Batch
from tr_excel.policy import load_policy
from tr_excel.reader import Table, Workbook
from tr_excel.rules import cross  # noqa: F401  (registers the rules)
from tr_excel.rules.registry import CHECKS
from tr_excel.tables import build_frames

POLICY = load_policy("2024")
RULES = ("X05", "X06", "X08")
# One direction of each basis (固定资产投资, 设备投资（含软硬件投资）, 其他投资).
DIRECTIONS = ("产业基础核心支撑", "智能化升级", "中试项目")
SUBCATEGORY = {"土建投资": "厂房投资", "设备投资": "生产相关设备", "信息化软硬件投资": "信息化软件", "其他投资": "其他"}
ENTERPRISE, PROJECT = "山西示例制造有限公司", "示例技术改造项目"

# A line item: 概算投资额 in 0.01 万元, the share of it invoiced (%), its 投资类别.
ITEM = st.tuples(st.integers(0, 10**8), st.integers(0, 100), st.sampled_from(tuple(SUBCATEGORY)))
PROJECTS = st.tuples(st.sampled_from(DIRECTIONS), st.lists(ITEM, min_size=1, max_size=1000))


def _wan(cents: int) -> float:
    """0.01 万元 as the two-decimal number a county types."""
    return round(cents / 100, 2)


def _table(kind: K.SheetKind, rows: list[dict], index: int) -> Table:
    names = [column.name for column in kind.columns]
    return Table(
        kind=kind,
        sheet=kind.name,
        sheet_index=index,
        header_row=1,
        columns={name: position for position, name in enumerate(names)},
        titles={name: kind.column(name).title(POLICY.data_year) for name in names},
        rows=list(range(2, 2 + len(rows))),
        cells={name: [row.get(name) for row in rows] for name in names},
    )


def _project(direction: str, items: list[tuple[int, int, str]]) -> tuple[dict, list[dict]]:
    """A consistent project in 0.01 万元: (汇总表 row, 投资明细 rows)."""
    basis = POLICY.direction_by_name[direction].basis
    lines = []
    for estimate, share, category in items:
        done = estimate * share // 100
        lines.append(
            {"投资类别": category, "概算投资额": estimate, "已完成投资额": done, "未完成投资额": estimate - done}
        )
    in_basis = cross.BASIS_CATEGORIES.get(basis, ())
    summary = {
        "总投资": sum(line["概算投资额"] for line in lines),
        "已完成投资": sum(line["已完成投资额"] for line in lines),
        basis: sum(line["概算投资额"] for line in lines if line["投资类别"] in in_basis),
    }
    return summary, lines


def _findings(direction: str, summary: dict, lines: list[dict]) -> set[str]:
    """The rules of RULES that the project gives, read through the real typed-column reader."""
    summary_row = {
        "企业名称": ENTERPRISE,
        "项目名称": PROJECT,
        "申报方向": direction,
        "总投资": _wan(summary["总投资"]),
        "已完成投资（按照发票金额核定）": _wan(summary["已完成投资"]),
        **{column: _wan(amount) for column, amount in summary.items() if column in cross.BASIS_CATEGORIES},
    }
    item_rows = [
        {
            "企业名称": ENTERPRISE,
            "项目名称": PROJECT,
            "投资类别": line["投资类别"],
            "子类": SUBCATEGORY[line["投资类别"]],
            "名称": f"明细{number}",
            "概算投资额": _wan(line["概算投资额"]),
            "已完成投资额（按照发票金额核定）": _wan(line["已完成投资额"]),
            "未完成投资额": _wan(line["未完成投资额"]),
        }
        for number, line in enumerate(lines, start=1)
    ]
    book = Workbook(file="示例.xlsx", path=Path("示例.xlsx"), index=0)
    book.tables = {
        K.SUMMARY.name: _table(K.SUMMARY, [summary_row], 0),
        K.INVESTMENT.name: _table(K.INVESTMENT, item_rows, 1),
    }
    batch = Batch(policy=POLICY, books=[book], frames=build_frames(book, POLICY))
    return {finding.rule for rule in RULES for finding in CHECKS[rule](batch)}


@settings(max_examples=30, deadline=None)
@given(PROJECTS)
def test_consistent_projects_give_no_sum_finding(project):
    direction, items = project
    assert _findings(direction, *_project(direction, items)) == set()


def test_a_thousand_consistent_line_items_give_no_sum_finding():
    rng = random.Random(1000)
    items = [(rng.randrange(0, 10**7), rng.randrange(0, 101), rng.choice(tuple(SUBCATEGORY))) for _ in range(1000)]
    for direction in DIRECTIONS:
        assert _findings(direction, *_project(direction, items)) == set()


# What each moved amount gives, and nothing else: a sum against 汇总表 (X05, X06), the item's arithmetic (X08).
EXPECTED = {
    "概算投资额": {"X06", "X08"},
    "已完成投资额": {"X05", "X08"},
    "未完成投资额": {"X08"},
    "总投资": {"X06"},
    "已完成投资": {"X05"},
    "basis": {"X06"},
}


@settings(max_examples=30, deadline=None)
@given(PROJECTS, st.sampled_from(tuple(EXPECTED)), st.integers(2, 10**6), st.booleans(), st.data())
def test_one_amount_moved_by_two_cents_or_more_is_found(project, target, delta, down, data):
    direction, items = project
    summary, lines = _project(direction, items)
    basis = POLICY.direction_by_name[direction].basis
    if target == "basis":
        if basis not in cross.BASIS_CATEGORIES:
            target = "总投资"  # 其他投资 is a direction without a basis sum
        else:
            target = basis
    if target in summary:
        values = summary
    else:
        values = lines[data.draw(st.integers(0, len(lines) - 1), label="line item")]
    # Moving down stays above 0: a basis column of 0 is R04's finding, and amounts are never negative.
    values[target] += -delta if down and values[target] - delta > 0 else delta
    expected = EXPECTED.get(target, {"X06"})
    found = _findings(direction, summary, lines)
    assert found == expected, (target, delta, found)
