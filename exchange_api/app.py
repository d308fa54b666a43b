"""The hub's HTTP application: CKAN actions, the exchange API, OpenAPI docs at /docs."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from catalog import db
from exchange import subscriptions
from exchange_api import access_api, bulk, ckan_api, oauth, openapi, ops, records, sql_api, subscriptions_api
from exchange_api.contracts_api import router as contracts_router
from exchange_api.deps import Contracts
from exchange_api.disputes_api import router as disputes_router
from exchange_api.errors import error_response, hub_error_handler
from exchange_api.headers import SecurityHeaders, request_ids
from exchange_api.limits import BodyLimit
from exchange_api.notices_api import router as notices_router
from exchange_api.quality_api import router as quality_router
from exchange_api.responses import JSONResponse
from hub.errors import HubError
from hub.settings import Settings, get_settings, private_files
from warehouse.serving import Store

DESCRIPTION = """
东城区公共基础数据共享交换平台的交换接口。The exchange API of the Dongcheng base-data hub.

* `/api/3/action/*` and `/api/action/*`: the CKAN Action API (catalogue), usable with `ckanapi`.
* `/api/v1/*`: the exchange API. Send your key as `X-API-Key: <key>` or `Authorization: Bearer <key>`.
  Sensitive fields (ID numbers, names, phone numbers, addresses) are masked unless granted in clear.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    private_files()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db.migrate(settings.db_url)
        dispatcher = subscriptions.Dispatcher(settings).start()  # webhook notices, every webhook_poll_seconds
        if settings.api_freeze_heap:
            gc.collect()
            gc.freeze()  # 1M rows, 32 connections: key-lookup p99 470-620 -> 170-250 ms (docs/decisions.md)
        yield
        dispatcher.stop()
        sql_api.close(app)
        app.state.store.close()

    app = openapi.HubAPI(
        title="Dongcheng base-data hub",
        version="0.1.0",
        description=DESCRIPTION,
        default_response_class=JSONResponse,
        lifespan=lifespan,
        docs_url=None,  # served from installed files by openapi.install_docs, not from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = Store(settings.serving_dir)
    app.state.contracts = Contracts(settings)

    app.add_exception_handler(HubError, hub_error_handler)
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(SecurityHeaders)
    ops.instrument(app)  # requests counted and timed, 413s included
    app.add_middleware(request_ids)  # outermost: the request id is on every answer and log line

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        return error_response(request, 400, "bad_request", f"{where}: {first.get('msg')}")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        """The framework's own refusals (unknown path, wrong method, a body that does not parse)
        in the exchange error shape too, never ``{"detail": …}``."""
        answer = error_response(request, exc.status_code, openapi.error_code(exc.status_code), str(exc.detail))
        answer.headers.update(exc.headers or {})
        return answer

    app.include_router(ckan_api.router)
    app.include_router(records.router)
    app.include_router(bulk.router)
    app.include_router(sql_api.router)
    app.include_router(access_api.router)
    app.include_router(subscriptions_api.router)
    app.include_router(oauth.router)
    app.include_router(ops.router)
    app.include_router(quality_router)
    app.include_router(notices_router)
    app.include_router(disputes_router)
    app.include_router(contracts_router)
    openapi.install_docs(app)
    return app
