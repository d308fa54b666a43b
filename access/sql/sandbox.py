"""The DuckDB connection analysts' SQL runs on: policy views over read-only serving copies, and
nothing else reachable.

A sandbox is an in-memory DuckDB that

1. loads only the extensions its views need (spatial, for a geometry released in clear), from
   their PyPI packages (:func:`warehouse.duck.connect`; nothing is downloaded, auto-loading off);
2. ATTACHes each serving copy the query reads, ``READ_ONLY``;
3. creates one **policy view** per dataset, named like the dataset (``population.residents``):
   the SELECT of :class:`access.query.Release`, so fields, masks and the grant's row filter are
   the same as on every other path. A view with a row filter ends in ``LIMIT 2^63-1``: no filter
   can be pushed below a LIMIT, so the caller's own conditions only ever see rows inside the
   grant (an error raised by a caller's expression cannot report a row outside it);
4. then locks itself: ``enable_external_access = false`` (no file, URL, ATTACH, COPY, INSTALL or
   LOAD), ``disabled_filesystems = 'LocalFileSystem'`` (not even the attached copies can be read
   as files; their open handles keep serving the views), ``allowed_directories`` and
   ``allowed_paths`` empty, no temp directory (a query over the memory limit fails rather than
   spilling), a memory limit and a thread cap, and ``lock_configuration = true`` so no ``SET`` or
   ``PRAGMA`` can undo any of it.

Each query runs on its own cursor with a wall-clock timeout (a timer calls ``interrupt()``), a row
cap and a byte cap on what is fetched. :class:`Pool` keeps a few locked sandboxes for reuse by the
same caller over the same views (a new DuckDB instance costs ~10 ms; a query over a reused one
does not pay it); the guard lets no statement change a sandbox's state.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from hub.errors import BadParameter
from warehouse import duck
from warehouse.duck import quote

FENCE = 2**63 - 1
"""The LIMIT that keeps callers' conditions above a view's row filter."""
BATCH_ROWS = 8_192


class SqlFailed(BadParameter):
    """DuckDB refused or stopped a guarded query (HTTP 400): ``code`` says how."""

    def __init__(self, message: str, code: str):
        self.code = code
        super().__init__(message, column="sql", rule=code)


@dataclass(frozen=True)
class View:
    """A dataset's policy view: ``select`` reads the copy at ``path`` attached as ``alias``."""

    schema: str
    name: str
    path: Path
    alias: str
    select: str
    fenced: bool = False
    """The view filters rows (a grant's row filter): keep callers' conditions above it."""
    spatial: bool = False
    """The SELECT needs the spatial extension (a geometry released in clear)."""


@dataclass(frozen=True)
class Limits:
    memory_limit: str = "1GB"
    threads: int = 2
    timeout_seconds: float = 10.0
    max_bytes: int = 256 << 20
    """Most bytes of result (as Arrow) a query may fetch."""


@dataclass(frozen=True)
class Result:
    """What a query returned, up to its row cap."""

    columns: list[tuple[str, str]]
    """Name and DuckDB type of each column."""
    table: pa.Table
    truncated: bool

    @property
    def rows(self) -> int:
        return self.table.num_rows


