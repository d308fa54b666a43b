"""Benchmark: GB 11643 ID-number check on 1M rows, vectorized vs a per-row loop.

Prints a markdown table (for docs/benchmarks.md). Run from the repository root:

    .venv/bin/python bench/bench_standards.py [--rows 1000000] [--repeat 3]

The baseline is the pure-Python validator (``gb11643.validate``) called once
per row, measured in the same run on the same data; the "speed-up" column is
baseline time / method time.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402

from standards import gb11643, gbt2260  # noqa: E402

TODAY = datetime.date(2025, 6, 1)
INVALID_SHARE = 0.05


def generate(rows: int, seed: int = 11643) -> pa.Array:
    """``rows`` unique-ish ID numbers (vectorized), ~5% with one digit changed."""
    rng = np.random.default_rng(seed)
    counties = np.array(
        [int(c) for c, d in gbt2260.divisions().items() if d.level == "county" and d.current], dtype=np.int64
    )
    start = np.datetime64("1930-01-01")
    born = start + rng.integers(0, (np.datetime64(TODAY) - start).astype(int), rows)
    ymd = np.char.replace(np.datetime_as_string(born, unit="D"), "-", "").astype(np.int64)
    number = rng.choice(counties, rows) * 10**11 + ymd * 1000 + rng.integers(0, 1000, rows)
    digits = (number[:, None] // 10 ** np.arange(16, -1, -1)) % 10
    check = np.frombuffer(b"10X98765432", dtype=np.uint8)[(digits @ np.array(gb11643.WEIGHTS)) % 11]
    matrix = np.concatenate([(digits + 48).astype(np.uint8), check[:, None]], axis=1)
    broken = rng.random(rows) < INVALID_SHARE
    position = rng.integers(0, 17, rows)
    rows_broken = np.flatnonzero(broken)
    old = matrix[rows_broken, position[rows_broken]]
    matrix[rows_broken, position[rows_broken]] = 48 + (old - 48 + 1 + rng.integers(0, 9, len(rows_broken))) % 10
    offsets = pa.py_buffer(np.arange(0, 18 * rows + 1, 18, dtype=np.int32).tobytes())
    return pa.Array.from_buffers(pa.string(), rows, [None, offsets, pa.py_buffer(matrix.tobytes())])


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def loop(values: list[str]) -> np.ndarray:
    return np.array([gb11643.validate(v, today=TODAY).ok for v in values])


def gx_batch(frame: pd.DataFrame) -> Any:
    """A GX batch over the frame (ephemeral context, as the pipeline makes one)."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    return (
        context.data_sources.add_pandas("bench")
        .add_dataframe_asset("ids")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )


def run(rows: int, repeat: int) -> str:
    values = generate(rows)
    as_list = values.to_pylist()
    frame = pd.DataFrame({"id": values.to_pandas()})
    gb11643.valid_mask(values[:10], today=TODAY)  # build the division lookup outside the timings

    loop_s, expected = best_of(1, lambda: loop(as_list))
    arrow_s, mask = best_of(repeat, lambda: gb11643.valid_mask(values, today=TODAY))
    pandas_s, mask_pd = best_of(repeat, lambda: gb11643.valid_mask(frame["id"], today=TODAY))
    from standards.expectations import ExpectColumnValuesToBeValidGb11643

    batch = gx_batch(frame)
    expectation = ExpectColumnValuesToBeValidGb11643(column="id")
    gx_s, result = best_of(1, lambda: batch.validate(expectation, result_format="COMPLETE"))
    assert np.array_equal(mask, expected) and np.array_equal(mask_pd, expected), "vectorized != loop"
    invalid = int((~expected).sum())
    assert result.result["unexpected_count"] == invalid, "GX count != loop"

    lines = [
        f"GB 11643 check, {rows:,} rows ({invalid:,} invalid); Python {platform.python_version()},"
        f" numpy {np.__version__}, pyarrow {pa.__version__}, pandas {pd.__version__}, {os.cpu_count()} CPUs."
        " Best of "
        f"{repeat} for the vectorized rows; the loop and GX rows ran once (GX: `batch.validate` only,"
        " context set-up excluded).",
        "",
        "| method | seconds | rows/s | speed-up vs loop |",
        "|---|---:|---:|---:|",
    ]
    for name, seconds in [
        ("pure-Python loop, `gb11643.validate` per row (baseline)", loop_s),
        ("vectorized `gb11643.valid_mask`, Arrow array", arrow_s),
        ("vectorized `gb11643.valid_mask`, pandas column", pandas_s),
        ("GX `ExpectColumnValuesToBeValidGb11643`, pandas, result_format COMPLETE", gx_s),
    ]:
        lines.append(f"| {name} | {seconds:.3f} | {rows / seconds:,.0f} | {loop_s / seconds:.1f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(run(args.rows, args.repeat))


if __name__ == "__main__":
    main()
