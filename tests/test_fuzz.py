"""Fuzzing: 2,000 mutations of the sample workbooks (bytes of the file, bytes and XML of its zip parts, the
parts themselves), each read under a time guard; no exception may escape read_workbook or validate, no
S01 may come from an internal error, no case may hang. More cases: scripts/fuzz.py --cases N --seed S.

The cases are split in chunks so that pytest-xdist spreads them over the cores. Every case is read; the
cases whose tables differ from the samples' and from every earlier case's are validated too, up to
VALIDATE_PER_CHUNK a chunk (validating is ~10x slower than reading; scripts/fuzz.py validates them all).
"""

from __future__ import annotations

import time

import make_hostile
import pytest

SEED = 0
CASES = 2000
CHUNKS = 8
VALIDATE_PER_CHUNK = 8
PER_CASE_SECONDS = 10.0


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_fuzz_chunk(chunk, tmp_path):
    size = CASES // CHUNKS
    result = make_hostile.run_fuzz(
        size, SEED, tmp_path, first=chunk * size, per_case=PER_CASE_SECONDS, validate_limit=VALIDATE_PER_CHUNK
    )
    assert result.cases == size
    assert not result.failures, "\n".join(
        f"case {f.case} [{f.stage}] {f.what}: {f.error}  (scripts/fuzz.py --seed {SEED} --case {f.case} --keep DIR)"
        for f in result.failures
    )
    # The mutations reach past the sniffer: some cases are read, some refused, some validated.
    assert 0 < result.unreadable < size
    assert result.validated > 0


def test_fuzz_cases_are_reproducible():
    seeds = make_hostile.fuzz_seeds()
    assert make_hostile.fuzz_case(SEED, 17, seeds) == make_hostile.fuzz_case(SEED, 17, seeds)
    assert make_hostile.fuzz_case(SEED, 17, seeds) != make_hostile.fuzz_case(SEED, 18, seeds)


def test_time_guard_stops_a_hang():
    started = time.perf_counter()
    with pytest.raises(make_hostile.Hang), make_hostile.time_guard(0.2):
        while True:
            pass
    assert time.perf_counter() - started < 5
