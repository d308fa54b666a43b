"""Generate the planning bureau's management grids: every street, community and work grid (GeoJSON).

Clean reference data: the polygons of :mod:`generator.geography`, coded per DB11/T 2157-2023
(street 9 digits, community 12, work grid 15), each with its parent's code. No faults.
"""

from __future__ import annotations

from pathlib import Path

from generator import geography
from generator.export import Manifest, NotSendable, Record, file_format, write

DATASET = "spatial.grids"


def records() -> list[Record]:
    return [
        {"grid_code": a.code, "level": a.level, "name": a.name, "parent_code": a.parent_code, "geometry": a.geojson()}
        for a in geography.all_areas()
    ]


def export(out: Path) -> Manifest:
    fmt = file_format(out, "geojson")
    if fmt not in ("geojson", "parquet"):
        raise NotSendable(f"{DATASET} is sent as GeoJSON (or GeoParquet), not {fmt}")
    rows = records()
    return Manifest(out, len(rows), write(out, DATASET, rows, fmt=fmt), len(rows), {}, fmt)


def generate(out: Path, *, rows: int = 0, bad_share: float = 0.0, seed: int = 0, encoding: str = "utf-8") -> Manifest:
    """Write every area (the number is fixed by the code tables: ``rows``, ``bad_share`` and ``seed`` are ignored)."""
    return export(out)
