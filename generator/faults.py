"""Which records of an export carry a fault, and spoiling them.

A fault plan is decided before anything is written (record index → fault kind), so a dataset
that others refer to (buildings) can tell the others which of its records will be rejected.
Kinds take turns in record order, so every kind appears once there are as many bad rows as kinds.
The first record is never spoiled: a duplicate needs an earlier good record to copy.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Record = dict[str, Any]
Spoiler = Callable[[str, Record, list[Record]], None]
"""Turn a record (a copy) into a faulty one of the given kind; the list holds earlier good records."""


def stream(seed: int, part: str) -> random.Random:
    """An independent random stream per part of the world, so a part is the same however many others are built."""
    return random.Random(f"{seed}/{part}")


def plan(
    n: int, share: float, rng: random.Random, kinds: Sequence[str], protected: Collection[int] = ()
) -> dict[int, str]:
    """Record index → fault kind for ``round(n * share)`` records (never index 0 nor a protected one)."""
    wanted = round(n * share)
    if not wanted or n < 2:
        return {}
    candidates: Sequence[int] = range(1, n)
    if protected:
        candidates = [i for i in candidates if i not in protected]
    chosen = sorted(rng.sample(candidates, min(wanted, len(candidates))))
    return {i: kinds[j % len(kinds)] for j, i in enumerate(chosen)}


def apply(records: Sequence[Record], faults: dict[int, str], spoil: Spoiler) -> list[Record]:
    """Copies of the records with the planned faults in place."""
    out: list[Record] = []
    good: list[Record] = []
    for i, record in enumerate(records):
        if i in faults:
            record = dict(record)
            spoil(faults[i], record, good)
        else:
            good.append(record)
        out.append(record)
    return out


def rows(faults: dict[int, str]) -> dict[int, str]:
    """Spreadsheet rows (header = row 1) of the planned faults."""
    return {i + 2: kind for i, kind in faults.items()}


def wrong_check_char(code: str, alphabet: str, rng: random.Random) -> str:
    """The code with its last (check) character replaced by another of the alphabet."""
    return code[:-1] + rng.choice([c for c in alphabet if c != code[-1]])


def numpy_stream(seed: int, part: str) -> np.random.Generator:
    """The numpy counterpart of :func:`stream`, for the generators that make their records in batches."""
    digest = hashlib.sha256(f"{seed}/{part}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


class Planner:
    """Fault plans batch by batch, for exports written as they are made (the total need not be known).

    After ``c`` records, ``min(round(c * share), c - 1)`` of them are faulty, as :func:`plan` would
    plan for ``c`` records: each batch gets what the running total asks for, chosen at random
    within the batch (never the very first record), and kinds take turns in record order.
    """

    def __init__(self, share: float, kinds: Sequence[str], rng: np.random.Generator):
        self.share, self.kinds, self.rng = share, tuple(kinds), rng
        self.seen = 0
        self.planned = 0
        self.rows: dict[int, str] = {}
        """Spreadsheet row (header = 1) → kind, as :func:`rows` gives for a whole plan."""

    def _wanted(self, records: int) -> int:
        return min(round(records * self.share), records - 1) if records >= 2 else 0

    def next(self, size: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Positions within the next batch of ``size`` records that carry a fault, and the kind index of each."""
        start, stop = self.seen, self.seen + size
        first = max(start, 1)
        need = min(self._wanted(stop) - self.planned, max(stop - first, 0))
        where = (
            np.sort(self.rng.choice(stop - first, size=need, replace=False)) + (first - start)
            if need
            else np.zeros(0, np.int64)
        )
        kinds = (self.planned + np.arange(need)) % len(self.kinds)
        self.rows.update(zip((where + start + 2).tolist(), (self.kinds[k] for k in kinds.tolist()), strict=True))
        self.seen, self.planned = stop, self.planned + need
        return where.astype(np.int64), kinds.astype(np.int64)
