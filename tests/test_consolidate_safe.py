"""consolidate on hostile input: no text of an input (or of --unit) becomes a formula in any output, return
copies land in OUTDIR/退回 under safe and distinct names whatever the inputs are called, --force never
overwrites or deletes an input, and a workbook too large to copy whole comes back as its values."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import unnumbered_rows

from tr_excel.cli import main
from tr_excel.consolidate import consolidate
from tr_excel.consolidate.returns import (
    NOTE_LARGE,
    RETURN_DIR,
    RETURN_SUFFIX,
    return_names,
    safe_name,
    used_cells,
)
from tr_excel.output import as_csv
from tr_excel.policy import Policy
from tr_excel.synth import submission_of, write_submission

UNIT = "忻州市工业和信息化局"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
DOC_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
# Text that a spreadsheet program runs as a formula: alone, or after a tab, CR or CR LF.
DANGEROUS_START = tuple("=+-@\t\r")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
DDE = "=cmd|' /C calc'!A0"
LINK = '=HYPERLINK("http://x.example/steal","点此")'
# Canonical column → formula-like text, in the free-text cells a clean project can hold them in.
SUMMARY_TEXTS = {
    "所在开发区": "+1+1",
    "主要内容": "\t=1+1",
    "项目亮点": "-1+1 示范带动",
    "项目联系人及手机": "\r\n=2+2",
}
ITEM_TEXTS = {"名称": LINK, "材质或型号": "@SUM(A1)", "用途": "\t@SUM(1,1)", "备注": "\r=1+1"}
ENTERPRISE, PROJECT = "=1+1机械有限公司", "\r@SUM(A1)改造项目"
ERROR_ENTERPRISE, ERROR_PROJECT = "+1+1有限公司", "-2+3项目"
# The county's own formulas, put in with openpyxl outside its tables: the return copy keeps exactly these.
OWN_FORMULAS = {("汇总表", "AF1"): "=1+2", ("投资明细", "T1"): "=SUM(1,2)"}
SUMMED = [*range(15, 23), *range(25, 29)]  # 1-based columns the 合计 row sums
# 审核报告 writes no formula of its own: every number in it is written as a value.
REVIEW_FORMULAS: dict[tuple[str, str], str] = {}


def county_book(policy: Policy, path: Path, projects, seed: int, edits=(), county: str = "繁峙县") -> Path:
    """A clean county workbook of (enterprise, project, direction); edits: (sheet, row index, values)."""
    submission = submission_of(
        policy, f"忻州市{county}工业和信息化局", projects, seed=seed, county=county, invoice_start=seed * 100_000
    )
    for sheet, index, values in edits:
        submission.rows[sheet][index].update(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_submission(path, submission, policy)
    return path


def digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


# --- formula injection ----------------------------------------------------------------------------------


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part → sheet name, from the workbook and its relationships."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target") for rel in rels.iter(f"{RELS}Relationship")}
    parts = {}
    for sheet in workbook.iter(f"{MAIN}sheet"):
        target = targets[sheet.get(DOC_REL_ID)]
        part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        parts[part] = sheet.get("name")
    return parts


def formulas(path: Path) -> dict[tuple[str, str], str]:
    """Every <f> element of every xl/worksheets/sheet*.xml, as (sheet name, cell) → formula: each one must be
    a cell's formula (an <f> anywhere else fails), and every worksheet part must belong to a sheet."""
    found = {}
    with zipfile.ZipFile(path) as archive:
        parts = sheet_parts(archive)
        names = [n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
        assert sorted(names) == sorted(parts), path
        for name in names:
            root = ElementTree.fromstring(archive.read(name))
            in_cells = 0
            for cell in root.iter(f"{MAIN}c"):
                for formula in cell.findall(f"{MAIN}f"):
                    found[(parts[name], cell.get("r"))] = "=" + (formula.text or "")
                    in_cells += 1
            assert len(list(root.iter(f"{MAIN}f"))) == in_cells, (path, name)
    return found


def external_links(path: Path) -> list[str]:
    """The targets of every hyperlink to outside the workbook."""
    with zipfile.ZipFile(path) as archive:
        return [
            rel.get("Target")
            for name in archive.namelist()
            if name.startswith("xl/worksheets/_rels/")
            for rel in ElementTree.fromstring(archive.read(name)).iter(f"{RELS}Relationship")
            if rel.get("TargetMode") == "External"
        ]


def cells(path: Path) -> dict[tuple[str, str], tuple[object, str]]:
    """(sheet, cell) → (value, data type) of every cell with content; "f" is a formula, "s" text."""
    book = openpyxl.load_workbook(path)
    return {
        (sheet.title, cell.coordinate): (cell.value, cell.data_type)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    }


@pytest.fixture(scope="module")
def injected(tmp_path_factory, policy: Policy):
    """Formula-like text in every free-text place of two projects (one with an 错误 echoing such a value),
    two real formulas of the county's own, a file named like a formula, consolidated under a formula-like
    --unit with --include-errors so that every project is written into the 汇总表."""
    root = tmp_path_factory.mktemp("injected")
    source = county_book(
        policy,
        root / "in" / "=1+1繁峙县.xlsx",
        [(ENTERPRISE, PROJECT, "中试项目"), (ERROR_ENTERPRISE, ERROR_PROJECT, "智能化升级")],
        seed=31,
        edits=[
            ("汇总表", 0, SUMMARY_TEXTS),
            ("投资明细", 0, ITEM_TEXTS),
            ("汇总表", 1, {"申请专项资金": DDE}),  # F03: the value is echoed in findings, 问题清单 and comments
        ],
    )
    book = openpyxl.load_workbook(source)
    for (sheet, cell), formula in OWN_FORMULAS.items():
        book[sheet][cell] = formula
    book.save(source)
    before = digests(root / "in")
    unit = "\t=1+1审核"
    result = consolidate([root / "in"], root / "out", unit, policy, include_errors=True)
    assert digests(root / "in") == before
    return result, source, root / "out", unit


def test_no_input_text_becomes_a_formula_in_the_summary(injected):
    result, _, outdir, unit = injected
    path = outdir / "汇总表.xlsx"
    sheet = openpyxl.load_workbook(path)["汇总表"]
    total = next(row for row in range(5, sheet.max_row + 1) if sheet.cell(row, 1).value == "合计")
    assert total == 7  # two projects
    letters = [openpyxl.utils.get_column_letter(column) for column in SUMMED]
    assert formulas(path) == {("汇总表", f"{L}{total}"): f"=SUM({L}5:{L}{total - 1})" for L in letters}
    written = cells(path)
    texts = {value for value, kind in written.values() if kind == "s"}
    for text in [*SUMMARY_TEXTS.values(), ENTERPRISE, PROJECT, ERROR_ENTERPRISE, ERROR_PROJECT, DDE]:
        assert text.strip() in texts, text  # as read: edges stripped, the text itself kept
    assert f"审核单位（公章）：{unit}" in texts
    assert external_links(path) == []


def test_the_review_holds_no_formula_and_links_only_to_return_copies(injected):
    result, _, outdir, unit = injected
    path = outdir / "审核报告.xlsx"
    assert formulas(path) == REVIEW_FORMULAS
    texts = {value for value, kind in cells(path).values() if kind == "s"}
    assert f"审核单位：{unit}" in texts
    assert {DDE, ENTERPRISE, PROJECT.strip()} <= texts
    links = external_links(path)
    # xlsxwriter writes a link to a file with Windows' separator.
    assert links and set(links) == {f"{RETURN_DIR}\\=1+1繁峙县{RETURN_SUFFIX}"}


def test_a_return_copy_keeps_exactly_the_countys_own_formulas(injected):
    result, source, outdir, _ = injected
    copy = outdir / RETURN_DIR / f"=1+1繁峙县{RETURN_SUFFIX}"
    assert [path.name for path in (outdir / RETURN_DIR).iterdir()] == [copy.name]
    assert formulas(copy) == formulas(source) == OWN_FORMULAS
    # Every cell as the county wrote it, of the same type: the injected text stays text.
    original = cells(source)
    assert cells(copy) == original
    for text in [*SUMMARY_TEXTS.values(), *ITEM_TEXTS.values(), DDE, ENTERPRISE, PROJECT]:
        # openpyxl shows the escape Excel files use for a carriage return, where Excel shows the character.
        assert (text.replace("\r", "_x000D_"), "s") in original.values(), text
    assert external_links(copy) == []
    comments = [
        cell.comment.text
        for sheet in openpyxl.load_workbook(copy).worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.comment is not None
    ]
    assert any(DDE in text for text in comments)


def test_findings_keep_the_text_verbatim_and_csv_marks_it_as_text(injected):
    result, _, outdir, _ = injected
    findings = json.loads((outdir / "findings.json").read_text("utf-8"))["findings"]
    f03 = [finding for finding in findings if finding["rule"] == "F03"]
    assert [(f["value"], f["enterprise"], f["project"]) for f in f03] == [(DDE, ERROR_ENTERPRISE, ERROR_PROJECT)]
    rows = list(csv.reader(io.StringIO(as_csv(result.report).lstrip("\ufeff"))))
    fields = {field for row in rows[1:] for field in row}
    assert {"'" + DDE, "'" + ERROR_ENTERPRISE, "'" + ERROR_PROJECT} <= fields
    assert not [f for f in fields if f.startswith(DANGEROUS_START) and not PLAIN_NUMBER.fullmatch(f)]


# --- return-copy names ----------------------------------------------------------------------------------

RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{d}{n}" for d in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
NFC_E, NFD_E = unicodedata.normalize("NFC", "é"), unicodedata.normalize("NFD", "é")
HOSTILE_NAMES = [
    "CON.xlsx",
    "NUL.xlsx",
    "com1.xlsx",
    "LPT1.备份.xlsx",
    "con/报送.xlsx",
    ".隐藏.xlsx",
    "..双点.xlsx",
    "末尾点..xlsx",
    "末尾空格 .xlsx",
    "末尾点./报送.xlsx",
    " 前空格.xlsx",
    "/".join(["长" * 80, "长" * 80, "长" * 80, "长" * 56 + ".xlsx"]),  # 300 characters, 900 bytes
    "x" * 200 + "/" + "y" * 94 + ".xlsx",  # 300 characters
    "ＣＯＮ.xlsx",
    "全角：名称／甲＊.xlsx",
    "Case.xlsx",
    "case.xlsx",
    "CASE.XLSX",
    f"{NFC_E}.xlsx",
    f"{NFD_E}.xlsx",
    "a/b/c.xlsx",
    "a_b/c.xlsx",
    "a_b_c.xlsx",
    "换\n行.xlsx",
    "\u202egpj.exe.xlsx",
    "tab\tname#1 50%.xlsx",
    "繁峙县.xlsx",
]
GBK_NAME = "繁峙县.xlsx".encode("gbk")  # a zip made on Chinese Windows and unpacked on Linux


def tiny_workbook() -> bytes:
    """A workbook with none of the required sheets: S02 错误, so it comes back."""
    book = openpyxl.Workbook()
    book.active["A1"] = "不是申报表"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def assert_safe(name: str) -> None:
    assert name.endswith(RETURN_SUFFIX), name
    assert len(name.encode("utf-8")) <= 255, name
    assert not name.startswith((".", " ")), name
    assert not re.search(r'[\\/:*?"<>|#%\[\]^`{}\s]', name), name
    assert not [char for char in name if unicodedata.category(char).startswith("C")], name
    assert name == unicodedata.normalize("NFC", name), name
    assert name.split(".")[0].rstrip(" ").upper() not in RESERVED, name


def test_return_copies_of_hostile_names_land_in_the_return_folder_under_safe_distinct_names(tmp_path, policy):
    data = tiny_workbook()
    inputs = tmp_path / "in"
    for name in HOSTILE_NAMES:
        (inputs / name).parent.mkdir(parents=True, exist_ok=True)
        (inputs / name).write_bytes(data)
    (inputs / os.fsdecode(GBK_NAME)).write_bytes(data)
    count = len(list(path for path in inputs.rglob("*") if path.is_file()))
    assert count == len(HOSTILE_NAMES) + 1  # every name exists as its own file
    outdir = tmp_path / "out"
    result = consolidate([inputs], outdir, UNIT, policy)
    copies = [path for path in result.written if path.name.endswith(RETURN_SUFFIX)]
    assert len(copies) == count
    assert all(path.parent == outdir / RETURN_DIR for path in copies)
    names = [path.name for path in copies]
    for name in names:
        assert_safe(name)
    assert len({unicodedata.normalize("NFC", name).casefold() for name in names}) == count
    assert sorted(path.name for path in (outdir / RETURN_DIR).iterdir()) == sorted(names)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in", "out"]
    pairs = list(zip([book.file for book in result.report.books], names, strict=True))
    by_file = dict(pairs)
    assert by_file["a/b/c.xlsx"] == f"a_b_c{RETURN_SUFFIX}"
    assert by_file["a_b/c.xlsx"] == f"a_b_c_2{RETURN_SUFFIX}"
    assert by_file["a_b_c.xlsx"] == f"a_b_c_3{RETURN_SUFFIX}"
    assert by_file["CASE.XLSX"] == f"CASE{RETURN_SUFFIX}"
    assert {by_file["Case.xlsx"], by_file["case.xlsx"]} == {f"Case_2{RETURN_SUFFIX}", f"case_3{RETURN_SUFFIX}"}
    assert {by_file[f"{NFD_E}.xlsx"], by_file[f"{NFC_E}.xlsx"]} == {f"é{RETURN_SUFFIX}", f"é_2{RETURN_SUFFIX}"}
    assert by_file["CON.xlsx"] == f"_CON{RETURN_SUFFIX}"
    # The GBK name is read as GBK: the same name as the UTF-8 繁峙县.xlsx, so one of the two is numbered.
    assert sorted(name for file, name in pairs if file == "繁峙县.xlsx") == [
        f"繁峙县_2{RETURN_SUFFIX}",
        f"繁峙县{RETURN_SUFFIX}",
    ]
    # Every output file can be written as UTF-8 text: the review and findings name every file.
    assert json.loads((outdir / "findings.json").read_text("utf-8"))["inputs"][0]["file"]
    review = openpyxl.load_workbook(outdir / "审核报告.xlsx")["退回清单"]
    assert {cell.value for cell in review["C"][1:]} == set(names)


@pytest.mark.parametrize(
    "file",
    ["..", "../x.xlsx", "../../etc/passwd.xlsx", "a/../../b.xlsx", "./.xlsx", "/abs/olute.xlsx", "\\\\srv\\c$.xlsx"],
)
def test_a_name_from_any_relative_path_stays_one_file_in_the_return_folder(file, tmp_path):
    name = safe_name(file) + RETURN_SUFFIX
    assert_safe(name)
    folder = tmp_path / RETURN_DIR
    assert (folder / name).resolve().parent == folder.resolve()


def test_a_long_name_is_cut_and_numbered_within_the_file_system_limit():
    class Book:
        def __init__(self, index, file):
            self.index, self.file = index, file

    long = "长" * 300 + ".xlsx"
    names = return_names([Book(0, long), Book(1, long.replace(".xlsx", "甲.xlsx")), Book(2, long.upper())])
    assert len(set(names.values())) == 3
    for name in names.values():
        assert_safe(name)


# --- --force never touches an input ---------------------------------------------------------------------


@pytest.fixture
def county(tmp_path, policy) -> Path:
    path = tmp_path / "报送" / "繁峙县.xlsx"
    county_book(
        policy, path, [("甲公司", "甲项目", "中试项目")], seed=32, edits=[("汇总表", 0, {"申请专项资金": "待定"})]
    )
    return path


def invoke(*args) -> int:
    result = CliRunner().invoke(main, ["consolidate", *map(str, args), "--unit", UNIT, "--force"])
    assert "Traceback" not in result.output
    return result.exit_code


def test_force_never_overwrites_an_input_that_is_an_output_file(county, tmp_path):
    outdir = tmp_path / "out"
    assert invoke(county.parent, "-o", outdir) == 1  # an earlier run
    for output in ("汇总表.xlsx", "审核报告.xlsx"):
        (outdir / output).write_bytes(county.read_bytes())  # the clerk saved a county's workbook there
        before = digests(tmp_path)
        assert invoke(outdir / output, "-o", outdir) == 2
        assert invoke(outdir / output, county, "-o", outdir) == 2
        assert digests(tmp_path) == before


def test_force_never_overwrites_or_deletes_an_input_in_the_return_folder(county, tmp_path):
    outdir = tmp_path / "out"
    assert invoke(county.parent, "-o", outdir) == 1
    returned = outdir / RETURN_DIR / f"繁峙县{RETURN_SUFFIX}"
    stale = outdir / RETURN_DIR / f"旧文件{RETURN_SUFFIX}"
    stale.write_bytes(county.read_bytes())
    before = digests(tmp_path)
    assert invoke(returned, "-o", outdir) == 2  # would be replaced
    assert invoke(stale, "-o", outdir) == 2  # would be deleted as stale
    assert invoke(outdir / RETURN_DIR, "-o", outdir) == 2
    assert digests(tmp_path) == before


def test_force_never_writes_into_an_input_folder(county, tmp_path):
    folder = county.parent
    (folder / "汇总表.xlsx").write_bytes(county.read_bytes())
    before = digests(tmp_path)
    assert invoke(folder, "-o", folder) == 2
    assert invoke(folder, "-o", folder / "输出") == 2
    assert invoke(tmp_path, "-o", folder / "输出") == 2  # inside an input folder, however deep
    assert invoke(county, folder, "-o", folder / RETURN_DIR) == 2
    assert digests(tmp_path) == before
    assert sorted(path.name for path in folder.iterdir()) == ["汇总表.xlsx", "繁峙县.xlsx"]


def test_force_never_overwrites_an_input_through_a_link(county, tmp_path):
    outdir = tmp_path / "out"
    assert invoke(county.parent, "-o", outdir) == 1
    # A link in the input folder to an output of the earlier run: found when the folder is searched.
    (county.parent / "链接.xlsx").symlink_to(outdir / "汇总表.xlsx")
    before = digests(tmp_path)
    assert invoke(county.parent, "-o", outdir) == 2
    (county.parent / "链接.xlsx").unlink()
    # The same file under a second name (a hard link): never replaced, whatever the name.
    (outdir / "findings.json").unlink()
    os.link(county, outdir / "findings.json")
    assert invoke(county, "-o", outdir) == 2
    assert digests(tmp_path) == {**before, "out/findings.json": digests(county.parent)["繁峙县.xlsx"]}


def test_an_input_folder_elsewhere_inside_outdir_is_read_and_left_alone(county, tmp_path):
    outdir = tmp_path / "out"
    inputs = outdir / "县级报送"
    inputs.mkdir(parents=True)
    (inputs / "繁峙县.xlsx").write_bytes(county.read_bytes())
    before = digests(inputs)
    assert invoke(inputs, "-o", outdir) == 1
    assert invoke(inputs, "-o", outdir) == 1
    assert digests(inputs) == before
    assert (outdir / RETURN_DIR / f"繁峙县{RETURN_SUFFIX}").exists()


# --- a workbook too large to copy whole -----------------------------------------------------------------


def test_a_workbook_over_max_annotated_cells_comes_back_as_its_values(tmp_path, policy):
    source = county_book(
        policy,
        tmp_path / "in" / "繁峙县.xlsx",
        [(ENTERPRISE, PROJECT, "中试项目"), ("乙公司", "乙项目", "智能化升级")],
        seed=33,
        edits=[("汇总表", 0, SUMMARY_TEXTS), ("投资明细", 0, ITEM_TEXTS), ("汇总表", 1, {"申请专项资金": DDE})],
    )
    book = openpyxl.load_workbook(source)
    book["汇总表"]["AF1"] = "=1+2"
    book.create_sheet("备注")["A1"] = "县里自己的备注"
    book["备注"].sheet_state = "hidden"
    book.save(source)
    unnumbered_rows(source)  # the patcher leaves it to openpyxl, which has a cell limit
    consolidate([source], tmp_path / "whole", UNIT, policy)
    small = dataclasses.replace(policy, limits={**policy.limits, "max_annotated_cells": 100})
    consolidate([source], tmp_path / "values", UNIT, small)
    name = f"繁峙县{RETURN_SUFFIX}"
    copy, full = tmp_path / "values" / RETURN_DIR / name, tmp_path / "whole" / RETURN_DIR / name
    # The same values, text as text, no formula (the county's own has no stored value to show), and the
    # findings filled and commented at the same cells.
    expected = {key: value for key, value in cells(source).items() if value[1] != "f"}
    assert cells(copy) == expected
    assert formulas(copy) == {}
    copied, annotated = openpyxl.load_workbook(copy), openpyxl.load_workbook(full)
    assert copied.sheetnames == annotated.sheetnames
    assert copied["备注"].sheet_state == "hidden"
    marked = 0
    for sheet in annotated.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                twin = copied[sheet.title][cell.coordinate]
                if cell.comment is not None:
                    assert twin.comment is not None and twin.comment.text == cell.comment.text
                    marked += 1
                if cell.fill.fgColor.rgb in ("FFFF8080", "FFFFFF00"):
                    assert twin.fill.fgColor.rgb == cell.fill.fgColor.rgb, (sheet.title, cell.coordinate)
    assert marked >= 1
    merges = {str(cell_range) for cell_range in annotated["汇总表"].merged_cells.ranges}
    assert {"A1:AD1", "A3:A4"} <= merges
    assert {str(cell_range) for cell_range in copied["汇总表"].merged_cells.ranges} == merges
    # 退回清单 says the copy holds the values only, and why.
    returns = openpyxl.load_workbook(tmp_path / "values" / "审核报告.xlsx")["退回清单"]
    headers = [cell.value for cell in returns[1]]
    notes = {row[headers.index("退回文件说明")] for row in returns.iter_rows(min_row=2, values_only=True)}
    assert notes == {NOTE_LARGE.format(cells=used_cells(source), limit=100)}
    whole_returns = openpyxl.load_workbook(tmp_path / "whole" / "审核报告.xlsx")["退回清单"]
    assert {row[headers.index("退回文件说明")] for row in whole_returns.iter_rows(min_row=2, values_only=True)} == {
        None
    }


def test_a_values_copy_keeps_a_sheet_visible_when_the_county_hid_them_all(tmp_path, policy):
    source = tmp_path / "in" / "隐藏.xlsx"
    source.parent.mkdir()
    book = openpyxl.Workbook()
    book.active["A1"] = "=1+1 文本"
    book.active["A1"].data_type = "s"
    book.create_sheet("第二")["B2"] = 5
    book.save(source)
    with zipfile.ZipFile(source) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b'state="visible"', b'state="hidden"')
    with zipfile.ZipFile(source, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    small = dataclasses.replace(policy, limits={**policy.limits, "max_annotated_cells": 0})
    result = consolidate([source.parent], tmp_path / "out", UNIT, small)
    copy = tmp_path / "out" / RETURN_DIR / f"隐藏{RETURN_SUFFIX}"
    assert copy in result.written
    copied = openpyxl.load_workbook(copy)
    assert [sheet.sheet_state for sheet in copied.worksheets] == ["visible", "hidden"]
    assert cells(copy)[("Sheet", "A1")] == ("=1+1 文本", "s")


def test_consolidate_loads_openpyxl_only_for_a_copy_that_needs_it():
    # openpyxl takes a tenth of a second to import; consolidate's workers fork after the imports, and most copies
    # are patched without it. The control characters the copies drop are openpyxl's own list.
    import subprocess
    import sys

    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from tr_excel.consolidate.returns import ILLEGAL_CHARACTERS

    assert ILLEGAL_CHARACTERS.pattern == ILLEGAL_CHARACTERS_RE.pattern
    probe = "import sys, tr_excel.cli, tr_excel.consolidate; print('openpyxl' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "False\n"
