"""Benchmark: exports and change feeds through the running API.

Measured against baselines in the same run on the same data:

- **memory**: the server's peak RSS growth (``VmHWM`` after resetting it through
  ``/proc/PID/clear_refs``) while it streams an export, for a small export and for the whole
  version; the baseline is the naive way, the whole result fetched as one Arrow table and written
  to an in-memory Parquet file (measured in a separate process);
- **time**: an export over HTTP against DuckDB's own ``COPY (same query) TO 'file.parquet'`` on
  the same serving copy (the floor); a change feed against reading both Iceberg snapshots once.

    .venv/bin/python -m bench.bench_exchange [--rows 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

from catalog import clients, db
from contracts import model
from generator.residents import generate
from hub.settings import Settings
from ingest import steps

DATASET = "population.residents"
URL = "/api/v1/datasets/population-residents"


def _publish(settings: Settings, name: str, rows: int) -> None:
    contract = model.find(settings.contracts_dir, DATASET)
    generate(steps.inbox_folder(settings, contract) / name, rows=rows, bad_share=0.0, seed=99)
    for file in steps.discover(DATASET, settings):
        steps.check(DATASET, file, settings, today=dt.date(2026, 11, 1))
    steps.register(DATASET, steps.publish(DATASET, settings), settings)


def _rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def _peak_growth_mb(pid: int, work: object) -> tuple[float, float, float]:
    """(peak RSS growth MB, seconds, bytes MB) of ``work()`` in process ``pid``."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the high-water mark to the current RSS
    before = _rss_kb(pid, "VmRSS")
    start = time.perf_counter()
    size = work()  # type: ignore[operator]
    seconds = time.perf_counter() - start
    return (_rss_kb(pid, "VmHWM") - before) / 1024, seconds, size / 1e6


def _download(http: httpx.Client, **params: str) -> int:
    size = 0
    with http.stream("GET", f"{URL}/export", params=params) as answer:
        answer.raise_for_status()
        for chunk in answer.iter_bytes():
            size += len(chunk)
    return size


NAIVE = textwrap.dedent(
    """
    import io, sys, time
    from pathlib import Path
    import pyarrow.parquet as pq
    from warehouse import duck

    def kb(field):
        line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(field + ":"))
        return int(line.split()[1])

    con = duck.connect(sys.argv[1], read_only=True, extensions=())
    con.execute("SET enable_progress_bar = false")  # its bar would share stdout with the figures
    sql = open(sys.argv[2]).read()
    Path("/proc/self/clear_refs").write_text("5")
    base = kb("VmRSS")
    start = time.perf_counter()
    buf = io.BytesIO()
    pq.write_table(con.execute(sql).to_arrow_table(), buf, compression="zstd")
    took = time.perf_counter() - start
    print((kb("VmHWM") - base) / 1024, took, len(buf.getvalue()) / 1e6)
    """
)


