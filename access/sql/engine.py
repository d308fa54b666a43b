"""One analyst's query, end to end: guard → policies → policy views → sandbox → audit.

The SQL route and ``hub sql`` both call :meth:`Engine.run`. Per query:

1. the caller's role is checked (analysts and data stewards run SQL);
2. :func:`access.sql.guard.parse` checks the text and names the datasets it reads;
3. each dataset's policy comes from :func:`access.policy.policy_for`; a dataset that does not
   exist and one the caller may not read are refused with the same words, so a refusal does not
   tell whether it exists;
4. masked columns in predicates are refused (:mod:`access.sql.taint`) and the query is rewritten
   onto the policy views (built by :class:`access.query.Release`, as for exports);
5. the version (``as_of``, one for every dataset of the query) is resolved and its serving copy
   attached to a locked sandbox (:mod:`access.sql.sandbox`), where the query runs under its time,
   memory, thread and row limits;
6. one audit record per dataset read (fields the query names, rows returned, the query's hash) is
   committed through :func:`access.gate.release`, which also charges the rows to the caller's
   daily budget, before any row leaves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import orjson
from sqlalchemy.orm import Session

from access import audit, gate, grants
from access.policy import Column, Policy, policy_for
from access.query import Release
from access.sql import guard, sandbox, taint
from access.sql.guard import Parsed, no_dataset
from access.sql.sandbox import Limits, Pool, Result, View
from catalog import service
from catalog.clients import Role
from catalog.models import ApiClient, Dataset
from contracts.model import Contract
from exchange import versions
from exchange.versions import At
from hub.errors import ContractError, Forbidden, NotFound, RateLimited, VersionGone
from hub.settings import Settings
from warehouse import serving
from warehouse.duck import quote
from warehouse.serving import TABLE, Store

ROLES = frozenset({Role.analyst.value, Role.steward.value})
"""Who runs SQL. Consumers (applications) use the records, export and change-feed routes;
publishers read their own department's data there."""


@dataclass(frozen=True)
class Query:
    """What a caller asks: the SQL, and optionally the version, dialect and row limit."""

    sql: str
    as_of: str | None = None
    dialect: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Read:
    """One dataset a query reads, under the caller's policy, at one version."""

    ds: Dataset
    contract: Contract
    policy: Policy
    at: At | None = None
    path: Path | None = None

    @property
    def dataset(self) -> str:
        return self.contract.id

    def masked(self) -> frozenset[str]:
        return frozenset(c.name.lower() for c in self.policy.columns if c.masked)

    def fields(self, parsed: Parsed) -> list[Column]:
        """The fields the query names (all of them under ``*``)."""
        return [c for c in self.policy.columns if parsed.star or c.name.lower() in parsed.names]


