"""Validate a batch: read every workbook, run every registered rule, collect the findings in order."""

from __future__ import annotations

import gc
import math
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd

from tr_excel import __version__
from tr_excel.batch import Batch
from tr_excel.columns import SUMMARY
from tr_excel.findings import Finding, summarise
from tr_excel.policy import Policy
from tr_excel.reader import Workbook, discover, read_workbook
from tr_excel.reconcile import reconciliation
from tr_excel.rules.registry import ACROSS_FILES, CHECKS, RULES
from tr_excel.tables import build_frames

# Below this many files a process pool costs more to start than it saves.
PARALLEL_MIN_FILES = 8
# ProcessPoolExecutor refuses more workers than this on Windows (a server with 64 cores would stop at once).
WINDOWS_MAX_WORKERS = 61


class NoInput(Exception):
    """No workbook was found under the given paths (a usage problem, exit 2)."""


@dataclass
class Report:
    """The result of a validation run."""

    policy: Policy
    batch: Batch
    reconciliation: pd.DataFrame  # reconcile.reconciliation of the batch, worked out group by group (validate)
    findings: list[Finding] = field(default_factory=list)

    @property
    def books(self) -> list[Workbook]:
        return self.batch.books

    @property
    def summary(self) -> dict[str, int]:
        return summarise(self.findings)

    @property
    def has_errors(self) -> bool:
        return self.summary["error"] > 0

    def inputs(self) -> list[dict]:
        return [
            {
                "file": book.file,
                "status": "ok" if book.readable else "unreadable",
                "projects": len(book.summary.rows) if book.summary is not None else 0,
            }
            for book in self.books
        ]

    def as_json(self) -> dict:
        return json_document(*self.json_parts())

    def json_parts(self) -> tuple:
        """json_document's arguments: plain values a pool worker can take."""
        return self.policy.name, self.inputs(), self.findings, self.reconciliation


def json_document(policy: str, inputs: list[dict], findings: list[Finding], table: pd.DataFrame) -> dict:
    """validate --format json and findings.json, from what a Report holds (plain values: a pool worker can
    make it, given them)."""
    return {
        "tool": "tr-excel",
        "version": __version__,
        "policy": policy,
        "inputs": inputs,
        "findings": [finding.public() for finding in findings],
        "summary": summarise(findings),
        "reconciliation": _records(table),
    }


def _records(table: pd.DataFrame) -> list[dict]:
    """The rows of a table of Python values as dicts, amounts (Decimal) as plain-decimal text: built from its
    columns' lists, which costs a third of DataFrame.to_dict's boxing of every value."""
    names = list(table.columns)  # a pandas Index yields its names one lookup at a time, and this is per row
    columns = [
        [format(value, "f") if isinstance(value, Decimal) else value for value in table[name].tolist()]
        for name in names
    ]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Python's cycle collector off for a while: while the books arrive, millions of small objects that all
    stay alive (cells, typed frames), each of which would make the collector scan every object already there
    again and again. Reference counting still frees everything that is not in a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _start_worker() -> None:
    """A pool worker starts with what its parent had imported: frozen, so that the cycle collector never scans
    those objects again (about a third of the time of reading a workbook otherwise). The collector is off:
    reading a workbook makes millions of objects, and collecting every 700 of them cost about 5 % of the
    reading; _read_in_worker collects once a workbook instead."""
    gc.freeze()
    gc.disable()


def _read_in_worker(job: tuple[Path, str, int, Policy]) -> Workbook:
    """_read_one in a pool worker, after collecting what the workbook before left in cycles (a book and its
    frames point at each other): one collection a workbook, of that workbook's objects only."""
    gc.collect()
    return _read_one(job)


def _read_one(job: tuple[Path, str, int, Policy]) -> Workbook:
    """Read one file and type its tables, in a worker: what comes back is the book with its frames."""
    path, name, index, policy = job
    book = read_workbook(path, name, index, policy)
    book.frames = build_frames(book, policy)
    for table in book.tables.values():
        # Typed in the frames; only the 汇总表's raw cells are read again (consolidate shows them as written),
        # and not sending the others halves what the parent unpickles.
        if table.kind is not SUMMARY:
            table.cells = {}
    return book


def worker_pool(tasks: int | None = None) -> ProcessPoolExecutor | None:
    """A process pool of one worker per core (at most one per task), or None on one core. Its workers start at
    the first task, each forked from the process as it is then: create it, and give it a task, before the
    parent holds much (a worker forked from a parent holding every book would count all of it in its RSS)."""
    workers = min(os.cpu_count() or 1, tasks or os.cpu_count() or 1)
    if sys.platform == "win32":
        workers = min(workers, WINDOWS_MAX_WORKERS)
    return ProcessPoolExecutor(max_workers=workers, initializer=_start_worker) if workers > 1 else None


