"""The command line as interface.md defines it: JSON and CSV field for field, exit codes, -o/--force, rules."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import unicodedata

import pytest
from click.testing import CliRunner
from conftest import PROJECTS, edit, tweak

from tr_excel import __version__
from tr_excel.cli import main
from tr_excel.engine import validate

# interface.md, "Findings as JSON": the field order is part of the interface.
# interface.md's fields in order, then the reconciliation table issue 3 adds.
TOP_FIELDS = ["tool", "version", "policy", "inputs", "findings", "summary", "reconciliation"]
INPUT_FIELDS = ["file", "status", "projects"]
FINDING_FIELDS = [
    "rule", "severity", "file", "sheet", "row", "column", "cell", "enterprise", "project", "message", "value",
    "expected",
]  # fmt: skip
SUMMARY_FIELDS = ["error", "warning", "info"]
# rules.md: every id, and the ones that are not 错误.
RULE_IDS = (
    [f"S{n:02d}" for n in range(1, 9)]
    + [f"F{n:02d}" for n in range(1, 12)]
    + [f"R{n:02d}" for n in range(1, 23)]
    + [f"X{n:02d}" for n in range(1, 24)]
)
WARNINGS = {"F07", "F10", "F11", "R11", "R12", "R18", "R20", "X11", "X19", "X22", "X23"}
INFOS = {"S04", "S07", "X17", "X21"}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def inputs(write_book, tmp_path):
    """A folder of two workbooks with findings of every severity, one of them in a subfolder."""
    folder = tmp_path / "inputs"
    first = write_book(edit("汇总表", 0, {"企业性质": "私营", "所在县": "代县"}), name="繁峙县.xlsx", folder=folder)
    tweak(first, lambda book: setattr(book["承诺书"], "title", "承诺书（盖章版）"))  # S07 提示
    write_book(edit("汇总表", 2, {"就业人数": 12.5}), name="乡镇/代县.xlsx", folder=folder)  # F10 警告
    return folder


def test_validate_json_matches_library_report_field_for_field(runner, inputs, policy):
    result = runner.invoke(main, ["validate", str(inputs), "--format", "json"])
    assert result.exit_code == 1, result.output
    printed = json.loads(result.stdout)
    assert printed == validate([inputs], policy).as_json()
    assert list(printed) == TOP_FIELDS
    assert (printed["tool"], printed["version"], printed["policy"]) == ("tr-excel", __version__, "2024")
    assert printed["inputs"] == [
        {"file": "乡镇/代县.xlsx", "status": "ok", "projects": len(PROJECTS)},
        {"file": "繁峙县.xlsx", "status": "ok", "projects": len(PROJECTS)},
    ]
    assert all(list(entry) == INPUT_FIELDS for entry in printed["inputs"])
    findings = printed["findings"]
    assert findings and all(list(finding) == FINDING_FIELDS for finding in findings)
    assert list(printed["summary"]) == SUMMARY_FIELDS
    for severity in SUMMARY_FIELDS:
        assert printed["summary"][severity] == sum(f["severity"] == severity for f in findings) > 0
    f02 = next(f for f in findings if f["rule"] == "F02")
    assert f02 == {
        "rule": "F02",
        "severity": "error",
        "file": "繁峙县.xlsx",
        "sheet": "汇总表",
        "row": 5,
        "column": "企业性质",
        "cell": "G5",
        "enterprise": PROJECTS[0][0],
        "project": PROJECTS[0][1],
        "message": f02["message"],
        "value": "私营",
        "expected": "央企、省属国企、地方国企、民营企业、其他",
    }
    assert f02["message"].startswith("企业性质“私营”不在规定范围内")
    r18 = next(f for f in findings if f["rule"] == "R18")
    assert (r18["severity"], r18["cell"]) == ("warning", "C5")
    f10 = next(f for f in findings if f["rule"] == "F10")
    assert (f10["file"], f10["row"], f10["value"]) == ("乡镇/代县.xlsx", 7, "12.5")
    # Findings ordered by file as listed in inputs, then sheet, row, column, rule.
    order = [entry["file"] for entry in printed["inputs"]]
    assert [order.index(f["file"]) for f in findings] == sorted(order.index(f["file"]) for f in findings)


def test_validate_json_has_one_finding_a_line(runner, inputs):
    """A clerk greps findings.json for a file or a rule id: each finding, input and reconciliation row is one
    whole line of it, and the Chinese is written as it is, not as \\u escapes."""
    text = runner.invoke(main, ["validate", str(inputs), "--format", "json"]).stdout
    document = json.loads(text)
    lines = text.splitlines()
    for key in ("inputs", "findings", "reconciliation"):
        assert document[key], key
        for item in document[key]:
            assert f"    {json.dumps(item, ensure_ascii=False)}" in (line.rstrip(",") for line in lines)
    assert "\\u" not in text and "代县" in text


def test_validate_json_nulls_and_file_named_by_its_path(runner, write_book, policy):
    path = write_book(edit("承诺书", 0, {"支持方式": "奖励"}))
    result = runner.invoke(main, ["validate", str(path), "--format", "json"])
    printed = json.loads(result.stdout)
    assert printed["inputs"] == [{"file": path.name, "status": "ok", "projects": len(PROJECTS)}]
    (r03,) = printed["findings"]
    assert (r03["rule"], r03["sheet"], r03["row"], r03["cell"]) == ("R03", "承诺书", 3, "E3")
    unreadable = path.parent / "坏.xlsx"
    unreadable.write_bytes(b"not a workbook")
    result = runner.invoke(main, ["validate", str(unreadable), "--format", "json"])
    (s01,) = json.loads(result.stdout)["findings"]
    nulls = ("sheet", "row", "column", "cell", "enterprise", "project", "value")
    assert {key: s01[key] for key in nulls} == dict.fromkeys(nulls)


def test_validate_csv_has_bom_header_and_same_fields(runner, inputs, policy):
    result = runner.invoke(main, ["validate", str(inputs), "--format", "csv"])
    assert result.exit_code == 1
    assert result.stdout.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(result.stdout[1:])))
    assert rows[0] == FINDING_FIELDS
    expected = validate([inputs], policy).as_json()["findings"]
    assert len(rows) == len(expected) + 1
    for row, finding in zip(rows[1:], expected, strict=True):
        assert row == ["" if finding[name] is None else str(finding[name]) for name in FINDING_FIELDS]


def test_validate_output_file_csv_bytes_start_with_bom(runner, inputs, tmp_path):
    target = tmp_path / "问题清单.csv"
    result = runner.invoke(main, ["validate", str(inputs), "--format", "csv", "-o", str(target)])
    assert result.exit_code == 1
    assert result.stdout == ""
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf" + ",".join(FINDING_FIELDS).encode())


def test_validate_refuses_existing_output_without_force(runner, inputs, tmp_path):
    target = tmp_path / "findings.json"
    target.write_text("keep me", encoding="utf-8")
    refused = runner.invoke(main, ["validate", str(inputs), "--format", "json", "-o", str(target)])
    assert refused.exit_code == 2
    assert "--force" in refused.output
    assert target.read_text(encoding="utf-8") == "keep me"
    forced = runner.invoke(main, ["validate", str(inputs), "--format", "json", "-o", str(target), "--force"])
    assert forced.exit_code == 1
    assert list(json.loads(target.read_text(encoding="utf-8"))) == TOP_FIELDS


def test_validate_no_input_is_usage_error(runner, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "说明.txt").write_text("没有工作簿", encoding="utf-8")
    (empty / "~$锁文件.xlsx").write_bytes(b"\x00")
    for args in (["validate"], ["validate", str(empty)], ["validate", str(tmp_path / "no_such_folder")]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output


def test_validate_bad_option_and_unknown_policy_are_usage_errors(runner, write_book):
    path = write_book()
    assert runner.invoke(main, ["validate", str(path), "--format", "xml"]).exit_code == 2
    assert runner.invoke(main, ["validate", str(path), "--policy", "1999"]).exit_code == 2


def test_validate_clean_workbook_exits_0(runner, write_book):
    result = runner.invoke(main, ["validate", str(write_book())])
    assert result.exit_code == 0, result.output
    assert "未发现问题" in result.stdout


def test_validate_corrupt_file_among_good_ones(runner, inputs):
    (inputs / "损坏.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    result = runner.invoke(main, ["validate", str(inputs)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "S01" in result.stdout and "F02" in result.stdout and "F10" in result.stdout
    printed = json.loads(runner.invoke(main, ["validate", str(inputs), "--format", "json"]).stdout)
    assert {(entry["file"], entry["status"]) for entry in printed["inputs"]} == {
        ("乡镇/代县.xlsx", "ok"),
        ("损坏.xlsx", "unreadable"),
        ("繁峙县.xlsx", "ok"),
    }
    assert [f["file"] for f in printed["findings"] if f["rule"] == "S01"] == ["损坏.xlsx"]


def test_rules_json_lists_every_rule_of_the_catalogue(runner):
    result = runner.invoke(main, ["rules", "--format", "json"])
    assert result.exit_code == 0
    rules = json.loads(result.stdout)
    assert [rule["id"] for rule in rules] == RULE_IDS
    for rule in rules:
        assert list(rule) == ["id", "severity", "title", "source"]
        expected = "warning" if rule["id"] in WARNINGS else "info" if rule["id"] in INFOS else "error"
        assert rule["severity"] == expected, rule
        assert rule["title"] and rule["source"]


def test_rules_text_lists_every_rule(runner):
    text = runner.invoke(main, ["rules"]).stdout
    assert [line.split()[0] for line in text.splitlines()] == RULE_IDS


def test_python_dash_m_validate_json(inputs, policy):
    result = subprocess.run(
        [sys.executable, "-m", "tr_excel", "validate", str(inputs), "--format", "json"],
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr.decode("utf-8", "replace")
    assert json.loads(result.stdout.decode("utf-8")) == validate([inputs], policy).as_json()
    assert result.stderr == b""


def test_the_console_script_ends_with_the_commands_exit_status_and_whole_output(tmp_path):
    # run() ends the process without the usual clean-up: what was printed must still be there, and the status.
    def console(*arguments):
        return subprocess.run([sys.executable, "-m", "tr_excel", *arguments], capture_output=True, timeout=120)

    listed = console("rules")
    assert listed.returncode == 0 and listed.stdout.decode("utf-8").split()[0] == RULE_IDS[0]
    missing = console("validate", str(tmp_path / "没有这个文件.xlsx"))
    assert missing.returncode == 2 and "没有这个文件.xlsx" in missing.stderr.decode("utf-8")


def test_missing_input_path_is_a_usage_error(tmp_path):
    from click.testing import CliRunner

    from tr_excel.cli import main

    result = CliRunner().invoke(main, ["validate", str(tmp_path / "没有这个文件.xlsx")])
    assert result.exit_code == 2
    assert "没有这个文件.xlsx" in result.output


def test_output_redirected_in_gbk_prints_unencodable_characters_as_question_marks(write_book, tmp_path):
    """On a Chinese Windows a report redirected to a file is written in GBK, which has no emoji: the character a
    county typed prints as "?" and the report is whole, instead of ending in a UnicodeEncodeError."""
    path = write_book(edit("汇总表", 0, {"企业性质": "民营😀"}))
    result = subprocess.run(
        [sys.executable, "-m", "tr_excel", "validate", str(path)],
        env={**os.environ, "PYTHONIOENCODING": "gbk"},
        capture_output=True,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr.decode("gbk", "replace")
    printed = result.stdout.decode("gbk")
    assert "企业性质“民营?”不在规定范围内" in printed and "共 1 个文件" in printed
    assert b"Traceback" not in result.stderr


LONG_NAME = "忻州经济开发区经济发展部/二〇二四年技术改造专项资金申报材料汇总（第二批）.xlsx"


@pytest.mark.parametrize("name", ["忻州市忻府区.xlsx", "a.xlsx", LONG_NAME, ""])
def test_progress_line_is_forty_cells_wide_whatever_the_name(name):
    """The progress line is redrawn in place: every name takes the same 40 terminal cells (a Chinese character
    two), so a short name covers a long one and the line never wraps."""
    from tr_excel.cli import _cells

    def cells(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)

    shown = _cells(name, 40)
    assert cells(shown) == 40
    kept = shown.rstrip(" ")
    assert kept == name if cells(name) <= 40 else (name.startswith(kept) and cells(kept) >= 39)
