"""The 汇总表 as LibreOffice prints it: A3 landscape pages, all 30 columns across, header and footer on each."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tr_excel.consolidate import consolidate
from tr_excel.policy import Policy
from tr_excel.synth import Submission, clean_project, write_submission

TOOLS = ("soffice", "pdfinfo", "pdftotext")
pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in TOOLS),
    reason="LibreOffice (soffice) and poppler-utils (pdfinfo, pdftotext) are needed to print the 汇总表",
)
A3_LANDSCAPE = "1190.55 x 841.89 pts"
DIRECTIONS = ("产业基础核心支撑", "智能化升级", "中试项目", "绿色低碳转型", "制造业数字化转型改造—数字化改造")


def soffice(*arguments: str, profile: Path) -> None:
    # A profile of its own: two LibreOffice runs sharing one (parallel tests) lock each other out.
    command = ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", *arguments]
    subprocess.run(command, check=True, capture_output=True, timeout=180)


@pytest.fixture(scope="module")
def pdf(tmp_path_factory, policy: Policy) -> Path:
    root = tmp_path_factory.mktemp("print")
    (root / "in").mkdir()
    for seed, county in enumerate(("繁峙县", "五台县", "原平市"), start=1):
        rng = random.Random(seed)
        submission = Submission(unit=f"忻州市{county}工业和信息化局")
        for index in range(12):  # 36 projects: more than one A3 page
            submission.extend(
                clean_project(
                    policy,
                    rng,
                    enterprise=f"{county}第{index + 1}号机械制造有限公司",
                    project=f"{county}年产{index + 1}万吨高端装备智能化技术改造项目",
                    direction_name=DIRECTIONS[index % len(DIRECTIONS)],
                    county=county,
                    invoice_start=seed * 1_000_000 + index * 100,
                )
            )
        submission.unit = f"忻州市{county}工业和信息化局"
        write_submission(root / "in" / f"{county}.xlsx", submission, policy)
    result = consolidate([root / "in"], root / "out", "忻州市工业和信息化局", policy)
    assert len(result.selection.included) == 36, [f.message for f in result.report.findings]
    soffice(
        "--convert-to", "pdf", "--outdir", str(root / "pdf"), str(root / "out" / "汇总表.xlsx"), profile=root / "lo"
    )
    return root / "pdf" / "汇总表.pdf"


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def page_text(pdf: Path, page: int) -> str:
    command = ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def test_every_page_is_a3_landscape(pdf: Path):
    count = pages(pdf)
    assert count >= 2
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", str(count), str(pdf)], check=True, capture_output=True, text=True
    ).stdout
    sizes = re.findall(r"^Page\s+\d+ size:\s+(.+?) pts", info, re.M)
    assert len(sizes) == count
    assert all(f"{size} pts" == A3_LANDSCAPE for size in sizes), sizes


def test_all_columns_header_and_footer_on_every_page(pdf: Path):
    count = pages(pdf)
    for page in range(1, count + 1):
        text = page_text(pdf, page)
        squeezed = re.sub(r"\s+", "", text)
        # The first and the last (30th) column's header: the page is one table wide.
        assert "序号" in squeezed and "项目联系人及手机" in squeezed, page
        assert "山西省技术改造专项资金项目申报汇总表" in squeezed, page
        assert f"第{page}页，共{count}页" in squeezed, page
    assert "审核单位（公章）：忻州市工业和信息化局" in re.sub(r"\s+", "", page_text(pdf, 1))
    assert "合计" in page_text(pdf, count)
