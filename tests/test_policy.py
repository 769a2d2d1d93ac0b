"""The policy is data: the newest shipped year is the default, a file path works, a broken file is one clear message."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from tr_excel.cli import main
from tr_excel.policy import SCHEMAS_DIR, PolicyError, load_policy


def _schemas_copy(tmp_path):
    target = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, target)
    return target


def test_the_2024_policy_holds_the_notice_values():
    policy = load_policy("2024")
    assert policy.data_year == 2023
    assert str(policy.province_deadline) == "2024-10-31" and str(policy.city_deadline) == "2024-10-21"
    assert policy.earliest_completion == (2022, 1)
    assert (str(policy.min_completed_ratio), str(policy.min_total_investment), str(policy.max_debt_ratio)) == (
        "0.70",
        "3000",
        "85",
    )
    assert len(policy.cities) == 11 and sum(len(city.counties) for city in policy.cities) == 117
    assert len(policy.links) == 16 and len(policy.core_links) == 8
    assert len(policy.directions) == 9 and len(policy.summary_notes) == 7


def test_a_new_year_is_a_new_file_and_becomes_the_default(tmp_path):
    schemas = _schemas_copy(tmp_path)
    text = (schemas / "policy-2024.toml").read_text(encoding="utf-8")
    text = text.replace("year = 2024", "year = 2025").replace("data_year = 2023", "data_year = 2024")
    (schemas / "policy-2025.toml").write_text(text, encoding="utf-8")
    policy = load_policy(schemas_dir=schemas)
    assert policy.name == "2025" and policy.data_year == 2024
    assert load_policy("2024", schemas_dir=schemas).data_year == 2023


def test_a_policy_given_by_path(tmp_path):
    schemas = _schemas_copy(tmp_path)
    assert load_policy(str(schemas / "policy-2024.toml")).name == "2024"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda text: text.replace("max_debt_ratio", "max_debt_ration"), "max_debt_ratio"),
        (lambda text: text + "\n[[[broken", "无法读取"),
        (lambda text: text.replace('special = "绿色低碳转型专项"', 'special = "不存在专项"', 1), "不存在专项"),
        (lambda text: text.replace("province_deadline = 2024-10-31", 'province_deadline = "10月31日"'), "日期"),
    ],
    ids=["missing_key", "not_toml", "unknown_special", "deadline_not_a_date"],
)
def test_a_broken_policy_is_one_clear_message(tmp_path, change, words):
    schemas = _schemas_copy(tmp_path)
    path = schemas / "policy-2024.toml"
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(PolicyError) as error:
        load_policy(str(path))
    assert words in str(error.value) and str(path) in str(error.value)


def test_cli_reports_an_unknown_policy_as_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["template", "-o", str(tmp_path / "t.xlsx"), "--policy", "1999"])
    assert result.exit_code == 2
    assert "找不到政策文件" in result.output
