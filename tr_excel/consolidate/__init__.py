"""consolidate: validate a batch, then write 汇总表.xlsx, 审核报告.xlsx, findings.json and the 退回 copies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tr_excel.consolidate.projects import Selection, select
from tr_excel.consolidate.returns import RETURN_DIR, RETURN_SUFFIX, annotate, return_names
from tr_excel.consolidate.review import review_bytes
from tr_excel.consolidate.summary import summary_bytes
from tr_excel.engine import Report, validate
from tr_excel.findings import Finding
from tr_excel.output import as_json, write_atomic
from tr_excel.policy import Policy
from tr_excel.reconcile import reconciliation

SUMMARY_FILE = "汇总表.xlsx"
REVIEW_FILE = "审核报告.xlsx"
FINDINGS_FILE = "findings.json"


class OutdirRefused(Exception):
    """The output folder cannot be used (a usage problem, exit 2); str() is the Chinese reason."""


@dataclass
class ConsolidateResult:
    """The validation report, which projects went into the 汇总表, and every file written (summary first)."""

    report: Report
    selection: Selection
    written: list[Path] = field(default_factory=list)


def check_outdir(outdir: Path, paths: list[Path], force: bool) -> None:
    """Refuse an output folder that is a file, lies inside an input folder, or is not empty (without force)."""
    if outdir.exists() and not outdir.is_dir():
        raise OutdirRefused(f"输出位置 {outdir} 是一个文件，不是文件夹")
    target = outdir.resolve()
    for path in paths:
        root = path.resolve()
        if root.is_dir() and (target == root or root in target.parents):
            # The next run over that folder would read the 汇总表 and the 退回 copies as submissions.
            raise OutdirRefused(f"输出文件夹 {outdir} 位于输入文件夹 {path} 之内，请换一个输出文件夹")
    if outdir.is_dir() and any(outdir.iterdir()) and not force:
        raise OutdirRefused(f"输出文件夹 {outdir} 不是空的；如需覆盖请加 --force")


def consolidate(
    paths: list[Path],
    outdir: Path,
    unit: str,
    policy: Policy,
    include_errors: bool = False,
    force: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> ConsolidateResult:
    """Validate every workbook under paths and write the outputs of interface.md into outdir.

    Raises OutdirRefused before reading anything when outdir cannot be used, and engine.NoInput when no
    workbook is found. Every file is written under a temporary name and renamed.
    """
    check_outdir(outdir, paths, force)
    report = validate(paths, policy, progress)
    selection = select(report, include_errors)
    result = ConsolidateResult(report, selection)

    def write(relative: str, data: bytes | str) -> None:
        path = outdir / relative
        write_atomic(path, data, force=True)
        result.written.append(path)

    by_book: dict[int, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        by_book[finding.file_index].append(finding)
    returned = [book for book in report.books if book.readable and by_book[book.index]]
    names = return_names(returned)
    anchors: dict[Finding, tuple[str, str]] = {}
    copies: list[Path] = []
    for book in returned:
        annotated = annotate(book, by_book[book.index])
        anchors.update(annotated.anchors)
        path = outdir / RETURN_DIR / names[book.index]
        write_atomic(path, annotated.data, force=True)
        copies.append(path)
    write(SUMMARY_FILE, summary_bytes(selection.included, policy, unit))
    write(REVIEW_FILE, review_bytes(report, selection, unit, names, anchors, reconciliation(report.batch)))
    write(FINDINGS_FILE, as_json(report))
    result.written.extend(copies)
    # With --force over an earlier run: a return copy this run did not write is stale and must not be sent out.
    for stale in sorted((outdir / RETURN_DIR).glob(f"*{RETURN_SUFFIX}")):
        if stale not in result.written:
            stale.unlink()
    return result
