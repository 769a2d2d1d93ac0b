"""Province-scale speed and memory: time `tr-excel validate` and `consolidate` against the floor of reading the files.

    scripts/bench.py            # 120 units × 50 projects × 30 line items (180,000 items), cached under .bench/
    scripts/bench.py --quick    # a small corpus, for a smoke run
    scripts/bench.py --json     # the same measurements as JSON

The corpus is generated deterministically (tr_excel.synth, then the mess counties make: title rows,
numbers typed as text, dates as text or as Excel dates, blank rows, merged key cells, a 合计 row and
填表说明 lines; and in one workbook in four, real mistakes that give findings and a 退回 copy) and
cached; generation time is not measured. Every measurement is a whole process
(start-up and imports included), timed from start to exit; peak RSS is that of the process and all
its descendants (the process pool's workers), polled from /proc and summed, and never less than the
largest single process's ru_maxrss.

    (a) read floor   a plain Python process: python-calamine loads every sheet of every file into a
                     pandas DataFrame, files spread over a process pool of one worker per core
    (b) naive        pandas.read_excel(engine="openpyxl") of every sheet, file after file; measured on a
                     subset of the files and scaled linearly to the corpus (said so in the output)
    (c) validate     tr-excel validate CORPUS --format json -o FILE
    (d) consolidate  tr-excel consolidate CORPUS -o OUTDIR --unit 山西省工业和信息化厅

The targets are reported, never asserted: c ≤ 2.5 × a, d ≤ 4 × a, b / c ≥ 6, peak RSS ≤ 1.5 GB, and time
growing linearly with rows (scaling run at ¼, ½ and the full corpus).
"""

from __future__ import annotations

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENERATOR = 4  # bump when the corpus changes: the cache is keyed by it
UNIT = "山西省工业和信息化厅"
DIRTY_EVERY = 4  # one workbook in four has mistakes in it (findings, a 退回 copy); the others are clean
TARGETS = {"c_over_a": 2.5, "d_over_a": 4.0, "b_over_c": 6.0, "peak_rss_mb": 1536.0, "linearity": 1.25}


# ---------------------------------------------------------------------------------------------------------------
# (a) and (b): the reading processes. They import nothing of tr_excel (and nothing else of this script's).


def _floor_load(path: str) -> int:
    import pandas as pd
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(path)
    rows = 0
    for index in range(len(book.sheet_names)):
        frame = pd.DataFrame(book.get_sheet_by_index(index).to_python(skip_empty_area=False))
        rows += len(frame)
    return rows


