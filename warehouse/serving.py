"""Serving copies: one DuckDB file per dataset version, written at publish, read by the API.

Iceberg is the system of record, but scanning Parquet per API request is slow (see DESIGN.md);
so publish also writes a DuckDB database stored in the order of a ``_row`` sequence for keyset
pagination (an order that reveals nothing about the keys), with its row store beside it
(:mod:`warehouse.rowstore`: pages, key lookups and verify, indexed on the primary key), and swaps
a ``CURRENT`` pointer atomically. API workers open copies read-only and notice a new version by the pointer's
change, without a restart. The last few copies are kept so a client paging through a pinned
version is not cut off by a publish.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeAlias

import duckdb
import pyarrow as pa

from contracts.model import Contract
from hub.errors import NotFound, VersionGone
from warehouse import duck, rowstore
from warehouse.duck import quote

TABLE = "records"
ROW = "_row"


@dataclass(frozen=True)
class ServingVersion:
    dataset: str
    snapshot_id: int
    version: int
    path: Path
    row_count: int


def folder(serving_dir: Path, dataset: str) -> Path:
    return serving_dir / dataset


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _shuffle(keys: list[str]) -> str:
    """Row order of a serving copy: the keys hashed with a salt drawn for this copy and then forgotten.

    Rows are paged in this order and datastore_search shows the row number, so an order by the
    keys themselves would tell callers how masked keys (ID numbers) compare with one another.
    """
    salt = secrets.token_hex(16)
    parts = ", ".join(f"CAST({quote(k)} AS VARCHAR)" for k in keys)
    return f"md5(concat_ws('|', '{salt}', {parts}))"


COPY_MEMORY = "768MB"
"""DuckDB memory limit while a serving copy is written: the shuffle's sort spills to disk beyond it,
so a copy of 10M rows is built in the same memory as one of 1M."""

Incoming: TypeAlias = pa.Table | pa.RecordBatchReader


def _write_copy(
    final: Path,
    contract: Contract,
    source: str,
    params: list[object],
    *,
    data: Incoming | None = None,
    extensions: tuple[str, ...] | None = None,
) -> int:
    """Materialize ``source`` (a table expression over the stored columns) as a serving copy at
    ``final``: written beside it and renamed into place, so a reader never sees half a copy.
    Returns the copy's row count.

    DuckDB streams ``source`` (a RecordBatchReader, staged Parquet, an Iceberg scan) under
    :data:`COPY_MEMORY`, spilling the shuffle's sort to a temporary folder beside the copy.
    ``_row`` is numbered 1..N in the shuffled order and the table is stored in that order: the
    API pages by ``_row`` ranges, which read a contiguous stretch of the file."""
    if final.exists():
        con = duck.connect(final, read_only=True, extensions=())
        try:
            row = con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
        finally:
            con.close()
        return int(row[0]) if row else 0
    tmp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.tmp")
    spill = final.with_name(f".{final.name}.spill")
    shuffle = _shuffle(contract.primary_key)
    if extensions is None:
        extensions = () if data is not None else ("avro", "iceberg")
    config = {"memory_limit": COPY_MEMORY, "temp_directory": str(spill), "threads": 2}
    con = duck.connect(tmp, extensions=extensions, config=config)
    try:
        if data is not None:
            con.register("incoming", data)
        con.execute(
            f"CREATE TABLE {TABLE} AS SELECT row_number() OVER (ORDER BY {shuffle}) AS {ROW}, * "
            f"FROM {source} ORDER BY {ROW}",
            params,
        )
        # No index: the copy is stored in _row order, so a range or list of row numbers reads only
        # the row groups holding them (zone maps); the key index lives in the row store.
        con.execute("CHECKPOINT")
        row = con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    rowstore.build(tmp, rowstore.path_for(final), contract)  # before the copy appears: never a copy without one
    os.replace(tmp, final)
    return int(row[0]) if row else 0


def build(
    serving_dir: Path,
    contract: Contract,
    data: Incoming | tuple[str, list[object]],
    *,
    snapshot_id: int,
    version: int,
    keep: int = 3,
    extensions: tuple[str, ...] | None = None,
) -> ServingVersion:
    """Write the serving copy of a version and make it current. ``data`` is an Arrow table, a
    stream of record batches, or a DuckDB table expression with its parameters (such as
    :func:`warehouse.tables.duckdb_source` of the version, or ``read_parquet(?)`` of staged rows,
    with the ``extensions`` it needs): only the latter two keep memory bounded for any size."""
    target_dir = folder(serving_dir, contract.id)
    target_dir.mkdir(parents=True, exist_ok=True)
    final = target_dir / f"{snapshot_id}.duckdb"
    if isinstance(data, tuple):
        source, params = data
        rows = _write_copy(final, contract, source, params, extensions=extensions)
    else:
        rows = _write_copy(final, contract, "incoming", [], data=data, extensions=extensions)
    current = ServingVersion(contract.id, snapshot_id, version, final, rows)
    pointer = {"snapshot_id": snapshot_id, "version": version, "file": final.name, "rows": rows}
    _atomic_write(target_dir / "CURRENT", json.dumps(pointer))
    _prune(target_dir, keep, final)
    return current


RESTORED = "restored"
"""Sub-folder of copies rebuilt from Iceberg for reads of older versions (``as_of``)."""


def restore(
    serving_dir: Path, contract: Contract, source: str, params: list[object], *, snapshot_id: int, keep: int = 2
) -> Path:
    """A serving copy of an older version, rebuilt from the Iceberg snapshot ``source`` reads
    (time travel), kept apart from the published copies so it never displaces them."""
    target_dir = folder(serving_dir, contract.id) / RESTORED
    target_dir.mkdir(parents=True, exist_ok=True)
    final = target_dir / f"{snapshot_id}.duckdb"
    _write_copy(final, contract, source, params)
    os.utime(final)
    _prune(target_dir, keep, final)
    return final


def copy_path(serving_dir: Path, dataset: str, snapshot_id: int) -> Path | None:
    """The serving copy of a snapshot, published or restored, if one is on disk."""
    for path in (
        folder(serving_dir, dataset) / f"{snapshot_id}.duckdb",
        folder(serving_dir, dataset) / RESTORED / f"{snapshot_id}.duckdb",
    ):
        if path.exists():
            return path
    return None


def _prune(target_dir: Path, keep: int, current: Path) -> None:
    copies = sorted(target_dir.glob("*.duckdb"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in copies[keep:]:
        if old != current:
            old.unlink(missing_ok=True)
            rowstore.path_for(old).unlink(missing_ok=True)


_pointers: dict[Path, tuple[tuple[int, int, int], ServingVersion]] = {}


def current(serving_dir: Path, dataset: str) -> ServingVersion:
    """The version a dataset's ``CURRENT`` pointer names. The pointer is read again only when the
    file changed (it is replaced, never edited, so its inode changes with every publish)."""
    pointer = folder(serving_dir, dataset) / "CURRENT"
    try:
        st = pointer.stat()
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        hit = _pointers.get(pointer)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        info = json.loads(pointer.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound(f"dataset {dataset} has no published version yet") from None
    path = pointer.with_name(info["file"])
    found = ServingVersion(dataset, info["snapshot_id"], info["version"], path, info["rows"])
    _pointers[pointer] = (stamp, found)
    return found


@lru_cache(maxsize=16)
def _keys(path: Path, column: str, stamp: int) -> pa.Array:
    con = duck.connect(path, read_only=True, extensions=())
    try:
        col = quote(column)
        query = f"SELECT DISTINCT CAST({col} AS VARCHAR) AS k FROM {TABLE} WHERE {col} IS NOT NULL"
        return con.execute(query).fetch_arrow_table().column("k").combine_chunks()
    finally:
        con.close()


def key_values(path: Path, column: str) -> pa.Array:
    """The distinct values of ``column`` in a serving copy, as text (for cross-dataset references).

    Read once per copy and process: a copy never changes once written (its file name is its snapshot).
    """
    return _keys(path, column, path.stat().st_mtime_ns)


class Store:
    """Per-process cache of read-only connections to serving copies (thread-safe).

    A copy that was pruned (or a restored copy that was replaced) keeps its connection until it
    has not been asked for for :attr:`IDLE` seconds; then the connection is closed, so a server
    that runs for months does not hold every version it ever served. Streams already reading from
    it finish: DuckDB keeps the database open for them.
    """

    IDLE = 120.0
    """Seconds a connection to a deleted copy is kept after its last use."""

    def __init__(self, serving_dir: Path, clock: Callable[[], float] = time.monotonic):
        self.serving_dir = serving_dir
        self._lock = threading.Lock()
        self._cons: dict[Path, duckdb.DuckDBPyConnection] = {}
        self._used: dict[Path, float] = {}
        self._last: dict[Path, int] = {}
        self._rows: dict[Path, rowstore.RowStore | None] = {}
        self._clock = clock

    def cursor(self, dataset: str, snapshot_id: int | None = None) -> tuple[ServingVersion, duckdb.DuckDBPyConnection]:
        head = current(self.serving_dir, dataset)
        if snapshot_id is not None and snapshot_id != head.snapshot_id:
            path = copy_path(self.serving_dir, dataset, snapshot_id)
            if path is None:
                raise VersionGone(f"version {snapshot_id} of {dataset} is no longer served; start again")
            head = ServingVersion(dataset, snapshot_id, -1, path, -1)
        with self._lock:
            now = self._clock()
            con = self._cons.get(head.path)
            if con is None:
                self._sweep(now)
                con = duck.connect(head.path, read_only=True, extensions=("spatial",), config={"threads": 1})
                self._cons[head.path] = con
            self._used[head.path] = now
            return head, con.cursor()

    def ready(self, dataset: str, snapshot_id: int | None = None) -> bool:
        """Whether the current copy of ``dataset`` (or the copy of ``snapshot_id``) is open here with
        its row count read and a row store: a page read from it opens nothing, so it is quick."""
        try:
            head = current(self.serving_dir, dataset)
        except NotFound:
            return False
        path: Path | None = head.path
        if snapshot_id is not None and snapshot_id != head.snapshot_id:
            path = copy_path(self.serving_dir, dataset, snapshot_id)
        return path is not None and path in self._cons and path in self._last and self._rows.get(path) is not None

    def last_row(self, path: Path, cur: duckdb.DuckDBPyConnection) -> int:
        """The highest row number of the copy at ``path`` (read once: a copy never changes)."""
        found = self._last.get(path)
        if found is None:
            found = self._last[path] = int(cur.execute(f"SELECT coalesce(max({ROW}), 0) FROM {TABLE}").fetchone()[0])  # type: ignore[index]
        return found

    def rows(self, path: Path) -> rowstore.RowStore | None:
        """The row store of the copy at ``path`` (None for a copy written without one)."""
        try:
            return self._rows[path]
        except KeyError:
            pass
        with self._lock:
            if path not in self._rows:
                found = rowstore.path_for(path)
                self._rows[path] = rowstore.RowStore(found) if found.exists() else None
            return self._rows[path]

    def _sweep(self, now: float) -> None:
        for path in [p for p, used in self._used.items() if now - used > self.IDLE and not p.exists()]:
            self._cons.pop(path).close()
            del self._used[path]
            self._last.pop(path, None)
            if rows := self._rows.pop(path, None):
                rows.close()

    @property
    def open_copies(self) -> list[Path]:
        with self._lock:
            return sorted(self._cons)

    def close(self) -> None:
        with self._lock:
            for con in self._cons.values():
                con.close()
            self._cons.clear()
            for rows in self._rows.values():
                if rows is not None:
                    rows.close()
            self._rows.clear()
            self._used.clear()
