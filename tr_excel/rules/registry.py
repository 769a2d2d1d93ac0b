"""The rule registry: every rule's id, severity, title and source, and the check function behind it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tr_excel.findings import ERROR, INFO, WARNING, Finding


@dataclass(frozen=True)
class Rule:
    """A rule of rules.md: the public id, severity and wording, and where it comes from."""

    id: str
    severity: str
    title: str
    source: str
    scope: str  # reader (found while reading), value (one cell), project, batch (across files)


def _rules(rows: str) -> dict[str, Rule]:
    rules = {}
    for line in rows.strip().splitlines():
        rule_id, severity, scope, source, title = (part.strip() for part in line.split("|"))
        rules[rule_id] = Rule(rule_id, {"E": ERROR, "W": WARNING, "I": INFO}[severity], title, source, scope)
    return rules


# id | severity | scope | source | title. Ids are public interface: never renumber or reuse one.
RULES: dict[str, Rule] = _rules(
    """
S01 | E | reader | — | 文件无法作为工作簿读取（损坏、加密、为空、不是电子表格或超过大小上限）
S02 | E | reader | P-A2 | 缺少必需的工作表（汇总表、承诺书或申报主体）
S03 | E | reader | P-A2, P-A3 | 工作表缺少规定的列
S04 | I | reader | — | 工作表有多余的列（已忽略）
S05 | E | value | — | 公式没有计算结果，数值未知（不按0处理）
S06 | E | value | P-A3 | 汇总表合计行与其上各项目行之和不符
S07 | I | reader | — | 工作表按表头识别，名称与规定名称不同
S08 | E | reader | — | 同一工作簿中有两个可见的同类工作表
F01 | E | value | P-A2, P-A3 | 必填项为空
F02 | E | value | P-A3 填表说明 1–5, P-A2 (一)4 | 取值不在规定范围内
F03 | E | value | P-A3 | 金额、百分比或人数不是非负数字
F04 | E | value | P-A3 | 年月或日期无法识别，起止年月缺少结束或结束早于开始，时间节点格式不对
F05 | E | value | P-A3 | 项目联系人及手机中没有有效的11位手机号码
F06 | E | value | — | 统一社会信用代码无效（GB 32100-2015）
F07 | W | value | P-A2 表三 | 智能制造环节文字超过字数上限
F08 | E | value | C, P | 所在市不是山西省的市，或所在县不是该市的县级行政区
F09 | E | value | — | 发票号码不是8位或20位数字（或已被 Excel 截断）
F10 | W | value | P-A3 | 就业人数或核心生产环节数量不是整数
F11 | W | value | — | 年月以数字 YYYY.1 填写，可能是 YYYY.10
R01 | E | project | P-A3 填表说明 3 | 申报方向不属于所填申报专项
R02 | E | project | P-A3 填表说明 5 | 所属行业不属于所填行业分类
R03 | E | project | P-A2 (一)4 | 支持方式与申报专项不符
R04 | E | project | P-A3 填表说明 6 | 申报方向要求填写的投资为空或为0
R05 | E | project | P-1 (二)2 | 总投资低于3000万元
R06 | E | project | — | 固定资产投资、设备投资或其他投资大于总投资
R07 | E | project | P-A2 (三)2 | 自筹资金与银行贷款之和不等于总投资
R08 | E | project | — | 已完成投资大于总投资
R09 | E | project | P-1 (二)2 | 在建项目已完成投资低于总投资的70%
R10 | E | project | P-1 (二)2 | 完工项目的完工时间早于2022年1月
R11 | W | project | P-1 (二)2 | 项目是否完工与完工时间矛盾
R12 | W | project | — | 起止年月的结束年月与完工时间不一致
R13 | E | project | — | 申请专项资金为0或大于总投资
R14 | E | project | P-1 (一)1, (一)3 | 申报主体不符合条件（非独立法人、资产负债率超过85%、失信、发生较大及以上事故）
R15 | E | project | P-1 (二)5 | 项目已获得其他省级财政资金支持
R16 | E | project | P-A1 五, 六 | 申报方向的前提条件不满足（DCMM与首席数据官，或两化融合证书）
R17 | E | batch | P-A2 (一)1 | 同一项目在本批次中重复申报
R18 | W | project | C 一 | 项目所在县（市）与审核单位不符
R19 | E | project | P-A1 二, 三, 四, 五, 八 | 只奖励完工项目的方向填报了未完工项目
R20 | W | project | P-A2 (三) 承诺 3 | 在建项目的完工时间晚于省截止日期后24个月
R21 | E | project | P-A2 三 (四)1 | 支持方式为贴息但汇总表没有银行贷款
R22 | E | project | — | 承诺书当年完成固定资产投资大于已完成投资
X01 | E | project | P-A2 (三) | 汇总表与承诺书的项目不对应
X02 | E | project | P-A2 (三) 备注1–3 | 承诺书与汇总表数据不一致
X03 | E | project | P-A2 (三) | 营业收入增量不等于两年营业收入之差
X04 | E | project | P-1 (一) | 项目的申报企业不在申报主体表中
X05 | E | project | P-A2 (三)3 | 投资明细已完成投资额合计与已完成投资不符
X06 | E | project | P-A2 (三)1, 表二 | 投资明细概算投资额合计与总投资（或方向要求的投资）不符
X07 | E | project | P-A2 表二 | 有已完成投资额的明细缺少发票编号或开票日期
X08 | E | project | P-A2 表二 | 未完成投资额不等于概算投资额减已完成投资额
X09 | E | batch | P-A2 (三)3 | 同一发票号码出现在不同项目中
X10 | E | project | P 三 | 开票日期晚于省截止日期
X11 | W | project | — | 开票日期早于项目开始年月
X12 | E | project | — | 明细、计划、环节或核查表中的项目不在汇总表中
X13 | E | project | P-A2 (二)3 | 在建项目没有建设计划
X14 | E | project | P-A2 表一 | 建设计划累计完成投资额不合理
X15 | E | project | P-A1 二 | 智能化升级项目的智能制造环节不足
X16 | E | project | P-A1 二 | 是否核心生产环节填写错误
X17 | I | project | P-A1 二 | 典型场景不在通知列出的场景中
X18 | E | project | P-A2 (三) | 承诺书核心生产环节数量与智能制造环节表不符
X19 | W | project | P-A2 (四) | 现场核查核定数与申报数不符
X20 | E | project | P-A2 (四) | 现场核查结论为不相符、不符合或发生安全事故
X21 | I | batch | P-A2 表二 | 同一项目的多条明细使用同一发票号码
X22 | W | batch | — | 同一统一社会信用代码对应不同企业名称（或反之）
X23 | W | project | P-A2 表二 | 未完成投资缺少承诺完成时间或晚于完工时间
"""
)

# Check functions by rule id; a rule module registers its function with @check("R05").
CHECKS: dict[str, Callable[..., Iterable[Finding]]] = {}
# The rules that compare workbooks with each other (scope "batch"): run once over the whole batch. Every other
# rule reads one workbook at a time, so it may run on any group of workbooks (engine.validate runs it on groups
# as they arrive from the workers).
ACROSS_FILES = frozenset(rule_id for rule_id, rule in RULES.items() if rule.scope == "batch")


def check(rule_id: str):
    """Register the function that checks one rule."""
    if rule_id not in RULES:
        raise KeyError(f"unknown rule {rule_id}")

    def register(function):
        if rule_id in CHECKS:
            raise KeyError(f"rule {rule_id} registered twice")
        CHECKS[rule_id] = function
        return function

    return register


def make_finding(rule_id: str, message: str, **where) -> Finding:
    """A finding of a registered rule, with the rule's own severity."""
    return Finding(
        rule=rule_id,
        severity=RULES[rule_id].severity,
        file=where.pop("file"),
        sheet=where.pop("sheet", None),
        row=where.pop("row", None),
        column=where.pop("column", None),
        cell=where.pop("cell", None),
        enterprise=where.pop("enterprise", None),
        project=where.pop("project", None),
        message=message,
        **where,
    )


