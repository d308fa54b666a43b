"""Two published versions of the residents with known edits, for export and change-feed tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from generator import faults, population, residents
from hub.settings import Settings
from tests.published import publish_records

FORMULA = '=HYPERLINK("http://example.invalid/x","点击")'


@dataclass
class Edits:
    """What changed from version 1 to version 2, by ID number."""

    v1: list[dict[str, str]]
    v2: list[dict[str, str]]
    removed: set[str] = field(default_factory=set)
    added: set[str] = field(default_factory=set)
    name_only: set[str] = field(default_factory=set)
    moved: set[str] = field(default_factory=set)
    phone_only: set[str] = field(default_factory=set)
    address_only: set[str] = field(default_factory=set)
    moved_from: str = ""
    moved_to: str = ""

    @property
    def changed(self) -> set[str]:
        return self.name_only | self.moved | self.phone_only | self.address_only


def publish_two_versions(
    settings: Settings, rows: int = 300, seed: int = 7, between: Callable[[], object] | None = None
) -> Edits:
    """Publish version 1, call ``between`` (if given), then publish version 2 with the known edits."""
    v1 = residents.records(population.make(rows, faults.stream(seed, "population")))
    publish_records(settings, "v1.csv", v1)
    if between is not None:
        between()
    v2 = [dict(r) for r in v1]
    edits = Edits(v1, v2)
    edits.removed = {r["id_number"] for r in v2[:5]}
    source = v2[7]
    target = next(r for r in v2[20:] if r["street_code"] != source["street_code"])
    edits.moved_from, edits.moved_to = source["street_code"], target["street_code"]
    for r in v2[7:9]:
        if r["street_code"] != target["street_code"]:
            edits.moved.add(r["id_number"])
        r.update({k: target[k] for k in ("street_code", "community_code", "grid_code")})
    for r in v2[5:7]:
        r["name"] = r["name"][0] + "新名"
    edits.name_only = {r["id_number"] for r in v2[5:7]}
    v2[9]["phone"] = "13800001111" if v2[9]["phone"] != "13800001111" else "13900002222"
    edits.phone_only = {v2[9]["id_number"]}
    v2[10]["address"] = FORMULA
    edits.address_only = {v2[10]["id_number"]}
    known = {r["id_number"] for r in v1}
    others = residents.records(population.make(40, faults.stream(seed + 1000, "population")))
    fresh = [r for r in others if r["id_number"] not in known][:6]
    edits.added = {r["id_number"] for r in fresh}
    edits.v2 = v2[5:] + fresh
    publish_records(settings, "v2.csv", edits.v2)
    return edits
