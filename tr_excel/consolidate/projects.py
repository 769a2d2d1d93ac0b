"""Which projects go into the 汇总表 (rules.md): every 汇总表 row of the batch, with the 错误 that keep it out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from tr_excel import columns as K
from tr_excel.engine import Report
from tr_excel.findings import ERROR, Finding
from tr_excel.reader import Workbook
from tr_excel.tables import Frame

# File-level 错误 that keep every project of their file out.
FILE_RULES = frozenset({"S01", "S02", "S03", "S08"})


@dataclass
class Project:
    """One 汇总表 row of one input file, typed, with the 错误 attached to it."""

    frame: Frame
    position: int  # position of the row in the frame's columns
    blocking: list[Finding] = field(default_factory=list)
    included: bool = True

    @property
    def book(self) -> Workbook:
        return self.frame.book

    @property
    def row(self) -> int:
        return self.frame.values("_row")[self.position]

    def typed(self, column: str) -> object:
        """The parsed value: int units for money, When, bool, Decimal…; None (or NA) when blank or unreadable."""
        return self.frame.values(column)[self.position]

    def text(self, column: str) -> str:
        """The cell as read, as text ("" when blank)."""
        return self.frame.texts(column)[self.position]

    def money(self, column: str) -> int:
        """Money in 0.0001 万元 for totals: an unreadable amount (an 错误 already) counts as 0."""
        value = self.typed(column)
        return 0 if value is None else int(value)

    def amount(self, column: str) -> Decimal | None:
        """Money in 万元 for listing; None when it could not be read."""
        value = self.typed(column)
        return None if value is None else Decimal(int(value)).scaleb(-4)

    @property
    def enterprise(self) -> str:
        return self.text("企业名称")

    @property
    def name(self) -> str:
        return self.text("项目名称")

    @property
    def county(self) -> str:
        return self.text("所在县")

    @property
    def special(self) -> str:
        return self.typed("申报专项") or self.text("申报专项")

    @property
    def direction(self) -> str:
        return self.typed("申报方向") or self.text("申报方向")

    @property
    def industry(self) -> str:
        return self.typed("所属行业") or self.text("所属行业")


@dataclass
class Selection:
    """Every project read, in 汇总表 order, and the readable-or-not files they came from."""

    projects: list[Project]
    books: list[Workbook]
    include_errors: bool

    @property
    def included(self) -> list[Project]:
        return [project for project in self.projects if project.included]

    @property
    def with_errors(self) -> list[Project]:
        return [project for project in self.projects if project.blocking]


def select(report: Report, include_errors: bool = False) -> Selection:
    """Attach each 错误 to the projects it keeps out, and order the projects as 附件3 is ordered."""
    by_project: dict[tuple[int, tuple[str, str]], list[Finding]] = defaultdict(list)
    by_enterprise: dict[tuple[int, str], list[Finding]] = defaultdict(list)
    by_file: dict[int, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        if finding.severity != ERROR:
            continue
        if finding.rule in FILE_RULES:
            by_file[finding.file_index].append(finding)
        elif finding.project_key is not None:
            by_project[(finding.file_index, finding.project_key)].append(finding)
        elif finding.enterprise_key is not None:
            # A problem on a 申报主体 row: it concerns every project of that enterprise in the file.
            by_enterprise[(finding.file_index, finding.enterprise_key)].append(finding)
    projects = []
    for frame in report.batch.frames_of(K.SUMMARY):
        index = frame.book.index
        for position, (ekey, pkey) in enumerate(zip(frame.values("_ekey"), frame.values("_pkey"), strict=True)):
            blocking = [
                *by_file[index],
                *by_enterprise.get((index, ekey), ()),
                *by_project.get((index, (ekey, pkey)), ()),
            ]
            blocking.sort(key=Finding.sort_key)
            project = Project(frame, position, blocking, included=include_errors or not blocking)
            projects.append(project)
    policy = report.policy
    specials = {name: order for order, name in enumerate(policy.specials)}
    directions = {direction.name: order for order, direction in enumerate(policy.directions)}
    counties = policy.county_order

    def order(project: Project) -> tuple:
        # A value outside the notice's lists (only with --include-errors) sorts after the known ones.
        special, direction, county = project.special, project.direction, project.county
        return (
            specials.get(special, len(specials)),
            special,
            directions.get(direction, len(directions)),
            direction,
            counties.get(county, len(counties)),
            county,
            project.enterprise,
            project.name,
            project.book.index,
            project.row,
        )

    projects.sort(key=order)
    return Selection(projects=projects, books=report.books, include_errors=include_errors)