# What we chose where rules.md, workbook.md or the notices leave room; docs/rules.md prints these.
GENERAL_DECISIONS: tuple[str, ...] = (
    "Money is held as an exact integer count of 0.0001 万元 (one yuan); a number cell with more decimals "
    "(a formula's float noise) is rounded half-even to 4 decimals, text with more than 4 significant decimals "
    "is an F03.",
    "A blank money cell is 0 except in a required column, where F01 reports it and the rules that need the "
    "figure skip it, so one mistake is reported once.",
    "A 申报方向 that is valid but belongs to another 专项 gives R01 only: the rules that depend on the direction "
    "(R04, R05, R16, R19) skip that row.",
    "Vertically merged cells in the key and category columns (企业名称, 项目名称, 投资类别, 子类) are read as "
    "filling every row of the merge, as hand-made sheets mean them; amount columns are never filled down.",
    "Reading stops at a row whose first cell starts with 填表说明/说明/注/备注; in 汇总表 a row with text only "
    "in the 序号 column is a note line.",
    "A header naming a year other than the policy's data year (or the year before, for 营业收入) does not "
    "match its column, so a sheet made for another year's notice shows S03.",
    "A header is also known without its last bracket, as counties write the official phrasing or a unit after "
    "it (所在县（市、区）, 就业人数（人）, 企业名称（盖章）, 数量（台/套）); units such as （万元） and the "
    "（是/否） suffix are dropped in any case. A header written exactly as workbook.md names it wins over one known "
    "only without its bracket, which is then an extra column (S04). In a two-level header a leaf no kind knows "
    "is named by its group: 表二 as the notice prints it has 未完成投资额 over 投资额 and 承诺完成时间（开票时间）, "
    "and that 投资额 is the column 未完成投资额. A few everyday wordings are also known: "
    "发票号码 (what an invoice prints), 对应发票号码 and 发票编号 for 对应发票编号, 开票时间 for 开票日期, "
    "项目联系人及手机号(码) for 项目联系人及手机.",
    "consolidate refuses an OUTDIR inside an input folder (the next run would read our own outputs as county "
    "submissions) and any input that is one of its outputs, even with --force.",
    "A return copy is the county's own .xlsx with only the marked sheets, styles and comments edited (charts, "
    "images and formulas kept, macros dropped). One the patcher cannot edit goes through openpyxl; above the "
    "policy's max_annotated_cells (openpyxl needs about 1 GB near the cell limit), and for an .xls, it holds the "
    "values only, with the same fills and comments; 退回清单 says so in a column 退回文件说明 that interface.md "
    "does not list.",
    "F10 and F11 are warnings about a value that was read, and the rules use that value; a value with an F error "
    "or S05 is not read by any rule.",
    "The notice and the spec agree on every threshold and list checked (3000 万元, 70%, 85%, 2022-01, "
    "2024-10-31, 2024-10-21, the lists of 附件3 填表说明, 表三 text limits); where the notice's OCR text "
    "garbles a name (链主 wording, 一 for —, 附件4 numbering) the spec's reading is used.",
)

