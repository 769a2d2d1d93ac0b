"""The X rules and R17: across the sheets of a file and across the files of a batch."""

from __future__ import annotations

from tr_excel import columns as K
from tr_excel.batch import Batch
from tr_excel.rules.registry import check


@check("R17")
def project_declared_twice(batch: Batch):
    places: dict[tuple[str, str], list] = {}
    for frame in batch.frames_of(K.SUMMARY):
        for row, ekey, pkey in zip(frame.df["_row"], frame.df["_ekey"], frame.df["_pkey"], strict=True):
            if ekey and pkey:
                places.setdefault((ekey, pkey), []).append((frame, row))
    for occurrences in places.values():
        if len(occurrences) < 2:
            continue
        for frame, row in occurrences:
            others = "；".join(
                f"{other.book.file} › {other.table.sheet} › 第{other_row}行"
                for other, other_row in occurrences
                if (other, other_row) != (frame, row)
            )
            yield frame.finding(
                "R17",
                f"同一项目在本批次中申报了 {len(occurrences)} 次（不得多头申报），另见：{others}",
                row,
                "项目名称",
                value=frame.df["_project"].iat[frame.row_index[row]],
            )
