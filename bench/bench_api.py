"""Benchmark: the hub's API side by side with Datasette on the same rows (issue 12's goals).

One run builds a hub with ``rows`` generated residents, copies the same rows into SQLite,
starts Datasette (from the dev dependency group) and `hub serve` as subprocesses, and drives both
with the same load generator (:mod:`bench.load`, its own process, 32 keep-alive connections):

- records, first page of 100, and filtered by street (the hub: masked by the client's grant and
  audited; Datasette: the table page with ``_nocount=1&_nofacet=1``);
- key lookup by the primary key, cycling through many keys (the hub: ``?id_number=`` on the
  records route for a client with the ID number in clear; Datasette: ``?id_number=`` on the
  table page, over a unique index);
- verify (``POST .../verify``, "is there a record with this ID number and name?") against
  Datasette's lookup of the same two columns;
- an aggregate (``POST /api/v1/sql``, GROUP BY over the whole version) against Datasette's
  ``/db.json?sql=`` with the same GROUP BY;
- the same requests with `hub serve --workers 2`, against the single process;
- the load generator's own ceiling against a trivial server answering a fixed 2 KB 200.

The SQLite copy holds every column in clear (Datasette has no masks, and verify needs the clear
name to compare with), keyed by the hub's row number ``_row`` (INTEGER PRIMARY KEY: Datasette
pages in that order, as the hub does), with a unique index on ``id_number`` and an index on
``street_code``. Datasette runs in immutable mode (``-i``), 100 rows a page, the default number
of SQL threads, and a SQL time limit long enough for the GROUP BY over all rows.

    .venv/bin/python -m bench.bench_api [--rows 1000000] [--seconds 7]

Run alone, it replaces its section of docs/benchmarks.md and leaves the rest.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx

from bench import hubsetup
from bench.bench_sql import AGGREGATE, write_section
from bench.load import LoadResult, LoadSpec, Request, measure, trivial_server
from hub.settings import Settings

TITLE = "API against Datasette (exchange_api/, issue 12)"
DATASET = hubsetup.DATASET
REF = "population.residents"
CONNECTIONS = 32
KEYS = 2000
"""Distinct keys a lookup or verify run cycles through."""
DB = "bench"
"""Datasette's name for the SQLite copy (its file is bench.db)."""


@dataclass(frozen=True)
class Case:
    """One measurement: the hub's requests and Datasette's, and the goal for their ratio."""

    name: str
    hub: list[Request]
    datasette: list[Request]
    target: float
    key: str = "analyst"
    """Which hub client sends it."""
    connections: int = CONNECTIONS
    """Fewer for a query of seconds: 4 keep both cores and Datasette's three SQL threads busy, and 32
    would only queue (the run ends when the last answer in flight arrives)."""


@dataclass(frozen=True)
class Row:
    case: Case
    hub: LoadResult
    datasette: LoadResult
    workers: LoadResult | None


@dataclass(frozen=True)
class Setup:
    settings: Settings
    keys: dict[str, str]
    copy: Path
    cases: list[Case]


def _open(copy: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(copy), read_only=True)
    con.execute("SET enable_progress_bar = false")
    return con


def _sample(serving_copy: Path, n: int) -> list[tuple[str, str]]:
    """``n`` (ID number, name) pairs spread over the whole version."""
    con = _open(serving_copy)
    try:
        return [
            (str(a), str(b))
            for a, b in con.execute(
                "SELECT id_number, name FROM records ORDER BY hash(id_number) LIMIT ?", [n]
            ).fetchall()
        ]
    finally:
        con.close()


def sqlite_copy(serving_copy: Path, target: Path) -> int:
    """Copy every row and column of the serving copy into SQLite (dates as ISO text), indexed for
    Datasette's lookups and filters; returns the row count."""
    src = _open(serving_copy)
    names = [r[0] for r in src.execute("DESCRIBE records").fetchall()]
    columns = ", ".join(f'CAST("{n}" AS VARCHAR) AS "{n}"' if n != "_row" else '"_row"' for n in names)
    out = sqlite3.connect(target)
    out.execute("PRAGMA journal_mode = OFF")
    out.execute("PRAGMA synchronous = OFF")
    out.execute(
        "CREATE TABLE residents (_row INTEGER PRIMARY KEY, " + ", ".join(f'"{n}" TEXT' for n in names[1:]) + ")"
    )
    cur = src.execute(f"SELECT {columns} FROM records ORDER BY _row")
    insert = f"INSERT INTO residents VALUES ({', '.join('?' * len(names))})"
    count = 0
    while batch := cur.fetchmany(50_000):
        out.executemany(insert, batch)
        count += len(batch)
    out.execute("CREATE UNIQUE INDEX residents_id_number ON residents (id_number)")
    out.execute("CREATE INDEX residents_street_code ON residents (street_code)")
    out.commit()
    out.execute("ANALYZE")
    out.close()
    src.close()
    return count


