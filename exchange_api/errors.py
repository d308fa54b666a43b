"""One JSON error shape for the exchange API: ``{"error": {"code", "message", "request_id"}}``."""

from __future__ import annotations

from fastapi import Request

from exchange_api.responses import JSONResponse
from hub.errors import (
    Conflict,
    Forbidden,
    HubError,
    InputError,
    NotAuthorized,
    NotFound,
    RateLimited,
    TooLarge,
    VersionGone,
)

STATUS: dict[type[HubError], tuple[int, str]] = {
    Forbidden: (403, "forbidden"),
    NotAuthorized: (401, "not_authorized"),
    NotFound: (404, "not_found"),
    VersionGone: (410, "version_gone"),
    TooLarge: (413, "too_large"),
    Conflict: (409, "conflict"),
    RateLimited: (429, "rate_limited"),
    InputError: (400, "bad_request"),
}


def error_response(request: Request, status: int, code: str, message: str) -> JSONResponse:
    rid = getattr(request.state, "request_id", None)
    headers = {"WWW-Authenticate": 'Bearer realm="hub"'} if status == 401 else None
    body = {"error": {"code": code, "message": message, "request_id": rid}}
    return JSONResponse(body, status_code=status, headers=headers)


def hub_error_handler(request: Request, exc: Exception) -> JSONResponse:
    status, code = next((v for k, v in STATUS.items() if isinstance(exc, k)), (500, "internal_error"))
    response = error_response(request, status, code, str(exc))
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response
