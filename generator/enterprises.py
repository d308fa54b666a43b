"""Generate the market-regulation bureau's export of legal entities registered in Dongcheng (XLSX).

Unified social credit codes are valid GB 32100 codes (with a valid embedded GB 11714
organization code), industries are GB/T 4754-2017 classes weighted toward a central district's
services, streets are Dongcheng's. Locations agree with the buildings register: about 60% of
units carry the 楼宇编码 of a commercial or mixed-use building and a geocoded point inside its
footprint, 25% only a point inside some building's footprint, 10% a point inside a work grid but
in no building, 5% no location at all; the registered street is the street of that location.
Units only point at buildings whose record the buildings export does not spoil.
Faults are those such exports carry: a wrong check character, an industry code that does not
exist, a missing name, a code registered twice, an establishment date in the future.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from generator import buildings as buildings_mod
from generator import faults, geography
from generator.buildings import Building
from generator.export import Manifest, NotSendable, Record, file_format, write
from generator.names import GIVEN_CHARS, LANES, SURNAME_WEIGHTS, SURNAMES
from generator.scale import Sizes
from standards import gb11714, gb32100, tables

DATASET = "legal_entity.enterprises"
FAULTS = ("bad_check_char", "unknown_industry", "missing_name", "duplicate_code", "future_established")
EXPORT_DATE = dt.date(2026, 10, 31)
KINDS = (("91", "有限责任公司", 0.80), ("92", "个体工商户", 0.12), ("12", "事业单位", 0.05), ("51", "社会团体", 0.03))
BRAND = "华信达通安泰恒远瑞丰博源中科京东方正德润嘉鸿盛和金宏"
SUFFIX = {"91": "有限公司", "92": "商店", "12": "中心", "51": "协会"}
TRADES = {
    "I": "科技",
    "F": "商贸",
    "H": "餐饮",
    "L": "商务咨询",
    "K": "置业",
    "M": "技术服务",
    "R": "文化传媒",
    "J": "投资",
}
SECTION_WEIGHTS = {"F": 20, "L": 18, "I": 12, "M": 10, "H": 8, "R": 6, "J": 5, "K": 5, "O": 4, "E": 3, "C": 2, "G": 2}
"""Relative weight of a division by its GB/T 4754 section: a central district is mostly services."""
STATUS = (("存续", 0.9), ("注销", 0.07), ("吊销", 0.03))
BUILDING_ID, POINT_IN_BUILDING, POINT_IN_GRID, UNMATCHED = (
    "building_id",
    "point_in_building",
    "point_in_grid",
    "unmatched",
)
PLACEMENT = ((BUILDING_ID, 0.60), (POINT_IN_BUILDING, 0.25), (POINT_IN_GRID, 0.10), (UNMATCHED, 0.05))
"""How a unit is located, named as derived.entity_location's 落位方式 would find it."""


@dataclass(frozen=True, slots=True)
class Enterprise:
    credit_code: str
    name: str
    legal_representative: str
    kind: str
    """GB 32100 authority + type characters: 91 enterprise, 92 sole trader, 12 public institution, 51 society."""
    unit_type: str
    industry_code: str
    registered_capital: float
    established_on: dt.date
    status: str
    street_code: str
    address: str
    building_id: str | None
    longitude: float | None
    latitude: float | None
    located_by: str

    @property
    def active(self) -> bool:
        return self.status == "存续"


@cache
def _street_names() -> dict[str, str]:
    return {r["code"]: r["name"] for r in tables.load("dongcheng_streets").to_pylist()}


