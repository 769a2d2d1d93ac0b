"""Findings as text a clerk reads, as JSON and CSV for machines; files written atomically."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tr_excel.findings import PUBLIC_FIELDS, SEVERITY_LABEL
from tr_excel.rules.registry import RULES

if TYPE_CHECKING:  # pandas and the rules load only for the commands that validate
    from tr_excel.engine import Report


class OutputExists(Exception):
    """The output exists and --force was not given (a usage problem, exit 2)."""


def as_text(report: Report) -> str:
    """Findings grouped by file and sheet, then a one-line count."""
    lines: list[str] = []
    by_file: dict[str, list] = {}
    for finding in report.findings:
        by_file.setdefault(finding.file, []).append(finding)
    for entry in report.inputs():
        name = entry["file"]
        findings = by_file.get(name, [])
        status = "无法读取" if entry["status"] == "unreadable" else f"{entry['projects']} 个项目"
        lines.append(f"■ {name}（{status}）：" + ("未发现问题" if not findings else f"{len(findings)} 条"))
        sheet = object()
        for finding in findings:
            if finding.sheet != sheet:
                sheet = finding.sheet
                lines.append(f"  【{sheet or '整个文件'}】")
            where = f"第{finding.row}行 " if finding.row else ""
            where += f"{finding.cell} " if finding.cell else ""
            label = SEVERITY_LABEL[finding.severity]
            subject = f"{finding.project}：" if finding.project else ""
            lines.append(f"    {where}[{label} {finding.rule}] {subject}{finding.message}")
    summary = report.summary
    lines.append("")
    lines.append(
        f"共 {len(report.inputs())} 个文件：错误 {summary['error']} 条，警告 {summary['warning']} 条，"
        f"提示 {summary['info']} 条（政策：{report.policy.name} 年度）"
    )
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> str:
    return _json_text(report.as_json())


def _json_text(document: dict) -> str:
    """The document with one key a line and one list item (a finding, an input, a reconciliation row) a line:
    as easy to read and to grep as an indented dump, and written by json's C encoder, which indent turns off
    (a province's findings and reconciliation took a fifth of a second indented)."""
    lines = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            items = ",\n    ".join(json.dumps(item, ensure_ascii=False) for item in value)
            lines.append(f"  {json.dumps(key, ensure_ascii=False)}: [\n    {items}\n  ]")
        else:
            lines.append(f"  {json.dumps(key, ensure_ascii=False)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_json(job: tuple) -> None:
    """Write a report's JSON (engine.json_document's arguments, then the path) under a temporary name: in a pool
    worker, while the parent writes the 审核报告."""
    from tr_excel.engine import json_document

    *parts, path = job
    write_atomic(path, _json_text(json_document(*parts)), force=True)


def as_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(PUBLIC_FIELDS)
    for finding in report.findings:
        writer.writerow([_csv_cell(value) for value in finding.public().values()])
    # A BOM so that Excel opens the Chinese text as UTF-8.
    return "\ufeff" + buffer.getvalue()


# Excel runs a CSV cell that starts with one of these as a formula; a county's text must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _csv_cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text  # the apostrophe Excel itself uses to mark a cell as text
    return text


FORMATS = {"text": as_text, "json": as_json, "csv": as_csv}


def rules_text() -> str:
    lines = []
    for rule in RULES.values():
        lines.append(f"{rule.id}  {SEVERITY_LABEL[rule.severity]}  {rule.title}（来源：{rule.source}）")
    return "\n".join(lines) + "\n"


def rules_json() -> str:
    rules = [
        {"id": rule.id, "severity": rule.severity, "title": rule.title, "source": rule.source}
        for rule in RULES.values()
    ]
    return json.dumps(rules, ensure_ascii=False, indent=2) + "\n"


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put back at once
    os.umask(mask)
    return mask


_UMASK = _umask()


# What to do when Windows refuses to replace or delete an output: it is nearly always open in a spreadsheet.
OPEN_ELSEWHERE = "如该文件正在 Excel 或 WPS 中打开，请先关闭再重试"


def write_atomic(path: Path, data: bytes | str, force: bool = False) -> None:
    """Write a file under a temporary name in its folder and rename it, so nothing half-written is left."""
    if path.exists() and not force:
        raise OutputExists(f"输出文件 {path} 已存在；如需覆盖请加 --force")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tr-excel-", suffix=".tmp")
    except OSError as error:
        reason = error.strerror or error
        raise OSError(f"无法在文件夹 {path.parent} 中写入文件（{reason}），请检查文件夹权限") from error
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        try:
            # mkstemp makes the file readable by its owner only; an output is shared like any file the user makes.
            os.chmod(temporary, 0o666 & ~_UMASK)
        except OSError:
            pass  # a file system without Unix permissions (FAT on a USB stick, mounted on Linux) refuses: no matter
        _replace(temporary, path)
    except PermissionError as error:
        # On Windows a file open in Excel or WPS cannot be replaced: the usual reason a second run fails.
        _discard(temporary)
        raise OSError(f"无法写入 {path}（{error.strerror or error}）：{OPEN_ELSEWHERE}") from error
    except BaseException:
        _discard(temporary)
        raise


def _discard(temporary: str) -> None:
    """Delete a temporary file, if it can be: the error being raised matters more than a scanner holding it."""
    try:
        Path(temporary).unlink(missing_ok=True)
    except OSError:
        pass


# How long a rename refused by Windows is tried again: an antivirus or a sync client (OneDrive) that has just
# opened the new file to scan it holds it for a moment; Excel or WPS holding the old one does not let go.
REPLACE_ATTEMPTS = 5
REPLACE_PAUSE_S = 0.2


def _replace(source: str, target: Path) -> None:
    """os.replace, tried again a few times while Windows refuses it (PermissionError)."""
    for attempt in range(REPLACE_ATTEMPTS):
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if attempt == REPLACE_ATTEMPTS - 1:
                raise
            time.sleep(REPLACE_PAUSE_S)
