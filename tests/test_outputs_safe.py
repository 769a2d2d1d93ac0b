"""Outputs: written atomically, never over an existing file without --force, and no text from an input
turns into a formula in them (formula injection). Covers what `validate -o` and `template` write; the
consolidate outputs (汇总表, 审核报告, 退回 copies, their names and OUTDIR) are tested with consolidate."""

from __future__ import annotations

import csv
import io
import os
import random
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tr_excel import output
from tr_excel.cli import main
from tr_excel.output import OutputExists, write_atomic
from tr_excel.synth import clean_project, write_submission

# Text that a spreadsheet program would run as a formula, alone or after a tab or carriage return.
PAYLOADS = ["=1+1", "+1+1", "-1+1", "@SUM(1,1)", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0", '=HYPERLINK("http://x","点")']
DANGEROUS_START = tuple("=+-@\t\r")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _refusing(number: int, reason: str):
    """A stand-in for os.replace, os.chmod, mkstemp or unlink that Windows (or a file system) refuses."""

    def refuse(*args, **kwargs):
        raise PermissionError(number, reason)

    return refuse


def _leftovers(folder: Path) -> list[str]:
    return [path.name for path in folder.iterdir() if path.name.startswith(".tr-excel-")]


def test_write_atomic_refuses_an_existing_file_without_force(tmp_path):
    target = tmp_path / "问题.json"
    target.write_text("原有内容", encoding="utf-8")
    with pytest.raises(OutputExists):
        write_atomic(target, "新内容")
    assert target.read_text(encoding="utf-8") == "原有内容"
    write_atomic(target, "新内容", force=True)
    assert target.read_text(encoding="utf-8") == "新内容"
    assert _leftovers(tmp_path) == []


def test_outputs_get_the_permissions_of_any_file_the_user_makes(tmp_path):
    # The temporary file behind write_atomic is created readable by its owner only (mkstemp).
    target = tmp_path / "报告.json"
    write_atomic(target, "{}")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_write_atomic_keeps_the_old_file_when_the_rename_fails(tmp_path, monkeypatch):
    target = tmp_path / "问题.csv"
    target.write_bytes(b"old")

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "replace", fail)
    with pytest.raises(OSError):
        write_atomic(target, b"new", force=True)
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_write_atomic_leaves_nothing_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "问题.csv"
    real_fdopen = output.os.fdopen

    class Broken(io.RawIOBase):
        def __init__(self, handle):
            self.inner = real_fdopen(handle, "wb")

        def write(self, data):
            self.inner.write(bytes(data[:10]))
            raise OSError(28, "No space left on device")

        def close(self):
            self.inner.close()

    monkeypatch.setattr(output.os, "fdopen", lambda handle, mode: Broken(handle))
    with pytest.raises(OSError):
        write_atomic(target, b"x" * 1000)
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_validate_output_is_never_overwritten_without_force(tmp_path, policy):
    book = tmp_path / "in" / "繁峙县.xlsx"
    book.parent.mkdir()
    (tmp_path / "问题.txt").write_text("旧的审核结果", encoding="utf-8")
    _write_book(book, policy)
    runner = CliRunner()
    refused = runner.invoke(main, ["validate", str(book.parent), "-o", str(tmp_path / "问题.txt")])
    assert refused.exit_code == 2
    assert (tmp_path / "问题.txt").read_text(encoding="utf-8") == "旧的审核结果"
    forced = runner.invoke(main, ["validate", str(book.parent), "-o", str(tmp_path / "问题.txt"), "--force"])
    assert forced.exit_code in (0, 1)
    assert "旧的审核结果" not in (tmp_path / "问题.txt").read_text(encoding="utf-8")
    assert _leftovers(tmp_path) == []


def test_template_is_never_overwritten_without_force(tmp_path):
    target = tmp_path / "模板.xlsx"
    target.write_bytes(b"not yet")
    runner = CliRunner()
    assert runner.invoke(main, ["template", "-o", str(target)]).exit_code == 2
    assert target.read_bytes() == b"not yet"
    assert runner.invoke(main, ["template", "-o", str(target), "--force"]).exit_code == 0
    assert zipfile.is_zipfile(target)
    assert _leftovers(tmp_path) == []


def _write_book(path: Path, policy, payloads: list[str] | None = None) -> None:
    """A clean county workbook; with payloads, formula-like text in every place findings echo back."""
    p = payloads or []
    enterprise = (p[0] + "机械有限公司") if p else "繁峙机械有限公司"
    project = (p[1] + "改造项目") if p else "生产线改造项目"
    submission = clean_project(
        policy, random.Random(3), enterprise=enterprise, project=project, direction_name="智能化升级"
    )
    submission.unit = "忻州市繁峙县工业和信息化局"
    if p:
        summary = submission.rows["汇总表"][0]
        summary["项目联系人及手机"] = p[2]  # F05, value echoed
        summary["申请专项资金"] = p[3]  # F03
        summary["完工时间"] = p[4]  # F04
        summary["企业性质"] = p[5]  # F02
        submission.rows["申报主体"][0]["统一社会信用代码"] = p[6]  # F06
        submission.rows["投资明细"][0]["对应发票编号"] = p[7]  # F09
    write_submission(path, submission, policy)


