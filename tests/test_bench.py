"""scripts/bench.py runs end to end on a tiny corpus. Only the harness is checked here, never the timings."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("tr_excel_bench_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def quick(tmp_path_factory) -> tuple[Path, dict]:
    """bench.py --quick on 4 units × 3 projects × 3 line items: (cache folder, its JSON report)."""
    cache = tmp_path_factory.mktemp("bench")
    command = [
        sys.executable,
        str(SCRIPT),
        "--quick",
        "--units",
        "4",
        "--projects",
        "3",
        "--items",
        "3",
        "--naive-files",
        "2",
        "--cache",
        str(cache),
        "--json",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "generating the corpus" in result.stderr
    return cache, json.loads(result.stdout)


def test_every_run_is_measured_and_every_target_reported(quick):
    _, report = quick
    assert report["corpus"]["files"] == 4
    assert report["corpus"]["projects"] == 12
    assert report["corpus"]["line_items"] == 36
    runs = report["runs"]
    for name in ("read_floor", "naive_openpyxl", "validate"):
        assert runs[name]["seconds"] > 0, name
        assert runs[name]["cpu_seconds"] > 0, name
        assert runs[name]["peak_rss_mb"] > 10, name  # a Python process with pandas imported
    assert runs["naive_openpyxl"]["measured_files"] == 2 and runs["naive_openpyxl"]["scaled"]
    consolidate = runs["consolidate"]
    assert isinstance(consolidate, dict) or consolidate == "not available" or consolidate.startswith("failed")
    assert [point["fraction"] for point in report["scaling"]] == [0.25, 0.5, 1.0]
    assert [point["files"] for point in report["scaling"]] == [1, 2, 4]
    assert report["scaling"][0]["rows"] < report["scaling"][1]["rows"] < report["scaling"][2]["rows"]
    assert set(report["targets"]) == {"c_over_a", "d_over_a", "b_over_c", "peak_rss_mb", "linearity"}
    assert set(report["ratios"]) == set(report["targets"])


def test_the_table_names_every_run_and_measure(bench, quick):
    _, report = quick
    text = bench.render(report)
    for label in ("(a) read floor", "(b) naive", "(c) validate", "(d) consolidate", "c / a", "d / a", "b / c"):
        assert label in text, label
    assert "| ¼ | 1 |" in text and "| full | 4 |" in text
    assert "scaled linearly to 4" in text


def test_the_corpus_is_cached(bench, quick):
    cache, report = quick
    messages = []
    folder, manifest = bench.corpus(cache, 4, 3, 3, messages.append)
    assert not messages  # found, not generated again
    assert str(folder) == report["corpus"]["path"]
    assert len(manifest["files"]) == 4


def test_the_validator_reads_the_corpus_as_written(quick):
    """Every sheet is recognised and every row read, through title rows, text numbers, blank rows and merges."""
    from tr_excel.engine import validate
    from tr_excel.policy import load_policy

    _, report = quick
    folder = Path(report["corpus"]["path"])
    manifest = json.loads((folder.parent / "manifest.json").read_text(encoding="utf-8"))
    validated = validate([folder], load_policy())
    for book, entry in zip(validated.books, manifest["files"], strict=True):
        assert book.file == entry["file"]
        for sheet, rows in entry["rows"].items():
            if rows:
                assert len(book.tables[sheet].rows) == rows, (book.file, sheet)
    planted = ("F03", "F05", "X05", "X09")  # the mistakes bench.py plants on purpose
    unexpected = [f for f in validated.findings if f.rule not in planted]
    assert not unexpected, [(f.rule, f.file, f.cell, f.message) for f in unexpected]
