"""One record of a dataset version, found by its ``_key`` as a caller sees it.

A caller names a record by the ``_key`` its exports and change feeds carry (see
:mod:`access.pseudonym`): the primary key when the caller receives it in clear, else the caller's
own pseudonym of it. :func:`find` looks the key up under the caller's :class:`Policy` — the grant's
row filter applies, so a record outside it is not found, exactly like a key that does not exist —
and answers the requested field as the policy releases it (masked when the policy masks it).

Each found record also gets a **locator**: the pseudonym of its primary key under the hub's own
holder (:data:`HOLDER`). The hub keeps the locator, never the key itself, and finds the record again
by it in any version, for any viewer (:func:`find` with ``locator``) and for its own comparisons
(:func:`stored`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from access import pseudonym
from access.policy import CLEAR, Column, Policy
from access.query import Release
from contracts.model import Contract
from exchange import versions
from exchange.versions import At
from hub.settings import Settings
from warehouse.duck import quote
from warehouse.serving import Store

HOLDER = "record-locator"
LOCATOR = "_locator"


@dataclass(frozen=True)
class Found:
    key: str
    """The record's ``_key`` as the viewer sees it."""
    locator: str
    value: Any
    """The field's value as the viewer's policy releases it."""


def _nobody(contract: Contract) -> Policy:
    """A policy releasing nothing: the key expression over it is always a pseudonym."""
    return Policy(contract.id, (), frozenset())


def locator_sql(settings: Settings, contract: Contract) -> str:
    secret = pseudonym.secret(settings, HOLDER, contract.id)
    return pseudonym.key_sql(_nobody(contract), contract, secret, alias=LOCATOR)


def find(
    settings: Settings,
    store: Store,
    contract: Contract,
    at: At,
    policy: Policy,
    column: Column,
    holder_secret: str,
    *,
    key: str | None = None,
    locator: str | None = None,
) -> Found | None:
    """The record whose ``_key`` (or locator) is given, in version ``at``, as ``policy`` releases it."""
    extra = [pseudonym.key_sql(policy, contract, holder_secret), locator_sql(settings, contract)]
    inner, values = Release(policy, [column]).sql(extra=extra)
    by = pseudonym.KEY if key is not None else LOCATOR
    sql = f"SELECT * FROM ({inner}) AS r WHERE {by} = ? LIMIT 1"
    _, cur = versions.open_copy(store, settings, contract, at)
    try:
        row = cur.execute(sql, [*values, key if key is not None else locator]).fetchone()
    finally:
        cur.close()
    return Found(str(row[0]), str(row[1]), row[2]) if row else None


def stored(settings: Settings, store: Store, contract: Contract, at: At, field: str, locator: str) -> tuple[bool, Any]:
    """Whether the record is in version ``at`` and its stored value of ``field`` (for the hub's own
    comparisons between versions; never released)."""
    column = Column(contract.field(field), CLEAR)
    sql = (
        f"SELECT CAST({quote(field)} AS VARCHAR) FROM (SELECT {column.sql('src')}, "
        f"{locator_sql(settings, contract)} FROM {Release(_nobody(contract), []).source} AS src) AS r "
        f"WHERE {LOCATOR} = ? LIMIT 1"
    )
    _, cur = versions.open_copy(store, settings, contract, at)
    try:
        row = cur.execute(sql, [locator]).fetchone()
    finally:
        cur.close()
    return (row is not None, row[0] if row else None)
