"""A deterministic geography of Dongcheng for generated data: streets, communities, work grids.

The real boundaries are not available offline, so the district's extent is tiled: the 17
streets as rows of rectangles (north to south), each street split into its communities (west to
east), each community into 4 or 6 work grids numbered west→east, north→south as DB11/T 2157-2023
numbers them. Codes come from the standards' code tables, so every generated code is real in the
hub's tables. Coordinates are CGCS2000 longitude/latitude (EPSG:4490).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

from standards import tables

WEST, EAST, SOUTH, NORTH = 116.383, 116.447, 39.855, 39.962
METRES_PER_DEGREE_LON = 85_300.0
"""Length of one degree of longitude at 39.9°N, in metres."""
METRES_PER_DEGREE_LAT = 111_000.0
STREET_ROWS = (3, 4, 4, 3, 3)  # streets per row, north to south: 17 in all

Ring = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Area:
    code: str
    level: str  # street | community | grid
    name: str
    parent_code: str | None
    west: float
    south: float
    east: float
    north: float

    @property
    def ring(self) -> Ring:
        """Closed, counter-clockwise exterior ring."""
        w, s, e, n = self.west, self.south, self.east, self.north
        return ((w, s), (e, s), (e, n), (w, n), (w, s))

    def geojson(self) -> dict[str, object]:
        return {"type": "Polygon", "coordinates": [[list(p) for p in self.ring]]}

    def cell(self, col: int, row: int, cols: int, rows: int, margin: float = 0.0) -> Area:
        """Sub-rectangle (col, row) of a cols × rows lattice, rows counted from the north."""
        dx, dy = (self.east - self.west) / cols, (self.north - self.south) / rows
        w, n = self.west + col * dx, self.north - row * dy
        mx, my = dx * margin, dy * margin
        return Area("", self.level, self.name, self.code, w + mx, n - dy + my, w + dx - mx, n - my)

    def random_point(self, rng: random.Random, margin: float = 0.05) -> tuple[float, float]:
        """A point strictly inside (away from the edges by ``margin`` of the size)."""
        dx, dy = self.east - self.west, self.north - self.south
        lon = self.west + dx * (margin + (1 - 2 * margin) * rng.random())
        lat = self.south + dy * (margin + (1 - 2 * margin) * rng.random())
        return round(lon, 7), round(lat, 7)

    def contains(self, lon: float, lat: float) -> bool:
        return self.west < lon < self.east and self.south < lat < self.north

    def within(self, other: Area) -> bool:
        """Strictly inside ``other`` (no shared edge)."""
        return (
            other.west < self.west and self.east < other.east and other.south < self.south and self.north < other.north
        )

    @property
    def centroid(self) -> tuple[float, float]:
        return round((self.west + self.east) / 2, 7), round((self.south + self.north) / 2, 7)

    @property
    def width_m(self) -> float:
        return (self.east - self.west) * METRES_PER_DEGREE_LON

    @property
    def height_m(self) -> float:
        return (self.north - self.south) * METRES_PER_DEGREE_LAT

    @property
    def area_m2(self) -> float:
        return self.width_m * self.height_m


def _split_rows(total: Area, counts: tuple[int, ...]) -> list[list[Area]]:
    rows = []
    for r, n in enumerate(counts):
        rows.append([total.cell(c, r, n, len(counts)) for c in range(n)])
    return rows


@cache
def streets() -> tuple[Area, ...]:
    district = Area("110101", "district", "东城区", "110100", WEST, SOUTH, EAST, NORTH)
    cells = [c for row in _split_rows(district, STREET_ROWS) for c in row]
    table = sorted(tables.load("dongcheng_streets").to_pylist(), key=lambda r: r["code"])
    return tuple(
        Area(r["code"], "street", r["name"], "110101", c.west, c.south, c.east, c.north)
        for r, c in zip(table, cells, strict=True)
    )


@cache
def communities() -> tuple[Area, ...]:
    rows = tables.load("dongcheng_communities").to_pylist()
    out = []
    for street in streets():
        mine = sorted((r for r in rows if r["parent_code"] == street.code), key=lambda r: r["code"])
        for i, r in enumerate(mine):
            c = street.cell(i, 0, len(mine), 1)
            out.append(Area(r["code"], "community", r["name"], street.code, c.west, c.south, c.east, c.north))
    return tuple(out)


def grid_rows(community_code: str) -> int:
    """2 or 3 rows of 2 grids: 4 or 6 work grids per community, fixed by its code."""
    return 2 + int(community_code[-1]) % 2


@cache
def grids() -> tuple[Area, ...]:
    out = []
    for community in communities():
        rows = grid_rows(community.code)
        seq = 0
        for r in range(rows):
            for c in range(2):
                seq += 1
                cell = community.cell(c, r, 2, rows)
                code = f"{community.code}{seq:03d}"
                name = f"{community.name}第{seq}网格"
                out.append(Area(code, "grid", name, community.code, cell.west, cell.south, cell.east, cell.north))
    return tuple(out)


@cache
def grids_by_community() -> dict[str, tuple[Area, ...]]:
    out: dict[str, list[Area]] = {}
    for g in grids():
        out.setdefault(g.parent_code or "", []).append(g)
    return {k: tuple(v) for k, v in out.items()}


def all_areas() -> tuple[Area, ...]:
    return streets() + communities() + grids()


@cache
def by_code() -> dict[str, Area]:
    """Every street, community and work grid by its code."""
    return {a.code: a for a in all_areas()}


def locate(lon: float, lat: float) -> Area | None:
    """The work grid containing a point (None outside the district or on an edge)."""
    return next((g for g in grids() if g.contains(lon, lat)), None)
