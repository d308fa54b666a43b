"""The standards by short name: one scalar check and one vectorized mask each.

Used by the CLI (``hub standards check``), the GX expectations and the pipeline
(to explain why a rejected value is wrong).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from standards import gb11643, gb11714, gb32100, gbt2260, gbt4754, grid, phone, postcode, streets
from standards.arrays import BoolArray
from standards.errors import UnknownStandard
from standards.result import Check


@dataclass(frozen=True)
class Standard:
    """A standard the hub checks values against."""

    name: str
    title: str
    check: Callable[[str], Check]
    mask: Callable[[object], BoolArray]


STANDARDS: dict[str, Standard] = {
    s.name: s
    for s in (
        Standard("gb11643", "GB 11643-1999 citizen ID number", gb11643.validate, gb11643.valid_mask),
        Standard("gb32100", "GB 32100-2015 unified social credit code", gb32100.validate, gb32100.valid_mask),
        Standard("gb11714", "GB 11714-1997 organization code", gb11714.validate, gb11714.valid_mask),
        Standard("gb2260", "GB/T 2260 division code (6 digits)", gbt2260.validate, gbt2260.valid_mask),
        Standard("street", "Dongcheng street code (9 digits)", streets.validate_street, streets.street_mask),
        Standard(
            "community", "Dongcheng community code (12 digits)", streets.validate_community, streets.community_mask
        ),
        Standard("grid", "Beijing unit-grid code (15 digits, DB11/T 2157-2023)", grid.validate, grid.valid_mask),
        Standard("gb4754", "GB/T 4754-2017 industry code", gbt4754.validate, gbt4754.valid_mask),
        Standard("phone", "Mainland China phone number", phone.validate, phone.valid_mask),
        Standard("postcode", "Mainland China postal code", postcode.validate, postcode.valid_mask),
    )
}


def known() -> list[str]:
    """Short names of all standards, sorted."""
    return sorted(STANDARDS)


def get(name: str) -> Standard:
    """The standard with this short name; UnknownStandard if there is none."""
    try:
        return STANDARDS[name]
    except KeyError:
        raise UnknownStandard("standard", name, known()) from None


def check(name: str, value: str) -> Check:
    """Check one value against the standard called ``name``."""
    return get(name).check(value)


def mask(name: str, values: object) -> BoolArray:
    """Vectorized check of a column against the standard called ``name``."""
    return get(name).mask(values)
