"""Request bodies are bounded before anything reads them.

A pure ASGI middleware: a ``Content-Length`` over the limit is answered 413 at once, without
reading the body; a body sent without a length (chunked) is counted as it streams and the
request fails with :class:`hub.errors.TooLarge` when it passes the limit. Uploads (multipart
posts to the CKAN resource actions) may be as large as the largest per-role upload; every other
body is held to ``HUB_MAX_BODY_BYTES``. The 413 comes in the route's own error shape: CKAN's
envelope under ``/api/action`` and ``/api/3/action``, the exchange API's elsewhere.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.errors import TooLarge
from hub.settings import Settings

UPLOAD_ACTIONS = ("resource_create", "resource_update", "resource_patch")
MULTIPART_OVERHEAD = 1 << 20
"""Room for the form fields and boundaries around an uploaded file."""


class BodyTooLarge(TooLarge):
    """The request body passed its limit while streaming."""


def _is_ckan(path: str) -> bool:
    return path.startswith(("/api/action/", "/api/3/action/"))


def limit_for(settings: Settings, scope: Scope, headers: dict[bytes, bytes]) -> int:
    path: str = scope.get("path", "")
    ctype = headers.get(b"content-type", b"")
    if _is_ckan(path) and path.rsplit("/", 1)[-1] in UPLOAD_ACTIONS and ctype.startswith(b"multipart/form-data"):
        return max(settings.upload_max_bytes_publisher, settings.upload_max_bytes_steward) + MULTIPART_OVERHEAD
    return settings.max_body_bytes


def too_large_body(path: str, message: str, request_id: str | None) -> bytes:
    body: dict[str, Any]
    if _is_ckan(path):
        name = path.rsplit("/", 1)[-1]
        body = {
            "help": f"/api/3/action/help_show?name={name}",
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
        limit = limit_for(self.settings, scope, headers)
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size < 0 or size > limit:
                why = "is not a number" if size < 0 else f"is {size:,} bytes"
                await self._refuse(scope, send, f"request body {why}; at most {limit:,} bytes are accepted here")
                return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(f"request body passed {limit:,} bytes; at most {limit:,} are accepted here")
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
        body = too_large_body(scope.get("path", ""), message, rid)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                    (b"x-request-id", rid.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
