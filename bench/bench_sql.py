"""Benchmark: analysts' SQL — the guard's overhead per query, and an aggregate over the whole
residents version through ``POST /api/v1/sql`` against the same query run directly in DuckDB on the
same serving copy (the floor), measured in the same run, alternating.

    .venv/bin/python -m bench.bench_sql [--rows 1000000] [--repeat 30]

Run alone, it replaces the "Analyst SQL" section of docs/benchmarks.md and leaves the rest.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import httpx

from bench import hubsetup
from bench.bench_serving import median_ms
from catalog import clients, db
from contracts import model
from hub.settings import Settings

DATASET = "population.residents"
TITLE = "Analyst SQL (access/sql/)"
OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
AGGREGATES = {
    "per street: rows, distinct grids, first registration": (
        "SELECT street_code, count(*) AS people, count(DISTINCT grid_code) AS grids, "
        "min(registered_on) AS first_registered FROM {table} GROUP BY street_code ORDER BY street_code"
    ),
    "per community and sex: rows, grids, registration span": (
        "SELECT street_code, community_code, sex, count(*) AS n, count(DISTINCT grid_code) AS grids, "
        "min(registered_on) AS first, max(registered_on) AS last FROM {table} GROUP BY ALL ORDER BY ALL"
    ),
    "per street: distinct registration days and grid × ethnicity mixes": (
        "SELECT street_code, count(DISTINCT registered_on) AS days, count(DISTINCT grid_code || ethnicity) AS mixes "
        "FROM {table} GROUP BY 1 ORDER BY 1"
    ),
}
"""Aggregates over the whole version, light to heavy, over fields the analyst receives in clear (a
masked field would cost its mask in the API and not in the floor); ``{table}`` is the dataset or the
copy's table."""
AGGREGATE = AGGREGATES["per street: rows, distinct grids, first registration"]
GUARDED = {
    "aggregate (above)": AGGREGATE.format(table=DATASET),
    "CTE + join + window": (
        "WITH s AS (SELECT street_code, grid_code, count(*) AS n FROM population.residents "
        "WHERE sex = '2' GROUP BY ALL) SELECT s.street_code, s.grid_code, s.n, "
        "rank() OVER (PARTITION BY s.street_code ORDER BY s.n DESC) AS r FROM s "
        "JOIN population.residents p ON p.grid_code = s.grid_code QUALIFY r <= 3 ORDER BY 1, 4"
    ),
    "masked fields selected": "SELECT id_number, name, birth_date, street_code FROM population.residents LIMIT 100",
    "refused (masked predicate)": "SELECT count(*) FROM population.residents WHERE id_number LIKE '110101%'",
    "postgres dialect": (
        "SELECT street_code, COUNT(*) AS n FROM population.residents GROUP BY street_code HAVING COUNT(*) > 10"
    ),
}


_publish = hubsetup.publish
_analyst = hubsetup.analyst


def guard_overhead(settings: Settings, repeat: int) -> list[tuple[str, float]]:
    """Median milliseconds of parse + check + rewrite, per query (the analyst's masks)."""
    from access import grants
    from access.policy import policy_for
    from access.sql import guard, taint
    from catalog import service

    with db.session(settings.db_url) as s:
        analyst = clients.client(s, "bench-analyst")
        ds = service.dataset(s, DATASET)
        contract = model.find(settings.contracts_dir, DATASET)
        policy = policy_for(analyst, ds, contract, grants.active(s, analyst, DATASET))
    masked = {DATASET: frozenset(c.name for c in policy.columns if c.masked)}

    def once(sql: str, dialect: str | None) -> None:
        try:
            parsed = guard.parse(sql, dialect)
            taint.check(parsed, masked)
            guard.rewrite(parsed)
        except guard.SqlRefused:
            pass

    results = []
    for name, sql in GUARDED.items():
        dialect = "postgres" if "postgres" in name else None
        results.append((name, median_ms(repeat, lambda: once(sql, dialect))))  # noqa: B023 - called at once
    return results


def run(rows: int, repeat: int = 30, home: Path | None = None) -> str:
    """Measure on the hub at ``home`` (built there if needed, see ``hubsetup.residents_hub``), or
    on one built in a temporary folder."""
    from warehouse import serving

    with tempfile.TemporaryDirectory() as tmp:
        settings = hubsetup.residents_hub(home or Path(tmp) / "hub", rows)
        key = _analyst(settings)
        guard = guard_overhead(settings, 300)
        copy = serving.current(settings.serving_dir, DATASET).path
        direct = duckdb.connect(str(copy), read_only=True, config={"threads": settings.sql_threads})
        server, url = hubsetup.serve(settings)
        try:
            http = httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=120)
            hubsetup.wait(http)
            timings = {name: _compare(http, direct, sql, repeat) for name, sql in AGGREGATES.items()}
        finally:
            hubsetup.stop(server)
            direct.close()
    return _report(rows, repeat, guard, timings, settings.sql_threads)


