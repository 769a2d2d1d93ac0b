"""The policy of one notice year and its reference tables, loaded from schemas/ and checked at start."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path

# Installed from a wheel, the package holds its own copy of schemas/ (pyproject.toml); run from the repository
# (or installed editable), it is the repository's.
_INSTALLED_SCHEMAS = Path(__file__).resolve().parent / "schemas"
SCHEMAS_DIR = _INSTALLED_SCHEMAS if _INSTALLED_SCHEMAS.is_dir() else Path(__file__).resolve().parent.parent / "schemas"
_POLICY_FILE = re.compile(r"^policy-(\d{4})\.toml$")


class PolicyError(Exception):
    """A policy file that cannot be used; the message is the one clear sentence the CLI prints."""


@dataclass(frozen=True)
class Direction:
    """A 申报方向 and what the notice requires of it."""

    name: str
    special: str
    basis: str  # 固定资产投资 / 设备投资（含软硬件投资） / 其他投资
    min_total: bool = False
    finished_only: bool = False
    prerequisite: str = ""  # "", "dcmm" or "两化融合"
    smart_manufacturing: bool = False


@dataclass(frozen=True)
class Route:
    """One line of the city's 科室 routing table."""

    office: str
    contact: str
    phone: str
    direction: str = ""
    industries: tuple[str, ...] = ()


@dataclass(frozen=True)
class City:
    name: str
    code: str
    counties: tuple[str, ...]
    zones: tuple[str, ...]
    former: dict[str, str]


@dataclass(frozen=True)
class Link:
    """One of the 16 智能制造环节."""

    name: str
    stage: str
    core: bool
    scenes: tuple[str, ...]


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: rules cache per loaded policy
class Policy:
    """Every threshold, date, year and value list the rules use."""

    name: str
    path: Path
    year: int
    province_notice: str
    city_notice: str
    data_year: int
    province_deadline: dt.date
    city_deadline: dt.date
    earliest_completion: tuple[int, int]
    min_completed_ratio: Decimal
    min_total_investment: Decimal
    max_debt_ratio: Decimal
    money_tolerance: Decimal
    max_months_after_deadline: int
    text_limits: dict[str, int]
    lists: dict[str, tuple[str, ...]]
    industries: dict[str, tuple[str, ...]]
    investment_categories: dict[str, tuple[str, ...]]
    specials: tuple[str, ...]
    support: dict[str, tuple[str, ...]]
    directions: tuple[Direction, ...]
    routes: tuple[Route, ...]
    default_route: Route
    cities: tuple[City, ...]
    links: tuple[Link, ...]
    province_contacts: tuple[dict, ...]
    limits: dict[str, int] = field(default_factory=dict)
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)  # list name → other spelling → value
    summary_notes_heading: str = "填表说明："
    summary_notes: tuple[str, ...] = ()  # 附件3 填表说明 lines, as the notice prints them

    @cached_property
    def direction_by_name(self) -> dict[str, Direction]:
        return {direction.name: direction for direction in self.directions}

    @cached_property
    def city_by_name(self) -> dict[str, City]:
        return {city.name: city for city in self.cities}

    @cached_property
    def link_by_name(self) -> dict[str, Link]:
        return {link.name: link for link in self.links}

    @cached_property
    def core_links(self) -> frozenset[str]:
        return frozenset(link.name for link in self.links if link.core)

    @cached_property
    def county_order(self) -> dict[str, int]:
        """所在县 in the division table's order (汇总表 sorts by it); zones follow their city's counties."""
        order: dict[str, int] = {}
        for city in self.cities:
            for county in (*city.counties, *city.zones):
                order.setdefault(county, len(order))
        return order

    @cached_property
    def _choices(self) -> dict[str, tuple[str, ...]]:
        return {
            **self.lists,
            "申报专项": self.specials,
            "申报方向": tuple(direction.name for direction in self.directions),
            "行业分类": tuple(self.industries),
            "所属行业": tuple(i for values in self.industries.values() for i in values),
            "投资类别": tuple(self.investment_categories),
            "子类": tuple(s for values in self.investment_categories.values() for s in values),
            "智能制造环节": tuple(link.name for link in self.links),
        }

    def choices(self, list_name: str) -> tuple[str, ...]:
        """The allowed values of a list column (F02)."""
        return self._choices[list_name]

    def route(self, direction: str, industry: str) -> Route:
        """The 科室 responsible for a project (first matching line; the coordinating 科室 otherwise)."""
        for route in self.routes:
            if route.direction == direction and (not route.industries or industry in route.industries):
                return route
        return self.default_route


def available_policies(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, Path]:
    """The shipped policy files by year name, oldest first."""
    found = {}
    for path in sorted(schemas_dir.glob("policy-*.toml")):
        match = _POLICY_FILE.match(path.name)
        if match:
            found[match.group(1)] = path
    return found


