"""The docs cover what the code does: the generated rule catalogue is current, the README names every command."""

import subprocess
import sys
from pathlib import Path

from tr_excel.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_rules_doc_is_generated_from_the_registry():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_readme_documents_every_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert f"tr-excel {name}" in readme, name


def test_readme_opens_with_the_two_quick_start_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("```", 2)[1]
    assert "scripts/demo" in quick_start and "scripts/test" in quick_start
