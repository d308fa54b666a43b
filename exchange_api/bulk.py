"""Exchange API: bulk and incremental reads — a whole version (export) and what changed between two
versions (change feed), under the caller's policy and audited like every other read
(:mod:`exchange.reads` does the work; this module speaks HTTP)."""

from __future__ import annotations

import base64
import binascii

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from catalog import service
from catalog.models import ApiClient
from exchange import versions
from exchange.export import Format, media_type, parse_encoding, parse_format
from exchange.reads import Changes, Export, Reader, Streamed
from exchange.versions import At
from exchange_api.deps import (
    SESSION,
    Contracts,
    get_contracts,
    get_settings,
    get_store,
    optional_client,
    require_client,
)
from exchange_api.records import field_names
from exchange_api.responses import JSONResponse
from hub.errors import InputError
from hub.settings import Settings
from warehouse.serving import Store

router = APIRouter(prefix="/api/v1", tags=["exchange"])

AS_OF = Query(
    None,
    description="The version to read: a version number, a snapshot id or an ISO 8601 date/time "
    "(China Standard Time unless an offset is given). Default: the newest.",
)
FIELDS = Query(None, description="Comma-separated field names to return (default: every field you receive).")
ENCODING = Query(None, description="CSV only: utf-8 (with a byte-order mark, the default) or gb18030.")
EXPORT_RESERVED = {"format", "fields", "as_of", "encoding"}
CHANGES_RESERVED = {"format", "fields", "since", "until", "limit", "cursor", "encoding"}
MAX_CHANGES_CURSOR = 1000
STREAMED = {"description": "The rows, streamed", "content": {media_type(f): {} for f in Format}}


def _reader(
    request: Request,
    s: Session,
    contracts: Contracts,
    caller: ApiClient | None,
    ref: str,
    fields: str | None,
    reserved: set[str],
) -> Reader:
    ds = service.dataset(s, ref)
    return Reader.of(
        s,
        caller,
        ds,
        contracts.get(ds.key),
        field_names(fields),
        {k: v for k, v in request.query_params.items() if k not in reserved},
        request_id=getattr(request.state, "request_id", None),
        query=str(request.query_params),
    )


def _streaming(answer: Streamed, etag: str | None = None) -> StreamingResponse:
    headers = {
        "Content-Disposition": f'attachment; filename="{answer.filename}"',
        "X-Hub-Version": str(answer.at.version),
        "X-Hub-Snapshot-Id": str(answer.at.snapshot_id),
        "X-Hub-Rows": str(answer.rows),
        "Cache-Control": "private, no-cache",
    }
    if answer.since is not None:
        headers["X-Hub-Since-Version"] = str(answer.since.version)
    if etag:
        headers["ETag"] = etag
    return StreamingResponse(answer.chunks, media_type=answer.media_type, headers=headers)


def _not_modified(request: Request, etag: str) -> bool:
    presented = request.headers.get("if-none-match", "").strip()
    return presented == "*" or any(tag.strip().removeprefix("W/") == etag for tag in presented.split(","))


