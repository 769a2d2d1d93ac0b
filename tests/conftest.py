"""Shared fixtures: a clean county workbook of a few projects (tr_excel.synth), mutated per test and validated."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from tr_excel import columns as K
from tr_excel.engine import Report, validate
from tr_excel.findings import Finding, column_letter
from tr_excel.policy import Policy, load_policy
from tr_excel.reader import read_workbook
from tr_excel.synth import Submission, submission_of, write_submission
from tr_excel.tables import Frame, build_frames

UNIT = "忻州市繁峙县工业和信息化局"
CITY_UNIT = "忻州市工业和信息化局"

# (企业名称, 项目名称, 申报方向, 完工): one project of each kind of direction the rules treat differently.
PROJECTS = (
    # fixed asset, ≥ 3000 万元, in progress
    ("山西繁峙特钢有限公司", "年产50万吨特种钢生产线项目", "产业基础核心支撑", False),
    ("繁峙智能装备有限公司", "智能工厂升级项目", "智能化升级", True),  # 设备投资 basis, 智能制造环节, finished only
    ("繁峙数据科技有限公司", "工业数据平台融合应用项目", "制造业数字化转型改造—数字化融合应用", True),  # DCMM
    ("繁峙精细化工有限公司", "生产管控数字化改造项目", "制造业数字化转型改造—数字化改造", False),  # 两化融合
    ("繁峙新材料有限公司", "窑炉余热利用绿色低碳改造项目", "绿色低碳转型", True),  # fixed asset, finished
)
# The first data row of each sheet as write_submission lays it out (汇总表: title, unit line and a two-level
# header above; every other sheet: one title line and a header).
FIRST_ROW = {"汇总表": 5}
Mutation = Callable[[dict[str, list[dict]]], None]


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy("2024")


def title(policy: Policy, sheet: str, name: str) -> str:
    """A canonical column title with the data year written out ("{Y}年末资产负债率（%）" → "2023年…")."""
    return K.KINDS_BY_NAME[sheet].column(name).title(policy.data_year)


def letter(sheet: str, name: str) -> str:
    """The column letter of a column (canonical template name) as write_submission lays it out."""
    names = [column.name for column in K.KINDS_BY_NAME[sheet].columns]
    return column_letter(names.index(name))


def cell(sheet: str, name: str, row: int) -> str:
    """The A1 reference of a column (canonical template name) on a row, as write_submission lays it out."""
    return f"{letter(sheet, name)}{row}"


def row_of(sheet: str, index: int) -> int:
    """The Excel row of the index-th data row of a sheet as write_submission lays it out."""
    return FIRST_ROW.get(sheet, 3) + index


def clean_submission(policy: Policy, unit: str = UNIT, seed: int = 7) -> Submission:
    """The PROJECTS as synth writes them: every sheet filled, consistent, free of findings."""
    return submission_of(policy, unit, PROJECTS, seed=seed)


def edit(sheet: str, index: int, values: dict) -> Mutation:
    """A mutation setting cells of a sheet's index-th row (keys: canonical titles with the year written out)."""

    def mutate(rows: dict[str, list[dict]]) -> None:
        rows[sheet][index].update(values)

    return mutate


@pytest.fixture
def write_book(tmp_path: Path, policy: Policy):
    """write_book(*mutations, name=, unit=) → the path of a clean workbook after the mutations."""

    def write(*mutations: Mutation, name: str = "繁峙县.xlsx", unit: str = UNIT, folder: Path | None = None) -> Path:
        submission = clean_submission(policy, unit)
        for mutate in mutations:
            mutate(submission.rows)
        path = (folder or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_submission(path, submission, policy)
        return path

    return write


@pytest.fixture
def make_book(write_book, policy: Policy):
    """make_book(*mutations, name=, unit=) → the Report of validating a clean workbook after the mutations."""

    def make(*mutations: Mutation, **options) -> Report:
        return validate([write_book(*mutations, **options)], policy)

    return make


def typed_frames(path: Path, policy: Policy, index: int = 0) -> dict[str, Frame]:
    """A workbook read and typed as a worker does it, as the book of that index: its frames by sheet kind."""
    book = read_workbook(path, path.name, index, policy)
    return {frame.kind.name: frame for frame in build_frames(book, policy)}


def of_rule(report: Report, rule: str) -> list[Finding]:
    return [finding for finding in report.findings if finding.rule == rule]


def only(report: Report, rule: str) -> Finding:
    """The one finding of a rule; fails listing every finding otherwise."""
    found = of_rule(report, rule)
    assert len(found) == 1, f"expected one {rule}, got {len(found)}:\n" + listing(report)
    return found[0]


def at(finding: Finding) -> tuple:
    return finding.sheet, finding.row, finding.column, finding.cell


def listing(report: Report) -> str:
    return "\n".join(
        f"{f.rule} {f.severity} {f.sheet} {f.row} {f.cell} {f.column}: {f.message}" for f in report.findings
    )


def assert_clean(report: Report, severities=("error", "warning")) -> None:
    bad = [finding for finding in report.findings if finding.severity in severities]
    assert not bad, listing(report)


def tweak(path: Path, change: Callable) -> Path:
    """Edit a written workbook with openpyxl (which keeps no cached formula values) and save it in place."""
    book = openpyxl.load_workbook(path)
    change(book)
    book.save(path)
    return path


def cell_values(path: Path) -> dict:
    """(sheet, coordinate) → value of every cell holding one, as openpyxl reads the workbook."""
    book = openpyxl.load_workbook(path)
    return {
        (sheet.title, cell.coordinate): cell.value
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    }


def unnumbered_rows(path: Path) -> Path:
    """Rewrite an .xlsx in place with its rows' numbers left out (<row> without r, as some exporters write
    them): Excel and the readers count them, the return-copy patcher leaves such a file to openpyxl."""
    with zipfile.ZipFile(path) as archive:
        parts = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts:
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                data = re.sub(rb'<row r="\d+"', b"<row", data)
            archive.writestr(info.filename, data)
    return path


# A change of one cell: sheet, index of the data row, column (template name, "{Y}" for the year), value.
Change = tuple[str, int, str, object]


def set_cells(policy: Policy, *cells: Change) -> list[Mutation]:
    """Mutations writing each value into its cell."""
    return [edit(sheet, index, {title(policy, sheet, column): value}) for sheet, index, column, value in cells]


def book(make_book, policy: Policy, cells: list[Change], **options) -> Report:
    """The clean workbook with each value written into its cell, validated."""
    return make_book(*set_cells(policy, *cells), **options)


def place(policy: Policy, sheet: str, index: int, column: str) -> tuple:
    """(sheet, row, column title, cell) of a data row's cell, as a finding reports it."""
    row = row_of(sheet, index)
    return sheet, row, title(policy, sheet, column), cell(sheet, column, row)


def expect_cells(report: Report, policy: Policy, rule: str, places: list[tuple], severity: str = "error") -> list:
    """The rule fires at exactly these (sheet, index, column, …) places, no more, no fewer, with its severity."""
    found = of_rule(report, rule)
    assert sorted(at(f) for f in found) == sorted(place(policy, *where[:3]) for where in places), listing(report)
    assert {f.severity for f in found} == {severity}, listing(report)
    return found


def absent(report: Report, *rules: str) -> None:
    assert not [f for f in report.findings if f.rule in rules], listing(report)
