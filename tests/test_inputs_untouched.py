"""Inputs are never modified: every file under the input folder (the samples and the hostile corpus) has the
same bytes, size, permissions and modification time after `validate`, `template` and `consolidate`, no
file appears or disappears beside them, and an output aimed at an input is refused."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import make_hostile
import pytest

from tr_excel.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
UNIT = "忻州市工业和信息化局"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("untouched") / "报送"
    shutil.copytree(make_hostile.SAMPLES, folder / "样例")
    make_hostile.build(folder / "异常")
    yield folder
    make_hostile.cleanup(folder)


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry below folder, links not followed: what it is, its content hash, size, mode, mtime."""
    entries: dict[str, tuple] = {}
    for top, folders, files in os.walk(folder):
        for name in folders + files:
            path = Path(top, name)
            info = path.lstat()
            relative = path.relative_to(folder).as_posix()
            if path.is_symlink():
                entries[relative] = ("link", os.readlink(path))
            elif path.is_dir():
                entries[relative] = ("dir", info.st_mode, info.st_mtime_ns)
            else:
                try:
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                except PermissionError:
                    digest = None  # the corpus's unreadable file, when not root: size and time still count
                entries[relative] = ("file", digest, info.st_size, info.st_mode, info.st_mtime_ns)
    entries["."] = ("dir", folder.stat().st_mode, folder.stat().st_mtime_ns)
    return entries


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tr_excel", *args], capture_output=True, text=True, timeout=600, cwd=cwd
    )


def test_validate_leaves_inputs_untouched(inputs, tmp_path):
    """Run from inside the input folder, as a clerk would, with the findings written beside it."""
    before = snapshot(inputs)
    result = run("validate", ".", "--format", "csv", "-o", str(tmp_path / "问题.csv"), cwd=inputs)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(inputs) == before


def test_outputs_aimed_at_an_input_are_refused(inputs):
    target = inputs / "样例" / make_hostile.BASE_SAMPLE
    before = snapshot(inputs)
    assert run("validate", str(inputs), "-o", str(target)).returncode == 2
    assert run("template", "-o", str(target)).returncode == 2
    assert snapshot(inputs) == before


def test_template_leaves_inputs_untouched(inputs, tmp_path):
    before = snapshot(inputs)
    result = run("template", "-o", str(tmp_path / "模板.xlsx"), "--unit", UNIT)
    assert result.returncode == 0, result.stderr
    assert snapshot(inputs) == before


@pytest.mark.skipif("consolidate" not in cli_main.commands, reason="consolidate is not there yet")
def test_consolidate_leaves_inputs_untouched(inputs, tmp_path):
    before = snapshot(inputs)
    result = run("consolidate", str(inputs), "-o", str(tmp_path / "汇总"), "--unit", UNIT)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(inputs) == before
    # OUTDIR is the (non-empty) input folder itself, or inside it: refused, --force or not.
    assert run("consolidate", str(inputs), "-o", str(inputs), "--unit", UNIT).returncode == 2
    assert run("consolidate", str(inputs), "-o", str(inputs), "--unit", UNIT, "--force").returncode == 2
    assert run("consolidate", str(inputs), "-o", str(inputs / "汇总"), "--unit", UNIT, "--force").returncode == 2
    assert snapshot(inputs) == before
