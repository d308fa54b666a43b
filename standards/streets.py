"""Dongcheng (110101) street codes (9 digits) and community codes (12 digits).

Street = GB/T 2260 district + 3-digit GB/T 10114 township code; community adds
the statistics office's 3-digit village/community code. Checked against the
``dongcheng_streets`` and ``dongcheng_communities`` code tables.
"""

from __future__ import annotations

from standards import tables
from standards.arrays import BoolArray, mask_by_distinct
from standards.result import Check, failed, passed

DISTRICT = "110101"
STREETS = "dongcheng_streets"
COMMUNITIES = "dongcheng_communities"


def _digits(standard: str, value: str, length: int) -> Check | None:
    if len(value) != length:
        return failed(f"{standard}.length", f"has {len(value)} characters, expected {length}")
    if not (value.isascii() and value.isdigit()):
        return failed(f"{standard}.charset", f"must be {length} digits")
    if not value.startswith(DISTRICT):
        return failed(f"{standard}.district", f"district {value[:6]} is not Dongcheng ({DISTRICT})")
    return None


def _street_known(standard: str, street: str, version: str | None) -> Check | None:
    if street in tables.codes(STREETS, version):
        return None
    return failed(f"{standard}.unknown_street", f"street {street} is not one of Dongcheng's streets")


def validate_street(value: str, *, version: str | None = None) -> Check:
    """Check a 9-digit Dongcheng street code."""
    fault = _digits("street", value, 9) or _street_known("street", value, version)
    return fault or passed("street")


def validate_community(value: str, *, version: str | None = None) -> Check:
    """Check a 12-digit Dongcheng community code (street known, community listed)."""
    fault = _digits("community", value, 12) or _street_known("community", value[:9], version)
    if fault:
        return fault
    if value not in tables.codes(COMMUNITIES, version):
        return failed(
            "community.unknown_community",
            f"community {value[9:]} is not listed under street {value[:9]} ({tables.name_of(STREETS, value[:9])})",
        )
    return passed("community")


def street_mask(values: object) -> BoolArray:
    """Vectorized :func:`validate_street` (once per distinct value)."""
    return mask_by_distinct(values, lambda v: validate_street(v).ok)


def community_mask(values: object) -> BoolArray:
    """Vectorized :func:`validate_community` (once per distinct value)."""
    return mask_by_distinct(values, lambda v: validate_community(v).ok)
