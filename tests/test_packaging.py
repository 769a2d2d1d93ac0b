"""The project installs as a wheel, not only from the repository: the wheel carries schemas/ and finds it."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--quiet", "--disable-pip-version-check",
         "-w", str(folder)],
        check=True,
        capture_output=True,
    )
    (built,) = folder.glob("tr_excel-*.whl")
    return built


def test_wheel_carries_every_policy_file_and_reference_table(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "schemas").rglob("*.toml"))
    assert data, "schemas/ holds the policy files"
    assert [f"tr_excel/{name}" for name in data if f"tr_excel/{name}" not in names] == []


def test_installed_wheel_reads_its_own_policy_outside_the_repository(wheel, tmp_path):
    """A clerk's machine has the installed package and no repository: validate must still find the policy."""
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", str(wheel), "--no-deps", "--quiet", "--disable-pip-version-check",
         "--target", str(site)],
        check=True,
        capture_output=True,
    )
    result = subprocess.run(
        [sys.executable, "-c", "import tr_excel.policy as p; print(p.__file__); print(p.load_policy().name)"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    module, policy = result.stdout.splitlines()
    assert Path(module).is_relative_to(site) and policy == "2024"


def test_package_list_names_every_package():
    """pyproject.toml lists the packages by name (schemas/ is mapped into the package): a new subpackage left off
    the list would be missing from the wheel."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    on_disk = {
        ".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "tr_excel").rglob("__init__.py")
    }
    mapped = {name for name in setuptools["packages"] if name.startswith(tuple(setuptools["package-dir"]))}
    assert set(setuptools["packages"]) - mapped == on_disk
    assert setuptools["package-dir"] == {"tr_excel.schemas": "schemas"}
    assert mapped == {"tr_excel.schemas", "tr_excel.schemas.reference"}
    assert {path.name for path in (ROOT / "schemas").iterdir() if path.is_dir()} == {"reference"}
