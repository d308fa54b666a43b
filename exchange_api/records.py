"""Exchange API: datasets and their records, released by the caller's policy, keyset-paginated."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from access import audit, gate, grants
from access.policy import Column, Policy, policy_for
from access.query import MAX_ROW, PageQuery
from catalog import service
from catalog.ckan import version_dict
from catalog.models import ApiClient, Dataset
from exchange import versions
from exchange_api.deps import (
    SESSION,
    Contracts,
    get_contracts,
    get_settings,
    get_store,
    optional_client,
    quickly,
    require_client,
    run,
)
from exchange_api.responses import JSONResponse
from hub import limits
from hub.errors import InputError
from hub.settings import Settings
from quality import history
from warehouse.serving import ServingVersion, Store

router = APIRouter(prefix="/api/v1", tags=["exchange"])
RESERVED = {"limit", "cursor", "fields", "as_of"}


def _summary(ds: Dataset, base_url: str = "") -> dict[str, Any]:
    latest = ds.versions[-1] if ds.versions else None
    return {
        "id": ds.id,
        "name": ds.name,
        "contract_id": ds.key,
        "title": ds.title,
        "title_en": ds.title_en,
        "organization": ds.organization.title,
        "sharing_type": ds.sharing_type,
        "open_type": ds.open_type,
        "update_frequency": ds.update_frequency,
        "latest_version": version_dict(latest, base_url) if latest else None,
        "late": history.freshness(ds).late,
    }


@router.get("/datasets", summary="List datasets")
def list_datasets(
    _caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> JSONResponse:
    rows = s.scalars(select(Dataset).where(Dataset.state == "active").order_by(Dataset.name))
    data = [_summary(ds, settings.base_url) for ds in rows]
    return JSONResponse({"count": len(data), "datasets": data})


@router.get("/datasets/{ref}", summary="One dataset with its fields and versions")
def show_dataset(
    ref: str,
    caller: ApiClient | None = Depends(optional_client),
    s: Session = SESSION,
    contracts: Contracts = Depends(get_contracts),
    settings: Settings = Depends(get_settings),
) -> JSONResponse:
    ds = service.dataset(s, ref)
    policy = policy_for(caller, ds, contracts.get(ds.key), grants.active(s, caller, ds.key))
    body = _summary(ds, settings.base_url) | {
        "fields": [c.describe() for c in policy.columns],
        "versions": [version_dict(v, settings.base_url) for v in ds.versions],
    }
    return JSONResponse(body)


def _policy(
    s: Session, ref: str, caller: ApiClient | None, contracts: Contracts, fields: str | None
) -> tuple[Dataset, Policy, list[Column]]:
    """The dataset ``ref``, the caller's policy on it and the fields of it asked for."""
    ds = service.dataset(s, ref)
    policy = policy_for(caller, ds, contracts.get(ds.key), grants.active(s, caller, ds.key))
    return ds, policy, policy.select(field_names(fields))


def encode_cursor(snapshot_id: int, row: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"s": snapshot_id, "r": row})).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    """The snapshot and last row of a ``next_cursor``; anything else is a 400, never a 500."""
    invalid = InputError("cursor is not valid: pass back the next_cursor of a previous page", rule="cursor")
    if len(cursor) > limits.MAX_CURSOR_CHARS:
        raise invalid
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        snapshot, row = data["s"], data["r"]
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise invalid from None
    if not (isinstance(snapshot, int) and isinstance(row, int) and 0 <= row <= MAX_ROW and 0 <= snapshot < 2**63):
        raise invalid
    return snapshot, row


def field_names(fields: str | None) -> list[str]:
    return [name.strip() for name in (fields or "").split(",") if name.strip()]


def _embed_geojson(row: tuple[Any, ...], positions: list[int]) -> tuple[Any, ...]:
    """Geometry comes out of DuckDB as GeoJSON text; embed it as JSON, not as a string."""
    values = list(row)
    for i in positions:
        if values[i] is not None:
            values[i] = orjson.Fragment(values[i])
    return tuple(values)


@router.get("/datasets/{ref}/records", summary="Records of a dataset, masked, with keyset pagination")
async def records(
    ref: str,
    request: Request,
    limit: int = Query(100, ge=1, le=1000, description="Records per page (1–1000)."),
    cursor: str | None = Query(None, description="The next_cursor of the previous page."),
    fields: str | None = Query(None, description="Comma-separated field names to return."),
    as_of: str | None = Query(
        None,
        description="The version to read: a version number, a snapshot id or an ISO 8601 date/time "
        "(China Standard Time unless an offset is given). Default: the newest. A cursor keeps its version.",
    ),
    caller: ApiClient | None = Depends(optional_client),
    s: Session = SESSION,
    contracts: Contracts = Depends(get_contracts),
    store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> JSONResponse:
    """Filter by any field you receive in clear with ``?field=value``. Sensitive fields are masked.
    Datasets open to the public (无条件开放 and 无条件共享) are read without a key."""
    ds, policy, chosen = await run(settings, lambda: _policy(s, ref, caller, contracts, fields))
    filters = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    pinned, after = decode_cursor(cursor) if cursor else (None, 0)
    query = PageQuery(policy, chosen, filters=filters, after=after, limit=limit + 1)

    def read(budget: int | None = None) -> tuple[ServingVersion, versions.At, list[tuple[Any, ...]]]:
        if pinned is not None:
            head, cur = store.cursor(ds.key, pinned)
            at = versions.resolve(ds, str(pinned))
        else:
            at = versions.resolve(ds, as_of)
            head, cur = versions.open_copy(store, settings, contracts.get(ds.key), at)
        return head, at, query.rows(cur, store.last_row(head.path, cur), store.rows(head.path), budget)

    # A row-store page of a copy already open is answered on the loop; one from DuckDB, of a copy
    # to open or restore, of a past version, or one that overruns its steps, in a worker thread.
    quick = query.row_store_sql() is not None and (pinned is not None or as_of is None) and store.ready(ds.key, pinned)
    head, at, rows = await quickly(settings, read, can=quick)
    shapes = [i for i, c in enumerate(chosen, start=1) if c.field.type == "geometry" and not c.masked]
    page = [_embed_geojson(r, shapes) for r in rows[:limit]] if shapes else rows[:limit]
    next_cursor = encode_cursor(head.snapshot_id, page[-1][0]) if len(rows) > limit else None
    names = [c.name for c in chosen]
    body = {
        "dataset": ds.name,
        "snapshot_id": str(head.snapshot_id),
        "version": at.describe(),
        "fields": [c.describe() for c in chosen],
        "records": [dict(zip(names, r[1:], strict=True)) for r in page],
        "next_cursor": next_cursor,
    }
    event = audit.served(
        "records",
        caller,
        policy,
        chosen,
        len(page),
        version=at.version,
        snapshot_id=at.snapshot_id,
        request_id=getattr(request.state, "request_id", None),
        query=str(request.query_params),
    )
    await gate.release_async(s, settings, caller, policy, event)
    return JSONResponse(body)
