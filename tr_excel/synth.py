"""Consistent synthetic submissions: the clean projects that samples, tests and benchmarks start from."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

from tr_excel import columns as K
from tr_excel.policy import Policy
from tr_excel.values import uscc_check_char

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_uscc(rng: random.Random) -> str:
    first = "91" + "1409" + "".join(rng.choice("0123456789") for _ in range(2))
    first += "".join(rng.choice(_USCC_CHARS[:10] + "ABCDEFGH") for _ in range(9))
    return first + uscc_check_char(first)


@dataclass
class Submission:
    """One unit's workbook as rows of canonical titles → cell values, sheet by sheet."""

    unit: str
    rows: dict[str, list[dict]] = field(default_factory=lambda: {kind.name: [] for kind in K.SHEET_KINDS})

    def extend(self, other: Submission) -> None:
        for name, rows in other.rows.items():
            self.rows[name].extend(rows)


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """total (in 0.01 万元) split into parts positive amounts that add up exactly."""
    if parts == 1:
        return [total]
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _money(cents: int) -> float:
    """0.01 万元 as the float a county would type (two decimals)."""
    return round(cents / 100, 2)


def clean_project(
    policy: Policy,
    rng: random.Random,
    *,
    enterprise: str,
    project: str,
    direction_name: str,
    county: str = "繁峙县",
    city: str = "忻州市",
    finished: bool = True,
    items: int = 6,
    invoice_start: int = 10000000,
    uscc: str | None = None,
) -> Submission:
    """A project with every sheet filled so that it passes every rule."""
    y = policy.data_year
    direction = policy.direction_by_name[direction_name]
    special = direction.special
    group = "传统优势产业"
    industry = rng.choice(policy.industries[group])
    if direction.basis == "固定资产投资":
        total = rng.randrange(300000, 2000000)  # 3000–20000 万元 in 0.01 万元
    else:
        total = rng.randrange(50000, 800000)
    basis_amount = total * rng.randrange(60, 90) // 100
    other_amount = total - basis_amount
    loan = total * rng.randrange(0, 40) // 100
    own = total - loan
    if direction.basis == "固定资产投资":
        categories = [("土建投资", "厂房投资"), ("设备投资", "生产相关设备")]
    elif direction.basis == "设备投资（含软硬件投资）":
        categories = [("设备投资", "生产相关设备"), ("信息化软硬件投资", "信息化软件")]
    else:
        categories = [("其他投资", "其他")]
    basis_parts = _split(basis_amount, max(1, items - 1), rng)
    item_rows = []
    start = (2023, rng.randrange(1, 7))
    end = (2024, rng.randrange(3, 10)) if finished else (2025, rng.randrange(3, 12))
    invoice = invoice_start
    completed_total = 0
    for index, amount in enumerate([*basis_parts, other_amount]):
        category, sub = categories[index % len(categories)] if index < len(basis_parts) else ("其他投资", "其他")
        if not finished and index % 3 == 0 and direction.basis != "其他投资":
            done = amount * 7 // 10 if index else amount
        else:
            done = amount
        done = amount if finished else done
        completed_total += done
        row = {
            "企业名称": enterprise,
            "项目名称": project,
            "投资类别": category,
            "子类": sub,
            "名称": f"{sub}{index + 1}",
            "材质或型号": "示例型号",
            "数量": f"{index + 1} 台",
            "概算投资额": _money(amount),
            "已完成投资额（按照发票金额核定）": _money(done),
            "开票日期": f"2024-{rng.randrange(1, 10):02d}-{rng.randrange(1, 28):02d}" if done else None,
            "对应发票编号": f"{invoice:08d}" if done else None,
            "发票所在页码": str(index + 10),
            "对应合同所在页码": str(index + 50),
            "未完成投资额": _money(amount - done),
            "承诺完成时间（开票时间）": f"{end[0]}年{end[1]}月" if amount > done else None,
            "用途": "生产",
            "备注": None,
        }
        invoice += 1
        item_rows.append(row)
    if not finished and completed_total * 10 < total * 7:
        raise ValueError("synthetic in-progress project below 70%")
    equipment = basis_amount if direction.basis == "设备投资（含软硬件投资）" else 0
    fixed = basis_amount if direction.basis == "固定资产投资" else 0
    other = total - equipment - fixed if direction.basis != "其他投资" else total
    if direction.basis == "其他投资":
        fixed = equipment = 0
    summary = {
        "序号": 1,
        "所在市": city,
        "所在县": county,
        "所在开发区": None,
        "企业名称": enterprise,
        "项目名称": project,
        "企业性质": rng.choice(policy.lists["企业性质"]),
        "是否为省级重点产业链链主、链核企业（是/否）": rng.choice(["是", "否"]),
        "申报专项": special,
        "申报方向": direction_name,
        "行业分类": group,
        "所属行业": industry,
        "主要内容": f"{project}：新建生产线及配套设施",
        "起止年月": f"{start[0]}.{start[1]:02d}-{end[0]}.{end[1]:02d}",
        "总投资": _money(total),
        "固定资产投资": _money(fixed) if fixed else None,
        "设备投资（含软硬件投资）": _money(equipment) if equipment else None,
        "其他投资": _money(other) if other else None,
        "自筹资金": _money(own),
        "银行贷款": _money(loan) if loan else None,
        "申请专项资金": _money(max(1, total // 10)),
        "已完成投资（按照发票金额核定）": _money(completed_total),
        "项目是否完工（是/否）": "是" if finished else "否",
        "完工时间": f"{end[0]}年{end[1]}月",
        "销售收入": _money(total * 2),
        "利润": _money(total // 5),
        "新增税收": _money(total // 20),
        "就业人数": rng.randrange(10, 300),
        "项目亮点": "采用国内先进工艺，生产效率提升20%",
        "项目联系人及手机": f"王工 13{rng.randrange(100000000, 999999999)}",
    }
    fixed_asset_direction = direction.basis == "固定资产投资"
    revenue_prev = rng.randrange(100000, 5000000)
    revenue = revenue_prev + rng.randrange(-50000, 500000)
    pledge = {
        "项目申报企业（单位）": enterprise,
        "项目名称": project,
        "申报专项": special,
        "申报方向": direction_name,
        "支持方式": ("贴息" if loan else "补助") if "贴息" in policy.support[special] else policy.support[special][0],
        "项目总投资": _money(total),
        "项目固定资产投资": _money(fixed) if fixed_asset_direction else None,
        "项目设备投资（含软硬件投资）": _money(equipment) if direction.smart_manufacturing else None,
        "项目其他投资": _money(other) if direction.basis == "其他投资" else None,
        "项目已完成投资（按照发票金额核定）": _money(completed_total),
        "项目完工时间": f"{end[0]}年{end[1]}月",
        "项目建设完成智能制造核心生产环节数量": 3 if direction.smart_manufacturing else None,
        "项目实施目标": "年新增销售收入、税收和就业",
        f"项目{y}年完成固定资产投资": _money(completed_total // 2) if fixed_asset_direction else None,
        f"项目申报企业（单位）{y}年营业收入": _money(revenue) if fixed_asset_direction else None,
        f"项目申报企业（单位）{y - 1}年营业收入": _money(revenue_prev) if fixed_asset_direction else None,
        f"项目申报企业（单位）{y}年营业收入增量": _money(revenue - revenue_prev) if fixed_asset_direction else None,
        "项目是否获得其他省级财政资金支持（是/否）": "否",
    }
    entity = {
        "企业名称": enterprise,
        "统一社会信用代码": uscc or make_uscc(rng),
        "是否独立法人（是/否）": "是",
        f"{y}年末资产负债率（%）": round(rng.uniform(20, 80), 1),
        "是否列入失信名单（是/否）": "否",
        f"{y}年度是否发生较大及以上生产安全事故（是/否）": "否",
        "DCMM认证等级": "二级",
        "是否设立首席数据官（是/否）": "是",
        "两化融合管理体系贯标证书有效期至": "2026年12月",
    }
    submission = Submission(unit="")
    submission.rows["汇总表"].append(summary)
    submission.rows["承诺书"].append(pledge)
    submission.rows["申报主体"].append(entity)
    submission.rows["投资明细"].extend(item_rows)
    if not finished:
        middle = (completed_total + total) // 2
        for node, amount in (
            ("截至申报之日", completed_total),
            (f"截至{end[0]}年{max(1, end[1] - 1)}月底", middle),
            ("截至项目完工之日", total),
        ):
            submission.rows["建设计划"].append(
                {
                    "企业名称": enterprise,
                    "项目名称": project,
                    "时间节点": node,
                    "项目建设进度内容": "设备安装调试",
                    "累计完成投资额（发票金额）": _money(amount),
                    "备注": None,
                }
            )
    if direction.smart_manufacturing:
        core = [link for link in policy.links if link.core]
        other_links = [link for link in policy.links if not link.core]
        for number, link in enumerate([*rng.sample(core, 3), rng.choice(other_links)], start=1):
            submission.rows["智能制造环节"].append(
                {
                    "企业名称": enterprise,
                    "项目名称": project,
                    "序号": number,
                    "智能制造环节名称": link.name,
                    "是否核心生产环节（是/否）": "是" if link.core else "否",
                    "典型场景名称": link.scenes[0],
                    "典型场景实例名称": f"{link.name}示范场景",
                    "典型场景实例描述": "部署智能装备，实现数据采集与闭环优化。",
                    "建设内容": "采购关键装备与工业软件，完成系统集成。",
                    "实施成效": "生产效率提升15%，运营成本下降8%。",
                    "先进性和可推广性": "可在同行业推广。",
                }
            )
    return submission


def write_submission(path: Path, submission: Submission, policy: Policy, *, title_rows: int = 1) -> None:
    """Write a submission as a county would send it: 汇总表 in the 附件3 layout, other sheets with
    their header after title_rows title lines."""
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
    bold = workbook.add_format({"bold": True, "text_wrap": True, "border": 1})
    for kind in K.SHEET_KINDS:
        rows = submission.rows[kind.name]
        if not rows and not kind.required:
            continue
        sheet = workbook.add_worksheet(kind.name)
        titles = [column.title(policy.data_year) for column in kind.columns]
        if kind is K.SUMMARY:
            sheet.merge_range(0, 0, 0, len(titles) - 1, "山西省技术改造专项资金项目申报汇总表")
            sheet.write_string(1, 0, f"审核单位（公章）：{submission.unit}")
            sheet.write_string(1, len(titles) - 1, "单位：万元")
            for index, column in enumerate(kind.columns):
                if column.group:
                    sheet.write_string(2, index, column.group, bold)
                    sheet.write_string(3, index, column.name, bold)
                else:
                    sheet.merge_range(2, index, 3, index, column.name, bold)
            first = 4
        else:
            for line in range(title_rows):
                sheet.write_string(line, 0, f"{kind.name}（{submission.unit}）")
            for index, title in enumerate(titles):
                sheet.write_string(title_rows, index, title, bold)
            first = title_rows + 1
        for offset, row in enumerate(rows):
            for index, title in enumerate(titles):
                value = row.get(title)
                if kind is K.SUMMARY and title == "序号":
                    value = offset + 1
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(first + offset, index, value)
                else:
                    sheet.write_number(first + offset, index, value)
    workbook.close()


def submission_of(
    policy: Policy,
    unit: str,
    projects,
    *,
    seed: int,
    county: str = "繁峙县",
    city: str = "忻州市",
    invoice_start: int = 10_000_000,
    usccs: dict[str, str] | None = None,
) -> Submission:
    """A clean unit workbook of projects given as (enterprise, project, direction[, finished]); each project
    takes 100 invoice numbers from invoice_start on, so that two units built apart share none."""
    rng = random.Random(seed)
    submission = Submission(unit=unit)
    for index, (enterprise, project, direction, *finished) in enumerate(projects):
        submission.extend(
            clean_project(
                policy,
                rng,
                enterprise=enterprise,
                project=project,
                direction_name=direction,
                county=county,
                city=city,
                finished=finished[0] if finished else True,
                invoice_start=invoice_start + 100 * index,
                uscc=(usccs or {}).get(enterprise),
            )
        )
    return submission
