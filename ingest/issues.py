"""Row-level findings: what was wrong, where, and by which rule."""

from __future__ import annotations

from dataclasses import dataclass

HEADER_ROWS = 1  # row numbers are spreadsheet rows: the header is row 1, the first record row 2
REPORT_COLUMNS = ("row", "column", "rule", "value", "message")
"""The columns of a reject report (``rejects.csv``, ``warnings.csv``)."""


@dataclass(frozen=True, slots=True)
class Issue:
    index: int
    """0-based position of the record in the file."""
    column: str
    rule: str
    value: str | None
    message: str
    warning: bool = False
    """A soft rule's finding: reported, the row is kept."""

    @property
    def row(self) -> int:
        return self.index + HEADER_ROWS + 1

    def report_row(self) -> tuple[int, str, str, str | None, str]:
        """The issue as a line of a reject report, in the order of :data:`REPORT_COLUMNS`."""
        return (self.row, self.column, self.rule, self.value, self.message)


@dataclass(frozen=True, slots=True)
class Change:
    """A value standardization rewrote (reported, never silent)."""

    column: str
    rule: str
    count: int