def test_csv_output_writes_formula_like_input_text_as_text(tmp_path, policy):
    folder = tmp_path / "in"
    folder.mkdir()
    _write_book(folder / "=1+1繁峙县.xlsx", policy, PAYLOADS)
    target = tmp_path / "问题.csv"
    result = CliRunner().invoke(main, ["validate", str(folder), "--format", "csv", "-o", str(target)])
    assert result.exit_code == 1, result.output
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    values = {field for row in rows[1:] for field in row}
    # The payloads did reach the findings (else this test proves nothing) ...
    assert any(field.lstrip("'").startswith(("=1+1", "-1+1", "@SUM")) for field in values)
    # ... and none of them starts a field as Excel would run it.
    dangerous = sorted(f for f in values if f.startswith(DANGEROUS_START) and not PLAIN_NUMBER.fullmatch(f))
    assert dangerous == []


def _formulas(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return sorted(
            formula.decode()
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
            for formula in re.findall(rb"<f(?:\s[^>]*)?>(.*?)</f>", archive.read(name), re.S)
        )


def test_template_writes_the_unit_as_text_never_as_a_formula(tmp_path):
    runner = CliRunner()
    plain = tmp_path / "plain.xlsx"
    assert runner.invoke(main, ["template", "-o", str(plain), "--unit", "忻州市繁峙县工业和信息化局"]).exit_code == 0
    own = _formulas(plain)
    for number, payload in enumerate(PAYLOADS):
        target = tmp_path / f"t{number}.xlsx"
        assert runner.invoke(main, ["template", "-o", str(target), "--unit", payload]).exit_code == 0
        assert _formulas(target) == own, payload  # our own formulas only, none from the unit
        unit_line = openpyxl.load_workbook(target)["汇总表"]["A2"]
        assert unit_line.data_type == "s" and payload.strip() in unit_line.value, payload


def test_an_output_open_in_excel_is_named_with_what_to_do(tmp_path, monkeypatch):
    """Windows refuses to replace a file Excel or WPS has open (PermissionError): the message says which file and
    to close it, in Chinese, and the old file and no temporary one are left."""
    target = tmp_path / "汇总表.xlsx"
    target.write_bytes(b"old")

    refuse = _refusing(13, "另一个程序正在使用此文件，进程无法访问。")

    monkeypatch.setattr(output.os, "replace", refuse)
    monkeypatch.setattr(output, "REPLACE_PAUSE_S", 0)
    with pytest.raises(OSError, match="汇总表.xlsx.*正在 Excel 或 WPS 中打开，请先关闭再重试"):
        write_atomic(target, b"new", force=True)
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_an_output_folder_without_write_permission_is_named(tmp_path, monkeypatch):
    refuse = _refusing(13, "Permission denied")

    monkeypatch.setattr(output.tempfile, "mkstemp", refuse)
    with pytest.raises(OSError, match="无法在文件夹 .*只读 中写入文件（Permission denied），请检查文件夹权限"):
        write_atomic(tmp_path / "只读" / "问题.json", "{}")


def test_consolidate_reports_an_output_it_cannot_replace_as_a_usage_problem(tmp_path, monkeypatch, write_book):
    """The command line prints the message (exit 2), never a traceback."""
    write_book(folder=tmp_path / "in")

    refuse = _refusing(13, "Permission denied")

    monkeypatch.setattr(output.os, "replace", refuse)
    monkeypatch.setattr(output, "REPLACE_PAUSE_S", 0)
    result = CliRunner().invoke(
        main, ["consolidate", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--unit", "忻州市工业和信息化局"]
    )
    assert result.exit_code == 2, result.output
    assert "请先关闭再重试" in result.output and result.exception.__class__ is SystemExit


def test_an_output_is_written_where_permissions_cannot_be_set(tmp_path, monkeypatch):
    """A FAT-formatted USB stick mounted on Linux refuses chmod: the output is still written, whole."""

    refuse = _refusing(1, "Operation not permitted")

    monkeypatch.setattr(output.os, "chmod", refuse)
    write_atomic(tmp_path / "汇总表.xlsx", b"new")
    assert (tmp_path / "汇总表.xlsx").read_bytes() == b"new"
    assert _leftovers(tmp_path) == []


def test_a_rename_refused_for_a_moment_is_tried_again(tmp_path, monkeypatch):
    """An antivirus or OneDrive scanning the new file holds it for a moment on Windows: the rename is tried again
    rather than the run stopping."""
    target = tmp_path / "审核报告.xlsx"
    target.write_bytes(b"old")
    replace, refusals = output.os.replace, []

    def busy(source, destination):
        if len(refusals) < output.REPLACE_ATTEMPTS - 1:
            refusals.append(destination)
            raise PermissionError(13, "Access is denied")
        replace(source, destination)

    monkeypatch.setattr(output.os, "replace", busy)
    monkeypatch.setattr(output, "REPLACE_PAUSE_S", 0)
    write_atomic(target, b"new", force=True)
    assert target.read_bytes() == b"new" and len(refusals) == output.REPLACE_ATTEMPTS - 1
    assert _leftovers(tmp_path) == []


def test_a_temporary_file_held_by_a_scanner_does_not_hide_the_reason(tmp_path, monkeypatch):
    """When the rename fails and the temporary file cannot be deleted either (a scanner holds it), the error the
    clerk sees is still the one that says which output and what to do."""

    refuse = _refusing(13, "Access is denied")

    monkeypatch.setattr(output.os, "replace", refuse)
    monkeypatch.setattr(output, "REPLACE_PAUSE_S", 0)
    monkeypatch.setattr(Path, "unlink", refuse)
    with pytest.raises(OSError, match="无法写入 .*汇总表.xlsx.*请先关闭再重试"):
        write_atomic(tmp_path / "汇总表.xlsx", b"new")
