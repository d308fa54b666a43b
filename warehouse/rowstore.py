"""Row stores: the serving copy's rows in a SQLite B-tree keyed by row number, for page reads.

DuckDB is columnar: any query costs a millisecond or more before it reads a row, and a mask is
an expression evaluated per query. The hub's everyday reads are small (a page of 100 records, one
record by its key, a verify answer), so each serving copy gets a row store beside it
(``<snapshot>.rows``), written once from the copy when it is built:

- ``_row`` is the SQLite rowid, so a keyset page is a walk along the table's own B-tree from the
  cursor, stopping after ``limit`` matches;
- every stored field is kept as stored (what filters and verify compare against), and every field
  that may be released under a mask is kept a second time under that mask (column
  ``<field>#<mask>``), computed by DuckDB with the very expression every other path uses
  (:meth:`access.policy.Column.sql`): no mask is implemented twice;
- the primary key and unique fields are indexed.

A field leaves the hub either in clear or under its one mask (:func:`contracts.disclosure.releases`),
so two columns per field cover every policy. What a caller gets is still decided by its
:class:`~access.policy.Policy`; :mod:`access.query` chooses the engine. A copy without a row store
(written before row stores existed) is read through DuckDB, as before.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from contracts import disclosure
from contracts.model import Contract, Field
from warehouse import duck
from warehouse.duck import quote

SUFFIX = ".rows"
TABLE = "records"
ROW = "_row"
EXTENSIONS = ("spatial", "sqlite_scanner")

CLEAR = disclosure.CLEAR
KEY_INDEX = f"{TABLE}_key"
"""The index on the primary key (keyed pages name it, so SQLite never walks the rowid instead)."""


MEMORY = "512MB"
"""DuckDB's memory limit while a row store is written (rows stream from the copy in order)."""


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def path_for(copy: Path) -> Path:
    """The row store beside the serving copy at ``copy`` (``123.duckdb`` → ``123.rows``)."""
    return copy.with_suffix(SUFFIX)


def column(name: str, release: str) -> str:
    """The row-store column holding field ``name`` as released by ``release``."""
    return name if release == CLEAR else f"{name}#{release}"


def releases(contract: Contract, stored: Sequence[str]) -> dict[str, list[str]]:
    """Every release each stored field may leave under: clear, and the field's mask when a policy
    can mask it (the default release, or a sibling of a masked ID number). The fields a grant names
    in clear make no third release: a field is either clear or under its own mask."""
    everything = [f.name for f in contract.fields]
    default = disclosure.releases(contract, ())
    all_clear = disclosure.releases(contract, everything)
    out: dict[str, list[str]] = {}
    for f in contract.fields:
        if f.name not in stored:
            continue
        masks = {default.get(f.name, CLEAR), all_clear.get(f.name, CLEAR)} - {CLEAR}
        out[f.name] = [CLEAR, *sorted(masks)]
    return out


def _stored_value(f: Field, source: str) -> str:
    """A field's value as the row store keeps it: dates and times as ISO text (read back into
    Python dates), geometry as GeoJSON text, as :meth:`access.policy.Column.sql` releases it."""
    from access.policy import Column

    col = f"{source}.{quote(f.name)}"
    if f.type in ("date", "timestamp"):
        return f"CAST({col} AS VARCHAR)"
    if f.type == "geometry":
        return Column(f, CLEAR).sql(source).rsplit(" AS ", 1)[0]
    return col


def _masked_value(f: Field, release: str, source: str) -> str:
    from access.policy import Column

    return Column(f, release).sql(source).rsplit(" AS ", 1)[0]


