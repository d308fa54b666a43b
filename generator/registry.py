"""The demo generators by dataset id."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from generator import enterprises, residents
from generator.export import Manifest

GENERATORS: dict[str, Callable[..., Manifest]] = {
    "population.residents": residents.generate,
    enterprises.DATASET: enterprises.generate,
}
FILE_STEMS = {"population.residents": "常住人口", enterprises.DATASET: "法人单位"}


def generate(dataset: str, out: Path, **kwargs: object) -> Manifest:
    if dataset not in GENERATORS:
        raise ValueError(f"no generator for {dataset!r}; available: {', '.join(GENERATORS)}")
    return GENERATORS[dataset](out, **kwargs)
