"""GB/T 2260 administrative division codes (6 digits), current and historical."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from standards import tables
from standards.arrays import BoolArray, all_digits, as_number, as_strings, digit_values, fixed_width
from standards.result import Check, failed, passed

TABLE = "gbt2260_divisions"
STANDARD = "gb2260"
#: ``last_year`` value of a division still in use.
CURRENT = 9999
#: ``last_year`` value of an unknown code.
UNKNOWN = 0


@dataclass(frozen=True)
class Division:
    """One division code with its latest name and the last year it was in use."""

    code: str
    name: str
    level: str
    parent_code: str | None
    last_year: int

    @property
    def current(self) -> bool:
        return self.last_year == CURRENT


def _last_year(row: dict[str, str | None]) -> int:
    valid_to = row["valid_to"]
    return CURRENT if valid_to is None else int(valid_to)


@cache
def divisions(version: str | None = None) -> dict[str, Division]:
    """Division by code; a renamed code keeps the name of its latest period."""
    latest: dict[str, dict[str, str | None]] = {}
    for row in tables.load(TABLE, version).to_pylist():
        code = row["code"]
        if code not in latest or _last_year(row) >= _last_year(latest[code]):
            latest[code] = row
    return {
        code: Division(code, str(row["name"]), str(row["level"]), row["parent_code"], _last_year(row))
        for code, row in latest.items()
    }


@cache
def last_year_lookup(version: str | None = None) -> npt.NDArray[np.int16]:
    """Dense array indexed by the 6-digit code: last year in use, 0 if unknown."""
    lookup = np.zeros(1_000_000, dtype=np.int16)
    for code, division in divisions(version).items():
        lookup[int(code)] = division.last_year
    return lookup


def lookup(code: str, version: str | None = None) -> Division | None:
    """The division with this code, or None."""
    return divisions(version).get(code)


def names_path(code: str) -> list[str]:
    """Names from province down to ``code``, e.g. ['北京市', '市辖区', '东城区']."""
    path: list[str] = []
    division = lookup(code)
    while division is not None:
        path.insert(0, division.name)
        division = lookup(division.parent_code) if division.parent_code else None
    return path


def validate(value: str, *, current_only: bool = False) -> Check:
    """Check a 6-digit division code: shape, known code, optionally still in use."""
    if len(value) != 6:
        return failed("gb2260.length", f"has {len(value)} characters, expected 6")
    if not (value.isascii() and value.isdigit()):
        return failed("gb2260.charset", "must be 6 digits")
    division = lookup(value)
    if division is None:
        return failed("gb2260.unknown", f"{value} is not a GB/T 2260 division code (current or historical)")
    if current_only and not division.current:
        return failed("gb2260.withdrawn", f"{value} ({division.name}) was withdrawn after {division.last_year}")
    return passed(STANDARD)


def valid_mask(values: object, *, current_only: bool = False) -> BoolArray:
    """Vectorized :func:`validate`: True where the value is a known division code."""
    matrix, fits = fixed_width(as_strings(values), 6)
    digits_ok = fits & all_digits(matrix)
    codes = np.where(digits_ok, as_number(digit_values(matrix)), 0)
    last = last_year_lookup()[codes]
    known = last == CURRENT if current_only else last != UNKNOWN
    return digits_ok & known
