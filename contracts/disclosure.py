"""The disclosure rule: a masked value must hold against everything released beside it.

A GB 11643 ID number is area + birth date + sequence + check digit, and the birth date and sex
(the sequence's parity) are also fields of their own. A mask that hides the birth-date digits
protects nothing when the birth date is returned in clear next to it. So the hub decides what
to release per *combination* of fields:

- :func:`releases` says, for one dataset and the fields a caller gets in clear, how every field
  leaves the hub: in clear, or under a named mask. A field that repeats part of an ID number
  (``agreesWithIdNumber``) is released under its own mask whenever that ID number is not
  released in clear, whatever else the caller was granted.
- :func:`candidates` counts the ID numbers that agree with what a caller can learn about one
  person; a masked ID number must stand for at least :data:`PROMISE` of them.
- :func:`check_contract` applies the rule to one contract and :func:`check_across` to every
  contract together (datasets sharing a masked key, like residents and households, are assumed
  linkable by the caller), so a contract cannot declare a mask that a sibling field undoes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from contracts.masks import MASKS, IdPart, Precision
from hub.errors import ContractError

if TYPE_CHECKING:
    from contracts.model import Contract, Field

CLEAR = "clear"
"""The release of a field that leaves the hub as it is stored."""

ID_STANDARD = "gb11643"
PROMISE = 10_000
"""How many ID numbers a masked ID number must stand for, given everything else released."""

AREAS = 3_000
"""County-level area codes an ID number may carry (GB/T 2260, including withdrawn ones)."""
BIRTH_DAYS = {Precision.day: 1, Precision.month: 31, Precision.year: 366, Precision.none: 36_525}
"""Birth dates left open by each precision (a living person's: about a century of days)."""


@dataclass(frozen=True)
class Known:
    """What a caller can learn of one person's ID number."""

    parts: frozenset[IdPart] = frozenset()
    birth: Precision = Precision.none

    def __or__(self, other: Known) -> Known:
        finer = min(self.birth, other.birth, key=lambda p: BIRTH_DAYS[p])
        return Known(self.parts | other.parts, finer)

    @property
    def everything(self) -> bool:
        return {IdPart.area, IdPart.birth_date, IdPart.sequence} <= self.parts or (
            {IdPart.area, IdPart.sequence} <= self.parts and self.birth is Precision.day
        )


EVERYTHING = Known(frozenset(IdPart), Precision.day)


def candidates(known: Known) -> int:
    """ID numbers with a valid check digit that agree with ``known`` (1: the number is rebuilt)."""
    if known.everything:
        return 1
    count = 1 if IdPart.area in known.parts else AREAS
    count *= 1 if IdPart.birth_date in known.parts else BIRTH_DAYS[known.birth]
    if IdPart.sequence not in known.parts:
        count *= 500 if IdPart.sex in known.parts else 1000
    if IdPart.check in known.parts:
        count = math.ceil(count / 11)
    return count


def releases(contract: Contract, clear: Iterable[str] = ()) -> dict[str, str]:
    """How each field that leaves the hub is released: ``clear`` or a mask's name.

    ``clear`` names the fields a grant releases in clear. Sensitive fields are masked otherwise;
    restricted fields never leave (they are absent). A field that repeats part of an ID number
    is released under its own mask (if it declares one) while that ID number is masked, even if
    named in ``clear``; :func:`check_release` then proves the combination holds.
    """
    from contracts.model import Classification

    clear = frozenset(clear)
    out: dict[str, str] = {}
    for f in contract.fields:
        if f.classification is Classification.restricted:
            continue
        masked = f.classification.masked_by_default and f.name not in clear
        out[f.name] = (f.mask or "full") if masked else CLEAR
    for f in contract.fields:
        key = f.agrees_with_id_number
        if key and f.mask and f.name in out and out.get(key) != CLEAR:
            out[f.name] = f.mask
    return out


def _own(release: str) -> Known:
    return EVERYTHING if release == CLEAR else Known(MASKS[release].keeps)


def _sibling(field: Field, release: str) -> Known:
    """What a field repeating part of an ID number shows of it."""
    if field.type in ("date", "timestamp"):
        return Known(birth=Precision.day if release == CLEAR else MASKS[release].precision)
    return Known(frozenset({IdPart.sex})) if release == CLEAR else Known()


def known(contract: Contract, key: str, released: Mapping[str, str]) -> Known:
    """What one dataset's release shows of the ID number in field ``key``."""
    out = _own(released[key]) if key in released else Known()
    for f in contract.fields:
        if f.agrees_with_id_number == key and f.name in released:
            out |= _sibling(f, released[f.name])
    return out


def id_fields(contract: Contract) -> list[Field]:
    return [f for f in contract.fields if f.standard == ID_STANDARD]


def check_masks(contract: Contract) -> None:
    """Each declared mask exists, fits the field's type and can take effect."""
    for f in contract.fields:
        if f.mask is None:
            continue
        mask = MASKS.get(f.mask)
        if mask is None:
            raise ContractError(f"mask {f.mask!r} is not one of {', '.join(MASKS)}", path=contract.path, field=f.name)
        if f.type not in mask.types:
            raise ContractError(
                f"mask {f.mask!r} applies to {', '.join(mask.types)} fields, not {f.type}",
                path=contract.path,
                field=f.name,
            )
        if not (f.classification.masked_by_default or f.agrees_with_id_number):
            raise ContractError(
                f"mask {f.mask!r} never applies: the field is {f.classification.value} and repeats no ID number, "
                "so it is released in clear",
                path=contract.path,
                field=f.name,
            )


def check_release(contract: Contract, released: Mapping[str, str]) -> None:
    """Refuse a release in which a masked ID number can be narrowed below the promise."""
    for f in id_fields(contract):
        if released.get(f.name) != CLEAR:
            _require(known(contract, f.name, released), f"{contract.id}.{f.name}", contract, f)


def check_contract(contract: Contract) -> None:
    """Refuse masks that the contract's own sibling fields undo."""
    check_masks(contract)
    check_release(contract, releases(contract))


def check_across(contracts: Iterable[Contract]) -> None:
    """Refuse a set of contracts whose masked ID numbers, linked across datasets, can be rebuilt.

    Datasets that release the same person's ID number masked (residents, households) can be
    linked by a caller through what they share (grid, area, the mask itself), so what all of them
    show of an ID number is added up.
    """
    total, sources = Known(), []
    for c in contracts:
        released = releases(c)
        for f in id_fields(c):
            if released.get(f.name) != CLEAR:
                total |= known(c, f.name, released)
                sources.append(f"{c.id}.{f.name}")
    if sources:
        _require(total, " + ".join(sources))


def _require(what: Known, where: str, contract: Contract | None = None, field: Field | None = None) -> None:
    count = candidates(what)
    if count >= PROMISE:
        return
    shown = sorted(p.value for p in what.parts)
    if what.birth is not Precision.none:
        shown.append(f"birth date to the {what.birth.value}")
    raise ContractError(
        f"masked ID number {where} can be narrowed to {count} candidate(s) from what is released beside it "
        f"({', '.join(shown)}); a masked ID number must stand for at least {PROMISE}: mask the ID number down "
        "to its area code (mask id_number) and release the birth date as year_month or year (mask on the "
        "birth-date field)",
        path=contract.path if contract else None,
        field=field.name if field else None,
    )