def _cases(pairs: list[tuple[str, str]], streets: list[str]) -> list[Case]:
    table = f"/{DB}/residents.json"
    fast = "_nocount=1&_nofacet=1&_shape=objects"
    records = f"/api/v1/datasets/{REF}/records"

    def get(path: str) -> Request:
        return Request(path)

    def dq(**params: str) -> str:
        return urllib.parse.urlencode(params)

    verify_body = [json.dumps({"match": {"id_number": i, "name": n}}).encode() for i, n in pairs]
    sql = AGGREGATE.format(table=DATASET)
    return [
        Case(
            "records, first page (100)",
            [get(f"{records}?limit=100")],
            [get(f"{table}?{fast}&_size=100")],
            2.0,
        ),
        Case(
            "records filtered by street (100)",
            [get(f"{records}?limit=100&street_code={s}") for s in streets],
            [get(f"{table}?{fast}&_size=100&street_code={s}") for s in streets],
            2.0,
        ),
        Case(
            "key lookup (primary key)",
            [get(f"{records}?limit=1&id_number={i}") for i, _ in pairs],
            [get(f"{table}?{fast}&_size=1&id_number={i}") for i, _ in pairs],
            3.0,
            key="lookup",
        ),
        Case(
            "verify (ID number + name)",
            [Request(f"/api/v1/datasets/{REF}/verify", "POST", b) for b in verify_body],
            [get(f"{table}?{fast}&_size=1&{dq(id_number=i, name=n)}") for i, n in pairs],
            3.0,
        ),
        Case(
            "aggregate (GROUP BY street, whole version)",
            [Request("/api/v1/sql", "POST", json.dumps({"sql": sql}).encode())],
            [get(f"/{DB}.json?_shape=objects&{dq(sql=AGGREGATE.format(table='residents'))}")],
            5.0,
            connections=4,
        ),
    ]


def build(rows: int, home: Path) -> Setup:
    """A hub with ``rows`` residents and its benchmark clients, and the SQLite copy beside it."""
    from warehouse import serving

    settings = hubsetup.residents_hub(home, rows)
    keys = {
        "analyst": hubsetup.analyst(settings),
        "lookup": hubsetup.client_with_grant(settings, "bench-lookup", role="consumer", clear_fields=["id_number"]),
    }
    serving_copy = serving.current(settings.serving_dir, DATASET).path
    copy = Path(tempfile.mkdtemp(prefix="bench-datasette-")) / f"{DB}.db"  # removed by run()
    sqlite_copy(serving_copy, copy)
    con = _open(serving_copy)
    streets = [str(r[0]) for r in con.execute("SELECT DISTINCT street_code FROM records ORDER BY 1").fetchall()]
    con.close()
    return Setup(settings, keys, copy, _cases(_sample(serving_copy, KEYS), streets))