def alias(index: int) -> str:
    """The name the ``index``-th attached copy goes by inside a sandbox (never a dataset's domain:
    the guard lets no table name through that is not a dataset id or a CTE)."""
    return f"_hub_copy_{index}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Sandbox:
    """One locked in-memory DuckDB over ``views`` (see the module's doc)."""

    def __init__(self, views: Sequence[View], limits: Limits):
        self.views = tuple(views)
        self.limits = limits
        self._cursors = threading.Lock()
        extensions = ("spatial",) if any(v.spatial for v in views) else ()
        config = {
            "memory_limit": limits.memory_limit,
            "threads": limits.threads,
            "temp_directory": "",
            "allow_community_extensions": False,
            "allow_unsigned_extensions": False,
            "allow_persistent_secrets": False,
        }
        self.con = duck.connect(":memory:", extensions=extensions, config=config)
        try:
            self._build()
            self._lock()
        except BaseException:
            self.con.close()
            raise

    def _build(self) -> None:
        attached: set[str] = set()
        for view in self.views:
            if view.alias not in attached:
                attached.add(view.alias)
                self.con.execute(f"ATTACH {_literal(str(view.path))} AS {quote(view.alias)} (READ_ONLY)")
        for view in self.views:
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(view.schema)}")
            fence = f" LIMIT {FENCE}" if view.fenced else ""
            self.con.execute(f"CREATE VIEW {quote(view.schema)}.{quote(view.name)} AS {view.select}{fence}")

    def _lock(self) -> None:
        for statement in (
            "SET allowed_directories = []",
            "SET allowed_paths = []",
            "SET enable_external_access = false",
            "SET disabled_filesystems = 'LocalFileSystem'",
            "SET lock_configuration = true",
        ):
            self.con.execute(statement)

    def run(self, sql: str, *, max_rows: int) -> Result:
        """Run one guarded query; at most ``max_rows`` rows come back (``truncated`` says if more were
        there). Timeout, memory and byte caps end it with :class:`SqlFailed`."""
        with self._cursors:  # a connection hands out cursors to one thread at a time
            cur = self.con.cursor()
        timer = threading.Timer(self.limits.timeout_seconds, cur.interrupt)
        timer.daemon = True
        started = time.monotonic()
        try:
            statements = cur.extract_statements(sql)
            if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
                raise SqlFailed("the rewritten query is not one SELECT statement", "sql_error")
            timer.start()
            cur.execute(sql)
            columns = [(str(d[0]), str(d[1])) for d in (cur.description or [])]
            table, truncated = self._fetch(cur.to_arrow_reader(BATCH_ROWS), max_rows)
            return Result(columns, table, truncated)
        except (duckdb.Error, OSError, pa.ArrowException) as exc:
            raise self._failure(exc, time.monotonic() - started) from None
        finally:
            timer.cancel()
            cur.close()

    def _fetch(self, reader: pa.RecordBatchReader, max_rows: int) -> tuple[pa.Table, bool]:
        batches: list[pa.RecordBatch] = []
        rows = size = 0
        truncated = False
        for batch in reader:
            if rows + batch.num_rows > max_rows:
                batch = batch.slice(0, max_rows - rows)
                truncated = True
            rows += batch.num_rows
            size += batch.nbytes
            if size > self.limits.max_bytes:
                raise SqlFailed(
                    f"the result is larger than {self.limits.max_bytes >> 20} MB; select fewer rows or columns, "
                    "or aggregate",
                    "sql_too_large",
                )
            batches.append(batch)
            if truncated:
                break
        reader.close()
        return pa.Table.from_batches(batches, schema=reader.schema), truncated

    def _failure(self, exc: BaseException, elapsed: float) -> SqlFailed:
        text = str(exc)
        if isinstance(exc, duckdb.InterruptException) or text.startswith("INTERRUPT"):
            return SqlFailed(
                f"the query ran longer than {self.limits.timeout_seconds:g} s and was stopped "
                f"(after {elapsed:.1f} s); aggregate, filter or limit it",
                "sql_timeout",
            )
        if isinstance(exc, duckdb.OutOfMemoryException) or "Out of Memory" in text:
            return SqlFailed(
                f"the query needs more than {self.limits.memory_limit} of memory and was stopped; "
                "aggregate, filter or limit it",
                "sql_too_large",
            )
        return SqlFailed(clean_message(text, self.views), "sql_error")

    def close(self) -> None:
        self.con.close()


_CONTEXT = re.compile(r"\n\s*LINE \d+:.*", re.S)
_SUGGESTION = re.compile(r"\s*Did you mean [^!?\n]*[!?]?")


def clean_message(text: str, views: Sequence[View]) -> str:
    """DuckDB's message without what belongs to the sandbox: the rewritten text (``LINE 1: …``),
    suggestions of other names, paths and the attached copies' names."""
    message = _SUGGESTION.sub("", _CONTEXT.sub("", text)).strip()
    for view in views:
        message = message.replace(str(view.path), "<serving copy>")
    message = re.sub(r'"?_hub_copy_\d+"?\.', "", message)
    message = re.sub(r"_hub_copy_\d+", "a serving copy", message)
    return message.splitlines()[0] if message else "the query failed"


class Pool:
    """Locked sandboxes kept for reuse, keyed by caller and views; the least recently used go
    first, and none stays idle longer than ``idle_seconds``. Thread-safe: each query takes its own
    cursor, and a sandbox is closed only when no query uses it."""

    def __init__(self, size: int = 4, idle_seconds: float = 120.0):
        self.size = size
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._free: OrderedDict[tuple[object, ...], _Entry] = OrderedDict()

    @contextmanager
    def lease(self, key: tuple[object, ...], views: Sequence[View], limits: Limits) -> Iterator[Sandbox]:
        full_key = (key, tuple(views), limits)
        with self._lock:
            entry = self._free.get(full_key)
            if entry is not None:
                entry.users += 1
                self._free.move_to_end(full_key)
        if entry is None:
            entry = _Entry(Sandbox(views, limits))
            entry.users = 1
            with self._lock:
                old = self._free.get(full_key)
                self._free[full_key] = entry
                if old is not None:
                    old.retired = True
                    self._maybe_close(old)
        try:
            yield entry.sandbox
        finally:
            with self._lock:
                entry.users -= 1
                entry.used = time.monotonic()
                self._evict()
                self._maybe_close(entry)

    def _evict(self) -> None:
        now = time.monotonic()
        for k in list(self._free):
            entry = self._free[k]
            if len(self._free) > self.size or (entry.users == 0 and now - entry.used > self.idle_seconds):
                del self._free[k]
                entry.retired = True
                self._maybe_close(entry)

    @staticmethod
    def _maybe_close(entry: _Entry) -> None:
        if entry.retired and entry.users == 0 and not entry.closed:
            entry.closed = True
            entry.sandbox.close()

    def close(self) -> None:
        with self._lock:
            for entry in self._free.values():
                entry.retired = True
                self._maybe_close(entry)
            self._free.clear()


class _Entry:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.users = 0
        self.used = time.monotonic()
        self.retired = False
        self.closed = False
