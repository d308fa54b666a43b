"""Generate the housing and construction commission's buildings (GeoJSON, CGCS2000).

Every building is a rectangle strictly inside its work grid: a grid is cut into a lattice of at
least twice as many cells as it has buildings and each building takes one cell, well inside it,
so footprints never overlap and half of each grid stays free of buildings. Floor area is
footprint × floors (less a little for walls and cores), with the footprint measured in metres at
39.9°N. Commercial and mixed-use buildings may report vacant space. 经度/纬度 are the footprint's
centroid. Faults: a missing name, a malformed building id, a use the contract does not know.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from generator import faults, geography
from generator.export import Manifest, NotSendable, Record, file_format, write
from generator.geography import METRES_PER_DEGREE_LAT, METRES_PER_DEGREE_LON, Area
from generator.names import BRANDS, LANES
from generator.scale import Sizes
from standards import tables

DATASET = "buildings.buildings"
FAULTS = ("missing_name", "malformed_id", "unknown_use")
COMMERCIAL, RESIDENTIAL, MIXED = "商业", "住宅", "商住混合"
SIZE_M = {COMMERCIAL: ((30, 90), (25, 70)), MIXED: ((30, 80), (20, 50)), RESIDENTIAL: ((20, 70), (10, 18))}
"""Footprint width and depth ranges in metres, by use."""
NAME_SUFFIX = {COMMERCIAL: ("大厦", "中心", "广场", "商务楼", "写字楼"), MIXED: ("公寓", "国际", "商住楼", "花园")}


@dataclass(frozen=True, slots=True)
class Building:
    building_id: str
    name: str
    address: str
    grid_code: str
    use: str
    floors: int
    floor_area: float
    vacant_area: float | None
    year_built: int | None
    footprint: Area

    @property
    def commercial(self) -> bool:
        """Offices and shops can be registered here (商业 or 商住混合)."""
        return self.use != RESIDENTIAL


@cache
def _street_names() -> dict[str, str]:
    return {r["code"]: r["name"] for r in tables.load("dongcheng_streets").to_pylist()}


def _uses(n: int, rng: random.Random) -> list[str]:
    commercial = max(3, round(n * 0.30))
    mixed = max(1, round(n * 0.15))
    uses = [COMMERCIAL] * commercial + [MIXED] * mixed + [RESIDENTIAL] * max(0, n - commercial - mixed)
    rng.shuffle(uses)
    return uses[:n]


def _footprint(cell: Area, use: str, rng: random.Random) -> tuple[float, float, float, float]:
    """A rectangle well inside ``cell`` (at least 10% of the cell from every edge)."""
    (w_lo, w_hi), (d_lo, d_hi) = SIZE_M[use]
    cw, ch = cell.east - cell.west, cell.north - cell.south
    w = min(rng.uniform(w_lo, w_hi) / METRES_PER_DEGREE_LON, cw * 0.8)
    h = min(rng.uniform(d_lo, d_hi) / METRES_PER_DEGREE_LAT, ch * 0.8)
    west = cell.west + cw * 0.1 + rng.uniform(0, cw * 0.8 - w)
    south = cell.south + ch * 0.1 + rng.uniform(0, ch * 0.8 - h)
    return round(west, 7), round(south, 7), round(west + w, 7), round(south + h, 7)


class _Maker:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.names: set[str] = set()
        self.per_street: Counter[str] = Counter()

    def name_and_address(self, use: str, street: str) -> tuple[str, str]:
        rng = self.rng
        lane, number = rng.choice(LANES), rng.randrange(1, 200)
        address = f"北京市东城区{_street_names()[street]}{lane}{number}号"
        if use == RESIDENTIAL:
            name = f"{lane}{number}号院{rng.randrange(1, 12)}号楼"
        else:
            name = rng.choice(BRANDS) + rng.choice(NAME_SUFFIX[use])
        base, k = name, 0
        while name in self.names:
            k += 1
            name = f"{base}{chr(ord('A') + k - 1)}座" if k <= 26 else f"{base}{k}号"
        self.names.add(name)
        return name, address

    def building(self, grid: Area, cell: Area, use: str) -> Building:
        rng = self.rng
        street = grid.code[:9]
        self.per_street[street] += 1
        building_id = f"BD{street[6:]}{self.per_street[street]:05d}"
        w, s, e, n = _footprint(cell, use, rng)
        footprint = Area(building_id, "building", "", grid.code, w, s, e, n)
        if use == RESIDENTIAL:
            floors = rng.choice((5, 6, 6, 6, 7, 9, 12, 14, 16, 18, 20))
        else:
            floors = rng.randint(4, 28) if use == COMMERCIAL else rng.randint(6, 24)
        floor_area = round(footprint.area_m2 * floors * rng.uniform(0.85, 1.0), 2)
        vacant = round(floor_area * rng.uniform(0.0, 0.3), 2) if use != RESIDENTIAL and rng.random() < 0.7 else None
        built = (
            (rng.randint(1958, 2020) if use == RESIDENTIAL else rng.randint(1985, 2022))
            if rng.random() < 0.95
            else None
        )
        name, address = self.name_and_address(use, street)
        return Building(building_id, name, address, grid.code, use, floors, floor_area, vacant, built, footprint)


def make(n: int, rng: random.Random) -> list[Building]:
    """``n`` buildings spread over the work grids (denser in some), in grid-code order."""
    grids = geography.grids()
    weights = [rng.lognormvariate(0, 0.9) for _ in grids]
    per_grid = Counter(rng.choices(range(len(grids)), weights=weights, k=n))
    uses = iter(_uses(n, rng))
    maker = _Maker(rng)
    out: list[Building] = []
    for g, grid in enumerate(grids):
        k = per_grid.get(g, 0)
        if not k:
            continue
        rows = max(4, k)
        for slot in sorted(rng.sample(range(2 * rows), k)):
            cell = grid.cell(slot % 2, slot // 2, 2, rows)
            out.append(maker.building(grid, cell, next(uses)))
    return out


def build(sizes: Sizes, seed: int, bad_share: float) -> tuple[list[Building], dict[int, str]]:
    """The buildings of the world of ``sizes`` and ``seed``, and which of them the export spoils."""
    buildings = make(sizes.buildings, faults.stream(seed, "buildings"))
    return buildings, plan_faults(len(buildings), bad_share, faults.stream(seed, "buildings/faults"))


def record(b: Building) -> Record:
    lon, lat = b.footprint.centroid
    return {
        "building_id": b.building_id,
        "name": b.name,
        "address": b.address,
        "street_code": b.grid_code[:9],
        "community_code": b.grid_code[:12],
        "grid_code": b.grid_code,
        "use": b.use,
        "floors": b.floors,
        "floor_area": b.floor_area,
        "vacant_area": b.vacant_area,
        "year_built": b.year_built,
        "longitude": lon,
        "latitude": lat,
        "footprint": b.footprint.geojson(),
    }


def plan_faults(n: int, bad_share: float, rng: random.Random) -> dict[int, str]:
    """Which buildings the export spoils: decided first, so enterprises can avoid rejected buildings."""
    return faults.plan(n, bad_share, rng, FAULTS)


class _Spoiler:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def __call__(self, kind: str, row: Record, earlier: list[Record]) -> None:
        if kind == "missing_name":
            row["name"] = None
        elif kind == "malformed_id":
            digits = row["building_id"][2:]
            row["building_id"] = self.rng.choice((f"BD{digits[1:]}", f"bd{digits}", f"BD-{digits}"))
        elif kind == "unknown_use":
            row["use"] = self.rng.choice(("办公", "工业", "商务"))


def export(out: Path, buildings: list[Building], planned: dict[int, str], *, rng: random.Random) -> Manifest:
    fmt = file_format(out, "geojson")
    if fmt not in ("geojson", "parquet"):
        raise NotSendable(f"{DATASET} is sent as GeoJSON (or GeoParquet), not {fmt}")
    rows = faults.apply([record(b) for b in buildings], planned, _Spoiler(rng))
    encoding = write(out, DATASET, rows, fmt=fmt)
    return Manifest(out, len(rows), encoding, len(rows) - len(planned), faults.rows(planned), fmt)


def generate(
    out: Path, *, rows: int = 300, bad_share: float = 0.05, seed: int = 20261031, encoding: str = "utf-8"
) -> Manifest:
    """Write ``rows`` buildings as GeoJSON (``encoding`` is ignored: GeoJSON is UTF-8)."""
    buildings, planned = build(Sizes.around("buildings", rows), seed, bad_share)
    return export(out, buildings, planned, rng=faults.stream(seed, DATASET))
