"""Bulk reads, the one path the export and change-feed routes and the ``hub export`` / ``hub changes``
commands share: plan (policy, fields, version, validator) → run (count, audit, stream).

Nothing leaves before its audit record is committed: the rows are counted first (cheap on a
serving copy or a computed diff), charged to the caller's daily budget and recorded, then
streamed. A client that disconnects half-way is recorded as having received them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.orm import Session

from access import audit, gate, grants, pseudonym
from access.policy import Column, Policy, policy_for
from access.pseudonym import ANONYMOUS
from access.query import Release
from catalog.models import ApiClient, Dataset
from contracts.model import Contract
from exchange import changes, versions
from exchange.changes import ChangeCounts, Diff
from exchange.export import Encoding, Format, media_type, stream
from exchange.versions import At
from hub.settings import Settings
from warehouse.serving import Store


@dataclass(frozen=True)
class Reader:
    """Who reads which dataset under which policy, for which request."""

    caller: ApiClient | None
    """None: an anonymous caller, on a dataset open to the public (``policy_for`` decides)."""
    ds: Dataset
    contract: Contract
    policy: Policy
    columns: list[Column]
    filters: Mapping[str, str] = field(default_factory=dict)
    request_id: str | None = None
    query: str = ""

    @classmethod
    def of(
        cls,
        s: Session,
        caller: ApiClient | None,
        ds: Dataset,
        contract: Contract,
        fields: list[str] | None = None,
        filters: Mapping[str, str] | None = None,
        **request: Any,
    ) -> Reader:
        policy = policy_for(caller, ds, contract, grants.active(s, caller, contract.id))
        return cls(caller, ds, contract, policy, policy.select(fields), dict(filters or {}), **request)

    @property
    def geometry(self) -> list[str]:
        return [c.name for c in self.columns if c.field.type == "geometry" and not c.masked]

    def secret(self, settings: Settings) -> str:
        return pseudonym.secret(settings, self.caller.id if self.caller else ANONYMOUS, self.contract.id)

    def release(self, s: Session, settings: Settings, action: str, rows: int, at: At) -> None:
        event = audit.served(
            action,
            self.caller,
            self.policy,
            self.columns,
            rows,
            version=at.version,
            snapshot_id=at.snapshot_id,
            request_id=self.request_id,
            query=self.query,
        )
        gate.release(s, settings, self.caller, self.policy, event)


@dataclass
class Streamed:
    """An answer ready to leave: its rows were counted and audited; ``chunks`` are its bytes."""

    rows: int
    chunks: Iterator[bytes]
    media_type: str
    filename: str
    at: At
    since: At | None = None
    counts: ChangeCounts | None = None


def _closing(chunks: Iterator[bytes], *closers: Any) -> Iterator[bytes]:
    """Yield ``chunks``, then close the query's reader and connection however the client left."""
    try:
        yield from chunks
    finally:
        for closer in closers:
            closer.close()


@dataclass(frozen=True)
class Export:
    """A whole version of a dataset as one reader may see it."""

    reader: Reader
    at: At
    fmt: Format = Format.parquet
    encoding: Encoding = Encoding.utf8

    @property
    def release_query(self) -> Release:
        return Release(self.reader.policy, self.reader.columns, self.reader.filters)

    @property
    def etag(self) -> str:
        """A strong validator of the bytes: same caller, version, release and options."""
        r = self.reader
        material = orjson.dumps(
            [
                r.caller.id if r.caller else ANONYMOUS,
                self.at.snapshot_id,
                [(c.name, c.release) for c in r.columns],
                r.policy.row_filter,
                sorted(r.filters.items()),
                self.fmt.value,
                self.encoding.value,
            ]
        )
        return '"' + hashlib.sha256(material).hexdigest()[:32] + '"'

    @property
    def filename(self) -> str:
        return f"{self.reader.contract.id}-v{self.at.version}.{self.fmt.value}"

    def run(self, s: Session, settings: Settings, store: Store) -> Streamed:
        r = self.reader
        _, cur = versions.open_copy(store, settings, r.contract, self.at)
        try:
            query = self.release_query
            count_sql, values = query.count_sql()
            rows = int(cur.execute(count_sql, values).fetchone()[0])  # type: ignore[index]
            r.release(s, settings, "export", rows, self.at)
            sql, values = query.sql(extra=[pseudonym.key_sql(r.policy, r.contract, r.secret(settings))])
            batches = cur.execute(sql, values).to_arrow_reader(settings.export_batch_rows)
        except BaseException:
            cur.close()
            raise
        chunks = _closing(stream(batches, self.fmt, encoding=self.encoding, geometry=r.geometry), batches, cur)
        return Streamed(rows, chunks, media_type(self.fmt, self.encoding), self.filename, self.at)


@dataclass(frozen=True)
class ChangePage:
    counts: ChangeCounts
    rows: list[tuple[Any, ...]]
    next_key: str | None


@dataclass(frozen=True)
class Changes:
    """What changed between two versions, as one reader may see it."""

    reader: Reader
    since: At
    until: At

    def _diff(self, settings: Settings) -> Diff:
        r = self.reader
        return changes.Diff(settings, r.contract, self.since, self.until, r.policy, dict(r.filters))

    def page(self, s: Session, settings: Settings, *, after: str | None, limit: int) -> ChangePage:
        """One page in ``_key`` order after key ``after``; rows are (op, key, *values)."""
        with self._diff(settings) as diff:
            counts = diff.counts()
            sql, values = diff.rows_sql(self.reader.columns, self.reader.secret(settings), after=after, limit=limit + 1)
            found = diff.con.execute(sql, values).fetchall()
        page = found[:limit]
        self.reader.release(s, settings, "changes", len(page), self.until)
        return ChangePage(counts, page, page[-1][1] if len(found) > limit else None)

    def run(self, s: Session, settings: Settings, fmt: Format, encoding: Encoding = Encoding.utf8) -> Streamed:
        r = self.reader
        diff = self._diff(settings)
        try:
            counts = diff.counts()
            r.release(s, settings, "changes", counts.total, self.until)
            sql, values = diff.rows_sql(r.columns, r.secret(settings))
            batches = diff.con.execute(sql, values).to_arrow_reader(settings.export_batch_rows)
        except BaseException:
            diff.close()
            raise
        filename = f"{r.contract.id}-v{self.since.version}-v{self.until.version}-changes.{fmt.value}"
        chunks = _closing(stream(batches, fmt, encoding=encoding, geometry=r.geometry), batches, diff)
        return Streamed(
            counts.total, chunks, media_type(fmt, encoding), filename, self.until, since=self.since, counts=counts
        )
