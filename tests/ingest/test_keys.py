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


def test_digests_are_the_two_halves_of_each_keys_md5() -> None:
    import duckdb

    table = pa.table({"k": ["110101199003078515", "a", None, "名字"]})
    seen = SeenKeys(["k"])
    try:
        rows, hi, lo = seen.digests(table)
    finally:
        seen.close()
    con = duckdb.connect()
    want = [
        con.execute("SELECT md5_number_upper(?), md5_number_lower(?)", [k, k]).fetchone()
        for k in ("110101199003078515", "a", "名字")
    ]
    assert rows.tolist() == [0, 1, 3]
    assert list(zip(hi.tolist(), lo.tolist(), strict=True)) == [tuple(w) for w in want if w]


def test_keys_sharing_an_upper_half_are_told_apart_across_merged_runs() -> None:
    """Runs are ordered by the upper half only: keys sharing it (forced here, by chance ~never)
    are found by their lower half, whatever order probes and merges put them in."""
    rng = np.random.default_rng(11)
    seen = SeenKeys(["k"])
    expected: dict[tuple[int, int], int] = {}
    try:
        for batch in range(30):
            hi = rng.integers(0, 50, 400).astype(np.uint64)  # few upper halves: many shared
            lo = rng.integers(0, 40, 400).astype(np.uint64)
            rows = np.arange(400, dtype=np.int64) + batch * 400
            earlier = seen.find(hi, lo)
            want = [expected.get((h, low), -1) for h, low in zip(hi.tolist(), lo.tolist(), strict=True)]
            assert earlier.tolist() == want
            fresh = earlier < 0
            seen.add(hi[fresh], lo[fresh], rows[fresh])
            for h, low, r in zip(hi[fresh].tolist(), lo[fresh].tolist(), rows[fresh].tolist(), strict=True):
                expected.setdefault((h, low), r)
        assert len(seen._runs) < 30, "runs were merged"
    finally:
        seen.close()
