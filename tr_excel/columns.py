"""The county submission workbook's sheets and columns (workbook.md), as data."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Column kinds. The reader parses each cell by its kind; the F rules check it.
TEXT = "text"  # free text
SEQ = "seq"  # 序号: ignored
MONEY = "money"  # 万元, non-negative
SIGNED_MONEY = "signed_money"  # 万元, may be negative (营业收入增量)
PERCENT = "percent"
COUNT = "count"  # persons, environments: non-negative, whole expected (F10)
MONTH = "month"  # a month or a date
RANGE = "range"  # 起止年月
YESNO = "yesno"
LIST = "list"  # a value from a policy list (Column.list_name)
CONTACT = "contact"  # 联系人及手机
USCC = "uscc"  # 统一社会信用代码
INVOICES = "invoices"  # one or more invoice numbers
NODE = "node"  # 建设计划 时间节点
CITY = "city"
COUNTY = "county"


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its canonical name, how its cells are read, whether blank is allowed."""

    name: str  # canonical name as in workbook.md, with {Y} and {Y1} (= Y-1) for the data year
    kind: str = TEXT
    required: bool = False
    list_name: str = ""  # for LIST: which policy list
    text_limit_key: str = ""  # for F07: key into the policy's text limits
    aliases: tuple[str, ...] = ()
    group: str = ""  # 汇总表 two-level header: the merged group cell above this leaf

    def title(self, data_year: int) -> str:
        """The canonical header with the data year written out."""
        return self.name.format(Y=data_year, Y1=data_year - 1)


@dataclass(frozen=True)
class SheetKind:
    """A kind of sheet: its canonical name and columns; the first two columns are the project key."""

    name: str
    columns: tuple[Column, ...]
    required: bool
    per_project: bool = True
    enterprise_column: str = "企业名称"
    extra: dict = field(default_factory=dict)

    def __reduce__(self):
        # Rules tell sheet kinds apart by identity (frame.kind is SUMMARY): a kind coming back from a pool
        # worker must be the module's own object, not an equal copy, so it pickles as a reference by name.
        return (_kind_named, (self.name,))

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


C = Column

SUMMARY = SheetKind(
    "汇总表",
    (
        C("序号", SEQ),
        C("所在市", CITY, True),
        C("所在县", COUNTY, True),
        C("所在开发区"),
        C("企业名称", TEXT, True),
        C("项目名称", TEXT, True),
        C("企业性质", LIST, True, list_name="企业性质"),
        C(
            "是否为省级重点产业链链主、链核企业（是/否）",
            YESNO,
            True,
            # The notice itself prints the shorter, garbled wording.
            aliases=("是否为省级重点产业链主、链核企业（是/否）",),
        ),
        C("申报专项", LIST, True, list_name="申报专项"),
        C("申报方向", LIST, True, list_name="申报方向"),
        C("行业分类", LIST, True, list_name="行业分类"),
        C("所属行业", LIST, True, list_name="所属行业"),
        C("主要内容", TEXT, True),
        C("起止年月", RANGE, True),
        C("总投资", MONEY, True, group="项目投资"),
        C("固定资产投资", MONEY, group="项目投资"),
        C("设备投资（含软硬件投资）", MONEY, group="项目投资"),
        C("其他投资", MONEY, group="项目投资"),
        C("自筹资金", MONEY, group="资金来源"),
        C("银行贷款", MONEY, group="资金来源"),
        C("申请专项资金", MONEY, True),
        C("已完成投资（按照发票金额核定）", MONEY, True),
        C("项目是否完工（是/否）", YESNO, True),
        C("完工时间", MONTH, True),
        C("销售收入", MONEY, group="投产后预期效益"),
        C("利润", MONEY, group="投产后预期效益"),
        C("新增税收", MONEY, group="投产后预期效益"),
        C("就业人数", COUNT, group="投产后预期效益"),
        C("项目亮点"),
        C("项目联系人及手机", CONTACT, True, aliases=("项目联系人及手机号", "项目联系人及手机号码")),
    ),
    required=True,
)

PLEDGE = SheetKind(
    "承诺书",
    (
        C("项目申报企业（单位）", TEXT, True),
        C("项目名称", TEXT, True),
        C("申报专项", LIST, True, list_name="申报专项"),
        C("申报方向", LIST, True, list_name="申报方向"),
        C("支持方式", LIST, True, list_name="支持方式"),
        C("项目总投资", MONEY, True),
        C("项目固定资产投资", MONEY),
        C("项目设备投资（含软硬件投资）", MONEY),
        C("项目其他投资", MONEY),
        C("项目已完成投资（按照发票金额核定）", MONEY),
        C("项目完工时间", MONTH),
        C("项目建设完成智能制造核心生产环节数量", COUNT),
        C("项目实施目标"),
        # 承诺书 备注1: the next four are required only for the fixed-asset directions (F01 via R04's list).
        C("项目{Y}年完成固定资产投资", MONEY),
        C("项目申报企业（单位）{Y}年营业收入", MONEY),
        C("项目申报企业（单位）{Y1}年营业收入", MONEY),
        C("项目申报企业（单位）{Y}年营业收入增量", SIGNED_MONEY),
        C("项目是否获得其他省级财政资金支持（是/否）", YESNO, True),
    ),
    required=True,
    enterprise_column="项目申报企业（单位）",
)

# The 承诺书 columns that 备注1 says only the fixed-asset directions fill, and must.
PLEDGE_FIXED_ASSET_COLUMNS = (
    "项目{Y}年完成固定资产投资",
    "项目申报企业（单位）{Y}年营业收入",
    "项目申报企业（单位）{Y1}年营业收入",
    "项目申报企业（单位）{Y}年营业收入增量",
)

