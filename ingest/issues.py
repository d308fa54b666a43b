"""Row-level findings: what was wrong, where, and by which rule."""

from __future__ import annotations

from dataclasses import asdict, dataclass

HEADER_ROWS = 1  # row numbers are spreadsheet rows: the header is row 1, the first record row 2


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

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, **{k: v for k, v in asdict(self).items() if k not in ("index", "warning")}}


@dataclass(frozen=True, slots=True)
class Change:
    """A value standardization rewrote (reported, never silent)."""

    column: str
    rule: str
    count: int
