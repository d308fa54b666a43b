"""The demo generators by dataset id, and the whole world at once.

``GENERATORS`` are the single-file generators ``hub generate DATASET`` calls: each takes
``(out, *, rows, bad_share, seed, encoding)`` and writes the format ``out``'s name asks for when
the dataset can be sent that way (CSV, XLSX, GeoJSON, Parquet), else raises ``NotSendable``.
``SUFFIXES`` is the format each department really sends; :func:`file_name` builds a name with it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from generator import buildings, enterprises, grids, households, indicators, pois, residents, tax, world
from generator.export import Manifest, NotSendable

if TYPE_CHECKING:
    from hub.settings import Settings

GENERATORS: dict[str, Callable[..., Manifest]] = {
    residents.DATASET: residents.generate,
    households.DATASET: households.generate,
    enterprises.DATASET: enterprises.generate,
    tax.DATASET: tax.generate,
    indicators.DATASET: indicators.generate,
    buildings.DATASET: buildings.generate,
    grids.DATASET: grids.generate,
    pois.DATASET: pois.generate,
}
STREAMING = frozenset({residents.DATASET, households.DATASET})
"""Generators written batch by batch: they take ``progress`` and ``batch_rows`` and keep memory flat at any size.
The others build their records in memory (their sizes follow the world's: tens of thousands of rows)."""
FILE_STEMS = {
    residents.DATASET: "常住人口",
    households.DATASET: "家庭户成员",
    enterprises.DATASET: "法人单位",
    tax.DATASET: "企业纳税",
    indicators.DATASET: "街道经济指标",
    buildings.DATASET: "楼宇",
    grids.DATASET: "网格划分",
    pois.DATASET: "兴趣点",
}
SUFFIXES = {
    residents.DATASET: ".csv",
    households.DATASET: ".csv",
    enterprises.DATASET: ".xlsx",
    tax.DATASET: ".xlsx",
    indicators.DATASET: ".parquet",
    buildings.DATASET: ".geojson",
    grids.DATASET: ".geojson",
    pois.DATASET: ".parquet",
}


def file_name(dataset: str, rows: int, seed: int) -> str:
    """The name ``hub generate`` gives a single file: stem, size, seed and the department's format."""
    return f"{FILE_STEMS[dataset]}_{rows}_{seed}{SUFFIXES[dataset]}"


def generate(dataset: str, out: Path, **kwargs: object) -> Manifest:
    if dataset not in GENERATORS:
        raise NotSendable(f"no generator for {dataset!r}; available: {', '.join(GENERATORS)}")
    return GENERATORS[dataset](out, **kwargs)


def generate_all(
    inbox_for: Callable[[str], Path] | None = None,
    *,
    settings: Settings | None = None,
    scale: float = 0.01,
    seed: int = 20261031,
    bad_share: float = 0.03,
    months: int = 3,
) -> dict[str, list[Manifest]]:
    """Every department's files, consistent with one another (:func:`generator.world.generate_all`).

    Without ``inbox_for`` the files go to each dataset's inbox folder under ``settings``' HUB_HOME.
    """
    return world.generate_all(
        inbox_for or inboxes(settings), scale=scale, seed=seed, bad_share=bad_share, months=months
    )


def inboxes(settings: Settings | None = None) -> Callable[[str], Path]:
    """dataset id → its inbox folder (``inbox/<department>/<dataset>/``)."""
    from contracts import model
    from hub.settings import get_settings
    from ingest.steps import inbox_folder

    chosen = settings or get_settings()
    return lambda dataset: inbox_folder(chosen, model.find(chosen.active_contracts_dir, dataset))


def summary(manifests: dict[str, list[Manifest]]) -> list[str]:
    """One line per file, for a command line to print."""
    return [
        f"{m.path} ({m.rows} rows, {len(m.bad_rows)} with faults, {m.format})"
        for files in manifests.values()
        for m in files
    ]
