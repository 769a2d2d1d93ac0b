"""A batch big enough to be read in the process pool gives exactly the findings of a batch read in one process."""

from __future__ import annotations

import pickle

from tests.conftest import PROJECTS, UNIT, clean_submission, edit
from tr_excel import columns as K
from tr_excel import engine
from tr_excel.synth import write_submission


def test_sheet_kinds_come_back_from_a_worker_as_the_same_objects():
    """Rules select frames with `frame.kind is SUMMARY`; an unpickled copy would silently match nothing."""
    for kind in K.SHEET_KINDS:
        assert pickle.loads(pickle.dumps(kind)) is kind


def test_a_frame_travels_as_its_columns_and_builds_the_same_dataframe(tmp_path, policy):
    """The workers send each frame's typed columns, not its DataFrame: the parent builds the same one."""
    path = tmp_path / "繁峙县.xlsx"
    write_submission(path, clean_submission(policy, unit=UNIT), policy)
    for frame in engine._read_one((path, path.name, 0, policy)).frames:
        built = frame.df
        travelled = pickle.loads(pickle.dumps(frame))
        assert "df" not in travelled.__dict__
        assert travelled.df.equals(built) and list(travelled.df.dtypes) == list(built.dtypes)
        assert built["_row"].tolist() == frame.table.rows
        money = [c.name for c in frame.kind.columns if c.kind in (K.MONEY, K.SIGNED_MONEY)]
        assert all(str(built[name].dtype) == "Int64" for name in money)


def test_pool_and_single_process_give_the_same_findings(tmp_path, policy, monkeypatch):
    files = engine.PARALLEL_MIN_FILES + 1
    for index in range(files):
        submission = clean_submission(policy, unit=UNIT, seed=index)
        if index == files - 1:
            edit("汇总表", 0, {"总投资": 2999})(submission.rows)  # R05, R06, R07, X05, X06… in the last file
        write_submission(tmp_path / f"{index:02d}.xlsx", submission, policy)
    pooled = engine.validate([tmp_path], policy)
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 10**6)
    single = engine.validate([tmp_path], policy)
    assert any(finding.rule == "R05" for finding in pooled.findings)
    assert [f.public() for f in pooled.findings] == [f.public() for f in single.findings]


def test_rules_run_on_groups_of_workbooks_find_what_they_find_over_the_whole_batch(tmp_path, policy, monkeypatch):
    """The rules that read one workbook at a time run on groups of them while the others are read; run over the
    whole batch instead, every check gives the same findings, across files too (the same project in two files,
    one typo'd), and the groups' reconciliation tables make the batch's."""
    from concurrent.futures import ThreadPoolExecutor

    from tr_excel.reconcile import reconciliation
    from tr_excel.rules.registry import ACROSS_FILES, CHECKS, RULES

    for index, county in enumerate(["繁峙县", "代县", "五台县"]):
        submission = clean_submission(policy, unit=UNIT, seed=index)
        if index == 2:
            edit("汇总表", 0, {"总投资": 2999, "所属行业": "钢铁"})(submission.rows)
            edit("承诺书", 0, {"支持方式": "贴息"})(submission.rows)
        write_submission(tmp_path / f"{county}.xlsx", submission, policy)
    (tmp_path / "乙坏文件.xlsx").write_bytes(b"not a workbook")  # a group with a book that has no frames
    # Read beside this process (threads stand in for the worker processes), one workbook a group.
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 1)
    sizes = []
    monkeypatch.setattr(engine, "group_size", lambda books: sizes.append(books) or 1)
    with ThreadPoolExecutor(2) as pool:
        report = engine.validate([tmp_path], policy, pool=pool)
    assert sizes  # groups were checked while the others were read
    found = {f.rule for f in report.findings}
    assert {"R05", "R06", "R17", "S01"} <= found and found & ACROSS_FILES and found - ACROSS_FILES
    whole = [finding for book in report.books for finding in book.findings]
    for rule_id in RULES:
        if rule_id in CHECKS:
            whole.extend(CHECKS[rule_id](report.batch))
    whole.sort(key=lambda finding: finding.sort_key())
    assert [f.public() for f in report.findings] == [f.public() for f in whole]
    expected = reconciliation(report.batch)
    assert report.reconciliation.equals(expected) and len(expected) == 3 * len(PROJECTS)


def test_group_size_grows_with_the_batch():
    assert engine.group_size(3) == engine.PARALLEL_MIN_FILES
    assert engine.group_size(120) == 35
    assert engine.group_size(1000) == 100


def test_a_windows_machine_with_many_cores_gets_a_pool_it_accepts(monkeypatch):
    """Python's process pool refuses more than 61 workers on Windows: a 64-core server gets 61, a 64-core Linux
    machine all 64, a one-core machine no pool."""
    created = []
    monkeypatch.setattr(engine, "ProcessPoolExecutor", lambda max_workers, initializer: created.append(max_workers))
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 64)
    monkeypatch.setattr(engine.sys, "platform", "win32")
    engine.worker_pool(120)
    monkeypatch.setattr(engine.sys, "platform", "linux")
    engine.worker_pool(120)
    engine.worker_pool(3)
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 1)
    assert engine.worker_pool(120) is None
    assert created == [61, 64, 3]
