"""The one query every data route runs: SQL over a serving copy, built from a :class:`Policy`.

Filters, text search and sort touch only columns the caller receives in clear; masks are applied
to the page's rows only (the page is cut first, then masked), so the cost of masking does not
grow with the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import duckdb

from access.policy import Column, Policy
from contracts.model import Field
from hub.errors import InputError
from warehouse import rowstore
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
ROW_STORE_TYPES = frozenset({"string"})
"""Field types whose equality the row store decides as DuckDB does (text compared byte for byte);
a filter on any other type is cast by DuckDB's rules (``TRY_CAST``), so such reads stay there."""
MAX_ROW = 2**62
"""Row numbers, offsets and limits beyond this are refused (DuckDB's BIGINT is 2**63 - 1)."""


def keyed(
    keys: Sequence[Field], values: Mapping[str, str], rows: Sequence[int] | None = None
) -> tuple[str, list[object]]:
    """A ``WITH keyed AS MATERIALIZED (…)`` prefix holding the rows whose primary key (``keys``, all
    of them) equals ``values``, with its parameters. The keyed rows are taken first and every other
    condition (a grant's row filter, a sort) applies to them, not to the whole copy.

    ``rows``: the row numbers the copy's row store found for the key through its index (a superset
    of the answer: text keys compare the same in both engines). The copy is stored in ``_row``
    order, so DuckDB reads only the row groups holding them; without them (a copy written before
    row stores) DuckDB finds the keyed rows itself, through the key index such a copy has."""
    pinned = " AND ".join(f"{quote(f.name)} = TRY_CAST(? AS {SQL_TYPES[f.type]})" for f in keys)
    if rows is not None:
        numbers = ", ".join(str(int(r)) for r in rows) or "NULL"
        pinned = f"{ROW} IN ({numbers}) AND {pinned}"
    return f"WITH keyed AS MATERIALIZED (SELECT * FROM {TABLE} WHERE {pinned}) ", [values[f.name] for f in keys]


def keyed_rows(store: rowstore.RowStore | None, keys: Sequence[Field], values: Mapping[str, str]) -> list[int] | None:
    """The row numbers holding the key ``values``, from the copy's row store (None without one, or
    for keys that are not text, which DuckDB casts by its own rules)."""
    if store is None or any(f.type not in ROW_STORE_TYPES for f in keys):
        return None
    return store.keyed([f.name for f in keys], [values[f.name] for f in keys])


class Direction(StrEnum):
    asc = "ASC"
    desc = "DESC"


def equalities(policy: Policy, filters: Mapping[str, str] = {}) -> list[tuple[Column, str]]:
    """The caller's equality filters, checked: each names a column the caller receives in clear."""
    out: list[tuple[Column, str]] = []
    for name, value in filters.items():
        if name not in policy.names and name not in policy.withheld | policy.ungranted:
            clear = [c.name for c in policy.columns if not c.masked and c.field.type != "geometry"]
            why = f"unknown parameter {name!r}; filter on one of: {', '.join(clear)}"
            raise InputError(why, column=name, rule="filter")
        out.append((policy.in_clear(name, rule="filter", purpose="filtering"), value))
    return out


