"""Request-scoped dependencies: settings, catalogue session, caller, contracts, serving store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

import anyio.to_thread
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from access import gate, tokens
from catalog import db
from catalog.models import ApiClient
from contracts import model
from contracts.model import Contract
from hub.errors import NotAuthorized
from hub.settings import Settings
from warehouse import rowstore
from warehouse.serving import Store


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


T = TypeVar("T")


def on_loop(settings: Settings) -> bool:
    """Whether catalogue reads and rate-limit counts are answered on the event loop: they are when
    both are on this machine (SQLite in WAL mode, counters in memory), taking microseconds and never
    waiting on a writer. With PostgreSQL or Redis they go to a worker thread (network waits)."""
    return db.is_local(settings.db_url) and not settings.redis_url


async def run(settings: Settings, work: Callable[[], T]) -> T:
    """``work()`` on the loop when :func:`on_loop`, else in a worker thread."""
    if on_loop(settings):
        return work()
    return await anyio.to_thread.run_sync(work)


QUICK_STEPS = 50_000
"""SQLite steps a read answered on the event loop may take, a few milliseconds: a page or a key
lookup from a row store takes one to ten thousand; a filter matching few rows of a large copy stops
here and is read again in a worker thread."""


async def quickly(settings: Settings, read: Callable[[int | None], T], *, can: bool) -> T:
    """``read(QUICK_STEPS)`` on the event loop when ``can`` (the caller knows the read is a row-store
    read of a copy already open) and :func:`on_loop`; ``read(None)`` in a worker thread otherwise or
    when it overran its steps."""
    if can and on_loop(settings):
        try:
            return read(QUICK_STEPS)
        except rowstore.OverBudget:
            pass
    return await anyio.to_thread.run_sync(read, None)


async def get_session(settings: Settings = Depends(get_settings)) -> AsyncIterator[Session]:
    async with db.served_session(settings.db_url) as s:
        yield s


SESSION = Depends(get_session, scope="function")
"""The request's catalogue session, as routes declare it. It commits when the route returns and
**before** the response is sent (FastAPI's default scope for a dependency with ``yield`` ends
after the response has gone): a caller told that a grant is revoked or a request approved finds
it so on its next request, and a commit that fails is the caller's error, not a 200."""


API_KEY = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ApiKey",
    auto_error=False,
    description="Your key (hub_…) in X-API-Key. CKAN clients' X-CKAN-API-Key and a bare Authorization work too.",
)
BEARER = HTTPBearer(scheme_name="Bearer", auto_error=False, description="Your key as Authorization: Bearer hub_…")


async def key_schemes(
    _header: str | None = Security(API_KEY), _bearer: HTTPAuthorizationCredentials | None = Security(BEARER)
) -> None:
    """Declares in the OpenAPI how a key is sent (so generated clients send it); reading the key
    is :func:`presented_key`'s job, which accepts every form CKAN clients use as well."""


def presented_key(request: Request) -> str | None:
    """The key from ``X-API-Key``, ``X-CKAN-API-Key``, ``Authorization: Bearer k`` or bare ``Authorization: k``."""
    for header in ("x-api-key", "x-ckan-api-key"):
        if value := request.headers.get(header):
            return value.strip()
    auth = request.headers.get("authorization", "").strip()
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return auth or None


async def optional_client(
    request: Request,
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
    _schemes: None = Depends(key_schemes),
) -> ApiClient | None:
    """The caller identified by its key (None: anonymous); each request is charged to the caller's
    per-minute rate limit, or without a key to its client address's, as on the CKAN actions."""
    key = presented_key(request)

    def identify() -> ApiClient | None:
        if key is None:
            gate.admit(settings, None, request.client.host if request.client else None)
            return None
        caller = tokens.credential(s, settings, key).client  # an API key, or an OAuth2 token issued for one
        request.state.client = caller.name
        gate.admit(settings, caller)
        return caller

    return await run(settings, identify)


async def require_client(caller: ApiClient | None = Depends(optional_client)) -> ApiClient:
    if caller is None:
        raise NotAuthorized("an API key is required: send it as X-API-Key or Authorization: Bearer <key>")
    return caller


class Contracts:
    """Contracts by dataset id from the hub's active contracts, reloaded when their file changes
    (a newly active version is read on the next request)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._cache: dict[Path, tuple[int, Contract]] = {}

    @property
    def folder(self) -> Path:
        return self.settings.active_contracts_dir

    def get(self, dataset_key: str) -> Contract:
        folder = self.folder
        path = folder / f"{dataset_key}.yaml"
        mtime = path.stat().st_mtime_ns if path.exists() else -1
        hit = self._cache.get(path)
        if hit is None or hit[0] != mtime:
            hit = (mtime, model.find(folder, dataset_key))
            self._cache[path] = hit
        return hit[1]


async def get_contracts(request: Request) -> Contracts:
    return request.app.state.contracts