@contextmanager
def datasette(copy: Path) -> Iterator[int]:
    port = hubsetup.free_port()
    exe = str(Path(sys.executable).with_name("datasette"))
    proc = subprocess.Popen(
        [
            exe,
            "serve",
            "-i",
            str(copy),
            "--port",
            str(port),
            "--setting",
            "default_page_size",
            "100",
            "--setting",
            "sql_time_limit_ms",
            "120000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            hubsetup.wait(http, f"/{DB}.json")
        yield port
    finally:
        hubsetup.stop(proc)


@contextmanager
def hub(setup: Setup, workers: int) -> Iterator[int]:
    args = ["--workers", str(workers)] if workers > 1 else []
    proc, url = hubsetup.serve(setup.settings, args, env=hubsetup.GENEROUS_LIMITS)
    try:
        with httpx.Client(base_url=url, headers={"X-API-Key": setup.keys["analyst"]}, timeout=60) as http:
            hubsetup.wait(http)
            for _ in range(2 * workers):  # each worker opens its serving copy on its first request
                http.get(f"/api/v1/datasets/{REF}/records?limit=1").raise_for_status()
        yield int(url.rsplit(":", 1)[1])
    finally:
        hubsetup.stop(proc)


def _load(case: Case, port: int, requests: list[Request], seconds: float, headers: list[tuple[str, str]]) -> LoadResult:
    spec = LoadSpec(
        port=port,
        requests=requests,
        connections=case.connections,
        seconds=seconds,
        warmup_seconds=min(2.0, seconds / 4),
        headers=headers,
    )
    return measure(spec)


def _check(port: int, req: Request, headers: dict[str, str]) -> int:
    """One request answered 200 before measuring (a wrong URL must fail the run, not fill it with
    errors); returns how many records it answered (verify: 1 for a match), so that both servers can
    be shown to answer the same thing."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=120) as http:
        extra = {"Content-Type": "application/json"} if req.body else {}
        answer = http.request(req.method, req.path, content=req.body or None, headers=extra)
        if answer.status_code != 200:
            raise RuntimeError(f"{req.method} {req.path[:120]}: {answer.status_code} {answer.text[:300]}")
    body = answer.json()
    if "match" in body:
        return int(bool(body["match"]))
    return len(body["records"] if "records" in body else body["rows"])


def _log(who: str, case: Case, result: LoadResult) -> LoadResult:
    print(f"  {who}, {case.name}: {result.line()}", file=sys.stderr, flush=True)
    return result


def pooled(first: LoadResult, second: LoadResult) -> LoadResult:
    """Two runs of one request against one server as one figure: answers over seconds of both,
    latency percentiles the mean of the two runs', errors added up."""
    errors = dict(first.errors)
    for status, n in second.errors.items():
        errors[status] = errors.get(status, 0) + n
    return LoadResult(
        answers=first.answers + second.answers,
        seconds=first.seconds + second.seconds,
        p50_ms=(first.p50_ms + second.p50_ms) / 2,
        p90_ms=(first.p90_ms + second.p90_ms) / 2,
        p99_ms=(first.p99_ms + second.p99_ms) / 2,
        errors=errors,
        connections=first.connections,
        uvloop=first.uvloop and second.uvloop,
    )


def measure_all(setup: Setup, seconds: float) -> tuple[list[Row], LoadResult]:
    """Every case against Datasette, the hub and the hub with two workers, all three running at
    once: each case is measured in two halves, in the order Datasette, hub, hub ×2 and then back,
    and the halves are pooled, so that a machine whose speed drifts during the run (shared
    hardware does, by a third or more over minutes) weighs on every server alike."""
    with trivial_server() as port:
        ceiling = measure(LoadSpec(port=port, requests=[Request("/")], connections=CONNECTIONS, seconds=seconds / 2))
    print(f"  load generator ceiling: {ceiling.line()}", file=sys.stderr, flush=True)
    rows = []
    with datasette(setup.copy) as ds_port, hub(setup, 1) as one, hub(setup, 2) as two:
        for case in setup.cases:
            headers = {"X-API-Key": setup.keys[case.key]}
            answered = _check(ds_port, case.datasette[0], {})
            for port in (one, two):
                got = _check(port, case.hub[0], headers)
                if got != answered:
                    raise RuntimeError(f"{case.name}: the hub answered {got} records, Datasette {answered}")
            runs: list[tuple[str, int, list[Request], list[tuple[str, str]]]] = [
                ("Datasette", ds_port, case.datasette, []),
                ("hub ×1", one, case.hub, list(headers.items())),
                ("hub ×2", two, case.hub, list(headers.items())),
            ]
            halves: dict[str, list[LoadResult]] = {}
            for order in (runs, runs[::-1]):
                for who, port, requests, extra in order:
                    halves.setdefault(who, []).append(_load(case, port, requests, seconds / 2, extra))
            found = {who: _log(who, case, pooled(*got)) for who, got in halves.items()}
            rows.append(Row(case, found["hub ×1"], found["Datasette"], found["hub ×2"]))
    return rows, ceiling


def _cell(r: LoadResult) -> str:
    errors = f" ({r.error_count:,} errors: {', '.join(f'{k}×{v}' for k, v in r.errors.items())})" if r.errors else ""
    return f"{r.rps:,.1f}{errors} | {r.p50_ms:.1f} | {r.p99_ms:.1f}"


def _verdict(ratio: float, target: float, *results: LoadResult) -> str:
    if any(r.errors for r in results):
        return "not measured (errors)"
    return "met" if ratio >= target else "not met"


def report(rows: list[Row], ceiling: LoadResult, n_rows: int, seconds: float) -> str:
    top = max(x.rps for r in rows for x in (r.hub, r.datasette, r.workers) if x is not None)
    lines = [
        f"{n_rows:,} residents; the hub and Datasette {_datasette_version()} on the same rows, each a single process "
        f"on this machine's {_cpus()} cores, shared with the load generator (`bench/load.py`: {CONNECTIONS} keep-alive "
        f"connections, its own process{', uvloop' if ceiling.uvloop else ''}); each figure {seconds:g} s after "
        "warm-ups, in two halves taken in turn with the other servers' (Datasette, hub, hub ×2, then back) and "
        "pooled, so that the machine's drift during the run weighs on all alike. The hub's answers are masked by "
        "the client's grant and audited (one audit record committed per request); Datasette reads a SQLite copy "
        "of every column in clear (`_row` INTEGER PRIMARY KEY, unique index "
        "on `id_number`, index on `street_code`; immutable, `_nocount=1&_nofacet=1&_shape=objects`, 100 rows a page). "
        "Latencies in ms; any answer other than 200 is an error.",
        "",
        f"Load generator ceiling (a trivial server answering a fixed 2 KB 200, same connections): "
        f"**{ceiling.rps:,.0f} req/s**, p50 {ceiling.p50_ms:.1f} ms; the fastest figure below is "
        f"{top / ceiling.rps:.1%} of it"
        + (
            ", so the servers, not the client, set them."
            if top < ceiling.rps / 10
            else ": the client may be the limit."
        ),
        "",
        "| request | hub req/s | p50 | p99 | Datasette req/s | p50 | p99 | ratio | target | |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ratio = r.hub.rps / r.datasette.rps if r.datasette.rps else float("inf")
        verdict = _verdict(ratio, r.case.target, r.hub, r.datasette)
        name = r.case.name if r.case.connections == CONNECTIONS else f"{r.case.name}, {r.case.connections} connections"
        lines.append(
            f"| {name} | {_cell(r.hub)} | {_cell(r.datasette)} | {ratio:.2f}x | ≥ {r.case.target:g}x | {verdict} |"
        )
    first = rows[0]
    lines += [
        "",
        f"Records page latency at {CONNECTIONS} connections: p99 {first.hub.p99_ms:.1f} ms (target ≤ 100 ms; "
        f"{'met' if first.hub.p99_ms <= 100 and not first.hub.errors else 'not met'}).",
        "",
        "`hub serve --workers 2` against one process (same requests; rate-limit counters in each worker's memory):",
        "",
        "| request | 1 process req/s | 2 workers req/s | p50 | p99 | ratio | |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if r.workers is None:
            continue
        ratio = r.workers.rps / r.hub.rps if r.hub.rps else float("inf")
        target = " (target ≥ 1.7x: " + _verdict(ratio, 1.7, r.workers) + ")" if r is first else ""
        lines.append(f"| {r.case.name} | {r.hub.rps:,.1f} | {_cell(r.workers)} | {ratio:.2f}x |{target} |")
    return "\n".join(lines)


def _datasette_version() -> str:
    from importlib.metadata import version

    return version("datasette")


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def run(rows: int, seconds: float = 6.0, home: Path | None = None) -> str:
    """Build (or reuse the hub at ``home``), measure, and return the markdown section (the table of ratios)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        setup = build(rows, home or Path(tmp) / "hub")
        try:
            built = time.monotonic() - started
            results, ceiling = measure_all(setup, seconds)
        except Exception:
            log = hubsetup.log_file(setup.settings)
            if log.exists():
                tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-60:]
                print("hub serve's log, last lines:", *tail, sep="\n", file=sys.stderr)
            raise
        finally:
            shutil.rmtree(setup.copy.parent, ignore_errors=True)
    text = report(results, ceiling, rows, seconds)
    took = time.monotonic() - started
    return text + f"\n\nBuilding (or reusing) the hub, and the SQLite copy: {built:.0f} s; the section: {took:.0f} s."


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    result = run(args.rows, args.seconds)
    write_section(result, title=TITLE)
    print(result)