def read_batch(
    paths: list[Path],
    policy: Policy,
    progress: Callable[[int, int, str], None] | None = None,
    pool: Executor | None = None,
    meanwhile: Callable[[], None] | None = None,
    arrived: Callable[[Workbook, int], None] | None = None,
) -> list[Workbook]:
    """Read every workbook under the paths and type its tables, in parallel over the cores when there are many.

    Each file is read once, in one worker, which also builds its frames (validate takes them from there). The
    pool, when given, is the caller's (consolidate uses its workers again for the return copies) and stays open.
    meanwhile, when given, is called once the workers have their files (before reading, without a pool);
    arrived with each book as it comes, in order, and how many books the workers are still reading (0 when
    nothing is read beside this process).
    """
    files = discover(paths)
    if not files:
        raise NoInput("在给出的路径下没有找到 Excel 工作簿（.xlsx/.xlsm/.xls）")
    jobs = [(path, name, index, policy) for index, (path, name) in enumerate(files)]
    books: list[Workbook] = []
    parallel = len(jobs) >= PARALLEL_MIN_FILES
    own = pool is None and parallel
    if own:
        pool = worker_pool(len(jobs))
    try:
        # One file a task: files differ in size, and a task costs far less than reading a file. The built-in map
        # reads lazily, so meanwhile runs before the first file either way.
        pooled = pool is not None and parallel
        read = pool.map(_read_in_worker, jobs) if pooled else map(_read_one, jobs)
        if meanwhile:
            meanwhile()
        for book in read:
            books.append(book)
            if arrived:
                arrived(book, len(jobs) - len(books) if pooled else 0)
            if progress:
                progress(len(books), len(jobs), book.file)
    finally:
        if own and pool is not None:
            pool.shutdown()
    return books


def _load_rules(policy: Policy) -> None:
    """Import the rule modules, which registers them, and have pandera load what it loads on a first validation:
    done while the workers read (they start sooner without pandera, and this process would wait anyway)."""
    from tr_excel.rules import cells, cross, project  # noqa: F401

    cells.warm_up(policy)


def group_size(books: int) -> int:
    """How many workbooks validate checks at a time while the workers read on.

    A group's rules cost about 0.1 s whatever its size (pandas' cost per operation, a few dozen operations a
    rule) plus about 5 ms a workbook. Every group but the last runs beside the workers, the last after them, on
    one core: k groups of n books cost about (k - 1) × 0.1 / 2 + 0.1 + 0.005 n / k seconds of the run, least
    near k = √(n / 10), that is groups of √(10 n) books (35 of 120, 100 of 1,000).
    """
    return max(PARALLEL_MIN_FILES, round(math.sqrt(10 * books)))


def validate(
    paths: list[Path],
    policy: Policy,
    progress: Callable[[int, int, str], None] | None = None,
    pool: Executor | None = None,
) -> Report:
    """Read, validate and cross-check every workbook under the paths (in the caller's pool when given one).

    The rules that read one workbook at a time run on groups of workbooks as they arrive, while the workers
    read on (this process would wait anyway; a group costs far less than its workbooks one by one); the rules
    that compare workbooks (registry.ACROSS_FILES) run over them all once the last has arrived.
    """
    findings: list[Finding] = []
    tables: list[pd.DataFrame] = []  # the reconciliation of each group, in file order
    checked = 0  # books whose group has been checked
    pending: list[Workbook] = []

    def check_group() -> None:
        nonlocal checked
        group = Batch.of(policy, list(pending))
        for book in pending:
            findings.extend(book.findings)
        for rule_id in RULES:
            if rule_id in CHECKS and rule_id not in ACROSS_FILES:
                findings.extend(CHECKS[rule_id](group))
        tables.append(reconciliation(group))
        checked += len(pending)
        pending.clear()

    def arrived(book: Workbook, still_reading: int) -> None:
        pending.append(book)
        if still_reading and len(pending) >= group_size(checked + len(pending) + still_reading):
            check_group()

    # Also while the books arrive from the workers and are unpickled, and while the rules over them all run: a
    # collection then would walk every cell of the batch, and the rules make no cycles worth collecting.
    with _no_cyclic_gc():
        books = read_batch(paths, policy, progress, pool, meanwhile=lambda: _load_rules(policy), arrived=arrived)
        pending[:] = books[checked:]  # the last group (and every book, when none arrived one by one)
        check_group()
        batch = Batch.of(policy, books)
        for rule_id in RULES:
            if rule_id in CHECKS and rule_id in ACROSS_FILES:
                findings.extend(CHECKS[rule_id](batch))
    findings.sort(key=Finding.sort_key)
    filled = [table for table in tables if len(table)] or tables[:1]
    table = pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0]
    return Report(policy=policy, batch=batch, findings=findings, reconciliation=table)