def conditions(
    policy: Policy, filters: Mapping[str, str] = {}, text: str | None = None
) -> tuple[list[str], list[object]]:
    """The WHERE clauses every read of a dataset shares: the grant's rows, the caller's equality
    filters and text search, over columns the caller receives in clear only."""
    clauses: list[str] = []
    values: list[object] = []
    if policy.row_filter:
        clauses.append(f"({policy.row_filter})")  # the grant's rows, checked by access.rowfilter
    for col, value in equalities(policy, filters):
        clauses.append(f"{quote(col.name)} = TRY_CAST(? AS {SQL_TYPES[col.field.type]})")
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

    def where(self, window: tuple[int, int] | None = None) -> tuple[str, list[object]]:
        clauses, values = conditions(self.policy, self.filters, self.text)
        low, high = window if window else (self.after, None)
        rows = [f"{ROW} > ?"] + ([f"{ROW} <= ?"] if high is not None else [])
        return " AND ".join([*rows, *clauses]), [low, *([high] if high is not None else []), *values]

    def _order(self, source: str = "") -> str:
        prefix = f"{source}." if source else ""
        keys = [f"{prefix}{quote(name)} {direction.value}" for name, direction in self.order]
        return ", ".join([*keys, f"{prefix}{quote(ROW)}"])

    @property
    def _keys(self) -> list[Field]:
        return [c.field for c in self.policy.columns if c.field.primary_key]

    @property
    def keyed(self) -> bool:
        """Whether the filters pin every primary-key field the caller sees: the page is then found
        through the copy's key index (:func:`keyed`)."""
        keys = [c.name for c in self.policy.columns if c.field.primary_key]
        return bool(keys) and all(k in self.filters for k in keys)

    def sql(
        self, window: tuple[int, int] | None = None, limit: int | None = None, keyed_rows: Sequence[int] | None = None
    ) -> tuple[str, list[object]]:
        """Rows of the page: ``_row`` first, then the columns as released. ``window`` limits the
        rows to those numbered in ``(low, high]``, ``limit`` overrides the page's size,
        ``keyed_rows`` are the row numbers of the key the filters pin (:func:`keyed`)."""
        for name, _ in self.order:
            self.policy.in_clear(name, rule="sort", purpose="sorting")
        where, values = self.where(window)
        source, prefix, head = TABLE, "", list[object]()
        if self.keyed:
            prefix, head = keyed(self._keys, self.filters, keyed_rows)
            source = "keyed"
        page = f"SELECT * FROM {source} WHERE {where} ORDER BY {self._order()} LIMIT ? OFFSET ?"
        columns = ", ".join([f"page.{quote(ROW)}", *(c.sql("page") for c in self.columns)])
        return f"{prefix}SELECT {columns} FROM ({page}) AS page ORDER BY {self._order('page')}", [
            *head,
            *values,
            self.limit if limit is None else limit,
            self.offset,
        ]

    WINDOW = 16_384
    """Row numbers a filtered page reads in its first step; each further step is :data:`GROWTH`
    times wider."""
    GROWTH = 8

    def row_store_sql(self) -> tuple[str, list[object]] | None:
        """The page as one query on the copy's row store (:mod:`warehouse.rowstore`), or None when
        it must run on DuckDB: a sorted or offset page, text search, a grant's row filter (the hub's
        SQL, in DuckDB's dialect), or a filter on a field that is not text.

        Row numbers are the store's rowid: SQLite walks its B-tree from the cursor and stops after
        ``limit`` matches; a page pinning the primary key goes through the key index."""
        if self.order or self.offset or self.text or self.policy.row_filter:
            return None
        pinned = equalities(self.policy, self.filters)
        if any(col.field.type not in ROW_STORE_TYPES for col, _ in pinned):
            return None
        columns = ", ".join(
            [
                quote(rowstore.ROW),
                *(f"{quote(rowstore.column(c.name, c.release))} AS {quote(c.name)}" for c in self.columns),
            ]
        )
        where = " AND ".join([f"{quote(rowstore.ROW)} > ?", *(f"{quote(col.name)} = ?" for col, _ in pinned)])
        source = f"{rowstore.TABLE} INDEXED BY {rowstore.KEY_INDEX}" if self.keyed else rowstore.TABLE
        sql = f"SELECT {columns} FROM {source} WHERE {where} ORDER BY {quote(rowstore.ROW)} LIMIT ?"
        return sql, [self.after, *(value for _, value in pinned), self.limit]

    def rows(
        self,
        cur: duckdb.DuckDBPyConnection,
        last_row: int,
        store: rowstore.RowStore | None = None,
        budget: int | None = None,
    ) -> list[tuple[Any, ...]]:
        """The page's rows from a serving copy whose rows are numbered ``1..last_row``: from its row
        store ``store`` when it has one and the page can be read there (:meth:`row_store_sql`),
        else from DuckDB.

        A serving copy is stored in ``_row`` order, so a range of row numbers is read from the few
        row groups holding it (their min/max statistics skip the rest). A keyset page in row order
        therefore reads windows of row numbers after the cursor, widening until the page is full or
        the copy ends: an unfiltered page reads exactly its rows, a filtered one about as many as it
        takes to find them, instead of a top-N over every row of the copy. A sorted page, an offset
        page and a page through the key index run as one query.

        With a ``budget`` (see :meth:`warehouse.rowstore.RowStore.fetch`) only a row-store read is
        allowed, and it stops with :class:`~warehouse.rowstore.OverBudget` past the budget."""
        if store is not None and (fast := self.row_store_sql()) is not None:
            return store.fetch(*fast, types=[c.type for c in self.columns], budget=budget)
        if budget is not None:
            raise rowstore.OverBudget("this page is read by DuckDB")
        if self.order or self.offset or self.keyed:
            pinned = keyed_rows(store, self._keys, self.filters) if self.keyed else None
            sql, values = self.sql(keyed_rows=pinned)
            return cur.execute(sql, values).fetchall()
        found: list[tuple[Any, ...]] = []
        low = self.after
        filtered = bool(self.filters or self.text or self.policy.row_filter)
        width = self.WINDOW if filtered else self.limit
        while low < last_row and len(found) < self.limit:
            high = min(last_row, low + width)
            sql, values = self.sql(window=(low, high), limit=self.limit - len(found))
            found += cur.execute(sql, values).fetchall()
            low, width = high, width * self.GROWTH
        return found

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
