"""The F rules: one value at a time (and S05, found while parsing)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.pandas as pa

from tr_excel import columns as K
from tr_excel import values as V
from tr_excel.batch import Batch, records, shared
from tr_excel.policy import Policy
from tr_excel.rules.registry import check


def _parse_findings(batch: Batch, rule: str):
    for frame in batch.frames:
        for finding in frame.findings:
            if finding.rule == rule:
                yield finding


for _rule in ("S05", "F03", "F04", "F05", "F06", "F09", "F10", "F11"):
    check(_rule)(lambda batch, _rule=_rule: _parse_findings(batch, _rule))


@check("F01")
def blank_required(batch: Batch):
    policy = batch.policy
    fixed_asset = {d.name for d in policy.directions if d.basis == "固定资产投资"}
    for frame in batch.frames:
        table = frame.table
        required = [c.name for c in frame.kind.columns if c.required and c.name in table.columns]
        conditional = [name for name in K.PLEDGE_FIXED_ASSET_COLUMNS if name in table.columns]
        if frame.kind is not K.PLEDGE:
            conditional = []
        needs = None  # on each row, whether the conditional columns are required there
        if conditional:
            needs = np.array([name in fixed_asset for name in frame.values("申报方向")], dtype=bool)
        names = [*required, *conditional]
        if not names:
            continue
        # blank[i, j]: column j is blank (and required there) on row i; reported row by row, in column order.
        blank = np.column_stack([frame.blank(name) for name in names])
        if conditional:
            blank[:, len(required) :] &= needs[:, None]
        for position, order in zip(*np.nonzero(blank), strict=True):
            row, name = table.rows[position], names[order]
            if (row, name) not in table.formula_cells:
                yield frame.finding("F01", f"{frame.title(name)} 为空，此项必须填写", row, name)


@lru_cache(maxsize=32)
def _schema(kind_name: str, policy: Policy) -> pa.DataFrameSchema:
    """The pandera schema of a sheet kind's list and text-length checks; each check is named by its rule.

    pandera reports a built-in check's failures under its error text, not its name: both are the rule id.
    """
    kind = K.KINDS_BY_NAME[kind_name]
    schema_columns = {}
    for column in kind.columns:
        checks = []
        if column.kind == K.LIST:
            checks.append(pa.Check.isin(policy.choices(column.list_name), name="F02", error="F02", ignore_na=True))
        if column.text_limit_key:
            limit = policy.text_limits[column.text_limit_key]
            checks.append(pa.Check.str_length(max_value=limit, name="F07", error="F07", ignore_na=True))
        if checks:
            schema_columns[column.name] = pa.Column(object, checks=checks, nullable=True, required=False)
    return pa.DataFrameSchema(schema_columns)


def warm_up(policy: Policy) -> None:
    """Every schema validated once on no rows: pandera imports its backends on a first validation."""
    for kind in K.SHEET_KINDS:
        schema = _schema(kind.name, policy)
        if schema.columns:
            schema.validate(pd.DataFrame({name: pd.Series(dtype=object) for name in schema.columns}))


def _schema_failures(batch: Batch, rule: str):
    """(frame, row, column, value) for every cell the pandera schema rejects under this rule."""
    for check_name, frame, row, column, value in _all_schema_failures(batch):
        if check_name == rule:
            yield frame, row, column, value


@shared
def _all_schema_failures(batch: Batch) -> list[tuple]:
    """(rule, frame, row, column, value) of every failure of every sheet kind's schema: one validation per kind,
    of all its frames at once (a validation costs ~1 ms whatever its size), shared by F02 and F07."""
    found = []
    for kind in K.SHEET_KINDS:
        schema = _schema(kind.name, batch.policy)
        if not batch.frames_of(kind) or not schema.columns:
            continue
        frames, stacked = batch.stack(kind, list(schema.columns), summary_inputs=True)
        try:
            schema.validate(stacked, lazy=True)
        except pa.errors.SchemaErrors as errors:
            cases = errors.failure_cases
            cases = cases[cases["index"].notna()]
            positions = cases["index"].astype(int).to_numpy()
            owners, rows = stacked["_frame"].to_numpy()[positions], stacked["_row"].to_numpy()[positions]
            for check_name, column, owner, row, value in zip(
                cases["check"], cases["column"], owners, rows, cases["failure_case"], strict=True
            ):
                found.append((check_name, frames[owner], int(row), column, value))
    return found


@check("F02")
def outside_list(batch: Batch):
    policy = batch.policy
    for frame, row, column, value in _schema_failures(batch, "F02"):
        list_name = frame.kind.column(column).list_name
        choices = policy.choices(list_name)
        shown = "、".join(choices) if len(choices) <= 12 else "、".join(choices[:12]) + "等"
        yield frame.finding(
            "F02",
            f"{frame.title(column)}“{value}”不在规定范围内，应为：{shown}",
            row,
            column,
            value=str(value),
            expected="、".join(choices),
        )
    yield from _parse_findings(batch, "F02")  # 是/否 cells that read as neither
    yield from not_under_parent(batch, "F02", K.INVESTMENT, "投资类别", "子类", policy.investment_categories, "子类")


def not_under_parent(batch: Batch, rule: str, kind: K.SheetKind, parent: str, child: str, children: dict, noun: str):
    """A finding at every child cell whose value, one of its list, is not among the children of the row's parent
    value, one of its list (a value outside the lists is the schema's finding, not also this one)."""
    frames, data = batch.stack(kind, [parent, child], summary_inputs=True)
    pairs = [(name, value) for name, values in children.items() for value in values]
    wrong = (
        data[parent].isin(list(children))
        & data[child].isin(batch.policy.choices(kind.column(child).list_name))
        & ~pd.MultiIndex.from_arrays([data[parent], data[child]]).isin(pairs)
    )
    for record in records(data[wrong]):
        frame, name, value = frames[record["_frame"]], record[parent], record[child]
        allowed = "、".join(children[name])
        yield frame.finding(
            rule,
            f"{child}“{value}”不属于{parent}“{name}”，{name}的{noun}为：{allowed}",
            record["_row"],
            child,
            value=value,
            expected=allowed,
        )


@check("F07")
def text_too_long(batch: Batch):
    for frame, row, column, value in _schema_failures(batch, "F07"):
        limit = batch.policy.text_limits[frame.kind.column(column).text_limit_key]
        yield frame.finding(
            "F07",
            f"{frame.title(column)} 有 {len(str(value))} 字，超过 {limit} 字的上限",
            row,
            column,
            value=str(value),
            expected=f"不超过{limit}字",
        )


@check("F08")
def place_not_in_shanxi(batch: Batch):
    policy = batch.policy
    zone_suffixes = ("开发区", "园区", "示范区", "风景名胜区")
    for frame in batch.frames_of(K.SUMMARY):
        for row, city_name, county in zip(*(frame.values(name) for name in ("_row", "所在市", "所在县")), strict=True):
            city = policy.city_by_name.get(V.normalise_key(city_name)) if city_name else None
            if city_name and city is None:
                renamed = next((c.name for c in policy.cities if c.name.rstrip("市") == city_name), None)
                hint = f"，应写全称“{renamed}”" if renamed else "，应为山西省11个地级市之一"
                yield frame.finding(
                    "F08", f"所在市“{city_name}”不是山西省的地级市{hint}", row, "所在市", value=city_name
                )
                continue
            if not county or city is None:
                continue
            county_key = V.normalise_key(county)
            if county_key in city.counties or county_key in city.zones or county_key.endswith(zone_suffixes):
                continue
            full = [name for name in city.counties if len(county_key) >= 2 and name[: len(county_key)] == county_key]
            if county_key in city.former:
                hint = f"，该县（区）已更名为“{city.former[county_key]}”"
            elif len(full) == 1:
                hint = f"，应写全称“{full[0]}”"  # "繁峙" for 繁峙县: the list needs the full name
            else:
                owner = next((c.name for c in policy.cities if county_key in c.counties), None)
                hint = f"，它属于{owner}" if owner else ""
            yield frame.finding(
                "F08",
                f"所在县“{county}”不是{city.name}的县级行政区{hint}",
                row,
                "所在县",
                value=county,
                expected="、".join(city.counties),
            )


@check("S06")
def total_row_differs(batch: Batch):
    tolerance = int(batch.policy.money_tolerance * V.MONEY_SCALE)
    for frame in batch.frames_of(K.SUMMARY):
        table = frame.table
        if table.total_row is None:
            continue
        # A few dozen projects a sheet: summed from lists, not DataFrame columns (which cost more to pick).
        above = [position for position, row in enumerate(frame.values("_row")) if row < table.total_row]
        for column in frame.kind.columns:
            if column.kind != K.MONEY or column.name not in table.total_cells:
                continue
            # Only a cell holding a number is a stated total ("—", "/" or a blank is not; a number typed as
            # text is, as everywhere else); a formula without a cached value is blank here and so unknown.
            stated = V.parse_money(table.total_cells[column.name]).value
            values = frame.values(column.name)
            amounts = [values[position] for position in above]
            if stated is None or None in amounts:  # a project's unreadable amount leaves the sum unknown
                continue
            total = sum(amounts)
            if abs(stated - total) > tolerance:
                yield frame.finding(
                    "S06",
                    f"合计行{frame.title(column.name)} {V.format_money(stated)} 万元，其上各项目之和 "
                    f"{V.format_money(total)} 万元，相差 {V.format_money(abs(stated - total))} 万元",
                    table.total_row,
                    column.name,
                    value=V.plain_money(stated),
                    expected=V.plain_money(total),
                )
