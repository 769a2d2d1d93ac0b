"""consolidate: validate a batch, then write 汇总表.xlsx, 审核报告.xlsx, findings.json and the 退回 copies."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tr_excel.consolidate.projects import Selection, select
from tr_excel.consolidate.returns import (
    DEFAULT_MAX_ANNOTATED_CELLS,
    RETURN_DIR,
    RETURN_SUFFIX,
    return_job,
    return_names,
    write_return,
)
from tr_excel.consolidate.review import Review
from tr_excel.consolidate.summary import summary_data, write_summary
from tr_excel.engine import PARALLEL_MIN_FILES, Report, validate, worker_pool
from tr_excel.findings import Finding
from tr_excel.output import OPEN_ELSEWHERE, write_atomic, write_json
from tr_excel.policy import Policy

SUMMARY_FILE = "汇总表.xlsx"
REVIEW_FILE = "审核报告.xlsx"
FINDINGS_FILE = "findings.json"
OUTPUT_FILES = (SUMMARY_FILE, REVIEW_FILE, FINDINGS_FILE)  # in the order a run lists what it wrote


class OutdirRefused(Exception):
    """The output folder cannot be used (a usage problem, exit 2); str() is the Chinese reason."""


@dataclass
class ConsolidateResult:
    """The validation report, which projects went into the 汇总表, and every file written (summary first)."""

    report: Report
    selection: Selection
    written: list[Path] = field(default_factory=list)


def check_outdir(outdir: Path, paths: list[Path], force: bool) -> None:
    """Refuse an output folder that is a file, lies inside an input folder, would overwrite or delete an
    input (an input that is one of the output files or lies in 退回), or is not empty (without force)."""
    if outdir.exists() and not outdir.is_dir():
        raise OutdirRefused(f"输出位置 {outdir} 是一个文件，不是文件夹")
    for path in paths:
        if path.is_dir() and _within(outdir, path):
            # The next run over that folder would read the 汇总表 and the 退回 copies as submissions.
            raise OutdirRefused(f"输出文件夹 {outdir} 位于输入文件夹 {path} 之内，请换一个输出文件夹")
    check_inputs_kept(outdir, paths)
    if outdir.is_dir() and any(outdir.iterdir()) and not force:
        raise OutdirRefused(f"输出文件夹 {outdir} 不是空的；如需覆盖请加 --force")


def check_inputs_kept(outdir: Path, inputs: list[Path]) -> None:
    """Refuse to run when an input is a file the run writes (汇总表.xlsx, 审核报告.xlsx, findings.json) or lies
    in OUTDIR/退回, where every earlier return copy is replaced or deleted: even --force never touches an input."""
    written = [outdir / name for name in OUTPUT_FILES]
    for path in inputs:
        if _within(path, outdir / RETURN_DIR) or any(_same(path, output) for output in written):
            raise OutdirRefused(f"输入 {path} 位于输出文件夹 {outdir} 中，会被本次输出覆盖或删除，请换一个输出文件夹")


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a link that loops back to itself (Python < 3.13)
        return path.absolute()


def _same(path: Path, other: Path) -> bool:
    """One file or folder under both names: through links, hard links and case-insensitive file systems too."""
    if _resolved(path) == _resolved(other):
        return True
    try:
        return os.path.samefile(path, other)
    except (OSError, ValueError):  # either does not exist (or cannot be looked at): not the same
        return False


def _within(path: Path, folder: Path) -> bool:
    """path is folder or lies somewhere below it."""
    inner, outer = _resolved(path), _resolved(folder)
    if inner == outer or outer in inner.parents:
        return True
    return folder.exists() and any(_same(candidate, outer) for candidate in inner.parents)


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
    # One pool for both: its workers fork while this process is still small (see worker_pool), read the books,
    # then write the return copies.
    pool = worker_pool()
    try:
        report = validate(paths, policy, progress, pool)
        # A file found under an input folder may be a link to an output of an earlier run.
        check_inputs_kept(outdir, [book.path for book in report.books])
        selection = select(report, include_errors)
        result = ConsolidateResult(report, selection)
        by_book: dict[int, list[Finding]] = defaultdict(list)
        for finding in report.findings:
            by_book[finding.file_index].append(finding)
        returned = [book for book in report.books if book.readable and by_book[book.index]]
        names = return_names(returned)
        max_cells = policy.limits.get("max_annotated_cells", DEFAULT_MAX_ANNOTATED_CELLS)
        copies = [outdir / RETURN_DIR / names[book.index] for book in returned]
        jobs = [
            return_job(book, by_book[book.index], max_cells, path) for book, path in zip(returned, copies, strict=True)
        ]
        # A pool starts its workers at its first task: a batch too small to read in parallel writes its outputs
        # here too, without forking a worker per core for them.
        pool_used = pool if pool is not None and len(report.books) >= PARALLEL_MIN_FILES else None
        # In order, as written one after the other: the anchors and notes come back in the books' order.
        done = pool_used.map(write_return, jobs) if pool_used is not None else map(write_return, jobs)
        # The 汇总表 and findings.json need no return copy: what they show is worked out here while the workers
        # write the copies, and the workers write them while this process writes the 审核报告, which needs to
        # know where the copies' comments went.
        summary_job = (summary_data(selection.included), policy, unit, outdir / SUMMARY_FILE)
        json_job = (*report.json_parts(), outdir / FINDINGS_FILE)
        writers = [(write_summary, summary_job), (write_json, json_job)]
        pending = [pool_used.submit(write, job) for write, job in writers] if pool_used is not None else []
        # The sheets of the 审核报告 that need no return copy while the workers write the copies, then the others.
        review = Review(report, selection, unit)
        anchors: dict[Finding, tuple[str, str]] = {}
        notes: dict[int, str] = {}
        for book, (book_anchors, note) in zip(returned, done, strict=True):
            anchors.update(book_anchors)
            if note:
                notes[book.index] = note
        review_data = review.finish(names, anchors, notes)
        for written in pending:
            written.result()
        if pool_used is None:
            for write, job in writers:
                write(job)
    finally:
        if pool is not None:
            pool.shutdown()
    write_atomic(outdir / REVIEW_FILE, review_data, force=True)
    result.written.extend(outdir / name for name in OUTPUT_FILES)
    result.written.extend(copies)
    # With --force over an earlier run: a return copy this run did not write is stale and must not be sent out.
    for stale in sorted((outdir / RETURN_DIR).glob(f"*{RETURN_SUFFIX}")):
        if stale not in result.written:
            try:
                stale.unlink()
            except OSError as error:
                raise OSError(
                    f"无法删除上次运行留下的退回文件 {stale}（{error.strerror or error}），它已不是本次的审核意见，"
                    f"不能发出：{OPEN_ELSEWHERE}"
                ) from error
    return result
