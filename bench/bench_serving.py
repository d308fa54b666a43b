"""Benchmark: an API page and a key lookup on the serving copy vs DuckDB over the Parquet files.

The baseline is what a request would cost without serving copies: DuckDB scanning the
dataset's Parquet. Both are measured in the same run on the same data.

    .venv/bin/python -m bench.bench_serving [--rows 200000] [--repeat 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from access.policy import Column
from contracts import disclosure, model
from generator.residents import generate
from hub.settings import get_settings
from ingest.read import read_file
from ingest.standardize import standardize
from warehouse import duck, serving


def median_ms(repeat: int, fn: Callable[[], object]) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(rows: int, repeat: int) -> str:
    contract = model.find(get_settings().contracts_dir, "population.residents")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        manifest = generate(root / "export.csv", rows=rows, bad_share=0.0, seed=99)
        table = standardize(read_file(manifest.path, contract).table, contract).table
        parquet = root / "data.parquet"
        pq.write_table(table.take(list(range(rows))[::-1]), parquet, row_group_size=122_880)
        copy = serving.build(root / "serving", contract, table, snapshot_id=1, version=1)
        key = table.column("id_number")[rows // 2].as_py()
        released = disclosure.releases(contract)
        cols = ", ".join(Column(contract.field(name), how).sql() for name, how in released.items())
        lake = duck.connect(extensions=())
        store = serving.Store(root / "serving")
        _, cur = store.cursor(contract.id)
        page_sql = f"SELECT {cols} FROM {{src}} WHERE street_code = '110101003' ORDER BY id_number LIMIT 100"
        key_sql = f"SELECT {cols} FROM {{src}} WHERE id_number = ?"
        src = f"read_parquet('{parquet}')"
        results = [
            (
                "first page of 100 (filter street)",
                lambda: lake.execute(page_sql.format(src=src)).fetchall(),
                lambda: cur.execute(page_sql.format(src=serving.TABLE)).fetchall(),
            ),
            (
                "lookup by primary key",
                lambda: lake.execute(key_sql.format(src=src), [key]).fetchall(),
                lambda: cur.execute(key_sql.format(src=serving.TABLE), [key]).fetchall(),
            ),
        ]
        lines = [
            f"Rows: {rows:,} residents; median of {repeat} runs; masked columns as the API returns them.",
            f"Serving copy: {copy.path.stat().st_size / 1e6:.1f} MB; Parquet: {parquet.stat().st_size / 1e6:.1f} MB.",
            "",
            "| query | DuckDB over Parquet (baseline) ms | serving copy ms | speed-up |",
            "|---|---:|---:|---:|",
        ]
        for name, base, fast in results:
            b, f = median_ms(repeat, base), median_ms(repeat, fast)
            lines.append(f"| {name} | {b:.2f} | {f:.2f} | {b / f:.1f}x |")
        store.close()
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    print(run(args.rows, args.repeat))


if __name__ == "__main__":
    main()
