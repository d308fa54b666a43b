"""Generate the civil-affairs bureau's export of family households, one row per member.

Members are the people of :mod:`generator.population`: the same ID numbers, addresses and work
grids the public-security residents export lists. Each household has exactly one head (GB/T 4761
code 02) and lives in one grid. Faults: a wrong ID check digit, a relationship code GB/T 4761 does
not have, a missing address, a grid code that lost a digit, the same member listed twice.
"""

from __future__ import annotations

import random
from pathlib import Path

from generator import faults, population
from generator.export import ENCODINGS, Manifest, NotSendable, Record, write_csv
from generator.population import Population

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


class _Spoiler:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def __call__(self, kind: str, row: Record, earlier: list[Record]) -> None:
        rng = self.rng
        if kind == "bad_check_digit":
            right = row["id_number"][-1]
            row["id_number"] = row["id_number"][:-1] + rng.choice([c for c in "0123456789X" if c != right])
        elif kind == "unknown_relationship":
            row["relationship"] = rng.choice(UNKNOWN_RELATIONSHIPS)
        elif kind == "missing_address":
            row["address"] = ""
        elif kind == "bad_grid_code":
            row["grid_code"] = row["grid_code"][:-1]
        elif kind == "duplicate_member":
            row["household_no"], row["id_number"] = earlier[-1]["household_no"], earlier[-1]["id_number"]


def export(out: Path, pop: Population, *, bad_share: float, rng: random.Random, encoding: str = "gb18030") -> Manifest:
    if encoding not in ENCODINGS:
        raise NotSendable(f"encoding must be one of {', '.join(ENCODINGS)}")
    rows = records(pop)
    planned = faults.plan(len(rows), bad_share, rng, FAULTS)
    write_csv(out, DATASET, faults.apply(rows, planned, _Spoiler(rng)), encoding)
    return Manifest(out, len(rows), encoding, len(rows) - len(planned), faults.rows(planned))


def generate(
    out: Path, *, rows: int = 3000, bad_share: float = 0.05, seed: int = 20261031, encoding: str = "gb18030"
) -> Manifest:
    """Write the family households of a population of ``rows`` residents (fewer member rows: some people
    live in collective quarters). The same ``rows`` and ``seed`` give :func:`generator.residents.generate`'s
    people."""
    pop = population.make(rows, faults.stream(seed, "population"))
    return export(out, pop, bad_share=bad_share, rng=faults.stream(seed, DATASET), encoding=encoding)
