"""The audit log: one record per call that returns data, in an append-only hash chain.

Each record carries the hash of the one before it (``prev_hash``) and its own hash over its
content and that link, so altering, removing or reordering any record breaks every hash after
it. A one-row head (``audit_head``) holds the last sequence number and hash; appending locks
it, so concurrent writers (API workers, the CLI) keep one chain. Every :data:`ANCHOR_EVERY`
records, and on ``hub audit anchor``, an anchor row signs the head with an HMAC key that is
kept outside the database (``HUB_AUDIT_KEY_FILE``, by default ``HUB_HOME/audit.key``, 0600): a
database writer can recompute plain hashes, but not anchors, so rewriting history or cutting
its tail shows at the first anchor after the change.

:func:`verify` walks the whole chain and names the first broken record.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import anyio.to_thread
from sqlalchemy import JSON, BigInteger, Connection, DateTime, Integer, String, Table, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from access import secretfile
from access.policy import Column, Policy
from catalog.models import ApiClient, Base, aware, utcnow
from hub.settings import Settings

GENESIS = "0" * 64
ANCHOR_EVERY = 100
"""Records between automatic anchors."""


class AuditRecord(Base):
    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    client_id: Mapped[str | None] = mapped_column(String(36))
    client: Mapped[str | None] = mapped_column(String(100))
    organization: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    dataset: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int | None] = mapped_column(Integer)
    snapshot_id: Mapped[str | None] = mapped_column(String(40))
    fields: Mapped[list[Any]] = mapped_column(JSON)
    clear_fields: Mapped[list[Any]] = mapped_column(JSON)
    rows: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    query_hash: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AuditAnchor(Base):
    __tablename__ = "audit_anchors"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    signature: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class Event:
    """What one call returned, as the audit log records it."""

    action: str
    """records, datastore_search, download, verify, export, changes, sql ..."""
    client_id: str | None
    client: str | None
    organization: str | None
    dataset: str | None
    rows: int
    fields: Sequence[str] = ()
    clear_fields: Sequence[str] = ()
    version: int | None = None
    snapshot_id: str | None = None
    purpose: str | None = None
    request_id: str | None = None
    query: str | None = None
    """The request's query (parameters or SQL): stored as its SHA-256 only."""
    at: dt.datetime = field(default_factory=utcnow)


def _at(when: dt.datetime) -> str:
    return aware(when).astimezone(dt.UTC).isoformat(timespec="microseconds")


def content(row: AuditRecord | Appended) -> dict[str, Any]:
    """The hashed content of a record: everything but its own hash."""
    return {
        "seq": row.seq,
        "at": _at(row.at),
        "client_id": row.client_id,
        "client": row.client,
        "organization": row.organization,
        "action": row.action,
        "dataset": row.dataset,
        "version": row.version,
        "snapshot_id": row.snapshot_id,
        "fields": list(row.fields),
        "clear_fields": list(row.clear_fields),
        "rows": row.rows,
        "purpose": row.purpose,
        "request_id": row.request_id,
        "query_hash": row.query_hash,
        "prev_hash": row.prev_hash,
    }


