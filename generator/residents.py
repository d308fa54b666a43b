"""Generate the public-security department's resident-population export.

The export looks like what departments really send: CSV in GB18030 or UTF-8 with a BOM,
Chinese headers, ID numbers whose check digit, birth date and sex agree with the other columns,
Dongcheng street and community codes, occasional full-width digits and Chinese date spellings
(which standardization repairs), and a configurable share of bad rows of realistic kinds.
Seeded: the same arguments give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from generator import geography
from generator.export import ENCODINGS, Manifest, write_csv
from generator.names import GIVEN_CHARS, LANES, MOBILE_PREFIXES, SURNAME_WEIGHTS, SURNAMES
from standards import gb11643, tables

FAULTS = ("bad_check_digit", "unknown_street", "duplicate_id", "missing_name", "future_birth_date")
EXPORT_DATE = dt.date(2026, 10, 31)


class _People:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.streets = tables.load("dongcheng_streets").to_pylist()
        communities = tables.load("dongcheng_communities").to_pylist()
        self.communities = {s["code"]: [c for c in communities if c["parent_code"] == s["code"]] for s in self.streets}
        counties = [
            r["code"]
            for r in tables.load("gbt2260_divisions").to_pylist()
            if r.get("level") == "county" and not r.get("valid_to")
        ]
        self.elsewhere = [c for c in counties if not c.startswith("11")] or counties
        self.ethnic = [r["code"] for r in tables.load("gbt3304_ethnicity").to_pylist()]
        self.used: set[str] = set()

    def birthplace(self, born: dt.date) -> str:
        roll = self.rng.random()
        if roll < 0.6:
            return "110101"
        if roll < 0.7 and born.year < 2010:
            return "110103"  # 崇文区, merged into 东城区 in 2010: still on the cards of people born before
        return self.rng.choice(self.elsewhere)

    def id_number(self, born: dt.date, sex: str) -> str:
        while True:
            seq = self.rng.randrange(0, 1000)
            if (seq % 2 == 1) != (sex == "1"):
                seq = (seq + 1) % 1000
            first17 = f"{self.birthplace(born)}{born:%Y%m%d}{seq:03d}"
            number = first17 + gb11643.check_char(first17)
            if number not in self.used:
                self.used.add(number)
                return number

    def name(self) -> str:
        surname = self.rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
        return surname + "".join(self.rng.choice(GIVEN_CHARS) for _ in range(self.rng.choice((1, 2, 2))))

    def row(self) -> dict[str, str]:
        rng = self.rng
        born = EXPORT_DATE - dt.timedelta(days=rng.randrange(0, 95 * 365))
        sex = rng.choice("12")
        street = rng.choice(self.streets)
        community = rng.choice(self.communities[street["code"]])
        grid = rng.choice(geography.grids_by_community()[community["code"]])
        registered = born + dt.timedelta(days=rng.randrange(0, (EXPORT_DATE - born).days + 1))
        ethnic = "01" if rng.random() < 0.95 else rng.choice(self.ethnic)
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}" if rng.random() < 0.85 else ""
        street_name = street["name"].removesuffix("街道")
        address = (
            f"北京市东城区{street_name}街道{rng.choice(LANES)}{rng.randrange(1, 120)}号"
            f"{rng.randrange(1, 8)}号楼{rng.randrange(1, 6)}单元{rng.randrange(1, 7)}0{rng.randrange(1, 5)}"
        )
        return {
            "id_number": self.id_number(born, sex),
            "name": self.name(),
            "sex": sex,
            "birth_date": born.isoformat(),
            "ethnicity": ethnic,
            "phone": phone,
            "street_code": street["code"],
            "community_code": community["code"],
            "grid_code": grid.code,
            "address": address,
            "registered_on": registered.isoformat(),
        }


def _quirks(row: dict[str, str], rng: random.Random) -> None:
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


def _fault(kind: str, row: dict[str, str], people: _People, earlier: list[dict[str, str]]) -> None:
    rng = people.rng
    if kind == "bad_check_digit":
        right = row["id_number"][-1]
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
        row["birth_date"] = born.isoformat()
        row["id_number"] = people.id_number(born, row["sex"])


def generate(
    out: Path, *, rows: int = 3000, bad_share: float = 0.05, seed: int = 20261031, encoding: str = "gb18030"
) -> Manifest:
    """Write the export to ``out`` and return the manifest of good and bad rows."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}")
    rng = random.Random(seed)
    people = _People(rng)
    n_bad = round(rows * bad_share)
    bad_at = set(rng.sample(range(1, rows), min(n_bad, rows - 1))) if n_bad else set()
    manifest = Manifest(out, rows, encoding, rows - len(bad_at))
    records: list[dict[str, str]] = []
    good: list[dict[str, str]] = []
    for i in range(rows):
        row = people.row()
        _quirks(row, rng)
        if i in bad_at:
            kind = FAULTS[len(manifest.bad_rows) % len(FAULTS)]
            _fault(kind, row, people, good)
            manifest.bad_rows[i + 2] = kind
        else:
            good.append(row)
        records.append(row)
    write_csv(out, "population.residents", records, encoding)
    return manifest
