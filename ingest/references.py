"""Cross-dataset references: the versions of other datasets a file's fields are checked against.

A contract field may reference another dataset's key (:class:`contracts.model.Reference`). When a
file is checked, each reference is resolved once, before the first batch, to the referenced
dataset's current published version (its serving copy); every batch of the file is checked against
that same version, whose keys are read once (:func:`warehouse.serving.key_values`). A reference to
a dataset without a version yet is skipped, hard or soft, with a warning in the file's outcome
(see docs/stewardship.md, "Cross-dataset rules").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contracts.model import Contract, Reference
from hub.errors import NotFound
from warehouse import serving


@dataclass(frozen=True)
class ReferenceSet:
    """One field's reference, pinned to the version of the referenced dataset it is checked against."""

    column: str
    reference: Reference
    version: int
    snapshot_id: int
    serving_copy: Path
    keys: int
    """How many distinct keys that version has."""

    def describe(self) -> str:
        return f"{self.reference.dataset} version {self.version}"


@dataclass(frozen=True)
class Resolved:
    sets: list[ReferenceSet]
    warnings: list[str]
    """File-level warnings: references that could not be checked (their dataset has no version yet)."""

    def versions(self) -> dict[str, int]:
        return {s.reference.dataset: s.version for s in self.sets}


def resolve(contract: Contract, serving_dir: Path) -> Resolved:
    """Pin every reference of ``contract`` to its dataset's current version and load its keys."""
    sets: list[ReferenceSet] = []
    warnings: list[str] = []
    for field in contract.fields:
        ref = field.references
        if ref is None:
            continue
        try:
            head = serving.current(serving_dir, ref.dataset)
        except NotFound:
            # nothing to check against yet: the rule is skipped, and the outcome says so (hard or soft)
            missing = f"{ref.dataset} has no published version yet"
            warnings.append(f"{field.name} not checked against {ref.dataset}.{ref.field} ({ref.strength}): {missing}")
            continue
        keys = serving.key_values(head.path, ref.field)
        sets.append(ReferenceSet(field.name, ref, head.version, head.snapshot_id, head.path, len(keys)))
    return Resolved(sets, warnings)
