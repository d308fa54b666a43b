"""Request bodies are bounded before anything reads them.

A pure ASGI middleware: a ``Content-Length`` over the limit is answered 413 at once, without
reading the body; a body sent without a length (chunked) is counted as it streams and the
request fails with :class:`BodyTooLarge` (a :class:`hub.errors.TooLarge`) when it passes the
limit. Uploads (multipart posts to the CKAN resource actions) may be as large as the largest
per-role upload; every other body is held to ``HUB_MAX_BODY_BYTES``. Once the caller is known, a
route may lower the limit for the rest of the body (:func:`lower_body_limit`: a publisher's
upload stops at the publisher's limit, not the steward's). The 413 comes in the route's own
error shape: CKAN's envelope under ``/api/action`` and ``/api/3/action``, the exchange API's
elsewhere.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.errors import TooLarge
from hub.settings import Settings

UPLOAD_ACTIONS = ("resource_create", "resource_update", "resource_patch")
MULTIPART_OVERHEAD = 1 << 20
"""Room for the form fields and boundaries around an uploaded file."""
STATE_KEY = "body_limit"
"""Where a route leaves a lower limit for the rest of the body (``request.state.body_limit``)."""


class BodyTooLarge(TooLarge):
    """The request body passed its limit while streaming."""


def _is_ckan(path: str) -> bool:
    return path.startswith(("/api/action/", "/api/3/action/"))


def is_multipart(content_type: str | bytes) -> bool:
    text = content_type.decode("latin-1") if isinstance(content_type, bytes) else content_type
    return text.strip().lower().startswith("multipart/form-data")


def limit_for(settings: Settings, path: str, content_type: bytes) -> int:
    """The most bytes a request's body may have, known from its path and type alone."""
    if _is_ckan(path) and path.rsplit("/", 1)[-1] in UPLOAD_ACTIONS and is_multipart(content_type):
        return max(settings.upload_max_bytes_publisher, settings.upload_max_bytes_steward) + MULTIPART_OVERHEAD
    return settings.max_body_bytes


def lower_body_limit(request: Request, limit: int) -> None:
    """Hold the rest of this request's body to ``limit`` bytes (never raises the limit)."""
    current = getattr(request.state, STATE_KEY, None)
    setattr(request.state, STATE_KEY, limit if current is None else min(current, limit))


def too_large_body(scope: Scope, message: str, request_id: str | None) -> bytes:
    path: str = scope.get("path", "")
    body: dict[str, Any]
    if _is_ckan(path):
        name = path.rsplit("/", 1)[-1]
        base = str(Request(scope).base_url).rstrip("/")
        body = {
            "help": f"{base}/api/3/action/help_show?name={name}",
            "success": False,
            "error": {"__type": "Request Entity Too Large", "message": message},
        }
    else:
        body = {"error": {"code": "too_large", "message": message, "request_id": request_id}}
    return orjson.dumps(body)


class BodyLimit:
    def __init__(self, app: ASGIApp, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        limit = limit_for(self.settings, scope.get("path", ""), headers.get(b"content-type", b""))
        declared = headers.get(b"content-length")
        if declared is not None:
            size = int(declared) if declared.isdigit() and len(declared) <= 20 else -1
            if size < 0 or size > limit:
                why = "has no valid length" if size < 0 else f"is {size:,} bytes"
                await self._refuse(scope, send, f"request body {why}; at most {limit:,} bytes are accepted here")
                return
        state: dict[str, Any] = scope.setdefault("state", {})
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                allowed = min(limit, state.get(STATE_KEY) or limit)
                if seen > allowed:
                    raise BodyTooLarge(f"request body passed {allowed:,} bytes; at most {allowed:,} are accepted here")
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:
            if not started:
                await self._refuse(scope, send, str(exc))

    async def _refuse(self, scope: Scope, send: Send, message: str) -> None:
        rid = scope.get("state", {}).get("request_id") or uuid.uuid4().hex
        body = too_large_body(scope, message, rid)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],  # X-Request-ID: added by the request-id middleware outside
            }
        )
        await send({"type": "http.response.body", "body": body})
