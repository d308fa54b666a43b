"""Headers every response carries: the request id and the usual security headers.

A pure ASGI middleware (no ``BaseHTTPMiddleware``: nothing is buffered or wrapped in a task
group). The caller's ``X-Request-ID`` is kept only when it is a short token
(``[A-Za-z0-9._:-]{1,64}``); anything else (newlines, long or odd values) is replaced by a new
id, so a log line or a header can never be forged through it.
"""

from __future__ import annotations

import re
import uuid

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


def request_id(offered: str | None) -> str:
    """The caller's id if it is a safe token, else a fresh one."""
    if offered and REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("headers") or []
        offered = next((v for k, v in raw if k == b"x-request-id"), None)
        rid = request_id(offered.decode("latin-1") if offered is not None else None)
        scope.setdefault("state", {})["request_id"] = rid
        path: str = scope.get("path", "")
        no_store = path.startswith("/api/") or any(k in CREDENTIALS for k, _ in raw)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = rid
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", API_CSP)
                if no_store and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                if scope.get("scheme") == "https":  # TLS here, or X-Forwarded-Proto from a proxy uvicorn trusts
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, with_headers)
