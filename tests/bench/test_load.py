"""The benchmarks' load generator reads answers framed either way (Content-Length, chunked, split
across reads), cycles through its requests, sends POST bodies, and counts non-200 answers as
errors by status: a benchmark figure is only as good as this count."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.load import LoadSpec, Request, measure, trivial_server


class _Server(asyncio.Protocol):
    """Answers /ok with Content-Length, /chunked in chunks written one byte-slice at a time, /missing
    with 404, and a POST by echoing its body's length; records every request line it sees."""

    seen: Counter[str] = Counter()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            head, rest = self.buf.split(b"\r\n\r\n", 1)
            lines = head.decode().split("\r\n")
            length = next((int(v) for k, _, v in (x.partition(": ") for x in lines) if k == "Content-Length"), 0)
            if len(rest) < length:
                return
            body, self.buf = rest[:length], rest[length:]
            method, path, _ = lines[0].split(" ")
            _Server.seen[f"{method} {path}"] += 1
            self._answer(method, path, body)

    def _answer(self, method: str, path: str, body: bytes) -> None:
        write = self.transport.write  # type: ignore[attr-defined]
        if method == "POST":
            payload = json.dumps({"got": len(body)}).encode()
            write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload))
        elif path == "/chunked":
            write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for piece in (b"5\r\nhello\r\n", b"6\r\n world\r\n", b"0\r\n\r\n"):
                for i in range(0, len(piece), 3):
                    write(piece[i : i + 3])
        elif path == "/missing":
            write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}")
        else:
            write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine")


@pytest.fixture
def server() -> Iterator[int]:
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, object] = {}

    async def start() -> None:
        srv = await loop.create_server(_Server, "127.0.0.1", 0)
        holder["port"] = srv.sockets[0].getsockname()[1]
        holder["srv"] = srv
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    started.wait(10)
    _Server.seen.clear()
    yield int(holder["port"])  # type: ignore[call-overload]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_framing_cycling_and_errors(server: int) -> None:
    requests = [Request("/ok"), Request("/chunked"), Request("/missing"), Request("/post", "POST", b'{"a": 1}')]
    result = measure(
        LoadSpec(port=server, requests=requests, connections=1, seconds=30, warmup_seconds=0, max_requests=40)
    )
    assert result.answers == 40
    assert result.errors == {"404": 10}
    assert dict(_Server.seen) == {"GET /ok": 10, "GET /chunked": 10, "GET /missing": 10, "POST /post": 10}


def test_several_connections_spread_over_the_requests(server: int) -> None:
    requests = [Request(f"/ok?k={i}") for i in range(8)]
    result = measure(
        LoadSpec(port=server, requests=requests, connections=4, seconds=30, warmup_seconds=0, max_requests=400)
    )
    assert result.answers >= 400 and not result.errors
    assert len(_Server.seen) == 8, "every key was asked for"


def test_the_trivial_server_answers_2kb() -> None:
    with trivial_server() as port:
        result = measure(
            LoadSpec(port=port, requests=[Request("/")], connections=2, seconds=30, warmup_seconds=0, max_requests=100)
        )
    assert result.answers >= 100 and not result.errors


def test_benchmark_runs_made_on_their_own_survive_make_bench_and_a_section_rewrite(tmp_path: Path) -> None:
    """``make bench`` rewrites docs/benchmarks.md and a benchmark run alone rewrites its section;
    a ``###`` subsection whose heading says "run on its own" (figures at 10M rows) stays where it was."""
    from bench.bench_sql import kept_runs, write_section

    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\n## A\n\nold A\n\n### At 10M (run on its own)\n\nten million\n\n"
        "### Notes\n\ndropped\n\n## B\n\nold B\n",
        encoding="utf-8",
    )
    assert kept_runs(doc.read_text(encoding="utf-8")) == {"A": ["### At 10M (run on its own)\n\nten million"]}
    write_section("new A", out=doc, title="A")
    text = doc.read_text(encoding="utf-8")
    assert "new A" in text and "old A" not in text and "dropped" not in text
    assert text.index("new A") < text.index("ten million") < text.index("## B") and "old B" in text


def test_two_halves_of_a_run_pool_into_one_figure() -> None:
    """The API benchmark measures each server in two halves taken in turn with the others'; the
    pooled figure is answers over seconds of both, errors added up."""
    from bench.bench_api import pooled
    from bench.load import LoadResult

    a = LoadResult(300, 3.0, 10.0, 20.0, 40.0, {"503": 1}, 32, True)
    b = LoadResult(150, 3.0, 30.0, 40.0, 80.0, {"503": 2, "429": 1}, 32, True)
    both = pooled(a, b)
    assert both.rps == 75.0 and both.answers == 450
    assert (both.p50_ms, both.p99_ms) == (20.0, 60.0)
    assert both.errors == {"503": 3, "429": 1}
