#!/usr/bin/env python3
"""Fuzz the reader and the rules with mutated sample workbooks, beyond the 2,000 cases of the test suite.

    .venv/bin/python scripts/fuzz.py --cases 20000 --seed 7          # a longer run
    .venv/bin/python scripts/fuzz.py --seed 7 --case 1234 --keep out  # write one case out to look at

Each case mutates a sample workbook (see tests/make_hostile.py): bytes of the file, bytes and XML of its
zip parts, the parts themselves, or the records of its .xls version. It is read with read_workbook
under a time guard, and the cases read are validated in batches. Any exception that escapes, any S01
from an internal error, any case over the time guard and any crash of the process itself (native
code aborting) is printed with its case number; the exit status is 1 when there was any. The cases
run in a child process that is started again after a crash. The suite runs cases 0–1999 of seed 0.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import make_hostile  # noqa: E402


def worker(args: argparse.Namespace) -> int:
    """Run cases args.first.. in this process; each failure, then the totals, as a JSON line on stdout."""
    # Inside the parent's folder, which the parent removes even when this process dies.
    folder = Path(tempfile.mkdtemp(prefix="cases-", dir=args.breadcrumb.parent))

    def before(number: int) -> None:
        args.breadcrumb.write_text(str(number))

    try:
        result = make_hostile.run_fuzz(
            args.cases, args.seed, folder, first=args.first, per_case=args.timeout, before=before,
            validate_limit=args.validate_limit,
        )  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for failure in result.failures:
        print(json.dumps({"failure": [failure.case, failure.stage, failure.what, failure.error]}), flush=True)
    print(json.dumps({"done": [result.unreadable, result.validated, dict(result.reasons)]}), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10000, help="number of cases (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="seed (the suite uses 0)")
    parser.add_argument("--first", type=int, default=0, help="number of the first case")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per case")
    parser.add_argument("--validate-limit", type=int, help="validate at most this many distinct cases (default all)")
    parser.add_argument("--reasons", action="store_true", help="also count the S01 reasons met")
    parser.add_argument("--case", type=int, help="only write this one case (with --keep) and run it")
    parser.add_argument("--keep", type=Path, help="folder to write the case to and keep")
    parser.add_argument("--chunk", type=int, default=500, help="cases per child process (default 500)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--breadcrumb", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    if args.case is not None:
        what, suffix, data = make_hostile.fuzz_case(args.seed, args.case, make_hostile.fuzz_seeds())
        folder = args.keep or Path(tempfile.mkdtemp(prefix="tr-excel-fuzz-"))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"case{args.case}{suffix}"
        path.write_bytes(data)
        print(f"case {args.case}: {what} → {path}")
        args.first, args.cases = args.case, 1

    failures: list[list] = []
    unreadable = validated = 0
    reasons: dict[str, int] = {}
    breadcrumb = Path(tempfile.mkdtemp(prefix="tr-excel-fuzz-")) / "case"
    number, last = args.first, args.first + args.cases
    try:
        while number < last:
            count = min(args.chunk, last - number)
            breadcrumb.write_text(str(number))
            command = [
                sys.executable, __file__, "--worker", "--seed", str(args.seed), "--first", str(number),
                "--cases", str(count), "--timeout", str(args.timeout), "--breadcrumb", str(breadcrumb),
            ]  # fmt: skip
            if args.validate_limit is not None:
                command += ["--validate-limit", str(args.validate_limit)]
            child = subprocess.run(command, capture_output=True, text=True)
            done = False
            for line in child.stdout.splitlines():
                entry = json.loads(line)
                if "failure" in entry:
                    failures.append(entry["failure"])
                else:
                    done = True
                    unreadable += entry["done"][0]
                    validated += entry["done"][1]
                    for reason, times in entry["done"][2].items():
                        reasons[reason] = reasons.get(reason, 0) + times
            if done:
                number += count
            else:  # the process died: the case it was on is the culprit; go on after it
                crashed = int(breadcrumb.read_text())
                what = make_hostile.fuzz_case(args.seed, crashed, make_hostile.fuzz_seeds())[0]
                tail = (child.stderr.strip().splitlines() or ["?"])[0][:200]
                failures.append([crashed, "crash", what, f"process died ({child.returncode}): {tail}"])
                number = crashed + 1
            print(f"\r{number - args.first}/{args.cases} cases, {len(failures)} failures", end="", file=sys.stderr)
    finally:
        shutil.rmtree(breadcrumb.parent, ignore_errors=True)
    print(file=sys.stderr)
    if args.reasons:
        for reason, times in sorted(reasons.items(), key=lambda item: -item[1]):
            print(f"{times:6}  {reason}")
    for case, stage, what, error in failures:
        print(f"case {case} [{stage}] {what}: {error}")
    print(
        f"{args.cases} cases: {args.cases - unreadable} read, {unreadable} S01, {validated} validated, "
        f"{len(failures)} failures (seed {args.seed})"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