def build(copy: Path, target: Path, contract: Contract) -> None:
    """Write the row store of the serving copy at ``copy`` to ``target`` (beside it, renamed into
    place when complete). DuckDB reads the copy in its stored ``_row`` order and inserts into SQLite
    in that order (the rowid B-tree is only ever appended to), so memory stays flat for any size."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    con = duck.connect(extensions=EXTENSIONS, config={"threads": 2, "memory_limit": MEMORY})
    try:
        con.execute(f"ATTACH {_literal(copy)} AS copy (READ_ONLY)")
        stored = [r[0] for r in con.execute(f"DESCRIBE copy.{TABLE}").fetchall()]
        by_name = {f.name: f for f in contract.fields}
        variants = releases(contract, stored)
        names = [ROW]
        values = [f"src.{quote(ROW)}"]
        types = ["INTEGER PRIMARY KEY"]
        for name, kinds in variants.items():
            for release in kinds:
                names.append(column(name, release))
                f = by_name[name]
                values.append(_stored_value(f, "src") if release == CLEAR else _masked_value(f, release, "src"))
                types.append(SQLITE_TYPES.get(_released_type(f, release), "TEXT"))
        _create(tmp, names, types)
        con.execute(f"ATTACH {_literal(tmp)} AS rows (TYPE sqlite)")
        con.execute(
            f"INSERT INTO rows.{TABLE} ({', '.join(quote(n) for n in names)}) "
            f"SELECT {', '.join(values)} FROM copy.{TABLE} AS src"
        )
        con.execute("DETACH rows")
    finally:
        con.close()
    _index(tmp, contract, set(variants))
    os.replace(tmp, target)


SQLITE_TYPES = {"integer": "INTEGER", "number": "REAL", "boolean": "INTEGER"}
"""Logical type → SQLite column type; everything else is kept as text (dates and times in ISO form)."""


def _released_type(f: Field, release: str) -> str:
    from access.policy import Column

    return Column(f, release).type


def _create(path: Path, names: list[str], types: list[str]) -> None:
    columns = ", ".join(f"{quote(n)} {t}" for n, t in zip(names, types, strict=True))
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute(f"CREATE TABLE {TABLE} ({columns})")
        db.commit()
    finally:
        db.close()


def _index(path: Path, contract: Contract, stored: set[str]) -> None:
    """The primary key and each unique field, indexed (keyed pages and verify find one record)."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        keys = [f.name for f in contract.fields if f.primary_key and f.name in stored]
        if keys:
            db.execute(f"CREATE INDEX {KEY_INDEX} ON {TABLE} ({', '.join(quote(k) for k in keys)})")
        for f in contract.fields:
            if f.unique and not f.primary_key and f.name in stored:
                db.execute(f"CREATE INDEX {quote(TABLE + '_' + f.name)} ON {TABLE} ({quote(f.name)})")
        db.commit()
    finally:
        db.close()


def _date(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _timestamp(value: Any) -> Any:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def _boolean(value: Any) -> Any:
    return bool(value) if isinstance(value, int) else value


READ_BACK: dict[str, Callable[[Any], Any]] = {"date": _date, "timestamp": _timestamp, "boolean": _boolean}
"""Logical type → how a value read from SQLite becomes what DuckDB gives for it."""


class OverBudget(Exception):
    """A read stopped at its budget of steps (see :meth:`RowStore.fetch`); nothing was returned."""


STEPS_PER_CHECK = 1_000
T = TypeVar("T")


def _within(db: sqlite3.Connection, budget: int, read: Callable[[], T]) -> T:
    steps = [0]

    def check() -> int:
        steps[0] += STEPS_PER_CHECK
        return 1 if steps[0] > budget else 0  # non-zero interrupts the statement

    db.set_progress_handler(check, STEPS_PER_CHECK)
    try:
        return read()
    except sqlite3.OperationalError as exc:
        if steps[0] > budget and "interrupt" in str(exc):
            raise OverBudget(f"stopped after {budget:,} steps") from None
        raise
    finally:
        db.set_progress_handler(None, 0)


class RowStore:
    """Read-only connections to one row store, one per thread (SQLite connections are cheap, and a
    connection is used by one thread at a time); the file is immutable once written."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._closed = False

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?immutable=1", uri=True, check_same_thread=False)
            db.execute("PRAGMA mmap_size=1073741824")
            db.execute("PRAGMA query_only=ON")
            with self._lock:
                if self._closed:
                    db.close()
                    raise sqlite3.ProgrammingError(f"row store {self.path} is closed")
                self._all.append(db)
            self._local.db = db
        return db

    def fetch(
        self, sql: str, params: Sequence[object], types: Sequence[str] = (), budget: int | None = None
    ) -> list[tuple[Any, ...]]:
        """Rows of ``sql``; ``types`` (the logical type of each column after the first) restores
        dates, times and booleans to the Python values DuckDB gives. With a ``budget`` (SQLite
        virtual-machine steps) a query that would take longer stops and raises :class:`OverBudget`:
        what the API answers on its event loop must be quick, whatever the filter."""
        db = self._connection()
        if budget is None:
            rows = db.execute(sql, list(params)).fetchall()
        else:
            rows = _within(db, budget, lambda: db.execute(sql, list(params)).fetchall())
        convert = [(i, READ_BACK[t]) for i, t in enumerate(types, start=1) if t in READ_BACK]
        if not convert or not rows:
            return rows
        out = []
        for row in rows:
            values = list(row)
            for i, fn in convert:
                values[i] = fn(values[i])
            out.append(tuple(values))
        return out

    def keyed(self, names: Sequence[str], values: Sequence[str]) -> list[int]:
        """The row numbers whose primary key (``names``, all of it, stored as text) is ``values``."""
        where = " AND ".join(f"{quote(n)} = ?" for n in names)
        sql = f"SELECT {quote(ROW)} FROM {TABLE} INDEXED BY {KEY_INDEX} WHERE {where}"
        return [row[0] for row in self._connection().execute(sql, list(values))]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for db in self._all:
                db.close()
            self._all.clear()
