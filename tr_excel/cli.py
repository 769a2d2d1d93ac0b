"""The tr-excel command line: each command parses options, calls one library function, prints, exits 0/1/2."""

from __future__ import annotations

import gc
import os
import sys
import unicodedata
from pathlib import Path

import click

from tr_excel import __version__

# What validate and consolidate read, kept to the end of a console run: see run().
_kept: list = []
_ending_quickly = False


def _keep(report) -> None:
    if _ending_quickly:
        _kept.append(report)


def run() -> None:
    """The console script (tr-excel, python -m tr_excel): main(), and then the process ends without freeing what
    the command read. A province's batch is millions of small objects; freeing them one by one took a quarter of
    a second of a five-second run, for nothing: the operating system takes the memory back at once."""
    global _ending_quickly
    _ending_quickly = True
    # Nor does it run Python's cycle collector: what a command builds lives until it ends, and each collection
    # would walk all of it again (a fifth of a second of the rules after the books are read). Pool workers
    # collect once a workbook, their own objects only (engine._start_worker).
    gc.disable()
    # Redirected to a file on a Chinese Windows, the output is written in the ANSI code page (GBK), which has no
    # emoji or rare characters a county may have typed: such a character prints as "?" instead of the whole
    # report ending in a UnicodeEncodeError. (-o writes UTF-8 files; a console takes any character.)
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    try:
        main()
        code = 0
    except SystemExit as ended:
        code = ended.code
    if isinstance(code, str):  # sys.exit("message"): printed, exit status 1, as Python itself does
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


def _policy(name: str | None):
    from tr_excel.policy import PolicyError, load_policy

    try:
        return load_policy(name)
    except PolicyError as error:
        raise click.UsageError(str(error)) from error


def _progress():
    """A progress line on stderr for a batch, only when a person is watching."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int, name: str) -> None:
        click.echo(f"\r读取 {done}/{total}：{_cells(name, 40)}", err=True, nl=done == total)

    return show


def _cells(text: str, width: int) -> str:
    """text cut and padded to exactly width terminal cells: a Chinese character takes two, and a progress line
    redrawn over a longer one must cover it (and never wrap on an 80-column console)."""
    shown, used = [], 0
    for char in text:
        size = 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used + size > width:
            break
        shown.append(char)
        used += size
    return "".join(shown) + " " * (width - used)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tr-excel")
def main() -> None:
    """山西省技术改造专项资金申报工作簿：审核、对账、汇总。"""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text",
              help="输出格式：text（按文件分组，便于阅读）、json 或 csv。")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="写入文件而不是打印。")
@click.option("--policy", help="政策文件：内置年度（如 2024）或文件路径；默认最新年度。")
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖。")
def validate(paths: tuple[Path, ...], output_format: str, output: Path | None, policy: str | None,
             force: bool) -> None:
    """审核 PATHS 下的全部工作簿（文件或文件夹），列出所有问题。"""
    from tr_excel.engine import NoInput
    from tr_excel.engine import validate as run
    from tr_excel.output import FORMATS, OutputExists, write_atomic

    if output is not None and output.exists() and not force:
        raise click.UsageError(f"输出文件 {output} 已存在；如需覆盖请加 --force")
    try:
        report = run(list(paths), _policy(policy), progress=_progress())
    except NoInput as error:
        raise click.UsageError(str(error)) from error
    _keep(report)
    text = FORMATS[output_format](report)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            write_atomic(output, text, force=force)
        except (OutputExists, OSError) as error:
            raise click.UsageError(str(error)) from error
        click.echo(f"已写入 {output}（错误 {report.summary['error']} 条）", err=True)
    sys.exit(1 if report.has_errors else 0)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(path_type=Path),
              help="输出文件夹（不存在时自动创建）。")
@click.option("--unit", required=True, help="审核单位名称，写在汇总表第2行“审核单位（公章）：”之后。")
@click.option("--policy", help="政策文件：内置年度（如 2024）或文件路径；默认最新年度。")
@click.option("--include-errors", is_flag=True, help="有错误的项目也列入汇总表（默认退回，不列入）。")
@click.option("--force", is_flag=True, help="输出文件夹不为空时覆盖其中的输出文件。")
def consolidate(paths: tuple[Path, ...], outdir: Path, unit: str, policy: str | None, include_errors: bool,
                force: bool) -> None:
    """审核 PATHS 下的全部工作簿并汇总：写出汇总表、审核报告、findings.json 和退回各单位的审核意见。"""
    from tr_excel.consolidate import OutdirRefused
    from tr_excel.consolidate import consolidate as run
    from tr_excel.engine import NoInput

    if not unit.strip():
        raise click.UsageError("--unit 不能为空：请写审核单位名称，如“忻州市工业和信息化局”")
    try:
        result = run(list(paths), outdir, unit.strip(), _policy(policy), include_errors=include_errors, force=force,
                     progress=_progress())
    except (NoInput, OutdirRefused, OSError) as error:
        raise click.UsageError(str(error)) from error
    _keep(result)
    for path in result.written:
        click.echo(path.relative_to(outdir).as_posix())
    report = result.report
    summary = report.summary
    click.echo(
        f"已写入 {outdir}（{len(result.written)} 个文件）：汇总表 {len(result.selection.included)} 个项目，"
        f"共 {len(result.selection.projects)} 个；错误 {summary['error']} 条，警告 {summary['warning']} 条",
        err=True,
    )
    sys.exit(1 if report.has_errors else 0)


@main.command()
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def rules(output_format: str) -> None:
    """列出全部审核规则：编号、级别、说明、来源。"""
    from tr_excel.output import rules_json, rules_text

    click.echo(rules_json() if output_format == "json" else rules_text(), nl=False)


@main.command()
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="要写入的 .xlsx 文件。")
@click.option("--unit", default="", help="审核单位名称，写在汇总表第2行。")
@click.option("--policy", help="政策文件：内置年度或文件路径；默认最新年度。")
@click.option("--force", is_flag=True, help="文件已存在时覆盖。")
def template(output: Path, unit: str, policy: str | None, force: bool) -> None:
    """生成空白的县级申报工作簿（带下拉选项、输入提示和填表说明）。"""
    from tr_excel.output import OutputExists
    from tr_excel.template import write_template

    try:
        write_template(output, _policy(policy), unit=unit, force=force)
    except (OutputExists, OSError) as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"已生成 {output}")
