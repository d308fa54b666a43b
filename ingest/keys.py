"""Primary keys seen in the earlier batches of a file, in memory that does not grow with Python objects.

A duplicate key inside one batch is found by GX (``expect_column_values_to_be_unique``); a key that
repeats one of an earlier batch is found here. Holding every key of a 10M-row file as Python
objects in a dict would take about 2 GB, so each key is kept as its 128-bit MD5 (two ``uint64``,
computed by DuckDB over the batch) plus the index of the row it first appeared at: 24 bytes a key,
in NumPy runs sorted by the upper half, merged as they grow (a log-structured merge: each key is re-merged
O(log n) times) up to :data:`RUN_MAX` keys, so a merge never copies more than that at once. Two
distinct keys sharing an MD5 is a chance of about 1e-25 for 10M keys; the hub treats an equal
digest as an equal key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa

from warehouse.duck import quote

LOW_64 = "18446744073709551615::UHUGEINT"
"""2**64 - 1: the low half of a 128-bit digest."""
RUN_MAX = 2_000_000
"""Keys in one run at most: merging bigger runs would hold two copies of most of the keys at once."""


@dataclass
class _Run:
    hi: np.ndarray
    lo: np.ndarray
    first: np.ndarray

    def __len__(self) -> int:
        return len(self.hi)


def _merge(a: _Run, b: _Run) -> _Run:
    """One run of two: a stable sort of two sorted runs back to back is a linear merge (timsort
    finds the two runs). A run is ordered by ``hi`` only; the rare keys sharing it are told apart
    by ``lo`` in :func:`_find`."""
    hi = np.concatenate([a.hi, b.hi])
    order = np.argsort(hi, kind="stable")
    return _Run(hi[order], np.concatenate([a.lo, b.lo])[order], np.concatenate([a.first, b.first])[order])


def _find(run: _Run, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Per probe, the first-row index of its key in ``run``, or -1. Probes sorted by ``hi`` are
    found an order of magnitude faster than in random order (the binary searches walk the run in
    step, in cache): :meth:`SeenKeys.find` sorts them once for all runs."""
    out = np.full(len(hi), -1, dtype=np.int64)
    if not len(run):
        return out
    left = np.searchsorted(run.hi, hi, side="left")
    right = np.searchsorted(run.hi, hi, side="right")
    span = right - left
    one = np.flatnonzero(span == 1)
    hit = one[run.lo[left[one]] == lo[one]]
    out[hit] = run.first[left[hit]]
    for i in np.flatnonzero(span > 1):  # two keys sharing the upper 64 bits: practically never
        lows = run.lo[left[i] : right[i]]
        match = np.flatnonzero(lows == lo[i])
        if len(match):
            out[i] = run.first[left[i] + match[0]]
    return out


@dataclass
class SeenKeys:
    """The keys of the batches checked so far, each with the index of the row it first appeared at."""

    columns: list[str]
    _runs: list[_Run] = field(default_factory=list)
    _con: duckdb.DuckDBPyConnection = field(default_factory=lambda: duckdb.connect(config={"threads": 1}))

    def digests(self, table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows of ``table`` whose key has no null part, and the two halves of each key's MD5.

        A compound key is hashed as its parts' lengths and texts, so ('a|b', 'c') and ('a', 'b|c')
        stay different keys."""
        parts = [f"CAST({quote(c)} AS VARCHAR)" for c in self.columns]
        if len(parts) == 1:
            text = parts[0]
        else:
            text = "concat(" + ", ".join(f"length({p}), ':', {p}" for p in parts) + ")"
        present = " AND ".join(f"{quote(c)} IS NOT NULL" for c in self.columns)
        batch = table.select(self.columns).append_column("__i", pa.array(np.arange(table.num_rows, dtype=np.int64)))
        self._con.register("batch", batch)
        try:
            # One MD5 per key, split in two (md5_number_upper and md5_number_lower would hash it
            # twice: four times slower). md5_number reads the digest little-endian, so its low 64
            # bits are md5_number_upper and its high 64 bits md5_number_lower.
            result = self._con.execute(
                f"SELECT i, CAST(h & {LOW_64} AS UBIGINT) AS hi, CAST(h >> 64 AS UBIGINT) AS lo "
                f"FROM (SELECT __i AS i, md5_number({text}) AS h FROM batch WHERE {present}) ORDER BY i"
            ).fetchnumpy()
        finally:
            self._con.unregister("batch")
        return (
            np.asarray(result["i"], dtype=np.int64),
            np.asarray(result["hi"], dtype=np.uint64),
            np.asarray(result["lo"], dtype=np.uint64),
        )

    def find(self, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        """Per key, the index of the row it first appeared at in an earlier batch, or -1."""
        order = np.argsort(hi)
        hi, lo = hi[order], lo[order]
        found = np.full(len(hi), -1, dtype=np.int64)
        for run in self._runs:
            found = np.where(found < 0, _find(run, hi, lo), found)
        out = np.empty_like(found)
        out[order] = found
        return out

    def add(self, hi: np.ndarray, lo: np.ndarray, rows: np.ndarray) -> None:
        """Remember keys (not seen before) with the index of their rows; a key repeated in the
        batch keeps its first row."""
        if not len(hi):
            return
        order = np.lexsort((rows, lo, hi))
        hi, lo, rows = hi[order], lo[order], rows[order]
        first = np.ones(len(hi), dtype=bool)
        first[1:] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])
        self._runs.append(_Run(hi[first], lo[first], rows[first]))
        while (
            len(self._runs) > 1
            and len(self._runs[-2]) <= 2 * len(self._runs[-1])
            and len(self._runs[-2]) + len(self._runs[-1]) <= RUN_MAX
        ):
            b, a = self._runs.pop(), self._runs.pop()
            self._runs.append(_merge(a, b))

    def close(self) -> None:
        self._con.close()