def load_policy(name_or_path: str | Path | None = None, schemas_dir: Path = SCHEMAS_DIR) -> Policy:
    """Load a shipped policy by year (default: the newest) or a policy file by path."""
    shipped = available_policies(schemas_dir)
    if name_or_path is None:
        if not shipped:
            raise PolicyError(f"在 {schemas_dir} 下找不到任何政策文件 policy-<年度>.toml")
        path = shipped[max(shipped)]
    elif str(name_or_path) in shipped:
        path = shipped[str(name_or_path)]
    else:
        path = Path(name_or_path)
        if not path.is_file():
            names = "、".join(shipped) or "无"
            raise PolicyError(f"找不到政策文件“{name_or_path}”（内置年度：{names}）")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PolicyError(f"政策文件 {path} 无法读取：{error}") from error
    try:
        return _build(path, data)
    except PolicyError:
        raise
    except (KeyError, TypeError, ValueError, InvalidOperation) as error:
        raise PolicyError(f"政策文件 {path} 缺少或写错了一项：{error!r}") from error


def _reference(path: Path, relative: str) -> dict:
    reference = (path.parent / relative).resolve()
    try:
        with reference.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PolicyError(f"政策文件 {path} 引用的参考表 {reference} 无法读取：{error}") from error


def _month(text: str) -> tuple[int, int]:
    year, month = (int(part) for part in text.split("-"))
    if not 1 <= month <= 12:
        raise ValueError(f"月份无效：{text}")
    return year, month


def _build(path: Path, data: dict) -> Policy:
    notice = data["notice"]
    thresholds = data["thresholds"]
    specials = [special["name"] for special in data["specials"]]
    directions = tuple(
        Direction(
            name=entry["name"],
            special=entry["special"],
            basis=entry["basis"],
            min_total=entry.get("min_total", False),
            finished_only=entry.get("finished_only", False),
            prerequisite=entry.get("prerequisite", ""),
            smart_manufacturing=entry.get("smart_manufacturing", False),
        )
        for entry in data["directions"]
    )
    for direction in directions:
        if direction.special not in specials:
            raise PolicyError(f"政策文件 {path}：方向“{direction.name}”所属专项“{direction.special}”未定义")
        if direction.prerequisite not in ("", "dcmm", "两化融合"):
            raise PolicyError(f"政策文件 {path}：方向“{direction.name}”的前提条件“{direction.prerequisite}”未知")
    routing = data["routing"]
    divisions = _reference(path, notice["divisions"])
    smart = _reference(path, notice["smart_manufacturing"])
    contacts_file = notice.get("province_contacts")
    contacts = tuple(_reference(path, contacts_file)["contacts"]) if contacts_file else ()
    deadline = notice["province_deadline"]
    city_deadline = notice["city_deadline"]
    if not isinstance(deadline, dt.date) or not isinstance(city_deadline, dt.date):
        raise PolicyError(f"政策文件 {path}：截止日期应写成日期，如 2024-10-31")
    return Policy(
        name=str(notice["year"]),
        path=path,
        year=int(notice["year"]),
        province_notice=notice["province_notice"],
        city_notice=notice["city_notice"],
        data_year=int(notice["data_year"]),
        province_deadline=deadline,
        city_deadline=city_deadline,
        earliest_completion=_month(thresholds["earliest_completion"]),
        min_completed_ratio=Decimal(thresholds["min_completed_ratio"]),
        min_total_investment=Decimal(thresholds["min_total_investment"]),
        max_debt_ratio=Decimal(thresholds["max_debt_ratio"]),
        money_tolerance=Decimal(thresholds["money_tolerance"]),
        max_months_after_deadline=int(thresholds["max_months_after_deadline"]),
        text_limits={key: int(value) for key, value in data["text_limits"].items()},
        lists={key: tuple(values) for key, values in data["lists"].items()},
        industries={key: tuple(values) for key, values in data["industries"].items()},
        investment_categories={key: tuple(values) for key, values in data["investment_categories"].items()},
        specials=tuple(specials),
        support={special["name"]: tuple(special["support"]) for special in data["specials"]},
        directions=directions,
        routes=tuple(
            Route(
                office=rule["office"],
                contact=rule["contact"],
                phone=rule["phone"],
                direction=rule["direction"],
                industries=tuple(rule.get("industries", ())),
            )
            for rule in routing["rules"]
        ),
        default_route=Route(**routing["default"]),
        cities=tuple(
            City(
                name=city["name"],
                code=str(city.get("code", "")),
                counties=tuple(city["counties"]),
                zones=tuple(city.get("zones", ())),
                former=dict(city.get("former", {})),
            )
            for city in divisions["cities"]
        ),
        links=tuple(
            Link(name=link["name"], stage=link["stage"], core=bool(link["core"]), scenes=tuple(link["scenes"]))
            for link in smart["links"]
        ),
        province_contacts=contacts,
        limits={key: int(value) for key, value in data.get("limits", {}).items()},
        aliases={name: dict(spellings) for name, spellings in data.get("aliases", {}).items()},
        summary_notes_heading=data["summary_notes"]["heading"],
        summary_notes=tuple(data["summary_notes"]["lines"]),
    )
