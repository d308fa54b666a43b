"""Cross-batch duplicate keys found from MD5 digests agree with a plain dict of the keys."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pyarrow as pa

from ingest.keys import SeenKeys


def _by_dict(batches: list[pa.Table], columns: list[str]) -> list[tuple[int, int]]:
    seen: dict[Any, int] = {}
    found = []
    offset = 0
    for table in batches:
        values = [table.column(c).to_pylist() for c in columns]
        first_here: dict[Any, int] = {}
        for i, key in enumerate(zip(*values, strict=True)):
            if None in key:
                continue
            if key in seen:
                found.append((offset + i, seen[key]))
            else:
                first_here.setdefault(key, offset + i)
        seen.update(first_here)
        offset += table.num_rows
    return found


def _by_digests(batches: list[pa.Table], columns: list[str]) -> list[tuple[int, int]]:
    seen = SeenKeys(columns)
    found = []
    offset = 0
    try:
        for table in batches:
            rows, hi, lo = seen.digests(table)
            earlier = seen.find(hi, lo)
            repeated = earlier >= 0
            seen.add(hi[~repeated], lo[~repeated], rows[~repeated] + offset)
            found += [(offset + int(i), int(e)) for i, e in zip(rows[repeated], earlier[repeated], strict=True)]
            offset += table.num_rows
    finally:
        seen.close()
    return found


def test_one_column_keys_with_nulls_and_repeats_inside_and_across_batches() -> None:
    rng = random.Random(3)
    batches = [
        pa.table({"k": [rng.choice([None, *map(str, range(400))]) for _ in range(rng.randint(50, 300))]})
        for _ in range(12)
    ]
    expected = _by_dict(batches, ["k"])
    assert len(expected) > 500
    assert _by_digests(batches, ["k"]) == expected


def test_compound_keys_do_not_run_parts_together() -> None:
    first = pa.table({"a": ["x|y", "x", None, "p"], "b": ["z", "y|z", "q", "q"]})
    second = pa.table({"a": ["x", "x|y", "p", "p"], "b": ["y|z", "z", "q", None]})
    found = _by_digests([first, second], ["a", "b"])
    assert found == _by_dict([first, second], ["a", "b"]) == [(4, 1), (5, 0), (6, 3)]


def test_typed_keys_and_many_batches_merge_runs() -> None:
    rng = np.random.default_rng(5)
    batches = [pa.table({"n": pa.array(rng.integers(0, 3000, 200), pa.int64())}) for _ in range(40)]
    assert _by_digests(batches, ["n"]) == _by_dict(batches, ["n"])