def new_credit_code(kind: str, rng: random.Random, used: set[str]) -> str:
    """A valid, unused GB 32100 code registered in Dongcheng (110101); added to ``used``."""
    while True:
        body = "".join(rng.choice(string.digits + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
        first17 = kind + "110101" + body + gb11714.check_char(body)
        code = first17 + gb32100.check_char(first17)
        if code not in used:
            used.add(code)
            return code


@dataclass(frozen=True, slots=True)
class Place:
    street_code: str
    address: str
    building_id: str | None
    longitude: float | None
    latitude: float | None


class _Places:
    """Where units are: buildings the register keeps, and free ground in the grids."""

    def __init__(self, rng: random.Random, buildings: Sequence[Building], rejected: Collection[int]):
        self.rng = rng
        good = [b for i, b in enumerate(buildings) if i not in rejected]
        self.offices = [b for b in good if b.commercial] or good
        self.office_weights = [b.floor_area for b in self.offices]
        self.any = good
        self.footprints: dict[str, list[geography.Area]] = defaultdict(list)
        for b in buildings:
            self.footprints[b.grid_code].append(b.footprint)

    def in_building(self, b: Building, named: bool) -> Place:
        lon, lat = b.footprint.random_point(self.rng, margin=0.1)
        room = f"{self.rng.randint(1, b.floors)}{self.rng.randint(1, 30):02d}"
        address = f"{b.address}{b.name}{room}室" if named else f"{b.address}{room}室"
        return Place(b.grid_code[:9], address, b.building_id if named else None, lon, lat)

    def pick(self, method: str) -> Place:
        rng = self.rng
        if method == BUILDING_ID:
            return self.in_building(rng.choices(self.offices, weights=self.office_weights)[0], named=True)
        if method == POINT_IN_BUILDING:
            pool = self.offices if rng.random() < 0.85 else self.any
            return self.in_building(rng.choice(pool), named=False)
        lane = f"{rng.choice(LANES)}{rng.randrange(1, 200)}号"
        if method == POINT_IN_GRID:
            grid, lon, lat = self.free_point()
            street = grid.code[:9]
            return Place(street, f"北京市东城区{_street_names()[street]}{lane}", None, lon, lat)
        return Place(rng.choice(sorted(_street_names())), f"北京市东城区{lane}", None, None, None)

    def free_point(self) -> tuple[geography.Area, float, float]:
        """A point in a work grid at least ~0.1 m from every building footprint."""
        pad = 1e-6
        while True:
            grid = self.rng.choice(geography.grids())
            lon, lat = grid.random_point(self.rng)
            clear = all(
                not (f.west - pad <= lon <= f.east + pad and f.south - pad <= lat <= f.north + pad)
                for f in self.footprints[grid.code]
            )
            if clear:
                return grid, lon, lat


class _Units:
    def __init__(self, rng: random.Random, places: _Places):
        self.rng = rng
        self.places = places
        self.divisions = tables.load("gbt4754_divisions").to_pylist()
        self.division_weights = [SECTION_WEIGHTS.get(d["parent_code"], 0.3) for d in self.divisions]
        self.used: set[str] = set()

    def method(self) -> str:
        if not self.places.any:
            return POINT_IN_GRID if self.rng.random() < 0.9 else UNMATCHED
        return self.rng.choices([m for m, _ in PLACEMENT], weights=[w for _, w in PLACEMENT])[0]

    def unit(self) -> Enterprise:
        rng = self.rng
        kind, label, _ = rng.choices(KINDS, weights=[k[2] for k in KINDS])[0]
        division = rng.choices(self.divisions, weights=self.division_weights)[0]
        trade = TRADES.get(division["parent_code"], "实业")
        boss = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0] + "".join(rng.sample(GIVEN_CHARS, 2))
        method = self.method()
        place = self.places.pick(method)
        return Enterprise(
            credit_code=new_credit_code(kind, rng, self.used),
            name=f"北京{''.join(rng.sample(BRAND, 2))}{trade}{SUFFIX[kind]}",
            legal_representative=boss,
            kind=kind,
            unit_type=label,
            industry_code=f"{division['code']}{rng.randrange(1, 10)}{rng.randrange(0, 10)}",
            registered_capital=float(rng.choice((10, 50, 100, 200, 500, 1000, 5000)) * rng.randrange(1, 5)),
            established_on=EXPORT_DATE - dt.timedelta(days=rng.randrange(30, 30 * 365)),
            status=rng.choices([s for s, _ in STATUS], weights=[w for _, w in STATUS])[0],
            street_code=place.street_code,
            address=place.address,
            building_id=place.building_id,
            longitude=place.longitude,
            latitude=place.latitude,
            located_by=method,
        )


def make(n: int, rng: random.Random, buildings: Sequence[Building], rejected: Collection[int] = ()) -> list[Enterprise]:
    """``n`` units placed in ``buildings`` (never in the ``rejected`` ones' records) and the grids."""
    units = _Units(rng, _Places(rng, buildings, rejected))
    return [units.unit() for _ in range(n)]


def build(sizes: Sizes, seed: int, bad_share: float) -> list[Enterprise]:
    """The units of the world of ``sizes`` and ``seed`` (the buildings they sit in are built too)."""
    blds, rejected = buildings_mod.build(sizes, seed, bad_share)
    return make(sizes.enterprises, faults.stream(seed, "enterprises"), blds, rejected)


def record(e: Enterprise) -> Record:
    return {
        "credit_code": e.credit_code,
        "name": e.name,
        "legal_representative": e.legal_representative,
        "unit_type": e.unit_type,
        "industry_code": e.industry_code,
        "registered_capital": e.registered_capital,
        "established_on": e.established_on,
        "status": e.status,
        "street_code": e.street_code,
        "address": e.address,
        "building_id": e.building_id,
        "longitude": e.longitude,
        "latitude": e.latitude,
    }


class _Spoiler:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def __call__(self, kind: str, row: Record, earlier: list[Record]) -> None:
        rng = self.rng
        if kind == "bad_check_char":
            row["credit_code"] = faults.wrong_check_char(row["credit_code"], gb32100.ALPHABET, rng)
        elif kind == "unknown_industry":
            row["industry_code"] = "99" + row["industry_code"][2:]
        elif kind == "missing_name":
            row["name"] = None
        elif kind == "duplicate_code":
            row["credit_code"] = rng.choice(earlier)["credit_code"]
        elif kind == "future_established":
            row["established_on"] = EXPORT_DATE + dt.timedelta(days=rng.randrange(30, 900))


def export(
    out: Path, units: Sequence[Enterprise], *, bad_share: float, rng: random.Random, encoding: str = "utf-8-sig"
) -> Manifest:
    """XLSX unless ``out`` names a .csv file (then in ``encoding``). Extras: how each good row is located."""
    fmt = file_format(out, "xlsx")
    if fmt not in ("xlsx", "csv"):
        raise NotSendable(f"{DATASET} is sent as XLSX (or CSV), not {fmt}")
    planned = faults.plan(len(units), bad_share, rng, FAULTS)
    rows = faults.apply([record(e) for e in units], planned, _Spoiler(rng))
    used = write(out, DATASET, rows, fmt=fmt, encoding=encoding)
    located = {e.credit_code: e.located_by for i, e in enumerate(units) if i not in planned}
    extras = {"located_by": located, "placement": dict(Counter(located.values()))}
    return Manifest(out, len(rows), used, len(rows) - len(planned), faults.rows(planned), fmt, extras)


def generate(
    out: Path, *, rows: int = 2000, bad_share: float = 0.05, seed: int = 20261031, encoding: str = "utf-8-sig"
) -> Manifest:
    """Write ``rows`` units to ``out`` (XLSX, or CSV for a .csv name) and return the manifest.

    The buildings are those :func:`generator.buildings.generate` writes for the same seed and
    bad share with ``rows=Sizes.around("enterprises", rows).buildings``.
    """
    units = build(Sizes.around("enterprises", rows), seed, bad_share)
    return export(out, units, bad_share=bad_share, rng=faults.stream(seed, DATASET), encoding=encoding)
