"""Beijing unit-grid codes (DB11/T 2157-2023): 15 digits.

district (6, GB/T 2260) + street (3) + community (3) + grid sequence (3, 001-999,
numbered west to east, north to south inside a community). For Dongcheng the
street and community must be in the hub's tables; for other Beijing districts,
whose streets the hub does not list, they must only be non-zero.
"""

from __future__ import annotations

from standards import gbt2260, streets
from standards.arrays import BoolArray, mask_by_distinct
from standards.result import Check, failed, passed

LENGTH = 15
BEIJING = "11"


def _district(code: str) -> Check | None:
    division = gbt2260.lookup(code)
    if not code.startswith(BEIJING) or division is None or division.level != "county":
        return failed("grid.district", f"district {code} is not a Beijing district")
    if not division.current:
        return failed("grid.district", f"district {code} ({division.name}) was withdrawn after {division.last_year}")
    return None


def _community(value: str) -> Check | None:
    if value[:6] == streets.DISTRICT:
        community = streets.validate_community(value[:12])
        return None if community.ok else failed("grid." + community.rule.split(".", 1)[1], str(community.reason))
    if value[6:9] == "000" or value[9:12] == "000":
        return failed("grid.community", "street and community parts must not be 000")
    return None


def validate(value: str) -> Check:
    """Check a 15-digit Beijing grid code."""
    if len(value) != LENGTH:
        return failed("grid.length", f"has {len(value)} characters, expected {LENGTH}")
    if not (value.isascii() and value.isdigit()):
        return failed("grid.charset", f"must be {LENGTH} digits")
    fault = _district(value[:6]) or _community(value)
    if fault:
        return fault
    if value[12:] == "000":
        return failed("grid.sequence", "grid sequence must be 001-999, got 000")
    return passed("grid")


def valid_mask(values: object) -> BoolArray:
    """Vectorized :func:`validate` (once per distinct value)."""
    return mask_by_distinct(values, lambda v: validate(v).ok)
