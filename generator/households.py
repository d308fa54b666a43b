"""Generate the civil-affairs bureau's export of family households, one row per member.

Members are the people of :mod:`generator.population`: the same ID numbers, addresses and work
grids the public-security residents export lists. Each household has exactly one head (GB/T 4761
code 02) and lives in one grid. Faults: a wrong ID check digit, a relationship code GB/T 4761 does
not have, a missing address, a grid code that lost a digit, the same member listed twice.

Written batch by batch like the residents export (a household never straddles two batches), so
the number of member rows need not be known before the file is written.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator import faults, population
from generator.export import CsvStream, Manifest, Progress, Record
from generator.population import IntArray, People, Population, Text

DATASET = "population.households"
FAULTS = ("bad_check_digit", "unknown_relationship", "missing_address", "bad_grid_code", "duplicate_member")
UNKNOWN_RELATIONSHIPS = ("00", "13", "19", "98")


def records(pop: Population) -> list[Record]:
    return [
        {
            "household_no": home.number,
            "id_number": p.id_number,
            "relationship": p.relationship,
            "address": home.address,
            "grid_code": home.grid_code,
        }
        for home in pop.households
        for p in home.members
    ]


@dataclass(frozen=True)
class _Member:
    """The last good row so far (ID number and household): what a ``duplicate_member`` fault repeats."""

    key17: int
    check: int
    grid: int
    household: int


def _columns(
    p: People, text: Text, rng: np.random.Generator, where: IntArray, kinds: IntArray, last: _Member | None
) -> tuple[dict[str, pa.Array], _Member | None]:
    """The member rows of a batch with the planned faults, and the last good row (for the next batch)."""
    rows = np.flatnonzero(p.household > 0)
    n = len(rows)
    key17, check = p.key17[rows], p.check[rows].copy()
    home_grid, household = p.grid[rows], p.household[rows].copy()
    hh_grid = home_grid.copy()
    at = {kind: where[kinds == i] for i, kind in enumerate(FAULTS)}
    bad = at["bad_check_digit"]
    check[bad] = (check[bad] + rng.integers(1, 11, size=len(bad))) % 11
    good = np.ones(n, dtype=bool)
    good[where] = False
    goods = np.flatnonzero(good)
    dup = at["duplicate_member"]
    before = np.searchsorted(goods, dup) - 1
    if len(dup):
        here = before >= 0  # a good row of this batch before it, else the last good row of the batches before
        source = goods[np.maximum(before, 0)] if len(goods) else np.zeros_like(dup)
        prev = last or _Member(0, 0, 0, 0)  # the first row is never spoiled, so a first batch has a good row
        key17[dup] = np.where(here, key17[source], prev.key17)
        check[dup] = np.where(here, check[source], prev.check)
        hh_grid[dup] = np.where(here, hh_grid[source], prev.grid)
        household[dup] = np.where(here, household[source], prev.household)
    if len(goods):
        g = goods[-1]
        last = _Member(int(key17[g]), int(check[g]), int(hh_grid[g]), int(household[g]))

    relationship = text.relationship(p.relationship[rows])
    unknown = at["unknown_relationship"]
    if len(unknown):
        mask = np.zeros(n, dtype=bool)
        mask[unknown] = True
        choice = text.take(UNKNOWN_RELATIONSHIPS, rng.integers(0, len(UNKNOWN_RELATIONSHIPS), size=len(unknown)))
        relationship = pc.replace_with_mask(relationship, pa.array(mask), choice)
    no_address = np.zeros(n, dtype=bool)
    no_address[at["missing_address"]] = True
    short_grid = np.zeros(n, dtype=bool)
    short_grid[at["bad_grid_code"]] = True
    address = text.address(p).take(pa.array(rows))
    grids = text.grid(home_grid)
    columns = {
        "household_no": text.household_no(hh_grid, household),
        "id_number": text.id_number(key17, check),
        "relationship": relationship,
        "address": pc.if_else(pa.array(no_address), text.const("", n), address),
        "grid_code": pc.if_else(pa.array(short_grid), pc.binary_slice(grids, 0, -1), grids),
    }
    return columns, last


def export(
    out: Path,
    pop: Population | Iterable[People],
    *,
    bad_share: float,
    rng: random.Random | np.random.Generator,
    encoding: str = "gb18030",
    progress: Progress | None = None,
) -> Manifest:
    """Write the family-household members of ``pop`` (a population or its batches) with planned faults."""
    parts = pop.parts if isinstance(pop, Population) else pop
    draw = population.numpy_rng(rng)
    planner = faults.Planner(bad_share, FAULTS, draw)
    text = Text(encoding)
    last: _Member | None = None
    people = 0
    with CsvStream(out, DATASET, encoding) as stream:
        for part in parts:
            members = int(np.count_nonzero(part.household))
            columns, last = _columns(part, text, draw, *planner.next(members), last)
            if members:
                stream.write(columns)
            people += len(part)
            if progress is not None:
                progress(people)
    return Manifest(out, stream.rows, encoding, stream.rows - len(planner.rows), planner.rows)


def generate(
    out: Path,
    *,
    rows: int = 3000,
    bad_share: float = 0.05,
    seed: int = 20261031,
    encoding: str = "gb18030",
    progress: Progress | None = None,
    batch_rows: int = population.BATCH_ROWS,
) -> Manifest:
    """Write the family households of a population of ``rows`` residents (fewer member rows: some people
    live in collective quarters). The same ``rows``, ``seed`` and ``batch_rows`` give
    :func:`generator.residents.generate`'s people."""
    people = population.batches(rows, faults.numpy_stream(seed, "population"), batch_rows)
    return export(
        out, people, bad_share=bad_share, rng=faults.numpy_stream(seed, DATASET), encoding=encoding, progress=progress
    )
