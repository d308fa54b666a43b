"""``hub serve``: uvicorn in one process, or ``--workers N`` processes sharing one port.

Why a module of its own: with several workers uvicorn's supervisor binds the listening socket
and hands it to each worker process, which imports the application by name
(:func:`app_factory`) and builds it from the same ``HUB_*`` environment.

TCP_NODELAY. Every answer of the API is small and written in more than one send (head, then
body). With Nagle's algorithm on, the second send waits for the client's delayed ACK, about
40 ms on Linux, on every keep-alive request after the first. asyncio turns Nagle off on accepted
sockets only when the listening socket says ``proto == IPPROTO_TCP``; the socket uvicorn's
supervisor binds for ``--workers N`` says 0 (uvicorn issue 3149), so on the asyncio event loop
every worker's connections kept Nagle on. uvloop sets the option itself, but which loop runs
depends on what is installed. So the hub does not rely on either: its HTTP protocol
(:class:`NoDelayHttpToolsProtocol`, or the h11 one without httptools) sets TCP_NODELAY on each
connection it is handed, in every worker, whichever loop and however the socket was bound.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import TYPE_CHECKING, Any, Literal

from uvicorn.protocols.http.h11_impl import H11Protocol

from hub.settings import Settings, get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

Loop = Literal["auto", "asyncio", "uvloop"]


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle's algorithm off on a TCP connection (a Unix socket or a test transport has none)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with TCP_NODELAY set on each connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools comes with uvicorn[standard]
    PROTOCOL = "hub.serve:NoDelayH11Protocol"
else:

    class NoDelayHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol (its default when httptools is installed), with TCP_NODELAY."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            set_nodelay(transport)
            super().connection_made(transport)

    PROTOCOL = "hub.serve:NoDelayHttpToolsProtocol"
"""The HTTP protocol ``hub serve`` gives uvicorn, by import string so that worker processes load it too."""


def app_factory() -> FastAPI:
    """The API as each worker builds it: from the same ``HUB_*`` environment as the command."""
    from exchange_api.app import create_app

    settings = get_settings()
    settings.ensure_dirs()
    return create_app(settings)


def config(settings: Settings, app: Any, workers: int = 1, loop: Loop = "auto") -> Any:
    """The uvicorn configuration of ``hub serve`` (one place for both modes)."""
    import uvicorn

    from hub import logs

    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        host=settings.api_host,
        port=settings.api_port,
        workers=workers,
        http=PROTOCOL,
        loop=loop,
        log_level="info",
        log_config=logs.config(settings),
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        timeout_keep_alive=settings.keep_alive_seconds,
    )


def serve_workers(settings: Settings, workers: int, loop: Loop = "auto") -> None:
    """Serve with ``workers`` processes on one listening socket, until SIGTERM or SIGINT.

    uvicorn's supervisor binds the socket, starts the workers, restarts one that dies, and on the
    signal stops them all (each finishing its requests within ``HUB_SHUTDOWN_GRACE_SECONDS``).
    The workers read their settings from the environment: a ``--host``/``--port`` given on the
    command line is passed down through ``HUB_API_HOST``/``HUB_API_PORT``.
    """
    from uvicorn.supervisors import Multiprocess

    from catalog import db

    db.migrate(settings.db_url)  # once, before the workers: each then finds the schema current at start
    os.environ["HUB_API_HOST"] = settings.api_host
    os.environ["HUB_API_PORT"] = str(settings.api_port)
    cfg = config(settings, "hub.serve:app_factory", workers=workers, loop=loop)  # also sets up logging
    if not settings.redis_url:
        logging.getLogger("uvicorn.error").warning(
            "%d workers count rate limits each in its own memory (a client gets up to %d times its limits); "
            "set HUB_REDIS_URL to share the counters",
            workers,
            workers,
        )
    sock = cfg.bind_socket()
    try:
        Multiprocess(cfg, sockets=[sock]).run()
    finally:
        sock.close()
