"""The hostile corpus (tests/make_hostile.py): every file is read correctly or gives one S01 with a specific
Chinese reason; discovery skips lock files and survives link loops; the command line goes on past every
bad file, exits 1, prints no traceback and stays within bounded time and memory."""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import make_hostile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tr_excel import sniff
from tr_excel.engine import validate
from tr_excel.policy import SCHEMAS_DIR
from tr_excel.reader import INTERNAL_ERROR, discover, read_workbook
from tr_excel.sniff import DEFAULT_LIMITS, Unreadable, check_readable

ROOT = Path(__file__).resolve().parent.parent
# One file, however hostile, is read or refused within this many seconds (a loaded CI machine included).
PER_FILE_SECONDS = 5.0
# The whole command over the corpus: time and peak memory of any one of its processes.
RUN_SECONDS = 90.0
RUN_MEGABYTES = 1024


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile") / "报送"
    cases = make_hostile.build(folder)
    yield folder, cases
    make_hostile.cleanup(folder)


def _where(findings) -> list[tuple]:
    """What a finding says, apart from the file's name (the same workbook under another name)."""
    return sorted((f.rule, f.sheet, f.row, f.column, f.cell) for f in findings)


def test_discover_lists_every_workbook_once_and_skips_lock_files(corpus):
    folder, cases = corpus
    names = [name for _, name in discover([folder])]
    assert len(names) == len(set(names))
    assert set(names) == {case.name for case in cases if case.expect != "skipped"}
    # The folder loops back on itself twice; neither link adds a path.
    assert not any("回到上级" in name or "自身" in name for name in names)


def test_each_hostile_file_is_read_or_refused_with_its_reason(corpus, policy):
    folder, cases = corpus
    problems = []
    for case in cases:
        if case.expect == "skipped":
            continue
        started = time.perf_counter()
        book = read_workbook(folder / case.name, case.name, 0, policy)
        seconds = time.perf_counter() - started
        s01 = [finding.message for finding in book.findings if finding.rule == "S01"]
        if seconds > PER_FILE_SECONDS:
            problems.append(f"{case.name}: {seconds:.1f} s")
        if case.expect == "ok" and (s01 or not book.readable or (case.like and not book.tables)):
            problems.append(f"{case.name}: expected a correct read, got {s01}")
        if case.expect == "s01":
            if book.readable or len(book.findings) != 1 or len(s01) != 1:
                problems.append(f"{case.name}: expected exactly one S01, got {[f.rule for f in book.findings]}")
            elif case.reason not in s01[0]:
                problems.append(f"{case.name}: expected “{case.reason}” in “{s01[0]}”")
            elif s01[0].startswith(INTERNAL_ERROR) or "请" not in s01[0]:
                problems.append(f"{case.name}: the reason tells the clerk nothing to do: “{s01[0]}”")
    assert not problems, "\n".join(problems)


def _tables(book) -> dict:
    return {
        name: (table.sheet, table.header_row, table.rows, table.cells, table.total_row, table.unit_line)
        for name, table in book.tables.items()
    }


def test_correctly_read_files_read_as_the_original(corpus, policy):
    """Same tables, rows and cells as the sample they were made from, whatever the name, format or oddity."""
    folder, cases = corpus
    for case in cases:
        if case.expect == "ok" and case.like:
            original = read_workbook(make_hostile.SAMPLES / case.like, case.like, 0, policy)
            book = read_workbook(folder / case.name, case.name, 0, policy)
            assert _tables(book) == _tables(original), case.name
            assert _where(book.findings) == _where(original.findings), case.name


def test_an_xls_gives_the_findings_of_its_xlsx(corpus, policy):
    folder, _ = corpus
    original = validate([make_hostile.SAMPLES / make_hostile.BASE_SAMPLE], policy)
    assert _where(validate([folder / "老格式.xls"], policy).findings) == _where(original.findings)


def test_dimension_claiming_the_whole_sheet_reads_fast(corpus, policy):
    folder, _ = corpus
    started = time.perf_counter()
    book = read_workbook(folder / "维度谎报.xlsx", "维度谎报.xlsx", 0, policy)
    assert time.perf_counter() - started < 2
    original = read_workbook(make_hostile.SAMPLES / make_hostile.BASE_SAMPLE, "x", 0, policy)
    assert book.summary.rows == original.summary.rows
    assert book.summary.cells == original.summary.cells


def test_cells_of_32767_characters_are_read_whole(corpus, policy):
    folder, _ = corpus
    report = validate([folder / "超长文本.xlsx"], policy)
    book = report.books[0]
    assert book.readable
    assert len(book.summary.cells["主要内容"][0]) == 32767
    smart = next(frame for frame in book.frames if frame.kind.name == "智能制造环节")
    assert len(smart.df["典型场景实例描述"].iat[0]) == 32767  # typed where it was read; only 汇总表 keeps raw cells
    assert "S01" not in {finding.rule for finding in report.findings}
    assert "F07" in {finding.rule for finding in report.findings}  # over 表三's 300 characters


