"""Engine, sessions and migrations of the metadata database (SQLite or PostgreSQL).

One engine per database URL per process. SQLite runs in WAL mode (readers never block the one
writer) with a 30-second busy timeout, so a writer waits for another process's write (the CLI
beside the server, two API workers) instead of failing, and ``synchronous=NORMAL``, which in
WAL mode loses no committed transaction on a crash of the process.

Write transactions are ``BEGIN IMMEDIATE``: pysqlite opens the transaction just before the first
writing statement, and asks for the write lock at once (waiting up to the busy timeout), so a
transaction never holds a stale read snapshot it cannot upgrade. Reads before that first write
run outside any transaction and take no lock, so read-only requests never queue behind writers.
Code that must decide a write on what it read (a key minted from a key that may be revoked
meanwhile) re-reads inside the write transaction: see :func:`catalog.clients.issue_key`.

Migrations run in one transaction that holds the write lock (SQLite) or an advisory lock
(PostgreSQL), so processes starting together on a new database migrate it once. After ``fork``
the child drops the parent's pooled connections (they must never be shared across processes).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import anyio.to_thread
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from catalog import cache

MIGRATIONS = Path(__file__).with_name("migrations")


BUSY_TIMEOUT_MS = 30_000
MIGRATION_LOCK = 0x4855_4244  # PostgreSQL advisory lock id held while migrating ("HUBD")
_engines: dict[str, Engine] = {}
POOL = {"pool_size": 48, "max_overflow": 16}
"""SQLite connections kept open: one per request the server runs at once (the thread pool's 40
and the audit writer), so a busy server neither waits for a connection nor opens and sets up a new
one (PRAGMAs included) for every request beyond the pool. PostgreSQL keeps 10 + 20 per process,
well under its default of 100 connections with two workers and the CLI."""


def engine(url: str) -> Engine:
    found = _engines.get(url)
    if found is None:
        found = _engines[url] = _create(url)
    return found


def _create(url: str) -> Engine:
    if is_local(url):
        eng = create_engine(
            url,
            # pysqlite's implicit BEGIN before the first write becomes BEGIN IMMEDIATE
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "isolation_level": "IMMEDIATE"},
            **POOL,
        )

        @event.listens_for(eng, "connect")
        def _pragmas(conn, _record):  # type: ignore[no-untyped-def]
            cur = conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            _wal(cur)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        cache.watch(eng)
        return eng
    eng = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    cache.watch(eng)
    return eng


def _wal(cur: sqlite3.Cursor) -> None:
    """Switch to WAL. On a brand-new file several processes may race for the switch, and SQLite
    answers "database is locked" at once rather than waiting, so the switch is retried."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _after_fork_in_child() -> None:
    for eng in _engines.values():
        eng.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


def migrate(url: str) -> None:
    """Bring the database to the newest schema (idempotent)."""
    from alembic import command
    from alembic.config import Config

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    with engine(url).begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # one migrating process at a time; DDL included
        elif conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    _migrated.add(url)


_migrated: set[str] = set()
_makers: dict[str, sessionmaker[Session]] = {}


def _maker(url: str) -> sessionmaker[Session]:
    """One session factory per database. ``sessionmaker`` makes a new ``Session`` subclass each
    time it is called, and SQLAlchemy builds the event dispatch of a class the first time it meets
    it: a factory per session spent 7 % of a key lookup's time building dispatch tables."""
    found = _makers.get(url)
    if found is None:
        found = _makers[url] = sessionmaker(engine(url), expire_on_commit=False)
    return found


@contextmanager
def session(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error (schema migrated on first use)."""
    if url not in _migrated:
        migrate(url)
    with _maker(url)() as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


def is_local(url: str) -> bool:
    """Whether the database is a file on this machine (SQLite): its reads never wait on the network
    or on a writer (WAL), so the API answers them on its event loop (see :func:`served_session`)."""
    return url.startswith("sqlite")


def wrote(s: Session) -> bool:
    """Whether ending ``s`` writes: objects waiting to be flushed, or a statement that changed rows
    in its transaction (marked by :func:`catalog.cache.watch`)."""
    if s.new or s.dirty or s.deleted:
        return True
    return s.in_transaction() and bool(s.connection().info.get(cache.WROTE))


@asynccontextmanager
async def served_session(url: str) -> AsyncIterator[Session]:
    """:func:`session` for a request on the API's event loop: commits on success, rolls back on
    error. Ending a session that only read a local database is a few microseconds and is done on the
    loop; one that wrote (it may wait for SQLite's write lock) or that talks to a database server is
    ended in a worker thread, so the loop never waits on a lock or the network."""
    if url not in _migrated:
        await anyio.to_thread.run_sync(migrate, url)
    s = _maker(url)()
    try:
        yield s
        await _end(s, s.commit)
    except BaseException:
        await _end(s, s.rollback)
        raise
    finally:
        s.close()  # after commit or rollback: the connection is back in the pool, nothing to wait on


async def commit_served(s: Session) -> None:
    """Commit ``s`` from the event loop (on it when it only read a local database)."""
    await _end(s, s.commit)


async def _end(s: Session, end: Callable[[], None]) -> None:
    try:
        inline = is_local(str(s.get_bind().engine.url)) and not wrote(s)
    except Exception:  # noqa: BLE001 - a connection in trouble is ended off the loop
        inline = False
    if inline:
        end()
    else:
        await anyio.to_thread.run_sync(end)
