"""Everything read from one run's inputs, as the rules see it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, wraps
from itertools import chain
from typing import TypeVar

import numpy as np
import pandas as pd

from tr_excel.columns import MONEY, SIGNED_MONEY, SUMMARY, SheetKind
from tr_excel.policy import Policy
from tr_excel.reader import Workbook
from tr_excel.tables import PID, Frame, data_frame, holds_objects, stacked_columns


@dataclass
class Batch:
    """The policy, every workbook and every typed table of a run."""

    policy: Policy
    books: list[Workbook]
    frames: list[Frame] = field(default_factory=list)
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # results rules share

    @classmethod
    def of(cls, policy: Policy, books: list[Workbook]) -> Batch:
        """The batch of these books and all their frames."""
        return cls(policy=policy, books=books, frames=[frame for book in books for frame in book.frames])

    def frames_of(self, kind: SheetKind) -> list[Frame]:
        return self._by_kind.get(kind.name, [])

    @cached_property
    def _by_kind(self) -> dict[str, list[Frame]]:
        by_kind: dict[str, list[Frame]] = {}
        for frame in self.frames:
            by_kind.setdefault(frame.kind.name, []).append(frame)
        return by_kind

    @cached_property
    def by_book(self) -> dict[tuple[int, str], Frame]:
        return {(frame.book.index, frame.kind.name): frame for frame in self.frames}

    def frame(self, book: Workbook, kind: SheetKind) -> Frame | None:
        return self.by_book.get((book.index, kind.name))

    def partner(self, frame: Frame, column: str, kind: SheetKind = SUMMARY) -> list | None:
        """For each row of frame, the column's value (as Frame.values gives it) in the first row of the same
        project in another sheet of its file; None where there is no such row, and None instead of the list when
        the file lacks that sheet. A row whose enterprise or project is blank has no partner (F01 reports it)."""
        other = self.frame(frame.book, kind)
        if other is None:
            return None
        key = ("partner", id(frame), kind.name)
        if key not in self.memo:
            # A dict of first positions: a sheet has tens of projects, and pandas' keyed joins cost
            # milliseconds each whatever their size.
            first: dict[tuple[str, str], int] = {}
            for position, pair in enumerate(zip(other.values("_ekey"), other.values("_pkey"), strict=True)):
                if pair[0] and pair[1]:
                    first.setdefault(pair, position)
            pairs = zip(frame.values("_ekey"), frame.values("_pkey"), strict=True)
            self.memo[key] = [first.get(pair) for pair in pairs]
        values = other.values(column)
        return [None if position is None else values[position] for position in self.memo[key]]

    def stack(
        self,
        kind: SheetKind,
        columns: Iterable[str] = (),
        *,
        unread_of: Iterable[str] = (),
        blank_of: Iterable[str] = (),
        summary_inputs: bool = False,
    ) -> tuple[list[Frame], pd.DataFrame]:
        """Every frame of a kind, and their rows in one DataFrame so that a rule runs once over the batch.

        The DataFrame has _frame (position in the returned frames), _book (the workbook's index), _pid (the
        project: see tables.PID), _row and the keys; the columns asked for, as Stacked.readable gives them;
        "<name>:unread" and "<name>:blank" for the columns named in unread_of and blank_of. Summary inputs are
        left out unless summary_inputs.
        """
        frames = [f for f in self.frames_of(kind) if summary_inputs or not f.book.is_summary_input]
        key = ("stack", kind.name, tuple(id(frame) for frame in frames))
        if key not in self.memo:
            self.memo[key] = Stacked(kind, frames)
        stacked = self.memo[key]
        return frames, stacked.select(columns, unread_of, blank_of)


KEY_COLUMNS = ["_frame", "_book", PID, "_row", "_enterprise", "_ekey", "_project", "_pkey"]


Shared = TypeVar("Shared")


def shared(compute: Callable[[Batch], Shared]) -> Callable[[Batch], Shared]:
    """A table worked out from the whole batch once, kept in Batch.memo for every rule (and output) that reads
    it: do not modify what it returns."""

    @wraps(compute)
    def once(batch: Batch) -> Shared:
        key = f"{compute.__module__}.{compute.__qualname__}"
        if key not in batch.memo:
            batch.memo[key] = compute(batch)
        return batch.memo[key]

    return once


def unnest(cells: list[tuple]) -> tuple[np.ndarray, pd.Series]:
    """Tuples (one per row: the invoice numbers of a line item) as one flat Series of their values, and for each
    value the position of the row it came from."""
    positions = np.repeat(np.arange(len(cells)), [len(cell) for cell in cells])
    return positions, pd.Series(list(chain.from_iterable(cells)), dtype=object)


def records(data: pd.DataFrame) -> list[dict]:
    """The rows of data as dicts of Python values, NA as None, as DataFrame.to_dict("records") gives them: built
    from the columns' lists, a third of its cost on the few rows a rule reports (its fixed cost dominates)."""
    columns = list(data.columns)
    lists = []
    for name in columns:
        values = data[name].tolist()
        if not isinstance(data[name].dtype, np.dtype):  # nullable ints give pd.NA, which to_dict gives as None
            values = [None if value is pd.NA else value for value in values]
        lists.append(values)
    return [dict(zip(columns, row, strict=True)) for row in zip(*lists, strict=True)]


