"""``hub serve --workers N``: N processes answer on one port, and every accepted connection has
TCP_NODELAY set (uvicorn issue 3149: the socket its supervisor binds makes asyncio leave Nagle on,
and small keep-alive answers then wait ~40 ms on the client's delayed ACK).

The option is a property of the server's socket, invisible to the client. The real-server test
reads it from the worker processes themselves: ``pidfd_getfd`` (Linux 5.6+) duplicates each
socket a worker holds into the test, and the test checks the ones whose peer is one of its own
connections. The in-process test runs the hub's protocol on a listener bound the way uvicorn's
supervisor binds it, beside uvicorn's own protocol, which shows the condition the fix is for.
"""

from __future__ import annotations

import asyncio
import ctypes
import errno
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from hub.serve import NoDelayH11Protocol, NoDelayHttpToolsProtocol
from tests.conftest import free_port

SYS_PIDFD_GETFD = 438  # the same number on x86-64 and arm64


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found.append(child)
            todo.append(child)
    return found


def _server_sockets(pid: int, port: int, peers: set[tuple[str, int]]) -> tuple[bool, dict[tuple[str, int], int]]:
    """Whether process ``pid`` holds the socket listening on ``port``, and the TCP_NODELAY of each
    of its sockets connected to one of ``peers`` (peer → value)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    found: dict[tuple[str, int], int] = {}
    listening = False
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            try:
                if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                    continue
            except OSError:
                continue
            fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
            if fd < 0:
                code = ctypes.get_errno()
                if code in (errno.EPERM, errno.ENOSYS):
                    pytest.skip(f"pidfd_getfd not permitted here ({os.strerror(code)})")
                continue
            with socket.socket(fileno=fd) as sock:
                if sock.family != socket.AF_INET:
                    continue
                try:
                    peer = sock.getpeername()
                except OSError:
                    listening = listening or sock.getsockname()[1] == port
                    continue
                if peer in peers:
                    found[peer] = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        os.close(pidfd)
    return listening, found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the workers' sockets through /proc")
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_two_workers_share_the_port_and_set_nodelay(tmp_path: Path, loop: str) -> None:
    port = free_port()
    env = {**os.environ, "HUB_HOME": str(tmp_path / "hub"), "HUB_API_PORT": str(port)}
    exe = str(Path(sys.executable).with_name("hub"))
    server = subprocess.Popen(
        [exe, "serve", "--workers", "2", "--loop", loop],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    clients: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else "server exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "hub serve --workers 2 did not answer"
            time.sleep(0.3)
        for _ in range(8):  # keep-alive connections, each answered once and left open
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 200"), answer
            clients.append(sock)
        peers = {s.getsockname() for s in clients}
        seen: dict[tuple[str, int], int] = {}
        holders = 0
        for pid in _descendants(server.pid):
            listening, found = _server_sockets(pid, port, peers)
            holders += listening
            seen.update(found)
        assert holders == 2, "two worker processes share the listening socket"
        assert set(seen) == peers, "every connection was accepted by a worker"
        assert set(seen.values()) == {1}, f"TCP_NODELAY on every accepted socket: {seen}"
        supervisor = _server_sockets(server.pid, port, peers)
        assert supervisor[0] and not supervisor[1], "the supervisor binds the port and accepts nothing itself"
    finally:
        for sock in clients:
            sock.close()
        server.terminate()
        server.wait(timeout=60)
    assert server.returncode == 0


def _accepted_nodelay(protocol: type[asyncio.Protocol]) -> int:
    """TCP_NODELAY of a connection accepted by ``protocol`` on plain asyncio, from a listener bound
    as uvicorn's supervisor binds it (``socket.socket(AF_INET)``: ``proto`` 0)."""

    async def main() -> int:
        config = uvicorn.Config(lambda scope, receive, send: None, lifespan="off")
        config.load()
        state = ServerState()
        made: list[asyncio.Protocol] = []

        def factory() -> asyncio.Protocol:
            p = protocol(config=config, server_state=state, app_state={})  # type: ignore[call-arg]
            made.append(p)
            return p

        listener = socket.socket(socket.AF_INET)
        listener.bind(("127.0.0.1", 0))
        assert listener.proto == 0
        server = await asyncio.get_running_loop().create_server(factory, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname())
        for _ in range(100):
            if made and getattr(made[0], "transport", None) is not None:
                break
            await asyncio.sleep(0.01)
        sock = made[0].transport.get_extra_info("socket")  # type: ignore[attr-defined]
        value = int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()
        server.close()
        return value

    with asyncio.Runner() as runner:
        return runner.run(main())


def test_the_hub_protocol_sets_nodelay_where_uvicorn_leaves_it_off() -> None:
    assert _accepted_nodelay(HttpToolsProtocol) == 0, "the condition of uvicorn issue 3149"
    assert _accepted_nodelay(NoDelayHttpToolsProtocol) == 1
    assert _accepted_nodelay(NoDelayH11Protocol) == 1
