"""Catalogue rows every request reads (its key and client, the dataset, the caller's grants), kept
between requests and checked against the database on every use.

Authorizing a read costs a handful of queries (the key, its client, the dataset, its department and
versions, the live grants) that almost never change. Every write to those tables raises one counter
(``catalogue_changes``, by triggers, migration 0013: whoever writes — this process, another API
worker, the CLI, an Airflow task, a hand-typed SQL statement — raises it). A lookup reads the
counter (one tiny query) and answers from rows loaded at the same count, or loads them again; so a
revoked key or grant is refused by the very next request, on every worker.

Rows are cached detached and never handed out: each lookup merges a copy into the caller's session
without a query (``Session.merge(load=False)``), so routes use them as any loaded row, and writes to
the copy stay in that session. A session whose transaction has written bypasses the cache in both
directions: it must see its own uncommitted rows, and rows it sees must not be kept under a count
that a rollback would hand to someone else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

T = TypeVar("T")
WROTE = "hub_wrote"
"""Marks a pooled connection whose current transaction has written (see :func:`watch`)."""
READS = ("SELECT", "PRAGMA", "SAVEPOINT", "RELEASE", "BEGIN", "SHOW", "SET ")
MAX_ENTRIES = 10_000
COUNT = "hub_changes"
"""Where a session keeps the count it read for its current transaction."""


def watch(engine: Engine) -> None:
    """Mark a connection once it writes; clear the mark when its transaction ends."""

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        if not statement.lstrip()[:8].upper().startswith(READS):
            conn.info[WROTE] = True

    @event.listens_for(engine, "commit")
    def _commit(conn):  # type: ignore[no-untyped-def]
        conn.info.pop(WROTE, None)

    @event.listens_for(engine, "rollback")
    def _rollback(conn):  # type: ignore[no-untyped-def]
        conn.info.pop(WROTE, None)


class _Rows:
    """The rows of one database, as of one count of changes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count: tuple[str, int] = ("", -1)
        self.rows: dict[Hashable, Any] = {}


_databases: dict[str, _Rows] = {}
_databases_lock = threading.Lock()
_MISSING = object()


def _rows_of(s: Session) -> _Rows:
    url = str(s.get_bind().engine.url)
    with _databases_lock:
        found = _databases.get(url)
        if found is None:
            found = _databases[url] = _Rows()
        return found


def changes(s: Session) -> tuple[str, int] | None:
    """The database's count of catalogue changes, read once per transaction of ``s`` (a request's
    lookups share one reading), or None when ``s`` has written in its transaction."""
    found = s.info.get(COUNT)
    if found is None:
        conn = s.connection()
        if conn.info.get(WROTE):
            return None
        row = conn.exec_driver_sql("SELECT epoch, n FROM catalogue_changes WHERE id = 1").one()
        found = s.info[COUNT] = (conn, (str(row[0]), int(row[1])))
    conn, count = found
    return None if conn.info.get(WROTE) else count  # type: ignore[no-any-return]


@event.listens_for(Session, "after_transaction_end")
def _forget_count(session: Session, _transaction: Any) -> None:
    session.info.pop(COUNT, None)


def _merged(s: Session, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [s.merge(v, load=False) for v in value]
    return s.merge(value, load=False)


def lookup(s: Session, key: Hashable, load: Callable[[Session], T]) -> T:
    """``load(session)``'s answer (a row, a list of rows or None), from the cache when the database
    has not changed since it was loaded; rows come merged into ``s``."""
    count = changes(s)
    if count is None:
        return load(s)
    cache = _rows_of(s)
    with cache.lock:
        hit = cache.rows.get(key, _MISSING) if cache.count == count else _MISSING
    if hit is _MISSING:
        with Session(bind=s.get_bind(), expire_on_commit=False) as other:
            hit = load(other)
            other.expunge_all()  # detached as loaded (a rollback would expire them first)
        with cache.lock:
            if count != cache.count:  # any other count (or database) starts afresh
                cache.count, cache.rows = count, {}
            if len(cache.rows) >= MAX_ENTRIES:
                cache.rows.clear()
            cache.rows[key] = hit
    return _merged(s, hit)  # type: ignore[no-any-return]