ENTITY = SheetKind(
    "申报主体",
    (
        C("企业名称", TEXT, True),
        C("统一社会信用代码", USCC, True),
        C("是否独立法人（是/否）", YESNO, True),
        C("{Y}年末资产负债率（%）", PERCENT, True),
        C("是否列入失信名单（是/否）", YESNO, True),
        C("{Y}年度是否发生较大及以上生产安全事故（是/否）", YESNO, True),
        C("DCMM认证等级", LIST, list_name="DCMM认证等级"),
        C("是否设立首席数据官（是/否）", YESNO),
        C("两化融合管理体系贯标证书有效期至", MONTH),
    ),
    required=True,
    per_project=False,
)

INVESTMENT = SheetKind(
    "投资明细",
    (
        C("企业名称", TEXT, True),
        C("项目名称", TEXT, True),
        C("投资类别", LIST, True, list_name="投资类别"),
        C("子类", LIST, True, list_name="子类"),
        C("名称", TEXT, True),
        C("材质或型号"),
        C("数量"),  # free text such as "120 m²" or "3 台": not checked
        C("概算投资额", MONEY, True),
        C("已完成投资额（按照发票金额核定）", MONEY),
        C("开票日期", MONTH, aliases=("开票时间",)),
        # 发票号码 is what the invoice itself prints.
        C("对应发票编号", INVOICES, aliases=("对应发票编号（逐项填写）", "对应发票号码", "发票号码", "发票编号")),
        C("发票所在页码"),
        C("对应合同所在页码"),
        C("未完成投资额", MONEY),
        C("承诺完成时间（开票时间）", MONTH),
        C("用途"),
        C("备注"),
    ),
    required=False,
)

PLAN = SheetKind(
    "建设计划",
    (
        C("企业名称", TEXT, True),
        C("项目名称", TEXT, True),
        C("时间节点", NODE, True),
        C("项目建设进度内容"),
        C("累计完成投资额（发票金额）", MONEY, True),
        C("备注"),
    ),
    required=False,
)

SMART = SheetKind(
    "智能制造环节",
    (
        C("企业名称", TEXT, True),
        C("项目名称", TEXT, True),
        C("序号", SEQ),
        C("智能制造环节名称", LIST, True, list_name="智能制造环节"),
        C("是否核心生产环节（是/否）", YESNO, True),
        C("典型场景名称", TEXT, True),
        C("典型场景实例名称", TEXT, True),
        C("典型场景实例描述", TEXT, text_limit_key="典型场景实例描述"),
        C("建设内容", TEXT, text_limit_key="建设内容"),
        C("实施成效", TEXT, text_limit_key="实施成效"),
        C("先进性和可推广性", TEXT, text_limit_key="先进性和可推广性"),
    ),
    required=False,
)

INSPECTION = SheetKind(
    "现场核查",
    (
        C("项目申报企业（单位）", TEXT, True),
        C("项目名称", TEXT, True),
        C("项目形象进度"),
        C("建设内容与申报内容是否相符（是/否）", YESNO, True),
        C("开工时间", MONTH),
        C("完工时间（完工项目）", MONTH),
        C("拟完工时间（在建项目）", MONTH),
        C("项目总投资", MONEY),
        C("核定项目固定资产投资", MONEY),
        C("核定项目已完成投资", MONEY),
        C("核定项目设备投资（含软硬件投资）", MONEY),
        C("核定项目其他投资", MONEY),
        C("申报资料和建设项目的真实性、完整性、合规性、一致性是否符合政策规定和申报要求（是/否）", YESNO, True),
        C("{Y}年度是否发生较大及以上生产安全事故（是/否）", YESNO, True),
        C("核查组组长"),
        C("核查组成员"),
    ),
    required=False,
    enterprise_column="项目申报企业（单位）",
)

# In the order a workbook holds them and findings are listed.
SHEET_KINDS: tuple[SheetKind, ...] = (SUMMARY, PLEDGE, ENTITY, INVESTMENT, PLAN, SMART, INSPECTION)
KINDS_BY_NAME = {kind.name: kind for kind in SHEET_KINDS}
NOTES_SHEET = "填表说明"


def _kind_named(name: str) -> SheetKind:
    return KINDS_BY_NAME[name]

# Header suffixes that counties add or drop at will; stripped before comparing.
_OPTIONAL_SUFFIX = re.compile(r"\((?:是/否|是或否|%|万元|单位:万元|逐项填写|[^()]*字[以之]?内[^()]*)\)$")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?=年)")


def normalise_header(text: object, data_year: int | None = None) -> str:
    """A header cell as compared: NFKC, no whitespace, brackets alike, optional suffixes dropped.

    With data_year, the two years a header may name become {Y} and {Y1}, so that the column is found
    whatever year the policy is for and a header naming a wrong year does not match.
    """
    if text is None:
        return ""
    normalised = unicodedata.normalize("NFKC", str(text))
    normalised = re.sub(r"\s+", "", normalised)
    normalised = normalised.replace("【", "(").replace("】", ")").replace("[", "(").replace("]", ")")
    while True:
        stripped = _OPTIONAL_SUFFIX.sub("", normalised)
        if stripped == normalised:
            break
        normalised = stripped
    if data_year is not None:

        def year_token(match: re.Match) -> str:
            year = int(match.group(1))
            return {data_year: "{Y}", data_year - 1: "{Y1}"}.get(year, match.group(1))

        normalised = _YEAR.sub(year_token, normalised)
    return normalised


def header_names(column: Column) -> list[str]:
    """Every normalised header text that names this column (canonical name and aliases)."""
    return [normalise_header(name) for name in (column.name, *column.aliases)]
