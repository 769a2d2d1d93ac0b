"""Run the CLI as `python -m tr_excel`."""

from tr_excel.cli import run

run()
