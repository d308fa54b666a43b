"""CKAN Action API on ``/api/3/action/{name}`` and ``/api/action/{name}``, plus DCAT and downloads.

Envelope, error types and HTTP codes follow CKAN (see shared/ckan-api.md), so ``ckanapi`` and
CKAN tooling work unchanged. Read actions accept GET and POST; write actions POST only. The
actions themselves live in ``ckan_read``, ``ckan_write`` and ``ckan_datastore``.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import APIRouter, Request
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from access import gate, tokens
from catalog import db, uploads
from exchange_api import ckan_datastore, ckan_read, ckan_write, dcat, downloads  # noqa: F401 - register actions
from exchange_api.ckan_actions import ACTIONS, Action, ActionError, Context, to_action_error
from exchange_api.deps import presented_key
from exchange_api.limits import MULTIPART_OVERHEAD, is_multipart, lower_body_limit
from exchange_api.responses import JSONResponse
from hub.errors import NotAuthorized
from hub.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["ckan"])
CKAN_VERSION = ckan_read.CKAN_VERSION


FORM_MAX_FILES = 1
"""A CKAN form carries at most one file, the ``upload``."""
FORM_MAX_FIELDS = 200
FORM_MAX_PART = 1 << 20
"""Largest non-file form field (a JSON-encoded value included)."""


def _envelope(request: Request, name: str, **body: Any) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {"help": f"{base}/api/3/action/help_show?name={name}", **body}


async def _params(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query_params)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data") or ctype.startswith("application/x-www-form-urlencoded"):
        try:
            form = await request.form(max_files=FORM_MAX_FILES, max_fields=FORM_MAX_FIELDS, max_part_size=FORM_MAX_PART)
        except HTTPException as exc:  # Starlette's answer to a malformed or oversized form
            raise ActionError(400, "Bad Request", f"Bad request - form: {exc.detail}") from None
        return {k: v for k, v in form.items()}
    raw = await request.body()
    if not raw.strip():
        return {}
    data = orjson.loads(raw)  # nesting is limited (1024 levels); integers beyond 64 bits arrive as floats
    if not isinstance(data, dict):
        raise ActionError(400, "Bad Request", "Bad request - JSON Error: Request data JSON decoded to a non-dict")
    return data


def _admit_files(request: Request, key: str | None) -> None:
    """A multipart body to a write action is read only for a valid key, and only up to what the
    key's role may upload (plus the form around the file): nobody spools gigabytes unidentified."""
    if key is None:
        raise ActionError(403, "Authorization Error", "an API key is required to send a form or file")
    settings: Settings = request.app.state.settings
    with db.session(settings.db_url) as session:
        try:
            caller = tokens.credential(session, settings, key).client
        except NotAuthorized as exc:
            raise ActionError(403, "Authorization Error", str(exc)) from None
        allowed = uploads.receivable(session, settings, caller) + MULTIPART_OVERHEAD  # role limit and quota left
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > allowed:
        raise ActionError(
            413, "Request Entity Too Large", f"request body is {int(declared):,} bytes; this key may send {allowed:,}"
        )
    lower_body_limit(request, allowed)


def _run(act: Action, request: Request, params: dict[str, Any], key: str | None) -> Any:
    settings: Settings = request.app.state.settings
    with db.session(settings.db_url) as session:
        caller, row = None, None
        if key is not None:
            try:
                row = tokens.credential(session, settings, key)
            except NotAuthorized as exc:
                raise ActionError(403, "Authorization Error", str(exc)) from None
            caller = row.client
            gate.admit(settings, caller)  # the per-minute limit, as on the exchange API
        else:
            gate.admit(settings, None, request.client.host if request.client else None)
        rid = getattr(request.state, "request_id", None)
        ctx = Context(session, settings, caller, request.app.state.store, request.app.state.contracts, row, rid)
        return act.fn(ctx, params)


def _failure(exc: Exception, name: str) -> ActionError:
    known = to_action_error(exc)
    if known is not None:
        return known
    if isinstance(exc, IntegrityError):
        return ActionError(400, "Integrity Error", f"Integrity Error: {exc.orig}")
    log.exception("CKAN action %s failed", name)
    return ActionError(500, "Internal Server Error", "Internal Server Error")


async def _dispatch(name: str, request: Request) -> JSONResponse:
    act = ACTIONS.get(name)
    if act is None:
        return JSONResponse(f"Bad request: Action name not known: {name}", status_code=400)
    try:
        if request.method == "GET" and not act.read_only:
            raise ActionError(400, "Bad Request", f"Bad request: Action {name} requires POST: Please use POST method")
        if not act.read_only and is_multipart(request.headers.get("content-type", "")):
            await run_in_threadpool(_admit_files, request, presented_key(request))
        try:
            params = await _params(request)
        except ValueError:
            raise ActionError(400, "Bad Request", "Bad request - JSON Error: could not decode request body") from None
        result = await run_in_threadpool(_run, act, request, params, presented_key(request))
    except Exception as exc:  # noqa: BLE001 - every failure becomes CKAN's error envelope
        error = _failure(exc, name)
        body: dict[str, Any] = {"__type": error.kind}
        if error.fields:
            body |= error.fields
        else:
            body["message"] = error.message
        return JSONResponse(
            _envelope(request, name, success=False, error=body), status_code=error.status, headers=error.headers
        )
    return JSONResponse(_envelope(request, name, success=True, result=result))


async def ckan_action(name: str, request: Request) -> JSONResponse:
    """Any CKAN action: the envelope is ``{help, success, result}`` or ``{help, success, error}``."""
    return await _dispatch(name, request)


for _path, _visible in (("/api/3/action/{name}", True), ("/api/action/{name}", False)):
    for _method in ("GET", "POST"):
        router.add_api_route(
            _path,
            ckan_action,
            methods=[_method],
            include_in_schema=_visible,
            summary=f"CKAN action ({_method})",
            operation_id=f"ckan_action_{_method.lower()}" if _visible else None,
        )

router.include_router(dcat.router)
router.include_router(downloads.router)
