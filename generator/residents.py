"""Generate the public-security department's resident-population export.

The export looks like what departments really send: CSV in GB18030 or UTF-8 with a BOM,
Chinese headers, ID numbers whose check digit, birth date and sex agree with the other columns,
Dongcheng street, community and work-grid codes, occasional full-width digits and Chinese date
spellings (which standardization repairs), and a configurable share of bad rows of realistic kinds.
The people are those of :mod:`generator.population`, so the civil-affairs households export of the
same population lists the same ID numbers in the same grids. Seeded: the same arguments give the
same bytes.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from generator import faults, population
from generator.export import ENCODINGS, Manifest, NotSendable, Record, write_csv
from generator.population import EXPORT_DATE, Person, Population
from standards import gb11643

__all__ = ["DATASET", "EXPORT_DATE", "FAULTS", "Manifest", "export", "generate", "records"]

DATASET = "population.residents"
FAULTS = ("bad_check_digit", "unknown_street", "duplicate_id", "missing_name", "future_birth_date")


def record(p: Person) -> Record:
    return {
        "id_number": p.id_number,
        "name": p.name,
        "sex": p.sex,
        "birth_date": p.birth_date.isoformat(),
        "ethnicity": p.ethnicity,
        "phone": p.phone,
        "street_code": p.street_code,
        "community_code": p.community_code,
        "grid_code": p.grid_code,
        "address": p.address,
        "registered_on": p.registered_on.isoformat(),
    }


def records(pop: Population) -> list[Record]:
    return [record(p) for p in pop.people]


def _quirks(row: Record, rng: random.Random) -> None:
    """Harmless spelling variants departments' systems produce; standardization repairs them."""
    roll = rng.random()
    if roll < 0.05:
        d = dt.date.fromisoformat(row["registered_on"])
        row["registered_on"] = f"{d.year}年{d.month}月{d.day}日"
    elif roll < 0.10:
        d = dt.date.fromisoformat(row["birth_date"])
        row["birth_date"] = f"{d.year}/{d.month}/{d.day}"
    elif roll < 0.12:
        row["id_number"] = row["id_number"].lower()
    elif roll < 0.14 and row["phone"]:
        row["phone"] = row["phone"].translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    if rng.random() < 0.03:
        row["name"] = f" {row['name']} "


class _Spoiler:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def __call__(self, kind: str, row: Record, earlier: list[Record]) -> None:
        rng = self.rng
        if kind == "bad_check_digit":
            right = row["id_number"][-1].upper()
            row["id_number"] = row["id_number"][:-1] + rng.choice([c for c in "0123456789X" if c != right])
        elif kind == "unknown_street":
            row["street_code"] = "110101" + rng.choice(("018", "050", "099"))
            row["community_code"] = row["street_code"] + "001"
        elif kind == "duplicate_id":
            row["id_number"] = rng.choice(earlier)["id_number"]
        elif kind == "missing_name":
            row["name"] = ""
        elif kind == "future_birth_date":
            born = EXPORT_DATE + dt.timedelta(days=rng.randrange(30, 3000))
            first17 = f"{row['id_number'][:6]}{born:%Y%m%d}{row['id_number'][14:17]}"
            row["birth_date"] = born.isoformat()
            row["id_number"] = first17 + gb11643.check_char(first17)


def export(out: Path, pop: Population, *, bad_share: float, rng: random.Random, encoding: str = "gb18030") -> Manifest:
    """Write the residents of ``pop`` with quirks and planned faults; ``rng`` decides both."""
    if encoding not in ENCODINGS:
        raise NotSendable(f"encoding must be one of {', '.join(ENCODINGS)}")
    rows = records(pop)
    for row in rows:
        _quirks(row, rng)
    planned = faults.plan(len(rows), bad_share, rng, FAULTS)
    write_csv(out, DATASET, faults.apply(rows, planned, _Spoiler(rng)), encoding)
    return Manifest(out, len(rows), encoding, len(rows) - len(planned), faults.rows(planned))


def generate(
    out: Path, *, rows: int = 3000, bad_share: float = 0.05, seed: int = 20261031, encoding: str = "gb18030"
) -> Manifest:
    """Write the export of a population of ``rows`` people to ``out``; the manifest names the bad rows.

    The same ``rows`` and ``seed`` give the population :func:`generator.households.generate` uses.
    """
    pop = population.make(rows, faults.stream(seed, "population"))
    return export(out, pop, bad_share=bad_share, rng=faults.stream(seed, DATASET), encoding=encoding)
