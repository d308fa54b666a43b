"""The one query every data route runs: SQL over a serving copy, built from a :class:`Policy`.

Filters, text search and sort touch only columns the caller receives in clear; masks are applied
to the page's rows only (the page is cut first, then masked), so the cost of masking does not
grow with the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from access.policy import Column, Policy
from hub.errors import InputError
from warehouse.duck import quote
from warehouse.serving import ROW, TABLE

SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
}
MAX_ROW = 2**62
"""Row numbers, offsets and limits beyond this are refused (DuckDB's BIGINT is 2**63 - 1)."""


class Direction(StrEnum):
    asc = "ASC"
    desc = "DESC"


def conditions(
    policy: Policy, filters: Mapping[str, str] = {}, text: str | None = None
) -> tuple[list[str], list[object]]:
    """The WHERE clauses every read of a dataset shares: the grant's rows, the caller's equality
    filters and text search, over columns the caller receives in clear only."""
    clauses: list[str] = []
    values: list[object] = []
    if policy.row_filter:
        clauses.append(f"({policy.row_filter})")  # the grant's rows, checked by access.rowfilter
    for name, value in filters.items():
        if name not in policy.names and name not in policy.withheld | policy.ungranted:
            clear = [c.name for c in policy.columns if not c.masked and c.field.type != "geometry"]
            why = f"unknown parameter {name!r}; filter on one of: {', '.join(clear)}"
            raise InputError(why, column=name, rule="filter")
        col = policy.in_clear(name, rule="filter", purpose="filtering")
        clauses.append(f"{quote(name)} = TRY_CAST(? AS {SQL_TYPES[col.field.type]})")
        values.append(value)
    if text:
        searched = [c for c in policy.columns if not c.masked and c.field.type == "string"]
        if not searched:
            clauses.append("FALSE")
        else:
            clauses.append("(" + " OR ".join(f"{quote(c.name)} ILIKE ?" for c in searched) + ")")
            values += [f"%{text}%"] * len(searched)
    return clauses, values


@dataclass(frozen=True)
class PageQuery:
    """A page of a dataset as one caller may see it."""

    policy: Policy
    columns: Sequence[Column]
    filters: Mapping[str, str] = field(default_factory=dict)
    """Equality filters, field → value (as text, cast to the field's type)."""
    text: str | None = None
    """Rows where any clear text column contains this."""
    order: Sequence[tuple[str, Direction]] = ()
    """Sort columns (clear only); the row number always breaks ties."""
    after: int = 0
    """Keyset pagination: only rows numbered above this."""
    limit: int = 100
    offset: int = 0

    def __post_init__(self) -> None:
        for name, value in (("after", self.after), ("limit", self.limit), ("offset", self.offset)):
            if not 0 <= value <= MAX_ROW:
                raise InputError(f"{name} must be between 0 and {MAX_ROW}", column=name, rule="range")

    def where(self) -> tuple[str, list[object]]:
        clauses, values = conditions(self.policy, self.filters, self.text)
        return " AND ".join([f"{ROW} > ?", *clauses]), [self.after, *values]

    def _order(self, source: str = "") -> str:
        prefix = f"{source}." if source else ""
        keys = [f"{prefix}{quote(name)} {direction.value}" for name, direction in self.order]
        return ", ".join([*keys, f"{prefix}{quote(ROW)}"])

    def sql(self) -> tuple[str, list[object]]:
        """Rows of the page: ``_row`` first, then the columns as released."""
        for name, _ in self.order:
            self.policy.in_clear(name, rule="sort", purpose="sorting")
        where, values = self.where()
        page = f"SELECT * FROM {TABLE} WHERE {where} ORDER BY {self._order()} LIMIT ? OFFSET ?"
        columns = ", ".join([f"page.{quote(ROW)}", *(c.sql("page") for c in self.columns)])
        return f"SELECT {columns} FROM ({page}) AS page ORDER BY {self._order('page')}", [
            *values,
            self.limit,
            self.offset,
        ]

    def count_sql(self) -> tuple[str, list[object]]:
        where, values = self.where()
        return f"SELECT count(*) FROM {TABLE} WHERE {where}", values


@dataclass(frozen=True)
class Release:
    """Every row of a dataset version as one caller may see it: the query behind exports, change
    feeds and analysts' policy views. Rows come in the order of ``source`` (a serving copy's table
    is stored in serving order, and DuckDB keeps insertion order), so the result streams without a
    sort however large it is."""

    policy: Policy
    columns: Sequence[Column]
    filters: Mapping[str, str] = field(default_factory=dict)
    source: str = TABLE
    """A table or table expression holding the stored (unmasked) columns."""

    def where(self) -> tuple[str, list[object]]:
        clauses, values = conditions(self.policy, self.filters)
        return " AND ".join(clauses or ["TRUE"]), values

    def sql(self, extra: Sequence[str] = ()) -> tuple[str, list[object]]:
        """``SELECT`` of ``extra`` expressions (over the stored columns) then the released columns."""
        where, values = self.where()
        columns = ", ".join([*extra, *(c.sql("src") for c in self.columns)]) or "NULL AS _none"
        return f"SELECT {columns} FROM {self.source} AS src WHERE {where}", values

    def count_sql(self) -> tuple[str, list[object]]:
        where, values = self.where()
        return f"SELECT count(*) FROM {self.source} AS src WHERE {where}", values