@dataclass(frozen=True)
class Answer:
    """A query's result, the versions that answered it and how long it took."""

    result: Result
    reads: list[Read]
    elapsed_ms: float

    @property
    def columns(self) -> list[dict[str, str]]:
        return [{"name": name, "type": kind} for name, kind in self.result.columns]

    @property
    def versions(self) -> dict[str, Any]:
        return {r.dataset: r.at.describe() for r in self.reads if r.at is not None}

    def rows(self) -> list[list[Any]]:
        columns = [c.to_pylist() for c in self.result.table.columns]
        return [list(row) for row in zip(*columns, strict=True)]

    def body(self) -> dict[str, Any]:
        """The JSON answer of the SQL API."""
        return {
            "columns": self.columns,
            "rows": self.rows(),
            "truncated": self.result.truncated,
            "version": self.versions,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def jsonable(value: object) -> object:
    """orjson's fallback for what DuckDB returns and JSON lacks (decimals, intervals, bytes)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**63 else str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def dumps(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, default=jsonable, option=orjson.OPT_NON_STR_KEYS)


class Engine:
    """Runs analysts' queries for one process: a pool of sandboxes and a cap on concurrent queries."""

    def __init__(self, settings: Settings, store: Store, contract_of: Callable[[str], Contract]):
        self.settings = settings
        self.store = store
        self.contract_of = contract_of
        self.limits = Limits(
            memory_limit=settings.sql_memory_limit,
            threads=settings.sql_threads,
            timeout_seconds=settings.sql_timeout_seconds,
            max_bytes=settings.sql_max_result_bytes,
        )
        self.pool = Pool(size=max(4, settings.sql_max_concurrent))
        self._slots = threading.BoundedSemaphore(settings.sql_max_concurrent)

    def run(
        self, s: Session, caller: ApiClient, query: Query, *, max_rows: int, request_id: str | None = None
    ) -> Answer:
        """Run ``query`` as ``caller``: at most ``max_rows`` rows (fewer if ``query.limit`` says so)."""
        started = time.perf_counter()
        require_role(caller)
        prepared = guard.prepare(query.sql, query.dialect)
        parsed = prepared.parsed
        reads = [self._read(s, caller, dataset) for dataset in parsed.datasets]
        taint.check(parsed, {r.dataset: r.masked() for r in reads})
        reads = [self._locate(r, query.as_of) for r in reads]
        rows = min(query.limit or max_rows, max_rows)
        result = self._execute(caller, reads, prepared.sql, rows)
        for read in reads:
            assert read.at is not None
            event = audit.served(
                "sql",
                caller,
                read.policy,
                read.fields(parsed),
                result.rows,
                version=read.at.version,
                snapshot_id=read.at.snapshot_id,
                request_id=request_id,
                query=query.sql,
            )
            gate.release(s, self.settings, caller, read.policy, event)
        return Answer(result, reads, (time.perf_counter() - started) * 1000)

    def _read(self, s: Session, caller: ApiClient, dataset: str) -> Read:
        ds = service.active_dataset(s, dataset)
        if ds is None or ds.key is None:
            raise no_dataset(dataset)
        try:
            contract = self.contract_of(ds.key)
            policy = policy_for(caller, ds, contract, grants.active(s, caller, contract.id))
        except (Forbidden, NotFound, ContractError):
            raise no_dataset(dataset) from None
        return Read(ds, contract, policy)

    def _locate(self, read: Read, as_of: str | None) -> Read:
        """The version ``as_of`` names and its serving copy (rebuilt from Iceberg if it was pruned)."""
        at = versions.resolve(read.ds, as_of)
        path = serving.copy_path(self.settings.serving_dir, read.dataset, at.snapshot_id)
        if path is None:
            head, cur = versions.open_copy(self.store, self.settings, read.contract, at)
            cur.close()
            path = head.path
        return Read(read.ds, read.contract, read.policy, at, path)

    def views(self, reads: list[Read]) -> list[View]:
        """The policy view of each dataset read."""
        aliases: dict[Path, str] = {}
        views = []
        for read in reads:
            assert read.path is not None
            name = aliases.setdefault(read.path, sandbox.alias(len(aliases)))
            select_sql, values = Release(read.policy, read.policy.columns, source=f"{quote(name)}.{TABLE}").sql()
            assert not values, "a policy view takes no parameters"
            schema, table = guard.view_name(read.dataset)
            spatial = any(c.field.type == "geometry" and not c.masked for c in read.policy.columns)
            views.append(View(schema, table, read.path, name, select_sql, bool(read.policy.row_filter), spatial))
        return views

    def _execute(self, caller: ApiClient, reads: list[Read], sql: str, max_rows: int) -> Result:
        if not self._slots.acquire(timeout=self.settings.sql_timeout_seconds):
            raise RateLimited(
                f"{self.settings.sql_max_concurrent} SQL queries are running on this server; try again shortly",
                retry_after=int(self.settings.sql_timeout_seconds),
            )
        try:
            with self.pool.lease((caller.id,), self.views(reads), self.limits) as box:
                return box.run(sql, max_rows=max_rows)
        except duckdb.IOException:  # a copy pruned between resolving its version and attaching it
            raise VersionGone("the version asked for is no longer served; try again") from None
        finally:
            self._slots.release()

    def close(self) -> None:
        self.pool.close()


def require_role(caller: ApiClient) -> None:
    if caller.role not in ROLES:
        raise Forbidden(
            f"SQL is run by analysts and data stewards; {caller.name} is a {caller.role}: read data with "
            "/api/v1/datasets/{id}/records, /export or /changes"
        )