def digest(row: AuditRecord | Appended) -> str:
    canonical = json.dumps(content(row), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def key_file(home: Path, configured: Path | None = None) -> Path:
    return configured or home / "audit.key"


def anchor_key(path: Path) -> bytes:
    """The HMAC key for anchors, created (0600) on first use; never stored in the database."""
    return secretfile.load(path)


def sign(key: bytes, seq: int, head_hash: str) -> str:
    return hmac.new(key, f"{seq}:{head_hash}".encode(), hashlib.sha256).hexdigest()


class Who(TypedDict):
    client_id: str | None
    client: str | None
    organization: str | None


def who(caller: ApiClient | None) -> Who:
    """The caller's part of an event (all None for an anonymous caller)."""
    return {
        "client_id": caller.id if caller else None,
        "client": caller.name if caller else None,
        "organization": caller.organization if caller else None,
    }


def served(
    action: str,
    caller: ApiClient | None,
    policy: Policy,
    columns: Sequence[Column],
    rows: int,
    *,
    version: int | None,
    snapshot_id: int | None,
    request_id: str | None,
    query: str,
) -> Event:
    """The event of a call that returned ``rows`` rows of ``columns`` under ``policy``."""
    return Event(
        action=action,
        **who(caller),
        dataset=policy.dataset,
        rows=rows,
        fields=[c.name for c in columns],
        clear_fields=[c.name for c in columns if not c.masked],
        version=version if version and version > 0 else None,
        snapshot_id=str(snapshot_id) if snapshot_id is not None else None,
        purpose=policy.purpose,
        request_id=request_id,
        query=query,
    )


def write(s: Session, settings: Settings, event: Event) -> int:
    """Record ``event`` durably before the data leaves (what the data routes call, after reading and
    before answering): the request's own changes are committed, then the record is appended and
    committed through the process's :class:`GroupCommit`. Answers the record's sequence number."""
    s.commit()  # the request's own writes first, and no lock of the request's left to wait on
    return GroupCommit.of(settings.db_url).record(event, settings.audit_key_path)


async def write_async(s: Session, settings: Settings, event: Event) -> int:
    """:func:`write` for a route on the API's event loop: the loop never waits on the commit; the
    request's task does, and answers only once its record is committed."""
    from catalog import db

    await db.commit_served(s)
    return await GroupCommit.of(settings.db_url).record_async(event, settings.audit_key_path)


@dataclass
class _Ticket:
    event: Event
    seq: int = 0
    error: BaseException | None = None
    done: bool = False
    waiter: asyncio.Future[int] | None = None


class GroupCommit:
    """Appends events to the chain in batches, one transaction per batch, each caller returning only
    once its own record is committed (group commit, as databases do with their logs).

    Every caller queues its ticket and then takes the writer lock; whoever holds it writes every
    ticket queued so far, so while one batch commits, the callers arriving meanwhile queue up and
    the next holder writes them all in one transaction. A caller finding its ticket written returns
    at once. Under load a record costs a share of one commit instead of a commit and the wait for
    the chain's lock; alone, a caller writes its own record as before. The chain's head is locked
    for each batch as for a single append, so several processes (API workers, the CLI) still keep
    one chain. A batch that fails fails every caller in it: none of their answers leaves.
    """

    _groups: dict[str, GroupCommit] = {}
    _groups_lock = threading.Lock()

    def __init__(self, url: str):
        self.url = url
        self._writer = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Ticket] = []
        self._waiting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[_Ticket]] = weakref.WeakKeyDictionary()
        self._flushing: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        self._flushes: set[asyncio.Task[None]] = set()

    @classmethod
    def of(cls, url: str) -> GroupCommit:
        with cls._groups_lock:
            found = cls._groups.get(url)
            if found is None:
                found = cls._groups[url] = cls(url)
            return found

    def record(self, event: Event, key_path: Path) -> int:
        ticket = _Ticket(event)
        with self._queue_lock:
            self._queue.append(ticket)
        with self._writer:
            if not ticket.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                try:
                    self._write(batch, key_path)
                except BaseException as exc:
                    for t in batch:
                        t.error = exc
                    raise
                finally:
                    for t in batch:
                        t.done = True
        if ticket.error is not None:
            raise ticket.error
        return ticket.seq

    async def record_async(self, event: Event, key_path: Path) -> int:
        """:meth:`record` for a task on an event loop, which goes on serving other requests while
        the record is written. Tickets queue on their loop; one flush per loop at a time takes them
        all to a worker thread and writes them as one batch (under the same writer lock as
        :meth:`record`, so threads and loops share one chain); those arriving meanwhile form the
        next batch."""
        loop = asyncio.get_running_loop()
        ticket = _Ticket(event, waiter=loop.create_future())
        self._waiting.setdefault(loop, []).append(ticket)
        if loop not in self._flushing:
            self._flushing.add(loop)
            flush = loop.create_task(self._flush(loop, key_path))
            self._flushes.add(flush)  # the loop keeps only a weak reference to a task
            flush.add_done_callback(self._flushes.discard)
        assert ticket.waiter is not None
        return await ticket.waiter

    async def _flush(self, loop: asyncio.AbstractEventLoop, key_path: Path) -> None:
        try:
            while batch := self._waiting.pop(loop, []):
                try:
                    await anyio.to_thread.run_sync(self._write_locked, batch, key_path)
                except BaseException as exc:
                    for t in batch:
                        _settle(t, exc)
                    if not isinstance(exc, Exception):
                        raise
                else:
                    for t in batch:
                        _settle(t, None)
        finally:
            self._flushing.discard(loop)
            for t in self._waiting.pop(loop, []):  # only when the flush itself was cancelled
                _settle(t, asyncio.CancelledError())

    def _write_locked(self, batch: Sequence[_Ticket], key_path: Path) -> None:
        with self._writer:
            self._write(batch, key_path)

    def _write(self, batch: Sequence[_Ticket], key_path: Path) -> None:
        from catalog import db

        with db.session(self.url) as s:
            rows = append_all(s, [t.event for t in batch], key_path)
        for ticket, row in zip(batch, rows, strict=True):
            ticket.seq = row.seq


