"""Everything read from one run's inputs, as the rules see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from tr_excel.columns import SUMMARY, SheetKind
from tr_excel.policy import Policy
from tr_excel.reader import Workbook
from tr_excel.tables import Frame


@dataclass
class Batch:
    """The policy, every workbook and every typed table of a run."""

    policy: Policy
    books: list[Workbook]
    frames: list[Frame] = field(default_factory=list)

    def frames_of(self, kind: SheetKind) -> list[Frame]:
        return [frame for frame in self.frames if frame.kind is kind]

    @cached_property
    def by_book(self) -> dict[tuple[int, str], Frame]:
        return {(frame.book.index, frame.kind.name): frame for frame in self.frames}

    def frame(self, book: Workbook, kind: SheetKind) -> Frame | None:
        return self.by_book.get((book.index, kind.name))

    def partner(self, frame: Frame, kind: SheetKind = SUMMARY) -> pd.DataFrame:
        """For each row of frame, the first row of the same project in another sheet of its file
        (columns of that sheet, NA where there is none), aligned with frame.df."""
        other = self.frame(frame.book, kind)
        if other is None:
            return pd.DataFrame(index=frame.df.index, columns=["_row"], dtype=object)
        first = other.df.drop_duplicates(["_ekey", "_pkey"]).set_index(["_ekey", "_pkey"])
        keys = pd.MultiIndex.from_arrays([frame.df["_ekey"], frame.df["_pkey"]])
        joined = first.reindex(keys)
        joined.index = frame.df.index
        return joined