def keyed(data: pd.DataFrame) -> pd.Series:
    """True on the rows of a stack whose enterprise and project are both given (a blank one is F01's)."""
    return (data["_ekey"] != "") & (data["_pkey"] != "")


def first_rows(data: pd.DataFrame) -> pd.DataFrame:
    """The first keyed row of each project of a stack, indexed by _pid."""
    return data[keyed(data)].drop_duplicates(PID).set_index(PID)


class Stacked:
    """The frames of one kind concatenated once, with what tells the rules which cells they may read."""

    def __init__(self, kind: SheetKind, frames: list[Frame]):
        self.kind = kind
        self.frames = frames
        lengths = [len(frame.table.rows) for frame in frames]
        # The keys of every row now; the other columns end to end when a rule first reads them (column), since
        # most rules read a few columns of a sheet and a DataFrame of them all copies every cell once more.
        keys = [name for name in KEY_COLUMNS if name not in ("_frame", "_book")]
        if frames:
            stacked = {name: stacked_columns([frame.columns[name] for frame in frames]) for name in keys}
            data = data_frame(stacked, sum(lengths))
        else:
            data = pd.DataFrame({name: pd.Series(dtype=object) for name in keys})
            data[[PID, "_row"]] = data[[PID, "_row"]].astype(np.int64)
        data.insert(0, "_book", np.repeat([frame.book.index for frame in frames], lengths).astype(int))
        data.insert(0, "_frame", np.repeat(np.arange(len(frames)), lengths).astype(int))
        # pandas deep-copies attrs into the result of every operation; the rules need none.
        data.attrs = {}
        self.data = data
        self._unread: dict[str, set[tuple[int, int]]] = {}  # column → (frame position, row) not to be read
        self._memo: dict[tuple[str, str], pd.Series] = {}
        for position, frame in enumerate(frames):
            for row, name in frame.bad:
                self._unread.setdefault(name, set()).add((position, row))

    def column(self, name: str) -> pd.Series:
        """A column of the frames end to end, as typed (every frame of a kind has every column)."""
        if ("column", name) not in self._memo:
            if not self.frames:
                self._memo["column", name] = pd.Series(index=self.data.index, dtype=object)
            else:
                values = stacked_columns([frame.columns[name] for frame in self.frames])
                # Python objects stay objects (pandas would make text its string dtype).
                dtype = object if holds_objects(values) else None
                self._memo["column", name] = pd.Series(values, index=self.data.index, dtype=dtype)
        return self._memo["column", name]

    @cached_property
    def _cells(self) -> pd.MultiIndex:
        """(frame position, row) of every stacked row: built only for a column with unread cells."""
        return pd.MultiIndex.from_arrays([self.data["_frame"], self.data["_row"]])

    def unread(self, name: str) -> pd.Series:
        """True where the rules do not read the column's cell: the sheet lacks the column (S03), or the cell has
        an F error or S05. A warned value (F10 not whole, F11 read as January) is read, as its message says."""
        if ("unread", name) not in self._memo:
            lacking = [position for position, frame in enumerate(self.frames) if name not in frame.table.columns]
            mask = self.data["_frame"].isin(lacking)
            if name in self._unread:
                mask |= self._cells.isin(self._unread[name])
            self._memo["unread", name] = mask
        return self._memo["unread", name]

    def blank(self, name: str) -> pd.Series:
        """True where the column's cell was left blank in the sheet (False where the sheet lacks the column)."""
        if ("blank", name) not in self._memo:
            cells = np.concatenate([frame.blank(name) for frame in self.frames]) if self.frames else []
            self._memo["blank", name] = pd.Series(cells, index=self.data.index, dtype=bool)
        return self._memo["blank", name]

    def readable(self, name: str) -> pd.Series:
        """A column as the rules read it: NA (None outside money) where the cell is unread, and where a required
        cell is blank (F01 reports it; reading the blank as 0 would report the same mistake again)."""
        if ("readable", name) not in self._memo:
            values = self.column(name)
            column = self.kind.column(name)
            unknown = self.unread(name)
            if column.required:
                unknown = unknown | self.blank(name)
            if unknown.any():
                if column.kind in (MONEY, SIGNED_MONEY):
                    values = values.mask(unknown)
                else:
                    values = values.astype(object).where(~unknown, None)
            self._memo["readable", name] = values
        return self._memo["readable", name]

    def select(self, columns: Iterable[str], unread_of: Iterable[str], blank_of: Iterable[str]) -> pd.DataFrame:
        out = self.data[KEY_COLUMNS]  # copy-on-write: the columns added below leave self.data as it is
        for name in columns:
            out[name] = self.readable(name)
        for name in unread_of:
            out[f"{name}:unread"] = self.unread(name)
        for name in blank_of:
            out[f"{name}:blank"] = self.blank(name)
        return out