def run(rows: int) -> str:
    from access import pseudonym
    from access.policy import policy_for
    from access.query import Release
    from catalog import service
    from exchange import changes, versions
    from warehouse import duck, serving, tables

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(home=root / "hub")
        settings.ensure_dirs()
        db.migrate(settings.db_url)
        _publish(settings, "v1.csv", rows)
        _publish(settings, "v2.csv", rows + rows // 100)  # the same people and 1 % more
        with db.session(settings.db_url) as s:
            steward = clients.ensure_client(s, "bench-steward", role="steward")
            key = clients.issue_key(s, steward)
            ds = service.dataset(s, DATASET)
            contract = model.find(settings.contracts_dir, DATASET)
            policy = policy_for(steward, ds, contract)
            old, new = versions.resolve(ds, "1"), versions.resolve(ds, None)
            secret = pseudonym.secret(settings, steward.id, DATASET)
        sql, _ = Release(policy, policy.columns).sql(extra=[pseudonym.key_sql(policy, contract, secret)])
        copy = serving.current(settings.serving_dir, DATASET).path
        street = "110101001"

        env = {**os.environ, "HUB_HOME": str(settings.resolved_home), "HUB_API_PORT": "8766"}
        exe = str(Path(sys.executable).with_name("hub"))
        server = subprocess.Popen([exe, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lines: list[str] = []
        try:
            http = httpx.Client(base_url="http://127.0.0.1:8766", headers={"X-API-Key": key}, timeout=600)
            deadline = time.monotonic() + 60
            while True:
                try:
                    http.get(f"{URL}/records", params={"limit": 1}).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            _download(http, format="parquet", street_code=street)  # warm: connections, extensions
            small = _peak_growth_mb(server.pid, lambda: _download(http, format="parquet", street_code=street))
            whole = {
                fmt: _peak_growth_mb(server.pid, lambda fmt=fmt: _download(http, format=fmt))
                for fmt in ("parquet", "csv", "jsonl", "arrow")
            }

            def feed() -> int:
                answer = http.get(f"{URL}/changes", params={"since": "1", "format": "parquet"})
                answer.raise_for_status()
                return len(answer.content)

            change = _peak_growth_mb(server.pid, feed)
        finally:
            server.terminate()
            server.wait(timeout=30)

        query = root / "export.sql"
        query.write_text(sql, encoding="utf-8")
        naive = (
            subprocess.run(
                [sys.executable, "-c", NAIVE, str(copy), str(query)], capture_output=True, text=True, check=True
            )
            .stdout.strip()
            .splitlines()[-1]
            .split()
        )
        naive_mb, naive_s = float(naive[0]), float(naive[1])

        con = duck.connect(copy, read_only=True, extensions=())
        start = time.perf_counter()
        con.execute(f"COPY ({sql}) TO '{root / 'floor.parquet'}' (FORMAT parquet, COMPRESSION zstd)")
        floor = time.perf_counter() - start
        con.close()

        scan = changes.connect(settings, contract)
        cat = tables.catalog(settings.warehouse_dir)
        start = time.perf_counter()
        for at in (old, new):
            source, params = tables.duckdb_source(cat, contract, at.snapshot_id)
            scan.execute(f"SELECT sum(hash(*COLUMNS(*))::HUGEINT) FROM {source}", params).fetchall()
        read_both = time.perf_counter() - start
        scan.close()

    total = rows + rows // 100
    lines += [
        f"Rows: {total:,} residents (version 2; version 1 has {rows:,}); one `hub serve` process; "
        f"a steward's export (default release: masks applied, `_key` added).",
        "",
        "| export | server peak RSS growth MB | seconds | MB sent |",
        "|---|---:|---:|---:|",
        f"| one street, Parquet ({street}) | {small[0]:.0f} | {small[1]:.2f} | {small[2]:.1f} |",
        *(f"| whole version, {fmt} | {g[0]:.0f} | {g[1]:.2f} | {g[2]:.1f} |" for fmt, g in whole.items()),
        f"| naive baseline: whole result as one Arrow table, Parquet in memory | {naive_mb:.0f} | {naive_s:.2f} | |",
        "",
        f"Memory: the whole-version Parquet export grew the server by {whole['parquet'][0]:.0f} MB against "
        f"{small[0]:.0f} MB for one street ({whole['parquet'][0] / max(small[0], 1):.1f}x for "
        f"~{total // 17:,} vs {total:,} rows) and against {naive_mb:.0f} MB for the naive way "
        f"({whole['parquet'][0] / max(naive_mb, 1):.2f}x of it).",
        "",
        f"Time: the Parquet export over HTTP took {whole['parquet'][1]:.2f} s against {floor:.2f} s for DuckDB's own "
        f"`COPY … TO parquet` of the same query on the same copy ({whole['parquet'][1] / floor:.2f}x the floor).",
        f"Change feed version 1 → 2 ({rows // 100:,} rows added), Parquet over HTTP: {change[1]:.2f} s, peak growth "
        f"{change[0]:.0f} MB; reading every column of both Iceberg snapshots once: {read_both:.2f} s "
        f"({change[1] / read_both:.2f}x that floor).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    print(run(args.rows))


if __name__ == "__main__":
    main()