def _settle(ticket: _Ticket, error: BaseException | None) -> None:
    waiter = ticket.waiter
    if waiter is None or waiter.done():
        return
    if error is None:
        waiter.set_result(ticket.seq)
    elif isinstance(error, asyncio.CancelledError):
        waiter.cancel()
    else:
        waiter.set_exception(error)


HEAD: Table = AuditHead.__table__  # type: ignore[assignment]
RECORDS: Table = AuditRecord.__table__  # type: ignore[assignment]
ANCHORS: Table = AuditAnchor.__table__  # type: ignore[assignment]


def _head(conn: Connection) -> tuple[int, str]:
    """The chain's head (sequence number and hash), locked for this transaction, as plain values."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.execute(text("UPDATE audit_head SET seq = seq WHERE id = 1"))  # takes SQLite's write lock now
    query = select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1)
    found = conn.execute(query if sqlite else query.with_for_update()).first()
    if found is None:
        conn.execute(HEAD.insert().values(id=1, seq=0, hash=GENESIS))
        return 0, GENESIS
    return int(found.seq), str(found.hash)


@dataclass
class Appended:
    """A record as appended: the columns of ``audit_log``."""

    seq: int
    at: dt.datetime
    client_id: str | None
    client: str | None
    organization: str | None
    action: str
    dataset: str | None
    version: int | None
    snapshot_id: str | None
    fields: list[Any]
    clear_fields: list[Any]
    rows: int
    purpose: str | None
    request_id: str | None
    query_hash: str | None
    prev_hash: str
    hash: str = ""


def append(s: Session, event: Event, key_path: Path) -> Appended:
    """Add ``event`` at the end of the chain (in ``s``'s transaction: it commits with the call)."""
    return append_all(s, [event], key_path)[0]


def append_all(s: Session, events: Sequence[Event], key_path: Path) -> list[Appended]:
    """Add ``events`` in order at the end of the chain, under one lock of its head, in one statement
    (plain inserts on the session's connection, no unit of work: this runs for every answer)."""
    conn = s.connection()
    seq, prev = _head(conn)
    rows, anchors = [], []
    for event in events:
        row = Appended(
            seq=seq + 1,
            at=event.at,
            client_id=event.client_id,
            client=event.client,
            organization=event.organization,
            action=event.action,
            dataset=event.dataset,
            version=event.version,
            snapshot_id=event.snapshot_id,
            fields=list(event.fields),
            clear_fields=list(event.clear_fields),
            rows=event.rows,
            purpose=event.purpose,
            request_id=event.request_id,
            query_hash=hashlib.sha256(event.query.encode("utf-8")).hexdigest() if event.query is not None else None,
            prev_hash=prev,
        )
        row.hash = digest(row)
        rows.append(row)
        seq, prev = row.seq, row.hash
        if seq % ANCHOR_EVERY == 0:
            signature = sign(anchor_key(key_path), seq, prev)
            anchors.append({"seq": seq, "hash": prev, "at": utcnow(), "signature": signature})
    conn.execute(RECORDS.insert(), [asdict(r) for r in rows])
    if anchors:
        conn.execute(ANCHORS.insert(), anchors)
    conn.execute(HEAD.update().where(HEAD.c.id == 1).values(seq=seq, hash=prev))
    return rows


def anchor(s: Session, key_path: Path) -> AuditAnchor | None:
    """Sign the current head now (None when the log is empty or the head is already anchored)."""
    seq, head_hash = _head(s.connection())
    if seq == 0 or s.get(AuditAnchor, seq) is not None:
        return None
    row = AuditAnchor(seq=seq, hash=head_hash, at=utcnow(), signature=sign(anchor_key(key_path), seq, head_hash))
    s.add(row)
    s.flush()
    return row


@dataclass(frozen=True)
class Verdict:
    ok: bool
    records: int
    anchors: int
    broken_at: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"audit log intact: {self.records} records, {self.anchors} anchors verified"
        return f"audit log broken at record {self.broken_at}: {self.reason}"


def _rows(s: Session, batch: int = 5_000) -> Iterator[AuditRecord]:
    last = 0
    while True:
        chunk = list(
            s.scalars(select(AuditRecord).where(AuditRecord.seq > last).order_by(AuditRecord.seq).limit(batch))
        )
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq
        s.expunge_all()


def verify(s: Session, key_path: Path) -> Verdict:
    """Walk the chain from the start; the first record that does not fit is named."""
    key = anchor_key(key_path)
    anchors = {a.seq: a for a in s.scalars(select(AuditAnchor))}
    head = s.get(AuditHead, 1)
    expected_seq, prev, count, checked = 1, GENESIS, 0, 0
    for row in _rows(s):
        if row.seq != expected_seq:
            return Verdict(False, count, checked, expected_seq, f"record {expected_seq} is missing (next is {row.seq})")
        if row.prev_hash != prev:
            return Verdict(
                False, count, checked, row.seq, "it does not link to the record before it (removed or reordered)"
            )
        if digest(row) != row.hash:
            return Verdict(False, count, checked, row.seq, "its content does not match its hash (altered)")
        found = anchors.get(row.seq)
        if found is not None:
            if found.hash != row.hash or not hmac.compare_digest(found.signature, sign(key, row.seq, row.hash)):
                return Verdict(False, count, checked, row.seq, "the signed anchor at this record does not match")
            checked += 1
        prev, expected_seq, count = row.hash, row.seq + 1, count + 1
    beyond = [seq for seq in anchors if seq > count]
    if beyond:
        return Verdict(False, count, checked, count + 1, f"records up to the anchor at {max(beyond)} were removed")
    if head is not None and (head.seq != count or head.hash != prev):
        return Verdict(False, count, checked, count + 1, f"the chain ends at {count} but its head says {head.seq}")
    return Verdict(True, count, checked)


def records(
    s: Session,
    *,
    client: str | None = None,
    dataset: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    datasets: Sequence[str] | None = None,
    limit: int = 100,
) -> list[AuditRecord]:
    """Records newest first, filtered; ``datasets`` limits to those (a publisher's own)."""
    q = select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(limit)
    if client:
        q = q.where(AuditRecord.client == client)
    if dataset:
        q = q.where(AuditRecord.dataset == dataset)
    if datasets is not None:
        q = q.where(AuditRecord.dataset.in_(list(datasets)))
    if since:
        q = q.where(AuditRecord.at >= since)
    if until:
        q = q.where(AuditRecord.at < until)
    return list(s.scalars(q))
