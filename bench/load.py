"""A small HTTP/1.1 load generator that is not the bottleneck on two cores.

Benchmarks of the API compare req/s and latency of the hub with Datasette's on the same rows;
a Python client built on a general HTTP library (httpx, aiohttp) spends more CPU per request
than the servers it measures and would report its own ceiling. This one keeps N keep-alive
connections, each an asyncio ``Protocol`` (no coroutine per request, no stream objects), sends
request bytes built once up front, and parses only what it needs to find the end of an answer:
the status, ``Content-Length`` or chunked framing. It runs in its own process (never sharing a
GIL with a server) and on uvloop when uvloop is installed (it comes with ``uvicorn[standard]``).

Each connection sends its next request when the previous answer is complete (no pipelining),
cycling through the request list from its own offset, so lookups hit different keys. Any status
other than 200 counts as an error, by status; a connection the server closes is reopened and
counted as an error ``closed``.

    python -m bench.load < spec.json            # LoadSpec as JSON in, LoadResult as JSON out
    python -m bench.load --trivial-server PORT  # a fixed 2 KB 200 answer, to measure our own ceiling

The benchmarks drive it through :func:`measure` (a subprocess) and :func:`trivial_server`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import cast

TRIVIAL_BODY = b"x" * 2048


@dataclass(frozen=True)
class Request:
    """One request to send: method, path (with query), optional JSON body."""

    path: str
    method: str = "GET"
    body: bytes = b""

    def encode(self, host: str, headers: Sequence[tuple[str, str]]) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers)]
        if self.body or self.method != "GET":
            lines += ["Content-Type: application/json", f"Content-Length: {len(self.body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass(frozen=True)
class LoadSpec:
    """What to run: where, which requests (cycled), how many connections, for how long."""

    port: int
    requests: list[Request]
    connections: int = 32
    seconds: float = 8.0
    warmup_seconds: float = 2.0
    host: str = "127.0.0.1"
    headers: list[tuple[str, str]] = field(default_factory=list)
    max_requests: int | None = None
    """Stop after this many answers (whichever of this and ``seconds`` comes first)."""

    def to_json(self) -> str:
        data = asdict(self)
        data["requests"] = [{"path": r.path, "method": r.method, "body": r.body.decode("utf-8")} for r in self.requests]
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> LoadSpec:
        data = json.loads(text)
        data["requests"] = [Request(r["path"], r["method"], r["body"].encode("utf-8")) for r in data["requests"]]
        data["headers"] = [tuple(h) for h in data["headers"]]
        return cls(**data)


@dataclass(frozen=True)
class LoadResult:
    """What one run measured: answers, seconds, latency percentiles (ms) and errors by status."""

    answers: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: dict[str, int]
    connections: int
    uvloop: bool

    @property
    def rps(self) -> float:
        return self.answers / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def line(self) -> str:
        errors = f", errors {self.errors}" if self.errors else ""
        return (
            f"{self.rps:,.1f} req/s, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms "
            f"({self.answers:,} answers{errors})"
        )


class _Connection(asyncio.Protocol):
    """One keep-alive connection: send, read one answer, record it, send the next."""

    def __init__(self, run: _Run, offset: int):
        self.run = run
        self.index = offset
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.sent = 0.0
        self.status = 0
        self.need = -1  # body bytes still to read; -1: reading the head
        self.chunked = False
        self.lost: asyncio.Future[None] = run.loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._send()

    def _send(self) -> None:
        run = self.run
        if not run.going():
            assert self.transport is not None
            self.transport.close()
            return
        payload = run.payloads[self.index % len(run.payloads)]
        self.index += 1
        self.sent = time.perf_counter()
        assert self.transport is not None
        self.transport.write(payload)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        while True:
            if self.need < 0 and not self.chunked:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(buf[:end]).lower()
                del buf[: end + 4]
                self.status = int(head[9:12])
                at = head.find(b"\ncontent-length:")
                if at >= 0:
                    stop = head.find(b"\r", at + 16)
                    self.need = int(head[at + 16 : stop if stop >= 0 else len(head)])
                elif b"transfer-encoding: chunked" in head:
                    self.chunked = True
                else:
                    self.need = 0
            if self.chunked:
                if not self._chunks():
                    return
            else:
                if len(buf) < self.need:
                    return
                del buf[: self.need]
            self.need = -1
            self.chunked = False
            self.run.record(self.status, time.perf_counter() - self.sent)
            self._send()
            if not buf:
                return

    def _chunks(self) -> bool:
        """Consume whole chunks from the buffer; True once the last (empty) chunk is read."""
        buf = self.buf
        while True:
            line = buf.find(b"\r\n")
            if line < 0:
                return False
            size = int(bytes(buf[:line]).split(b";")[0], 16)
            if len(buf) < line + 2 + size + 2:
                return False
            del buf[: line + 2 + size + 2]
            if size == 0:
                return True

    def connection_lost(self, exc: Exception | None) -> None:
        if self.need >= 0 or self.chunked or self.buf:
            self.run.errors["closed"] += 1
        if not self.lost.done():
            self.lost.set_result(None)


class _Run:
    def __init__(self, spec: LoadSpec, loop: asyncio.AbstractEventLoop, seconds: float, limit: int | None):
        self.spec = spec
        self.loop = loop
        self.payloads = [r.encode(f"{spec.host}:{spec.port}", spec.headers) for r in spec.requests]
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.limit = limit
        self.stop = time.perf_counter() + seconds

    def going(self) -> bool:
        return time.perf_counter() < self.stop and (self.limit is None or len(self.latencies) < self.limit)

    def record(self, status: int, seconds: float) -> None:
        self.latencies.append(seconds)
        if status != 200:
            self.errors[str(status)] += 1

    async def connection(self, offset: int) -> None:
        """Keep one connection busy until the end, reopening it if the server closes it."""
        while self.going():
            try:
                _, proto = await self.loop.create_connection(
                    functools.partial(_Connection, self, offset), self.spec.host, self.spec.port
                )
            except OSError:
                self.errors["connect"] += 1
                await asyncio.sleep(0.05)
                continue
            await proto.lost
            offset = proto.index


async def _drive(spec: LoadSpec, seconds: float, limit: int | None) -> LoadResult:
    loop = asyncio.get_running_loop()
    run = _Run(spec, loop, seconds, limit)
    start = time.perf_counter()
    step = max(1, len(spec.requests) // max(1, spec.connections))
    await asyncio.gather(*(run.connection(i * step) for i in range(spec.connections)))
    elapsed = time.perf_counter() - start
    lat = sorted(run.latencies)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000 if lat else 0.0

    return LoadResult(
        answers=len(lat),
        seconds=elapsed,
        p50_ms=pct(0.50),
        p90_ms=pct(0.90),
        p99_ms=pct(0.99),
        errors=dict(run.errors),
        connections=spec.connections,
        uvloop=_uvloop_factory() is not None,
    )


async def _run(spec: LoadSpec) -> LoadResult:
    if spec.warmup_seconds > 0:
        await _drive(spec, spec.warmup_seconds, None)
    return await _drive(spec, spec.seconds, spec.max_requests)


def _uvloop_factory() -> object | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _arun(coro: object) -> object:
    factory = _uvloop_factory()
    with asyncio.Runner(loop_factory=factory) as runner:  # type: ignore[arg-type]
        return runner.run(coro)  # type: ignore[arg-type]


def measure(spec: LoadSpec, timeout: float | None = None) -> LoadResult:
    """Run ``spec`` in a separate Python process (its own GIL and core) and return what it measured."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.load"],
        input=spec.to_json(),
        capture_output=True,
        text=True,
        timeout=timeout or (spec.warmup_seconds + spec.seconds + 300),
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed: {proc.stderr[-2000:]}")
    return LoadResult(**json.loads(proc.stdout))


class _Trivial(asyncio.Protocol):
    """Answers every GET with the same 2 KB 200: the load generator's own ceiling."""

    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(TRIVIAL_BODY)).encode()
        + b"\r\n\r\n"
        + TRIVIAL_BODY
    )

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        count = self.buf.count(b"\r\n\r\n")
        if count:
            self.buf = self.buf[self.buf.rfind(b"\r\n\r\n") + 4 :]
            self.transport.write(self.answer * count)


async def _serve_trivial(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Trivial, "127.0.0.1", port, reuse_address=True)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


@contextlib.contextmanager
def trivial_server() -> Iterator[int]:
    """A trivial HTTP server in its own process; yields its port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.load", "--trivial-server", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the trivial server did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main(argv: Sequence[str]) -> None:
    if len(argv) == 2 and argv[0] == "--trivial-server":
        with contextlib.suppress(KeyboardInterrupt):
            _arun(_serve_trivial(int(argv[1])))
        return
    if argv:
        raise SystemExit(__doc__)
    spec = LoadSpec.from_json(sys.stdin.read())
    result = _arun(_run(spec))
    assert isinstance(result, LoadResult)
    sys.stdout.write(json.dumps(asdict(result)))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
