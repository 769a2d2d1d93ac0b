"""A finding is a value: which rule, where in which workbook, what was found and what was expected."""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITY_LABEL = {ERROR: "错误", WARNING: "警告", INFO: "提示"}

# The public fields, in the order interface.md gives them.
PUBLIC_FIELDS = (
    "rule",
    "severity",
    "file",
    "sheet",
    "row",
    "column",
    "cell",
    "enterprise",
    "project",
    "message",
    "value",
    "expected",
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found, pointing at the real Excel cell where there is one."""

    rule: str
    severity: str
    file: str
    sheet: str | None
    row: int | None
    column: str | None
    cell: str | None
    enterprise: str | None
    project: str | None
    message: str
    value: str | None = None
    expected: str | None = None
    # Not public: how to order findings and which projects an 错误 keeps out of 汇总表.
    file_index: int = field(default=0, compare=False)
    sheet_index: int = field(default=-1, compare=False)
    column_index: int = field(default=-1, compare=False)
    project_key: tuple[str, str] | None = field(default=None, compare=False)
    enterprise_key: str | None = field(default=None, compare=False)

    def sort_key(self) -> tuple:
        return (
            self.file_index,
            self.sheet_index,
            self.row if self.row is not None else 0,
            self.column_index,
            self.rule,
        )

    def public(self) -> dict:
        return {name: getattr(self, name) for name in PUBLIC_FIELDS}


def column_letter(index: int) -> str:
    """0-based column index to Excel letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    """Excel letters to a 0-based column index (A → 0, AA → 26); lower case is read as upper case."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number - 1


def cell_ref(row: int | None, column_index: int | None) -> str | None:
    if row is None or column_index is None or column_index < 0:
        return None
    return f"{column_letter(column_index)}{row}"


def summarise(findings: list[Finding]) -> dict[str, int]:
    counts = {ERROR: 0, WARNING: 0, INFO: 0}
    for finding in findings:
        counts[finding.severity] += 1
    return counts
