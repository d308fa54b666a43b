"""The whole generated district: every department's files, consistent with one another.

One seed drives independent random streams per part (population, buildings, enterprises, tax,
indicators, points of interest), so each part is the same whichever others are built, and the
single-file generators (``hub generate DATASET``) give the same records as the whole world of the
same size. What ties the parts together:

- households list the residents' own people (same ID numbers, addresses, grids);
- buildings lie strictly inside their work grids; enterprises carry the ids of buildings the
  buildings export keeps and geocoded points inside those footprints, or points in free ground of
  a grid, and their registered street is the street of that point;
- taxpayers are the active registered units, plus a few valid codes the register does not have;
- every grid code anywhere is one of :mod:`generator.geography`'s, which the grids file lists.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path

from generator import buildings, enterprises, faults, grids, households, indicators, pois, population, residents, tax
from generator.export import Manifest, atomic
from generator.scale import LAST_MONTH, Sizes, months_up_to

EXPORT_DAY = "20261031"


class World:
    """The records of every part, built on first use."""

    def __init__(self, sizes: Sizes, *, seed: int, bad_share: float):
        self.sizes, self.seed, self.bad_share = sizes, seed, bad_share

    def people(self) -> Iterator[population.People]:
        """The residents, batch by batch, made afresh for each export that lists them (so memory holds one
        batch, not the population): the same seed gives the residents and households exports the same people."""
        return population.batches(self.sizes.residents, faults.numpy_stream(self.seed, "population"))

    @cached_property
    def buildings(self) -> tuple[list[buildings.Building], dict[int, str]]:
        """The buildings and the faults their export will carry (enterprises avoid those buildings)."""
        return buildings.build(self.sizes, self.seed, self.bad_share)

    @cached_property
    def enterprises(self) -> list[enterprises.Enterprise]:
        return enterprises.make(self.sizes.enterprises, faults.stream(self.seed, "enterprises"), *self.buildings)

    @cached_property
    def taxpayers(self) -> list[tax.Taxpayer]:
        return tax.taxpayers(self.enterprises, faults.stream(self.seed, "tax"))

    @cached_property
    def pois(self) -> list[pois.Poi]:
        return pois.make(self.sizes.pois, faults.stream(self.seed, "pois"))

    def rng(self, part: str) -> random.Random:
        return faults.stream(self.seed, part)


Writer = Callable[[Path], Manifest]


def _writers(world: World, months: int) -> list[tuple[str, str, Writer]]:
    """(dataset, file name, writer) for every file, reference data first, months oldest first."""
    share = world.bad_share
    out: list[tuple[str, str, Writer]] = [
        (grids.DATASET, "网格划分_2024.geojson", grids.export),
        (
            buildings.DATASET,
            f"楼宇_{EXPORT_DAY}.geojson",
            lambda p: buildings.export(p, *world.buildings, rng=world.rng(buildings.DATASET)),
        ),
        (
            pois.DATASET,
            f"兴趣点_{EXPORT_DAY}.parquet",
            lambda p: pois.export(p, world.pois, bad_share=share, rng=world.rng(pois.DATASET)),
        ),
        (
            residents.DATASET,
            f"常住人口_{EXPORT_DAY}.csv",
            lambda p: residents.export(
                p, world.people(), bad_share=share, rng=faults.numpy_stream(world.seed, residents.DATASET)
            ),
        ),
        (
            households.DATASET,
            f"家庭户成员_{EXPORT_DAY}.csv",
            lambda p: households.export(
                p, world.people(), bad_share=share, rng=faults.numpy_stream(world.seed, households.DATASET)
            ),
        ),
        (
            enterprises.DATASET,
            f"法人单位_{EXPORT_DAY}.xlsx",
            lambda p: enterprises.export(p, world.enterprises, bad_share=share, rng=world.rng(enterprises.DATASET)),
        ),
    ]
    for month in months_up_to(LAST_MONTH, months):
        out.append((tax.DATASET, f"企业纳税_{month.replace('-', '')}.xlsx", _tax_writer(world, month)))
    span = months_up_to(LAST_MONTH, indicators.MONTHS)
    out.append(
        (
            indicators.DATASET,
            f"街道经济指标_{span[0].replace('-', '')}-{span[-1].replace('-', '')}.parquet",
            lambda p: indicators.export(
                p, *indicators.make(world.rng("indicators")), bad_share=share, rng=world.rng(indicators.DATASET)
            ),
        )
    )
    return out


def _tax_writer(world: World, month: str) -> Writer:
    def write(path: Path) -> Manifest:
        rng = tax.month_stream(world.seed, month)
        return tax.export(path, world.taxpayers, month, bad_share=world.bad_share, rng=rng)

    return write


def generate_all(
    inbox_for: Callable[[str], Path],
    *,
    scale: float = 0.01,
    seed: int = 20261031,
    bad_share: float = 0.03,
    months: int = 3,
) -> dict[str, list[Manifest]]:
    """Write every department's file(s) into ``inbox_for(dataset_id)``; return their manifests by dataset.

    Each file is written under a hidden temporary name and moved into place, so a reader never
    sees a partial file. Tax comes as one file per month, the ``months`` months up to 2026-10.
    """
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    world = World(Sizes.at(scale), seed=seed, bad_share=bad_share)
    manifests: dict[str, list[Manifest]] = {}
    for dataset, name, writer in _writers(world, months):
        target = Path(inbox_for(dataset)) / name
        with atomic(target) as tmp:
            manifest = writer(tmp)
        manifests.setdefault(dataset, []).append(dataclasses.replace(manifest, path=target))
    return manifests
