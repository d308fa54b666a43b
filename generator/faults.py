"""Which records of an export carry a fault, and spoiling them.

A fault plan is decided before anything is written (record index → fault kind), so a dataset
that others refer to (buildings) can tell the others which of its records will be rejected.
Kinds take turns in record order, so every kind appears once there are as many bad rows as kinds.
The first record is never spoiled: a duplicate needs an earlier good record to copy.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Sequence
from typing import Any

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
