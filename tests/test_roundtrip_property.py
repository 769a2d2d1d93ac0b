"""Property tests: clean generated workbooks give no 错误 or 警告; what consolidate writes reads back unchanged."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tr_excel import columns as K
from tr_excel.consolidate import consolidate
from tr_excel.engine import validate
from tr_excel.policy import load_policy
from tr_excel.synth import Submission, clean_project, write_submission

POLICY = load_policy("2024")
# Directions that may be declared while still in progress (the others reward finished projects only).
UNFINISHED_ALLOWED = [d.name for d in POLICY.directions if not d.finished_only]
COUNTIES = [county for city in POLICY.cities if city.name == "忻州市" for county in city.counties]

project = st.tuples(
    st.sampled_from([d.name for d in POLICY.directions]),
    st.booleans(),  # finished (forced True for the directions that reward finished projects only)
    st.integers(min_value=2, max_value=12),  # line items
)
submission_spec = st.tuples(
    st.integers(min_value=0, max_value=2**32 - 1),  # the generator's seed
    st.sampled_from(COUNTIES),
    st.lists(project, min_size=1, max_size=5),
    st.integers(min_value=0, max_value=4),  # title rows above each header
)
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _build(spec) -> Submission:
    seed, county, projects, _ = spec
    rng = random.Random(seed)
    submission = Submission(unit=f"忻州市{county}工业和信息化局")
    for index, (direction, finished, items) in enumerate(projects):
        submission.extend(
            clean_project(
                POLICY,
                rng,
                enterprise=f"{county}第{index}有限公司",
                project=f"项目{index}",
                direction_name=direction,
                county=county,
                finished=finished or direction not in UNFINISHED_ALLOWED,
                items=items,
                invoice_start=10_000_000 + 100 * index,
            )
        )
    return submission


@SETTINGS
@given(submission_spec)
def test_a_clean_generated_workbook_yields_no_error_or_warning(spec):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "县.xlsx"
        write_submission(path, _build(spec), POLICY, title_rows=spec[3])
        report = validate([path], POLICY)
    problems = [(f.rule, f.sheet, f.cell, f.message) for f in report.findings if f.severity in ("error", "warning")]
    assert problems == []


@SETTINGS
@given(submission_spec)
def test_the_consolidated_summary_reads_back_with_the_same_figures(spec):
    """Every amount, month and choice of the county's 汇总表 comes back unchanged from the 汇总表 we write."""
    with tempfile.TemporaryDirectory() as folder:
        county_file = Path(folder) / "in" / "县.xlsx"
        county_file.parent.mkdir()
        write_submission(county_file, _build(spec), POLICY, title_rows=spec[3])
        outdir = Path(folder) / "out"
        consolidate([county_file.parent], outdir, "忻州市工业和信息化局", POLICY)
        original = validate([county_file], POLICY).batch.frames_of(K.SUMMARY)[0].df
        again = validate([outdir / "汇总表.xlsx"], POLICY)
    summary = again.batch.frames_of(K.SUMMARY)[0].df
    assert not [f for f in again.findings if f.severity == "error"]
    key = ["_ekey", "_pkey"]
    columns = [c.name for c in K.SUMMARY.columns if c.name != "序号"]
    expected = original.sort_values(key)[columns].reset_index(drop=True)
    actual = summary.sort_values(key)[columns].reset_index(drop=True)
    assert expected.astype(object).to_dict("records") == actual.astype(object).to_dict("records")