@router.get(
    "/datasets/{ref}/export",
    summary="A whole dataset version as Parquet, CSV, JSON Lines or Arrow, streamed",
    response_class=Response,
    responses={200: STREAMED, 304: {"description": "Not modified: the copy you hold (If-None-Match) is current"}},
)
def export(
    ref: str,
    request: Request,
    format: str | None = Query(None, description="parquet (default), csv, jsonl or arrow (Arrow IPC stream)."),
    fields: str | None = FIELDS,
    as_of: str | None = AS_OF,
    encoding: str | None = ENCODING,
    caller: ApiClient | None = Depends(optional_client),
    s: Session = SESSION,
    contracts: Contracts = Depends(get_contracts),
    store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    """Every row of a version you may read, as your policy releases it (masks, fields, your grant's
    rows), plus ``_key``: the record's key to sync by (a pseudonym when the key is masked). Filter by
    any field you receive in clear with ``?field=value``. Rows come in the records API's order.
    Datasets open to the public (无条件开放 and 无条件共享) are exported without a key."""
    fmt, enc = parse_format(format), parse_encoding(encoding)
    reader = _reader(request, s, contracts, caller, ref, fields, EXPORT_RESERVED)
    plan = Export(reader, versions.resolve(reader.ds, as_of), fmt, enc)
    if _not_modified(request, plan.etag):
        return Response(status_code=304, headers={"ETag": plan.etag, "Cache-Control": "private, no-cache"})
    return _streaming(plan.run(s, settings, store), plan.etag)


def _encode_cursor(since: At, until: At, key: str) -> str:
    data = orjson.dumps({"s": str(since.snapshot_id), "u": str(until.snapshot_id), "k": key})
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str, str]:
    invalid = InputError("cursor is not valid: pass back the next_cursor of a previous page", rule="cursor")
    if len(cursor) > MAX_CHANGES_CURSOR:
        raise invalid
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        since, until, key = data["s"], data["u"], data["k"]
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise invalid from None
    if not all(isinstance(v, str) for v in (since, until, key)) or not (since.isdigit() and until.isdigit()):
        raise invalid
    return since, until, key


@router.get(
    "/datasets/{ref}/changes",
    summary="Rows added, changed and removed between two versions",
    responses={200: {"content": {"application/json": {}, **STREAMED["content"]}}},  # type: ignore[dict-item]
)
def changes_feed(
    ref: str,
    request: Request,
    since: str | None = Query(None, description="The version you hold: number, snapshot id or ISO time."),
    until: str | None = Query(None, description="The version to compare with (default: the newest)."),
    format: str | None = Query(None, description="json (default, paged), or parquet, csv, jsonl, arrow (streamed)."),
    fields: str | None = FIELDS,
    limit: int = Query(1000, ge=1, le=10000, description="Changes per JSON page (1–10000)."),
    cursor: str | None = Query(None, description="The next_cursor of the previous page."),
    encoding: str | None = ENCODING,
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    contracts: Contracts = Depends(get_contracts),
    settings: Settings = Depends(get_settings),
) -> Response:
    """Each change has ``op`` (added, changed, removed), ``key`` (the ``_key`` of exports) and the
    record as your policy releases it (for removed rows, its last values). A row is changed when a
    field you receive changed, masked ones included. JSON pages come in key order with a cursor
    pinned to the two versions; other formats stream every change with ``_op`` and ``_key`` columns."""
    fmt = None if (format or "json").lower() == "json" else parse_format(format)
    enc = parse_encoding(encoding)
    reader = _reader(request, s, contracts, caller, ref, fields, CHANGES_RESERVED)
    after = None
    if cursor:
        since, until, after = _decode_cursor(cursor)
    if not since:
        raise InputError("since is required: the version you hold (number, snapshot id or ISO time)", column="since")
    plan = Changes(reader, *versions.between(reader.ds, since, until))
    if fmt is not None:
        return _streaming(plan.run(s, settings, fmt, enc))
    page = plan.page(s, settings, after=after, limit=limit)
    names = [c.name for c in reader.columns]
    shapes = set(reader.geometry)
    body = {
        "dataset": reader.contract.id,
        "since": plan.since.describe(),
        "until": plan.until.describe(),
        "counts": page.counts.describe(),
        "fields": [c.describe() for c in reader.columns],
        "changes": [
            {
                "op": row[0],
                "key": row[1],
                "record": {
                    n: (orjson.Fragment(v) if n in shapes and v is not None else v)
                    for n, v in zip(names, row[2:], strict=True)
                },
            }
            for row in page.rows
        ],
        "next_cursor": _encode_cursor(plan.since, plan.until, page.next_key) if page.next_key else None,
    }
    return JSONResponse(body)
