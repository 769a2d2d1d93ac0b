"""Write sample_workbooks/: five 忻州市 units, every 专项 and 方向, mostly clean, a few typical mistakes."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from tr_excel.policy import load_policy
from tr_excel.synth import Submission, clean_project, write_submission

ROOT = Path(__file__).resolve().parent.parent

# (file name, 审核单位, 所在县, enterprises: (name, project, direction short name, finished))
UNITS = [
    (
        "忻府区",
        "忻州市忻府区工业和信息化局",
        "忻府区",
        [
            ("忻州市晋鑫精密锻造有限公司", "高端法兰精密锻造生产线技术改造项目", "产业基础核心支撑", True),
            ("山西忻府华茂食品有限公司", "杂粮食品智能工厂建设项目", "智能化升级", True),
            ("忻州云图数据科技有限公司", "工业大数据分析平台研发及产业化项目", "数字技术创新", True),
        ],
    ),
    (
        "原平市",
        "忻州市原平市工业和信息化局",
        "原平市",
        [
            ("原平市同德铸业有限公司", "铸造生产线余热回收节能降碳改造项目", "生产线节能降碳改造", False),
            ("山西原平农机装备制造有限公司", "农机装备开源工业软件应用项目", "开源体系建设", True),
            ("原平市恒远化工有限公司", "化工园区清洁生产改造项目", "绿色低碳转型", True),
        ],
    ),
    (
        "繁峙县",
        "忻州市繁峙县工业和信息化局",
        "繁峙县",
        [
            ("繁峙县金岩矿业新材料有限公司", "5G+工业互联网数字化改造项目", "数字化改造", False),
            ("山西繁峙中联建材有限公司", "水泥生产数字化融合应用项目", "数字化融合应用", True),
        ],
    ),
    (
        "五台县",
        "忻州市五台县工业和信息化局",
        "五台县",
        [
            ("五台县清凉山药业有限公司", "中药提取中试平台建设项目", "中试项目", True),
            ("山西五台山纺织有限公司", "纺织印染生产线智能化升级项目", "智能化升级", True),
        ],
    ),
    (
        "忻州经济开发区",
        "忻州经济开发区经济发展部",
        "忻州经济开发区",
        [
            ("忻州开发区中科光电材料有限公司", "光伏电池关键材料产业化项目", "产业基础核心支撑", False),
            ("山西忻开新能源装备有限公司", "风电法兰生产线绿色低碳改造项目", "绿色低碳转型", False),
        ],
    ),
]


def _direction(policy, short: str) -> str:
    return next(d.name for d in policy.directions if d.name.endswith(short))


def _plant_mistakes(name: str, submission: Submission, policy) -> None:
    """The few mistakes counties really make, so that the demo shows what the checks find."""
    summary = submission.rows["汇总表"]
    items = submission.rows["投资明细"]
    if name == "忻府区":
        summary[0]["总投资"] = f"{summary[0]['总投资']:,.2f}万元"  # text with separators and 万元: still fine
        summary[1]["项目联系人及手机"] = "李明 0350-3021234"  # a landline, no mobile: F05
        items[0]["已完成投资额（按照发票金额核定）"] = round(items[0]["已完成投资额（按照发票金额核定）"] - 12.5, 2)
        items[0]["未完成投资额"] = 12.5  # invoices now 12.50 short of 已完成投资: X05
        items[0]["承诺完成时间（开票时间）"] = summary[0]["完工时间"]
    if name == "原平市":
        summary[2]["申请专项资金"] = "待定"  # words in a money cell: F03
        submission.rows["申报主体"][1]["统一社会信用代码"] = "91140981MA0K3XYZ1Q"  # wrong check character: F06
    if name == "繁峙县":
        # The clerk typed 2024.10 everywhere; in the number cell Excel kept 2024.1 (F11), so the text
        # cells that still say October now disagree with it (R12, X02).
        summary[1]["完工时间"] = 2024.1
        summary[1]["起止年月"] = summary[1]["起止年月"].split("-")[0] + "-2024.10"
        submission.rows["承诺书"][1]["项目完工时间"] = "2024年10月"
    if name == "五台县":
        summary[1]["申报方向"] = "绿色低碳转型"  # not a direction of 数字化智能化改造专项: R01
    if name == "忻州经济开发区":
        items[0]["对应发票编号"] = "10000000"  # the same invoice as 忻府区's first item: X09


def build(output: Path) -> list[Path]:
    policy = load_policy()
    rng = random.Random(2024)
    output.mkdir(parents=True, exist_ok=True)
    written = []
    invoice = 10000000
    for name, unit, county, projects in UNITS:
        submission = Submission(unit=unit)
        for enterprise, project, short, finished in projects:
            submission.extend(
                clean_project(
                    policy,
                    rng,
                    enterprise=enterprise,
                    project=project,
                    direction_name=_direction(policy, short),
                    county=county,
                    finished=finished,
                    items=rng.randrange(4, 9),
                    invoice_start=invoice,
                )
            )
            invoice += 1000
        _plant_mistakes(name, submission, policy)
        path = output / f"{name}.xlsx"
        write_submission(path, submission, policy, title_rows=rng.randrange(0, 3))
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "sample_workbooks")
    args = parser.parse_args()
    for path in build(args.output):
        print(path)


if __name__ == "__main__":
    main()