def test_command_line_goes_on_past_every_bad_file(corpus):
    folder, cases = corpus
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "tr_excel", "validate", str(folder), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS * 2,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    status = {entry["file"]: entry["status"] for entry in report["inputs"]}
    expected = {case.name: "unreadable" if case.expect == "s01" else "ok" for case in cases if case.expect != "skipped"}
    assert status == expected
    reasons = {f["file"]: f["message"] for f in report["findings"] if f["rule"] == "S01"}
    for case in cases:
        if case.expect == "s01":
            assert case.reason in reasons[case.name], case.name
    assert seconds < RUN_SECONDS
    if peak > before:  # ru_maxrss is in KiB on Linux; only a new peak says something about this run
        assert peak / 1024 < RUN_MEGABYTES


def test_no_read_permission(tmp_path, policy, monkeypatch):
    """Also as root (who may read anything): the open itself is made to fail as it does for a clerk."""
    path = tmp_path / "无权限.xlsx"
    path.write_bytes(make_hostile.sample_bytes())
    real_open = Path.open

    def refuse(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    book = read_workbook(path, path.name, 0, policy)
    assert [f.rule for f in book.findings] == ["S01"]
    assert "没有读取权限" in book.findings[0].message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_named_like_a_workbook_does_not_block(tmp_path, policy):
    pipe = tmp_path / "管道.xlsx"
    os.mkfifo(pipe)
    assert [path for path, _ in discover([tmp_path])] == []  # not a regular file: not found in a folder
    assert [name for _, name in discover([pipe])] == ["管道.xlsx"]  # named on the command line: reported
    with make_hostile.time_guard(5):
        book = read_workbook(pipe, pipe.name, 0, policy)
    assert "特殊文件" in book.findings[0].message


def test_each_limit_comes_from_the_policy(tmp_path, policy):
    """Every key of [limits] is used: lowered under the sample, it turns the sample into an S01."""
    sample = make_hostile.SAMPLES / make_hostile.BASE_SAMPLE
    lowered = {
        "max_file_mb": (0, "MB"),
        "max_uncompressed_mb": (0, "解压后"),
        "max_parts": (5, "部件"),
        "max_sheets": (2, "工作表"),
        "max_rows": (3, "行数上限"),
        "max_columns": (10, "列数上限"),
        "max_cells": (100, "单元格"),
    }
    assert set(lowered) == set(DEFAULT_LIMITS)
    for key, (value, reason) in lowered.items():
        strict = dataclasses.replace(policy, limits={**policy.limits, key: value})
        book = read_workbook(sample, sample.name, 0, strict)
        assert [f.rule for f in book.findings] == ["S01"], key
        assert reason in book.findings[0].message, (key, book.findings[0].message)
    assert read_workbook(sample, sample.name, 0, policy).readable


def test_policy_limits_are_all_set_and_documented():
    with (SCHEMAS_DIR / "policy-2024.toml").open("rb") as handle:
        limits = tomllib.load(handle)["limits"]
    # max_annotated_cells bounds the 退回 copies of consolidate (consolidate/returns.py), not reading.
    assert set(limits) == {*DEFAULT_LIMITS, "max_annotated_cells"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [key for key in limits if key not in readme]
    assert not missing, f"README.md does not document the limits {missing}"


def test_sniffer_gives_the_real_format():
    sample = make_hostile.SAMPLES / make_hostile.BASE_SAMPLE
    assert check_readable(sample, {}) == "xlsx"


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (b'<row r="1048576"><c\tr="XFD1048576"><v>1</v></c></row>', "XFD1048576"),  # odd spacing: the slow walk
        (b'<row r="70000"><c r="a70000"><v>1</v></c></row>', "行数上限"),  # lower-case reference
        (b"<row><c><v>1</v></c></row>" * 3 + b'<row r="60000"><c><v>1</v></c></row>', "行数上限"),  # no r on cells
        (b'<x:row r="1"><x:c r="ZZZ1"><x:v>1</x:v></x:c></x:row>', "列数上限"),  # a namespace prefix
        (b'<row r="12345678"><c r="B12345678"><v>1</v></c></row>', "第 12345678 行"),  # eight digits
        (b'<row r="9"><c r="ABCD9"><v>1</v></c></row>', "列数上限"),  # four letters
    ],
)
def test_far_cells_are_found_however_the_xml_is_written(tmp_path, policy, xml, reason):
    path = tmp_path / "远处.xlsx"
    path.write_bytes(make_hostile.add_cells(make_hostile.sample_bytes(), xml))
    book = read_workbook(path, path.name, 0, policy)
    assert [f.rule for f in book.findings] == ["S01"]
    assert reason in book.findings[0].message