def read_floor(list_file: str) -> None:
    from concurrent.futures import ProcessPoolExecutor

    import pandas  # noqa: F401  (imported once, before the workers fork)
    import python_calamine  # noqa: F401

    with open(list_file, encoding="utf-8") as handle:
        files = handle.read().splitlines()
    workers = max(1, min(os.cpu_count() or 1, len(files)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        rows = sum(pool.map(_floor_load, files, chunksize=max(1, len(files) // (workers * 4))))
    print(rows)


def read_naive(list_file: str) -> None:
    import json

    import pandas as pd

    with open(list_file, encoding="utf-8") as handle:
        files = handle.read().splitlines()
    start = time.perf_counter()
    rows = 0
    for path in files:
        sheets = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
        rows += sum(len(frame) for frame in sheets.values())
    print(json.dumps({"files": len(files), "rows": rows, "loop_seconds": time.perf_counter() - start}))


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] in ("read-floor", "read-naive"):
    (read_floor if sys.argv[1] == "read-floor" else read_naive)(sys.argv[2])
    sys.exit(0)


# ---------------------------------------------------------------------------------------------------------------
# The harness.

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


# ---------------------------------------------------------------------------------------------------------------
# The corpus.


def _units(policy, count: int) -> list[tuple[str, str, str, str]]:
    """(file stem, 审核单位, 所在县, 所在市) for count units: every county and zone of Shanxi, then round again."""
    places = [(city.name, county) for city in policy.cities for county in (*city.counties, *city.zones)]
    units = []
    for index in range(count):
        city, county = places[index % len(places)]
        round_ = index // len(places)
        stem = f"{index + 1:03d}_{city}{county}" + (f"_{round_ + 1}" if round_ else "")
        if county.endswith(("开发区", "风景名胜区")):
            unit = f"{county}经济发展部"
        else:
            unit = f"{city}{county}工业和信息化局"
        units.append((stem, unit, county, city))
    return units


def _inspection_row(summary: dict, policy) -> dict:
    """The city's 现场核查 line for a project: everything as declared, every check passed."""
    y = policy.data_year
    finished = summary["项目是否完工（是/否）"] == "是"
    start = summary["起止年月"].split("-")[0]
    return {
        "项目申报企业（单位）": summary["企业名称"],
        "项目名称": summary["项目名称"],
        "项目形象进度": "主体工程完工，设备已安装调试" if finished else "设备安装中",
        "建设内容与申报内容是否相符（是/否）": "是",
        "开工时间": start,
        "完工时间（完工项目）": summary["完工时间"] if finished else None,
        "拟完工时间（在建项目）": None if finished else summary["完工时间"],
        "项目总投资": summary["总投资"],
        "核定项目固定资产投资": summary["固定资产投资"],
        "核定项目已完成投资": summary["已完成投资（按照发票金额核定）"],
        "核定项目设备投资（含软硬件投资）": summary["设备投资（含软硬件投资）"],
        "核定项目其他投资": summary["其他投资"],
        "申报资料和建设项目的真实性、完整性、合规性、一致性是否符合政策规定和申报要求（是/否）": "是",
        f"{y}年度是否发生较大及以上生产安全事故（是/否）": "否",
        "核查组组长": "张明",
        "核查组成员": "李华、王强",
    }


def _unit_submission(policy, index: int, unit: tuple, projects: int, items: int):
    from tr_excel.synth import Submission, clean_project

    stem, name, county, city = unit
    rng = random.Random(2024_000 + index)
    submission = Submission(unit=name)
    directions = [d.name for d in policy.directions]
    submission.rows["现场核查"] = []
    for number in range(projects):
        direction = policy.direction_by_name[directions[(index + number) % len(directions)]]
        finished = direction.finished_only or rng.random() < 0.7
        invoice = 10_000_000 + (index * projects + number) * 100
        enterprise = f"{county}{'晋华鑫盛泰丰恒远'[number % 8]}{number + 1:02d}号制造有限公司"
        project = f"{enterprise[:-4]}年产{number + 10}万件生产线技术改造项目"
        for attempt in range(10):
            try:
                project_rows = clean_project(
                    policy,
                    rng,
                    enterprise=enterprise,
                    project=project,
                    direction_name=direction.name,
                    county=county,
                    city=city,
                    finished=finished or attempt >= 5,
                    items=items,
                    invoice_start=invoice,
                )
                break
            except ValueError:  # an in-progress project drawn below 70% complete: draw again
                continue
        _plant_mistakes(project_rows, index, number, projects)
        submission.extend(project_rows)
        submission.rows["现场核查"].append(_inspection_row(project_rows.rows["汇总表"][0], policy))
    return submission


def _plant_mistakes(project, index: int, number: int, projects: int) -> None:
    """The mistakes counties make, in one workbook in DIRTY_EVERY (a tenth of its projects each), so that
    there are findings to report and 退回 copies to write, as in a real batch."""
    if index % DIRTY_EVERY:
        return
    summary = project.rows["汇总表"][0]
    items = project.rows["投资明细"]
    if number % 10 == 1:
        summary["项目联系人及手机"] = "李明 0350-3021234"  # a landline, no mobile: F05
    if number % 10 == 2:
        summary["申请专项资金"] = "待定"  # words in a money cell: F03
    if number % 10 == 4:
        items[1]["已完成投资额（按照发票金额核定）"] = round(items[1]["已完成投资额（按照发票金额核定）"] - 12.5, 2)
        items[1]["未完成投资额"] = 12.5  # invoices 12.50 short of 已完成投资: X05
    if number == 0 and index > 0:
        items[0]["对应发票编号"] = f"{10_000_000 + (index - 1) * projects * 100:08d}"  # another unit's invoice: X09


def _as_text_number(value: float, rng: random.Random) -> str:
    return rng.choice([f"{value:,.2f}", f"{value}万元", f" {value} ", f"{value:.2f}"])


def _write_unit(job: tuple) -> dict:
    """Write one unit's workbook as a county sends it; return what is in it."""
    import xlsxwriter

    from tr_excel import columns as K
    from tr_excel.policy import load_policy

    path, index, unit, projects, items = job
    policy = load_policy()
    submission = _unit_submission(policy, index, unit, projects, items)
    rng = random.Random(7_000 + index)
    money = {
        column.title(policy.data_year)
        for kind in K.SHEET_KINDS
        for column in kind.columns
        if column.kind in (K.MONEY, K.SIGNED_MONEY)
    }
    # Text in a shared-strings table, as Excel and WPS write it (xlsxwriter's constant_memory mode would write
    # every string inline, half as much XML again as a county's real file).
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
    bold = book.add_format({"bold": True, "text_wrap": True, "border": 1})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    counts: dict[str, int] = {}
    for kind in K.SHEET_KINDS:
        rows = submission.rows[kind.name]
        sheet = book.add_worksheet(kind.name)
        titles = [column.title(policy.data_year) for column in kind.columns]
        if kind is K.SUMMARY:
            sheet.write_string(0, 0, "山西省技术改造专项资金项目申报汇总表")
            sheet.merge.append([0, 0, 0, len(titles) - 1])  # merges recorded as the rows are written in order
            sheet.write_string(1, 0, f"审核单位（公章）：{submission.unit}")
            sheet.write_string(1, len(titles) - 1, "单位：万元")
            groups: dict[str, list[int]] = {}
            for col, column in enumerate(kind.columns):
                sheet.write_string(2, col, column.group or column.name, bold)
                if column.group:
                    groups.setdefault(column.group, []).append(col)
                else:
                    sheet.merge.append([2, col, 3, col])
            for cols in groups.values():
                sheet.merge.append([2, cols[0], 2, cols[-1]])
            for col, column in enumerate(kind.columns):
                if column.group:
                    sheet.write_string(3, col, column.name, bold)
            line = 4
        else:
            title_rows = rng.randrange(0, 5)
            for line in range(title_rows):
                sheet.write_string(line, 0, f"{kind.name}（{submission.unit}）" if line == 0 else "单位：万元")
            for col, title in enumerate(titles):
                # Header text as typed: a line break here and there, a half-width bracket.
                if rng.random() < 0.1:
                    title = title.replace("（", "(").replace("）", ")")
                sheet.write_string(title_rows, col, title, bold)
            line = title_rows + 1
        totals = {title: 0.0 for title in titles if title in money}
        previous_key = None
        merge_from = None
        for number, row in enumerate(rows):
            key = (row.get(titles[0]), row.get(titles[1]))
            if key != previous_key:
                if merge_from is not None and line - 1 > merge_from:
                    sheet.merge.append([merge_from, 0, line - 1, 0])
                    sheet.merge.append([merge_from, 1, line - 1, 1])
                merge_from = None
                if previous_key is not None and rng.random() < 0.05:
                    line += 1  # a blank row between two projects
                # One project's line items in five: 企业名称 and 项目名称 merged down over its rows.
                if kind is K.INVESTMENT and rng.random() < 0.2:
                    merge_from = line
            previous_key = key
            for col, title in enumerate(titles):
                value = row.get(title)
                if kind is K.SUMMARY and title == "序号":
                    value = number + 1
                if title in totals and isinstance(value, int | float):
                    totals[title] += value
                if value is None or (merge_from is not None and merge_from < line and col < 2):
                    continue
                if title in money and isinstance(value, float) and rng.random() < 0.08:
                    value = _as_text_number(value, rng)
                if title == "开票日期" and rng.random() < 0.5:
                    sheet.write_datetime(line, col, dt.datetime.strptime(value, "%Y-%m-%d"), date_format)
                elif isinstance(value, str):
                    sheet.write_string(line, col, value + (" " if rng.random() < 0.02 else ""))
                else:
                    sheet.write_number(line, col, value)
            line += 1
        if merge_from is not None and line - 1 > merge_from:
            sheet.merge.append([merge_from, 0, line - 1, 0])
            sheet.merge.append([merge_from, 1, line - 1, 1])
        if kind is K.SUMMARY:
            sheet.write_string(line, 0, "合计")
            for col, title in enumerate(titles):
                if title in totals and col >= 14:
                    sheet.write_number(line, col, round(totals[title], 2))
            line += 2
            for note in ("填表说明：1.本表金额单位为万元。", "2.申报方向按通知填写。", "3.完工时间填写到月。"):
                sheet.write_string(line, 0, note)
                line += 1
        counts[kind.name] = len(rows)
    notes = book.add_worksheet("填表说明")
    notes.write_string(0, 0, "填表说明：各表按通知附件填写，金额单位为万元。")
    book.close()
    return {"file": path.name, "rows": counts}


def corpus(cache: Path, units: int, projects: int, items: int, log) -> tuple[Path, dict]:
    """The corpus directory (generated once) and its manifest."""
    folder = cache / f"corpus-g{GENERATOR}-{units}x{projects}x{items}"
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        return folder / "xlsx", json.loads(manifest_path.read_text(encoding="utf-8"))
    from tr_excel.policy import load_policy

    log(f"generating the corpus: {units} units × {projects} projects × {items} line items in {folder} …")
    started = time.perf_counter()
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "xlsx").mkdir(parents=True)
    jobs = [
        (folder / "xlsx" / f"{unit[0]}.xlsx", index, unit, projects, items)
        for index, unit in enumerate(_units(load_policy(), units))
    ]
    workers = max(1, min(os.cpu_count() or 1, len(jobs)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        files = list(pool.map(_write_unit, jobs))
    manifest = {
        "generator": GENERATOR,
        "units": units,
        "projects": projects,
        "items": items,
        "files": files,
        "rows": sum(sum(f["rows"].values()) for f in files),
        "bytes": sum(job[0].stat().st_size for job in jobs),
    }
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    log(f"generated in {time.perf_counter() - started:.1f} s")
    return folder / "xlsx", manifest


# ---------------------------------------------------------------------------------------------------------------
# Measuring a process tree.


def _read_ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    return int(data[data.rindex(b")") + 2 :].split()[1])


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


class TreePoller(threading.Thread):
    """Polls the summed RSS of a process and its descendants until stopped; keeps the peak."""

    def __init__(self, root: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.peak = 0
        self.most_processes = 1
        self.stop = threading.Event()
        self._tree = {root}
        self._outside: set[int] = set()

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)

    def sample(self) -> None:
        try:
            pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
        except OSError:
            return
        alive = set(pids)
        self._tree &= alive
        self._tree.add(self.root)
        # A process that was not ours when first seen never becomes ours; only new pids are looked at.
        # (Ordered so that a parent seen in the same scan as its child is classified first.)
        for pid in sorted(alive - self._tree - self._outside):
            ppid = _read_ppid(pid)
            if ppid in self._tree:
                self._tree.add(pid)
            elif ppid is not None:
                self._outside.add(pid)
        self._outside &= alive
        total = sum(_rss(pid) for pid in self._tree)
        self.peak = max(self.peak, total)
        self.most_processes = max(self.most_processes, len(self._tree))


class Failed(Exception):
    """A measured command did not do its work; str() says how."""


@dataclass
class Run:
    name: str
    command: list[str]
    seconds: float
    cpu_seconds: float  # user + system time of the process and every descendant it waited for
    peak_rss: int  # bytes, the tree's summed RSS (or the largest process's maxrss when higher)
    max_process_rss: int  # bytes, ru_maxrss of the largest single process of the tree
    processes: int
    returncode: int
    stdout: str
    stderr: str

    def public(self) -> dict:
        return {
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "peak_rss_mb": round(self.peak_rss / MB, 1),
            "max_process_rss_mb": round(self.max_process_rss / MB, 1),
            "processes": self.processes,
            "returncode": self.returncode,
        }


def _measure_once(name: str, command: list[str]) -> Run:
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"tr-bench-{os.getpid()}-{name}.out"
    err_path = out_path.with_suffix(".err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        poller = TreePoller(process.pid)
        poller.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        poller.stop.set()
        poller.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    out_path.unlink()
    err_path.unlink()
    max_process = usage.ru_maxrss * 1024  # kilobytes on Linux
    return Run(
        name=name,
        command=command,
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss=max(poller.peak, max_process),
        max_process_rss=max_process,
        processes=poller.most_processes,
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
    )


def measure(name: str, command: list[str], repeat: int = 1, ok_codes=(0,), produces: Path | None = None) -> Run:
    """Run a command as a whole process, repeat times: the fastest run, with the highest peak RSS of all.

    It failed when it exits with another code, writes a traceback, or does not write `produces`.
    """
    runs = []
    for _ in range(max(1, repeat)):
        if produces is not None and produces.exists():
            shutil.rmtree(produces) if produces.is_dir() else produces.unlink()
        run = _measure_once(name, command)
        if (
            run.returncode not in ok_codes
            or "Traceback (most recent call last)" in run.stderr
            or (produces is not None and not produces.exists())
        ):
            last = [line for line in run.stderr.strip().splitlines() if line.strip()][-1:] or ["(no message)"]
            raise Failed(f"exit {run.returncode}: {last[0][:200]}")
        runs.append(run)
    best = min(runs, key=lambda run: run.seconds)
    best.peak_rss = max(run.peak_rss for run in runs)
    best.max_process_rss = max(run.max_process_rss for run in runs)
    return best


# ---------------------------------------------------------------------------------------------------------------
# The benchmark.


def _tr_excel() -> list[str]:
    script = Path(sys.executable).parent / "tr-excel"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tr_excel"]


def consolidate_available() -> bool:
    result = subprocess.run([*_tr_excel(), "consolidate", "--help"], capture_output=True)
    return result.returncode == 0


def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), model)
    except OSError:
        pass
    memory = 0
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            memory = int(next(line for line in handle if line.startswith("MemTotal")).split()[1]) * 1024
    except (OSError, StopIteration):
        pass
    from importlib.metadata import version

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(memory / 1024**3, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "pandas": version("pandas"),
        "python_calamine": version("python-calamine"),
        "load_before": round(os.getloadavg()[0], 2),
    }


def _list_file(work: Path, name: str, files: list[Path]) -> Path:
    path = work / f"{name}.txt"
    path.write_text("\n".join(str(f) for f in files), encoding="utf-8")
    return path


def _linear_fit(points: list[tuple[int, float]]) -> dict:
    """t = t0 + k·rows by least squares; the marginal cost of each step relative to the first."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    k = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx if sxx else 0.0
    t0 = mean_y - k * mean_x
    ss_tot = sum((y - mean_y) ** 2 for _, y in points)
    ss_res = sum((y - t0 - k * x) ** 2 for x, y in points)
    marginal = [
        (b[1] - a[1]) / (b[0] - a[0]) if b[0] != a[0] else 0.0 for a, b in zip(points, points[1:], strict=False)
    ]
    growth = marginal[-1] / marginal[0] if len(marginal) > 1 and marginal[0] > 0 else 1.0
    return {
        "startup_seconds": round(t0, 3),
        "seconds_per_10k_rows": round(k * 10_000, 4),
        "r2": round(1 - ss_res / ss_tot, 4) if ss_tot else 1.0,
        "marginal_growth": round(growth, 3),  # last step's seconds per row ÷ first step's; 1 = linear
    }


def run_bench(args, log) -> dict:
    cache = Path(args.cache).resolve()
    corpus_dir, manifest = corpus(cache, args.units, args.projects, args.items, log)
    work = cache / "work"
    work.mkdir(parents=True, exist_ok=True)
    files = [corpus_dir / entry["file"] for entry in manifest["files"]]
    rows_of = {entry["file"]: sum(entry["rows"].values()) for entry in manifest["files"]}
    tr_excel = _tr_excel()
    results: dict = {
        "machine": machine(),
        "corpus": {
            "path": str(corpus_dir),
            "files": len(files),
            "projects": manifest["units"] * manifest["projects"],
            "line_items": manifest["units"] * manifest["projects"] * manifest["items"],
            "rows": manifest["rows"],
            "megabytes": round(manifest["bytes"] / MB, 1),
        },
        "repeat": args.repeat,
        "runs": {},
    }
    runs = results["runs"]
    script = str(Path(__file__).resolve())
    repeat = args.repeat

    log("(a) read floor …")
    floor = measure("read_floor", [sys.executable, script, "read-floor", str(_list_file(work, "all", files))], repeat)
    runs["read_floor"] = floor.public()

    subset = files[: max(1, min(args.naive_files, len(files)))]
    log(f"(b) naive openpyxl read of {len(subset)} of {len(files)} files …")
    naive = measure("naive", [sys.executable, script, "read-naive", str(_list_file(work, "subset", subset))], repeat)
    loop = json.loads(naive.stdout.strip().splitlines()[-1])["loop_seconds"]
    scale = len(files) / len(subset)
    runs["naive_openpyxl"] = {
        **naive.public(),
        "seconds": round(naive.seconds - loop + loop * scale, 3),
        "cpu_seconds": round(naive.cpu_seconds - loop + loop * scale, 3),
        "measured_files": len(subset),
        "measured_seconds": round(naive.seconds, 3),
        "scaled": scale != 1,
    }

    def paths_of(selection: list[Path]) -> list[str]:
        return [str(corpus_dir)] if len(selection) == len(files) else [str(f) for f in selection]

    def validate(selection: list[Path], name: str) -> Run:
        output = work / f"{name}.json"
        command = [*tr_excel, "validate", *paths_of(selection), "--format", "json", "-o", str(output), "--force"]
        return measure(name, command, repeat, ok_codes=(0, 1), produces=output)

    def consolidate(selection: list[Path], name: str) -> Run:
        output = work / name
        command = [*tr_excel, "consolidate", *paths_of(selection), "-o", str(output), "--unit", UNIT, "--force"]
        return measure(name, command, repeat, ok_codes=(0, 1), produces=output / "汇总表.xlsx")

    log("(c) tr-excel validate …")
    runs["validate"] = validate(files, "validate").public()
    findings = json.loads((work / "validate.json").read_text(encoding="utf-8"))
    results["corpus"]["findings"] = findings["summary"]
    results["corpus"]["files_with_findings"] = len({finding["file"] for finding in findings["findings"]})
    has_consolidate = consolidate_available()
    if has_consolidate:
        log("(d) tr-excel consolidate …")
        try:
            runs["consolidate"] = consolidate(files, "consolidate").public()
        except Failed as failure:
            runs["consolidate"] = f"failed ({failure})"
            has_consolidate = False
    else:
        runs["consolidate"] = "not available"

    a = runs["read_floor"]["seconds"]
    b = runs["naive_openpyxl"]["seconds"]
    c = runs["validate"]["seconds"]
    d = runs["consolidate"]["seconds"] if has_consolidate else None
    peak = max(runs[key]["peak_rss_mb"] for key in ("validate", "consolidate") if isinstance(runs[key], dict))
    ratios = {
        "c_over_a": round(c / a, 2),
        "d_over_a": round(d / a, 2) if d is not None else None,
        "b_over_c": round(b / c, 2),
        "peak_rss_mb": peak,
    }

    log("scaling run …")
    scaling = []
    for fraction in (0.25, 0.5, 1.0):
        count = max(1, round(len(files) * fraction))
        selection = files[:count]
        point = {"fraction": fraction, "files": count, "rows": sum(rows_of[f.name] for f in selection)}
        if fraction == 1.0:
            point["validate_seconds"] = runs["validate"]["seconds"]
            if has_consolidate:
                point["consolidate_seconds"] = runs["consolidate"]["seconds"]
        else:
            point["validate_seconds"] = round(validate(selection, f"validate_{count}").seconds, 3)
            if has_consolidate:
                point["consolidate_seconds"] = round(consolidate(selection, f"consolidate_{count}").seconds, 3)
        scaling.append(point)
    results["scaling"] = scaling
    fits = {"validate": _linear_fit([(p["rows"], p["validate_seconds"]) for p in scaling])}
    if has_consolidate:
        fits["consolidate"] = _linear_fit([(p["rows"], p["consolidate_seconds"]) for p in scaling])
    results["linearity"] = fits
    ratios["linearity"] = max(fit["marginal_growth"] for fit in fits.values())
    results["ratios"] = ratios
    results["targets"] = {
        "c_over_a": {"target": f"<= {TARGETS['c_over_a']}", "met": ratios["c_over_a"] <= TARGETS["c_over_a"]},
        "d_over_a": {
            "target": f"<= {TARGETS['d_over_a']}",
            "met": None if d is None else ratios["d_over_a"] <= TARGETS["d_over_a"],
        },
        "b_over_c": {"target": f">= {TARGETS['b_over_c']}", "met": ratios["b_over_c"] >= TARGETS["b_over_c"]},
        "peak_rss_mb": {"target": f"<= {TARGETS['peak_rss_mb']:.0f}", "met": peak <= TARGETS["peak_rss_mb"]},
        "linearity": {
            "target": f"<= {TARGETS['linearity']}",
            "met": ratios["linearity"] <= TARGETS["linearity"],
        },
    }
    results["machine"]["load_after"] = round(os.getloadavg()[0], 2)
    return results


def _verdict(met) -> str:
    return "n/a" if met is None else ("met" if met else "MISSED")


def render(results: dict) -> str:
    m = results["machine"]
    c = results["corpus"]
    runs = results["runs"]
    repeat = results["repeat"]
    lines = [
        f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, {m['os']}, Python {m['python']}, "
        f"pandas {m['pandas']}, python-calamine {m['python_calamine']}; load average {m['load_before']} before, "
        f"{m['load_after']} after",
        f"corpus:  {c['files']} workbooks, {c['projects']:,} projects, {c['line_items']:,} line items, "
        f"{c['rows']:,} data rows in all sheets, {c['megabytes']} MB; findings: "
        + ", ".join(f"{count} {severity}" for severity, count in c["findings"].items())
        + f", in {c['files_with_findings']} of the {c['files']} files",
        "each run a whole process" + (f", best of {repeat}" if repeat > 1 else "") + "; CPU s = user + system time "
        "of the process and all its children; peak RSS = the process tree's summed RSS",
        "",
        "| run | wall s | CPU s | peak RSS MB | what |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    naive = runs["naive_openpyxl"]
    notes = {
        "read_floor": f"python-calamine → pandas DataFrame, every sheet of every file, {m['cores']} processes",
        "naive_openpyxl": (
            f'pandas.read_excel(engine="openpyxl") of every sheet, one process; measured on '
            f"{naive['measured_files']} files ({naive['measured_seconds']:.2f} s) and scaled linearly to {c['files']}"
            if naive["scaled"]
            else 'pandas.read_excel(engine="openpyxl") of every sheet, one process'
        ),
        "validate": "tr-excel validate CORPUS --format json -o FILE",
        "consolidate": f"tr-excel consolidate CORPUS -o OUTDIR --unit {UNIT}",
    }
    labels = {
        "read_floor": "(a) read floor",
        "naive_openpyxl": "(b) naive",
        "validate": "(c) validate",
        "consolidate": "(d) consolidate",
    }
    for key, label in labels.items():
        run = runs[key]
        if isinstance(run, dict):
            rss = f"{run['peak_rss_mb']:.0f}" + (" (subset)" if key == "naive_openpyxl" and naive["scaled"] else "")
            lines.append(f"| {label} | {run['seconds']:.2f} | {run['cpu_seconds']:.2f} | {rss} | {notes[key]} |")
        else:
            lines.append(f"| {label} | — | — | — | {run} |")
    ratios = results["ratios"]
    targets = results["targets"]
    lines += ["", "| measure | value | target | |", "| --- | ---: | --- | --- |"]
    for key, label in (
        ("c_over_a", "c / a"),
        ("d_over_a", "d / a"),
        ("b_over_c", "b / c"),
        ("peak_rss_mb", "peak RSS MB (c, d)"),
        ("linearity", "s per row, last step ÷ first"),
    ):
        value = ratios[key]
        shown = "—" if value is None else (f"{value:.0f}" if key == "peak_rss_mb" else f"{value:.2f}")
        lines.append(f"| {label} | {shown} | {targets[key]['target']} | {_verdict(targets[key]['met'])} |")
    has_consolidate = "consolidate_seconds" in results["scaling"][0]
    tail = (" consolidate s |", " ---: |") if has_consolidate else ("", "")
    lines += ["", "| size | files | rows | validate s | s per 10k rows |" + tail[0]]
    lines += ["| --- | ---: | ---: | ---: | ---: |" + tail[1]]
    for point in results["scaling"]:
        size = {0.25: "¼", 0.5: "½", 1.0: "full"}[point["fraction"]]
        line = (
            f"| {size} | {point['files']} | {point['rows']:,} | {point['validate_seconds']:.2f} | "
            f"{point['validate_seconds'] / point['rows'] * 10_000:.3f} |"
        )
        if has_consolidate:
            line += f" {point['consolidate_seconds']:.2f} |"
        lines.append(line)
    lines.append("")
    for name, fit in results["linearity"].items():
        lines.append(
            f"{name}: t ≈ {fit['startup_seconds']:.2f} s + {fit['seconds_per_10k_rows']:.3f} s per 10k rows "
            f"(R² {fit['r2']:.3f}); seconds per added row, last step ÷ first: {fit['marginal_growth']:.2f}"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small corpus (8 units × 6 projects × 10 items)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--units", type=int, help="workbooks in the corpus (default 120; --quick 8)")
    parser.add_argument("--projects", type=int, help="projects per workbook (default 50; --quick 6)")
    parser.add_argument("--items", type=int, help="line items per project (default 30; --quick 10)")
    parser.add_argument("--naive-files", type=int, default=12, help="files the naive openpyxl read is measured on")
    parser.add_argument("--repeat", type=int, default=1, help="run each measurement this many times, keep the fastest")
    parser.add_argument("--cache", default=os.path.join(ROOT, ".bench"), help="where the corpus is kept")
    args = parser.parse_args()
    defaults = (8, 6, 10) if args.quick else (120, 50, 30)
    args.units = args.units or defaults[0]
    args.projects = args.projects or defaults[1]
    args.items = args.items or defaults[2]
    if args.items < 2 or args.projects < 1 or args.units < 1:
        parser.error("--units and --projects must be at least 1, --items at least 2")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        results = run_bench(args, log)
    except Failed as failure:
        raise SystemExit(f"bench.py: a measured command failed: {failure}") from failure
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
    else:
        print(render(results), end="")


if __name__ == "__main__":
    main()
