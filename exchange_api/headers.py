"""Headers every response carries: the request id and the usual security headers.

The request id comes from asgi-correlation-id's middleware (:func:`request_ids`), which also puts
it in every log line of the request (:mod:`hub.logs`). The caller's ``X-Request-ID`` is kept only
when it is a short token (``[A-Za-z0-9._:-]{1,64}``); anything else (newlines, long or odd
values) is replaced by a new id, so a log line or a header can never be forged through it.
:class:`SecurityHeaders` is a pure ASGI middleware (no ``BaseHTTPMiddleware``: nothing is
buffered or wrapped in a task group).
"""

from __future__ import annotations

import re
import uuid

from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
"""Every answer that does not bring its own policy: nothing may load, run or frame it. The
documentation pages (:mod:`exchange_api.openapi`) bring theirs, naming their inline script by hash."""
HSTS = "max-age=31536000; includeSubDomains"
CREDENTIALS = (b"x-api-key", b"x-ckan-api-key", b"authorization")
"""A request carrying any of these may be answered with what only its key may read: never stored."""

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def safe_request_id(offered: str) -> bool:
    """Is the caller's ``X-Request-ID`` a token the hub may repeat in headers and logs?"""
    return REQUEST_ID.fullmatch(offered) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_ids(app: ASGIApp) -> CorrelationIdMiddleware:
    """The outermost middleware: the request's id, in ``X-Request-ID`` and every log line."""
    return CorrelationIdMiddleware(app, header_name="X-Request-ID", generator=new_request_id, validator=safe_request_id)


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("headers") or []
        scope.setdefault("state", {})["request_id"] = correlation_id.get() or new_request_id()
        path: str = scope.get("path", "")
        no_store = path.startswith("/api/") or any(k in CREDENTIALS for k, _ in raw)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", API_CSP)
                if no_store and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                if scope.get("scheme") == "https":  # TLS here, or X-Forwarded-Proto from a proxy uvicorn trusts
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, with_headers)