def _compare(http: httpx.Client, direct: duckdb.DuckDBPyConnection, sql: str, repeat: int) -> tuple[float, ...]:
    """Median ms of the query through the API (client side, and the server's elapsed_ms) and directly
    on the copy, run alternately."""
    from warehouse import serving

    body = {"sql": sql.format(table=DATASET)}
    floor_sql = sql.format(table=serving.TABLE)
    answer = http.post("/api/v1/sql", json=body)
    answer.raise_for_status()
    assert len(answer.json()["rows"]) == len(direct.execute(floor_sql).fetchall()), "both answer the same rows"
    api, inside, floor = [], [], []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = http.post("/api/v1/sql", json=body)
        api.append((time.perf_counter() - start) * 1000)
        inside.append(float(answer.json()["elapsed_ms"]))
        start = time.perf_counter()
        direct.execute(floor_sql).fetchall()
        floor.append((time.perf_counter() - start) * 1000)
    return statistics.median(floor), statistics.median(api), statistics.median(inside)


def _report(
    rows: int, repeat: int, guard: list[tuple[str, float]], timings: dict[str, tuple[float, ...]], threads: int
) -> str:
    worst = max(ms for _, ms in guard)
    fixed = statistics.median(api - floor for floor, api, _ in timings.values())
    lines = [
        f"Guard overhead: parse, check and rewrite of one query, median of 300 runs (target ≤ 2 ms; "
        f"{'met' if worst <= 2 else 'not met'}: {worst:.2f} ms at most). A query seen again skips parse "
        "and rewrite (a cache of the last 512).",
        "",
        "| query | guard ms |",
        "|---|---:|",
        *(f"| {name} | {ms:.2f} |" for name, ms in guard),
        "",
        f"Aggregates over {rows:,} residents with an analyst's grant (masked fields masked), median of {repeat} "
        f"runs each, the API and DuckDB alternating; DuckDB with {threads} threads both ways, one `hub serve` "
        "process. The floor is the same query run directly on the same serving copy.",
        "",
        "| aggregate | floor ms | `POST /api/v1/sql` ms | of which in the server ms | ratio (target ≤ 1.1x) |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {name} | {floor:.1f} | {api:.1f} | {inside:.1f} | {api / floor:.2f}x |"
            for name, (floor, api, inside) in timings.items()
        ),
        "",
        f"Each query pays about {fixed:.0f} ms above the floor whatever its size: HTTP and the key, the policy "
        "(catalogue, grants), the audit record committed before the answer, binding the policy view. So the "
        "target holds for aggregates of about ten times that and more, and not for the lightest ones.",
    ]
    return "\n".join(lines)


KEPT = "run on its own"
"""A ``###`` subsection whose heading says so holds figures of a run made apart from ``make bench``
(10M rows take longer than a ``make bench`` may): the next ``make bench`` keeps it, under the same
section, instead of dropping figures it does not measure itself."""


def kept_runs(text: str) -> dict[str, list[str]]:
    """The subsections of ``text`` (a benchmarks.md) to keep, by the title of their section."""
    kept: dict[str, list[str]] = {}
    for section in text.split("\n## ")[1:]:
        title = section.split("\n", 1)[0].strip()
        for sub in section.split("\n### ")[1:]:
            if KEPT in sub.split("\n", 1)[0]:
                kept.setdefault(title, []).append("### " + sub.strip())
    return kept


def write_section(text: str, out: Path = OUT, title: str = TITLE) -> None:
    """Replace (or append) one benchmark's section of docs/benchmarks.md, leaving the rest (a
    benchmark run alone updates its own figures) and the section's runs made on their own."""
    doc = out.read_text(encoding="utf-8") if out.exists() else "# Benchmarks\n"
    section = f"## {title}\n\n{text}\n" + "".join(f"\n{run}\n" for run in kept_runs(doc).get(title, []))
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(doc):
        doc = pattern.sub(lambda _: section + "\n", doc).rstrip("\n") + "\n"
    else:
        doc = doc.rstrip("\n") + "\n\n" + section
    out.write_text(doc, encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    result = run(args.rows, args.repeat)
    write_section(result)
    print(result)
