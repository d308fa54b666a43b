"""Finding 4: `hub serve` stops promptly on SIGTERM and SIGINT, even with a stalled client."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hub.cli import SHUTDOWN_GRACE_SECONDS
from tests.conftest import free_port


def _serve(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HUB_HOME": str(home), "HUB_API_PORT": str(port)}
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("hub")), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_up(proc: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "server exited")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/3/action/status_show", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("server did not start")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_server_exits_within_the_grace_period_despite_a_stalled_request(tmp_path: Path, sig: int) -> None:
    port = free_port()
    proc = _serve(tmp_path / "hub", port)
    try:
        _wait_up(proc, port)
        stalled = socket.create_connection(("127.0.0.1", port))  # a request whose body never comes
        stalled.sendall(
            b"POST /api/3/action/package_search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{"
        )
        idle = socket.create_connection(("127.0.0.1", port))  # a keep-alive connection left open
        idle.sendall(b"GET /api/3/action/status_show HTTP/1.1\r\nHost: x\r\n\r\n")
        idle.recv(4096)
        time.sleep(0.5)
        sent = time.monotonic()
        proc.send_signal(sig)
        code = proc.wait(timeout=SHUTDOWN_GRACE_SECONDS + 10)
        took = time.monotonic() - sent
        assert took <= SHUTDOWN_GRACE_SECONDS + 3, f"exit took {took:.1f} s"
        assert code in (0, -sig, 128 + sig), code
        stalled.close()
        idle.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
