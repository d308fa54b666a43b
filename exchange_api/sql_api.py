"""Exchange API: analysts' read-only SQL over the datasets they may read (docs/sql.md).

``POST /api/v1/sql`` with ``{"sql": ..., "as_of", "dialect", "limit"}`` and ``GET /api/v1/sql?sql=``
answer ``{"columns", "rows", "truncated", "version", "elapsed_ms"}``; ``format=csv|parquet|jsonl|arrow``
streams the rows instead. The routes are plain functions, so FastAPI runs each query in its worker
threads and the server keeps answering other callers while one runs; DuckDB works without holding
the GIL.
"""

from __future__ import annotations

import threading
from typing import Any

import pyarrow as pa
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from access.sql import engine as sql_engine
from access.sql.guard import SqlRefused
from access.sql.sandbox import SqlFailed
from catalog.models import ApiClient
from exchange.export import SUFFIXES, Format, media_type, parse_format, stream
from exchange_api.deps import SESSION, get_settings, require_client
from exchange_api.errors import error_response
from hub.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["sql"])
JSON = "json"
FORMAT_HELP = "json (default), or csv, parquet, jsonl, arrow: the rows streamed as a file."
AS_OF_HELP = (
    "The version to read, for every dataset of the query: a version number, a snapshot id or an ISO 8601 "
    "date/time (China Standard Time unless an offset is given). Default: the newest."
)
DIALECT_HELP = "The SQL dialect the query is written in (postgres, mysql, hive, ...): transpiled to DuckDB's first."
LIMIT_HELP = "Most rows to return (default and cap: the server's sql_max_rows for JSON, sql_max_stream_rows for files)."
_engines = threading.Lock()


class SqlBody(BaseModel):
    """A query. Tables are datasets named by id, e.g. ``SELECT street_code, count(*) FROM
    population.residents GROUP BY 1``."""

    model_config = ConfigDict(extra="forbid")
    sql: str = Field(description="One read query: SELECT, WITH, UNION/INTERSECT/EXCEPT or VALUES.")
    as_of: str | None = Field(None, description=AS_OF_HELP)
    dialect: str | None = Field(None, description=DIALECT_HELP)
    limit: int | None = Field(None, ge=1, description=LIMIT_HELP)
    format: str | None = Field(None, description=FORMAT_HELP)


def get_engine(request: Request) -> sql_engine.Engine:
    """The process's SQL engine (its sandbox pool and concurrency cap), made on first use."""
    state = request.app.state
    with _engines:
        found = getattr(state, "sql_engine", None)
        if found is None:
            found = sql_engine.Engine(state.settings, state.store, state.contracts.get)
            state.sql_engine = found
    return found


def close(app: FastAPI) -> None:
    found = getattr(app.state, "sql_engine", None)
    if found is not None:
        found.close()


RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The rows: JSON, or a streamed file when format asks for one",
        "content": {"application/json": {}, **{media_type(f): {} for f in Format}},
    },
}


@router.post("/sql", summary="Run a read-only SQL query over the datasets you may read", responses=RESPONSES)
def post_sql(
    body: SqlBody,
    request: Request,
    format: str | None = Query(None, description=FORMAT_HELP),
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
    engine: sql_engine.Engine = Depends(get_engine),
) -> Response:
    """Each dataset in the query is replaced by your policy view of it: only the fields you receive,
    masked unless granted in clear, only your grant's rows. Analysts and data stewards only."""
    query = sql_engine.Query(body.sql, body.as_of, body.dialect, body.limit)
    return _answer(request, s, settings, engine, caller, query, format or body.format)


@router.get("/sql", summary="Run a read-only SQL query given in the URL (for links)", responses=RESPONSES)
def get_sql(
    request: Request,
    sql: str = Query(..., description="One read query: SELECT, WITH, UNION/INTERSECT/EXCEPT or VALUES."),
    as_of: str | None = Query(None, description=AS_OF_HELP),
    dialect: str | None = Query(None, description=DIALECT_HELP),
    limit: int | None = Query(None, ge=1, description=LIMIT_HELP),
    format: str | None = Query(None, description=FORMAT_HELP),
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
    engine: sql_engine.Engine = Depends(get_engine),
) -> Response:
    """The same as ``POST /api/v1/sql``, with the query in ``?sql=``."""
    return _answer(request, s, settings, engine, caller, sql_engine.Query(sql, as_of, dialect, limit), format)


def _answer(
    request: Request,
    s: Session,
    settings: Settings,
    engine: sql_engine.Engine,
    caller: ApiClient,
    query: sql_engine.Query,
    format: str | None,
) -> Response:
    fmt = None if (format or JSON).lower() == JSON else parse_format(format)
    cap = settings.sql_max_rows if fmt is None else settings.sql_max_stream_rows
    try:
        answer = engine.run(s, caller, query, max_rows=cap, request_id=getattr(request.state, "request_id", None))
    except (SqlRefused, SqlFailed) as exc:
        return error_response(request, 400, exc.code, str(exc))
    if fmt is None:
        return Response(sql_engine.dumps(answer.body()), media_type="application/json")
    table = answer.result.table
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=settings.export_batch_rows))
    headers = {
        "Content-Disposition": f'attachment; filename="query.{SUFFIXES[fmt]}"',
        "X-Hub-Rows": str(answer.result.rows),
        "X-Hub-Truncated": "true" if answer.result.truncated else "false",
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(stream(reader, fmt), media_type=media_type(fmt), headers=headers)