def test_a_cell_eight_digits_down_is_refused_before_parsing(tmp_path):
    # A reference longer than any real one (Excel stops at row 1,048,576) is not a regular tag: the tag-by-tag
    # walk reads it, before python-calamine would allocate every row up to it.
    path = tmp_path / "远处.xlsx"
    cell = b'<row r="9"><c r="B12345678"><v>1</v></c></row>'
    path.write_bytes(make_hostile.add_cells(make_hostile.sample_bytes(), cell))
    with pytest.raises(Unreadable, match="12345678"):
        check_readable(path)


# Tags as spreadsheet programs write them, which the sniffer reads in numpy ...
_REGULAR_XML = st.sampled_from(
    [
        b'<row r="3">',
        b"</row>",
        b'<c r="B7" s="3"/>',
        b'<c r="AB12" t="s"><v>1</v></c>',
        b'<c r="C9"><f>1+1</f><v>2</v></c>',
        b'<c r="XFD5"/>',
        b'<c r="GS4"><v>1</v></c>',
        b'<c r="D50001"><v>1</v></c>',
        b'<c r="E3" s="1" t="inlineStr" cm="1" vm="2" ph="1" xx="a long attribute value"><is><t>a&gt;b</t></is></c>',
        b'<col min="1"/>',
        b"<!-- c -->",
    ]
)
# ... and the others, which it walks tag by tag.
_IRREGULAR_XML = st.sampled_from(
    [
        b'<c t="s" r="F2"><v>3</v></c>',
        b'<c r="g2"><v>1</v></c>',
        b'<c r="A12345678"><v>1</v></c>',
        b"<c><v>1</v></c>",
        b'<x:c r="H4"><x:v>1</x:v></x:c>',
        b'<c\nr="J8"><v>1</v></c>',
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(st.one_of(*[_REGULAR_XML] * 9, _IRREGULAR_XML), max_size=600),
    chunk=st.sampled_from([None, 7, 97, 5000]))
def test_numpy_scan_of_a_sheet_agrees_with_the_tag_by_tag_walk(pieces, chunk):
    """The sniffer reads the usual cell tags in numpy and walks the others one by one: fed the same well-formed
    sheet XML, cut into chunks anywhere, both must find the same extent, cell count, formulas and refusal. (Of a
    tag left open the two may count differently; the parser refuses such XML whatever they count.)"""
    xml = b"".join(pieces)

    def scan(fast: bool):
        scanner = sniff._XmlScan("表", sniff._Area(DEFAULT_LIMITS), DEFAULT_LIMITS)
        scanner.slow = not fast
        try:
            for start in range(0, len(xml), chunk or len(xml) or 1):
                scanner.feed(xml[start : start + (chunk or len(xml))])
            scanner.close()
        except Unreadable:  # the cell named may differ: the walk stops at the first one past a limit
            return "refused"
        extent = scanner.extent
        return extent.max_row, extent.max_column, extent.cells, scanner.formula

    assert scan(fast=True) == scan(fast=False)


@pytest.mark.parametrize("chunk", [7, 40, None])
def test_a_cell_without_its_reference_is_in_the_row_begun_before_it(chunk):
    """Some programs leave out a cell's r="…" (it is optional): the cell is in the last row begun. The numpy scan
    skips row tags, so a row begun in a chunk it read must still place such a cell, found by the walk in a
    later one, far down the sheet: 60,000 rows down is over the limit however the XML is cut."""
    xml = b'<sheetData><row r="2"><c r="A2"><v>1</v></c></row><row r="60000"><c t="s"><v>0</v></c></row></sheetData>'
    scanner = sniff._XmlScan("表", sniff._Area(DEFAULT_LIMITS), DEFAULT_LIMITS)
    with pytest.raises(Unreadable, match="第 60000 行"):
        for start in range(0, len(xml), chunk or len(xml)):
            scanner.feed(xml[start : start + (chunk or len(xml))])
        scanner.close()


@pytest.mark.parametrize("text", [b"", b"<", b"<c", b"x<c", b"<c<c", b"c<c<", b"<<cc<c" * 700])
def test_pair_positions_find_every_pair_and_none_in_the_padding(text):
    """The sniffer pads a buffer with zeros before reading it two bytes at a time: pairs are found at even and odd
    offsets alike, and the padding, which may hold anything a caller puts there, is never read as the buffer."""
    import numpy as np

    padded = np.frombuffer(text + b"x" + b"<c" * 30, dtype=np.uint8)
    found = sniff._pair_positions(padded, len(text), b"<c").tolist()
    assert found == [index for index in range(len(text) - 1) if text[index : index + 2] == b"<c"]
    assert sniff._contains(text, b"<c") == (b"<c" in text)
