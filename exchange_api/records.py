"""Exchange API: datasets and their records, masked by classification, keyset-paginated."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import service
from catalog.ckan import version_dict
from catalog.models import ApiClient, Dataset
from contracts.model import Contract, Field
from exchange_api.deps import Contracts, get_contracts, get_session, get_store, require_client
from exchange_api.responses import JSONResponse
from hub.errors import InputError
from warehouse.masking import leaves_hub, quote, select_expression
from warehouse.serving import ROW, TABLE, Store

router = APIRouter(prefix="/api/v1", tags=["exchange"])
RESERVED = {"limit", "cursor", "fields"}
SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
}


def _field_info(f: Field) -> dict[str, Any]:
    return {
        "name": f.name,
        "title": f.title,
        "type": f.type,
        "classification": f.classification.value,
        "masked": f.classification.masked_by_default,
    }


def _summary(ds: Dataset) -> dict[str, Any]:
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
        "latest_version": version_dict(latest) if latest else None,
    }


@router.get("/datasets", summary="List datasets")
def list_datasets(_caller: ApiClient = Depends(require_client), s: Session = Depends(get_session)) -> JSONResponse:
    rows = s.scalars(select(Dataset).where(Dataset.state == "active").order_by(Dataset.name))
    data = [_summary(ds) for ds in rows]
    return JSONResponse({"count": len(data), "datasets": data})


@router.get("/datasets/{ref}", summary="One dataset with its fields and versions")
def show_dataset(
    ref: str,
    _caller: ApiClient = Depends(require_client),
    s: Session = Depends(get_session),
    contracts: Contracts = Depends(get_contracts),
) -> JSONResponse:
    ds = service.dataset(s, ref)
    contract = contracts.get(ds.key)
    body = _summary(ds) | {
        "fields": [_field_info(f) for f in contract.fields if leaves_hub(f)],
        "versions": [version_dict(v) for v in ds.versions],
    }
    return JSONResponse(body)


def encode_cursor(snapshot_id: int, row: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"s": snapshot_id, "r": row})).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(data["s"]), int(data["r"])
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise InputError("cursor is not valid: pass back the next_cursor of a previous page", rule="cursor") from None


def _selected(contract: Contract, fields: str | None) -> list[Field]:
    out = [f for f in contract.fields if leaves_hub(f)]
    if not fields:
        return out
    wanted = [name.strip() for name in fields.split(",") if name.strip()]
    known = {f.name: f for f in out}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise InputError(f"unknown fields {unknown}; available: {', '.join(known)}", column=unknown[0], rule="fields")
    return [known[w] for w in wanted]


def _filters(contract: Contract, params: dict[str, str]) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    values: list[Any] = []
    by_name = {f.name: f for f in contract.fields}
    for name, value in params.items():
        f = by_name.get(name)
        if f is None:
            filterable = [x.name for x in contract.fields if not x.classification.masked_by_default]
            raise InputError(
                f"unknown parameter {name!r}; filter on one of: {', '.join(filterable)}", column=name, rule="filter"
            )
        if f.type == "geometry":
            why = f"field {name!r} is a geometry and cannot be filtered by value"
            raise InputError(why, column=name, rule="filter")
        if f.classification.masked_by_default:
            raise InputError(
                f"field {name!r} is {f.classification.value}: filtering on it would reveal it; "
                "use the verify API instead",
                column=name,
                rule="filter",
            )
        clauses.append(f"{quote(name)} = TRY_CAST(? AS {SQL_TYPES[f.type]})")
        values.append(value)
    return clauses, values


def _embed_geojson(row: tuple[Any, ...], positions: list[int]) -> tuple[Any, ...]:
    """Geometry comes out of DuckDB as GeoJSON text; embed it as JSON, not as a string."""
    values = list(row)
    for i in positions:
        if values[i] is not None:
            values[i] = orjson.Fragment(values[i])
    return tuple(values)


@router.get("/datasets/{ref}/records", summary="Records of a dataset, masked, with keyset pagination")
def records(
    ref: str,
    request: Request,
    limit: int = Query(100, ge=1, le=1000, description="Records per page (1–1000)."),
    cursor: str | None = Query(None, description="The next_cursor of the previous page."),
    fields: str | None = Query(None, description="Comma-separated field names to return."),
    _caller: ApiClient = Depends(require_client),
    s: Session = Depends(get_session),
    contracts: Contracts = Depends(get_contracts),
    store: Store = Depends(get_store),
) -> JSONResponse:
    """Filter by any non-sensitive field with ``?field=value``. Sensitive fields are masked."""
    ds = service.dataset(s, ref)
    contract = contracts.get(ds.key)
    chosen = _selected(contract, fields)
    filters = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    clauses, values = _filters(contract, filters)
    pinned, after = decode_cursor(cursor) if cursor else (None, 0)
    head, cur = store.cursor(ds.key, pinned)
    where = " AND ".join([f"{ROW} > ?", *clauses])
    columns = ", ".join(select_expression(f) for f in chosen)
    sql = f"SELECT {ROW}, {columns} FROM {TABLE} WHERE {where} ORDER BY {ROW} LIMIT ?"
    rows = cur.execute(sql, [after, *values, limit + 1]).fetchall()
    names = [f.name for f in chosen]
    shapes = [i for i, f in enumerate(chosen, start=1) if f.type == "geometry"]
    page = [_embed_geojson(r, shapes) for r in rows[:limit]] if shapes else rows[:limit]
    next_cursor = encode_cursor(head.snapshot_id, page[-1][0]) if len(rows) > limit else None
    body = {
        "dataset": ds.name,
        "snapshot_id": str(head.snapshot_id),
        "fields": [_field_info(f) for f in chosen],
        "records": [dict(zip(names, r[1:], strict=True)) for r in page],
        "next_cursor": next_cursor,
    }
    return JSONResponse(body)