DECISIONS: dict[str, str] = {
    "F02": "DCMM认证等级 also accepts 1–5 and 1级–5级 (policy aliases). 是/否 cells that read as neither are "
    "F02 too. 子类 outside its 投资类别 is F02 at the 子类 cell.",
    "F04": "Month forms accepted: Excel dates, 2024年6月, 2024.06, 2024.6, 2024-06, 2024/6, 202406, 2024-06-30, "
    "2024年6月30日, 20240630; an integer 20000–80000 is an unformatted Excel date serial (1900 system). "
    "起止年月 with 至今 has no end month (F04).",
    "F08": "A former county name (e.g. 大同县) is rejected with the new name in the message; a 所在县 ending in "
    "开发区/园区/示范区/风景名胜区 is accepted.",
    "F11": "Only a number cell ending in .1 is flagged (2024.1 may have been 2024.10); text 2024.1 is January. "
    "F10 and F11 are warnings about a value that was read: the rules use it (January; the fractional count), "
    "while a value with an F error or S05 is not read by any rule.",
    "R11": "A month-only 完工时间 is after the deadline when its month is after October 2024; a full date is "
    "compared by day.",
    "R14": "资产负债率 number cells of magnitude ≤ 1 are fractions (0.625 = 62.5%), as Excel stores a %-formatted "
    "cell; so a clerk's bare 1 reads as 100%.",
    "R16": "A 两化融合 certificate valid to a month is valid to the end of that month. A blank DCMM level or "
    "首席数据官 counts as unmet.",
    "X01": "X01 and X12 skip a file whose partner sheet is missing (S02 reports it); X04 likewise without 申报主体. "
    "X12 reports every orphan row at 项目名称.",
    "X02": "The basis column compared is chosen by the 汇总表 direction (the 承诺书's own when the 汇总表 one is "
    "invalid); a blank 承诺书 项目完工时间 against a filled 汇总表 is a difference; blank money equals 0.",
    "X03": "For the three fixed-asset directions blank revenue cells are F01's; elsewhere a blank is 0.",
    "X05": "A project with no line items gets X05/X06 only when the declared figure is > 0, saying either that "
    "投资明细 has no rows for it or that the file has no 投资明细 sheet.",
    "X06": "One finding per failing sum; the basis sum is skipped when the basis column is blank or 0 (R04) "
    "and unknown when any item's 投资类别 is unreadable.",
    "X08": "已完成投资额 above 概算投资额 is compared exactly (like R08) and replaces the remainder check on that row.",
    "X09": "A project key found in two files is one project (R17 reports it): its shared invoices are not X09. "
    "X21 is an invoice repeated within one project that no other project uses; otherwise X09 alone lists every "
    "place. The same number twice in one cell counts once.",
    "X14": "A fall counts when it is more than 0.01; the last node is the project's last row in sheet order.",
    "X15": "Reported only when the project is short for certain: rows whose 环节 cannot be read count as if they "
    "helped. X18 is skipped while any 环节 is unreadable.",
    "X19": "Also compares 现场核查 项目总投资 with 总投资; a blank 核定 cell means not reviewed and is not compared.",
    "X22": "One code under two names is reported at 企业名称 of each row; one name under two codes at "
    "统一社会信用代码; codes failing F06 are ignored.",
    "R18": "A county unit matches when 所在县 or 所在开发区 contains its division name (or the reverse); "
    "阳泉's 城区/矿区/郊区 are recognised only after their city's name.",
}
