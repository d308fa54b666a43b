"""Finding 4: the server stops promptly on SIGTERM and SIGINT and exits 0.

`hub serve` runs as its own process on a free port with a temporary HUB_HOME. Held against it:
a request whose body never comes, an idle keep-alive connection, and (through the same
``run_api`` that `hub serve` and `hub demo` use) a handler that burns CPU in its worker thread
and cannot be cancelled. A short request in flight still gets its answer.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import free_port

GRACE = 2
"""HUB_SHUTDOWN_GRACE_SECONDS for these servers (the default is 5)."""
MARGIN = 3
"""Seconds allowed beyond the grace period: stop the loop, close the store, exit."""
SIGNALS = (signal.SIGTERM, signal.SIGINT)

BUSY_APP = """
import time

from exchange_api.app import create_app
from hub.cli import run_api
from hub.settings import Settings

settings = Settings()
settings.ensure_dirs()
api = create_app(settings)


@api.get("/busy")
def busy(seconds: float) -> dict:
    end, n = time.monotonic() + seconds, 0
    while time.monotonic() < end:  # pure CPU in a worker thread: nothing can cancel it
        n += 1
    return {"spun": n}


run_api(api, settings)
"""


def _env(home: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "HUB_HOME": str(home),
        "HUB_API_PORT": str(port),
        "HUB_SHUTDOWN_GRACE_SECONDS": str(GRACE),
        "HUB_KEEP_ALIVE_SECONDS": "30",  # idle connections must be closed by the shutdown, not by a timeout
    }


def _start(cmd: list[str], home: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    return subprocess.Popen(cmd, env=_env(home, port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), port


def _wait_up(proc: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "server exited")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/3/action/site_read", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("server did not start")


@contextmanager
def _servers(cmd: list[str], folder: Path) -> Iterator[dict[signal.Signals, tuple[subprocess.Popen[bytes], int]]]:
    """One server per stop signal, started side by side (start-up dominates these tests)."""
    procs = {sig: _start(cmd, folder / sig.name) for sig in SIGNALS}
    try:
        for proc, port in procs.values():
            _wait_up(proc, port)
        yield procs
    finally:
        for proc, _ in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _stop_all(procs: dict[signal.Signals, tuple[subprocess.Popen[bytes], int]]) -> None:
    """Send each server its signal at once; each must exit 0 within the grace period."""
    sent = time.monotonic()
    for sig, (proc, _) in procs.items():
        proc.send_signal(sig)
    for sig, (proc, _) in procs.items():
        try:
            code = proc.wait(timeout=GRACE + 30)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - sent
        err = proc.stderr.read().decode()[-2000:] if proc.stderr and code is not None else ""
        assert code == 0, f"{sig.name}: exit code {code}\n{err}"
        assert took <= GRACE + MARGIN, f"{sig.name}: exit took {took:.1f} s"


def test_hub_serve_exits_0_despite_a_stalled_request_and_an_idle_connection(tmp_path: Path) -> None:
    with _servers([str(Path(sys.executable).with_name("hub")), "serve"], tmp_path) as procs:
        held = []
        for _, port in procs.values():
            stalled = socket.create_connection(("127.0.0.1", port))  # a request whose body never comes
            stalled.sendall(
                b"POST /api/3/action/package_search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\n\r\n{"
            )
            idle = socket.create_connection(("127.0.0.1", port))  # a keep-alive connection left open
            idle.sendall(b"GET /api/3/action/status_show HTTP/1.1\r\nHost: x\r\n\r\n")
            assert idle.recv(4096).startswith(b"HTTP/1.1 200")
            held += [stalled, idle]
        time.sleep(0.3)
        _stop_all(procs)
        for sock in held:
            sock.close()


def test_a_cpu_bound_request_cannot_keep_the_server_up(tmp_path: Path) -> None:
    script = tmp_path / "busy_app.py"
    script.write_text(BUSY_APP)
    answers: dict[tuple[int, str], int | str] = {}

    def ask(port: int, name: str, seconds: float) -> None:
        try:
            got = httpx.get(f"http://127.0.0.1:{port}/busy", params={"seconds": seconds}, timeout=120)
            answers[port, name] = got.status_code
        except httpx.HTTPError as exc:
            answers[port, name] = type(exc).__name__

    with _servers([sys.executable, str(script)], tmp_path) as procs:
        callers = [
            threading.Thread(target=ask, args=(port, name, seconds))
            for _, port in procs.values()
            # "short" finishes within the grace period; "endless" would hold its thread for 100 s
            for name, seconds in (("short", 1.0), ("endless", 100.0))
        ]
        for caller in callers:
            caller.start()
        time.sleep(0.5)
        _stop_all(procs)
        for caller in callers:
            caller.join(timeout=10)
        for _, port in procs.values():
            assert answers[port, "short"] == 200  # graceful: a request in flight is finished, not cut
            assert answers[port, "endless"] != 200
