"""GB/T 4754-2017 industrial classification codes.

Accepted spellings: a section letter (``"I"``), a division, group or class of
2-4 digits (``"65"``, ``"651"``, ``"6510"``), optionally prefixed by its section
letter (``"I6510"``). The section and division are checked against the code
tables; groups and classes only structurally (group digit 1-9), because the hub
does not hold the group/class lists.
"""

from __future__ import annotations

from functools import cache

from standards import tables
from standards.arrays import BoolArray, mask_by_distinct
from standards.result import Check, failed, passed

SECTIONS = "gbt4754_sections"
DIVISIONS = "gbt4754_divisions"


@cache
def _section_by_division() -> dict[str, str]:
    table = tables.load(DIVISIONS)
    return dict(zip(table.column("code").to_pylist(), table.column("parent_code").to_pylist(), strict=True))


def _split(value: str) -> tuple[str, str]:
    if value[:1].isascii() and value[:1].isalpha():
        return value[:1], value[1:]
    return "", value


def _digits(value: str, letter: str, digits: str) -> Check | None:
    if not digits:
        return None if letter else failed("gb4754.length", "is empty")
    if not (digits.isascii() and digits.isdigit()):
        return failed("gb4754.charset", f"{value!r} is not a section letter followed by 2-4 digits")
    if len(digits) not in (2, 3, 4):
        return failed("gb4754.length", f"has {len(digits)} digits, expected 2 (division), 3 (group) or 4 (class)")
    if len(digits) >= 3 and digits[2] == "0":
        return failed("gb4754.group", f"group digit of {digits} is 0, expected 1-9")
    return None


def _hierarchy(letter: str, digits: str) -> Check | None:
    if letter and letter not in tables.codes(SECTIONS):
        return failed("gb4754.section", f"section {letter!r} is not a GB/T 4754-2017 section (A-T)")
    if not digits:
        return None
    division = digits[:2]
    section = _section_by_division().get(division)
    if section is None:
        return failed("gb4754.division", f"division {division} is not a GB/T 4754-2017 division")
    if letter and letter != section:
        return failed("gb4754.section_mismatch", f"division {division} belongs to section {section}, not {letter}")
    return None


def validate(value: str) -> Check:
    """Check an industry code (section, division, group or class)."""
    letter, digits = _split(value)
    fault = _digits(value, letter, digits) or _hierarchy(letter, digits)
    return fault or passed("gb4754")


def section_of(value: str) -> str:
    """The section letter a valid code belongs to, e.g. ``section_of("6510") == "I"``."""
    result = validate(value)
    if not result.ok:
        raise ValueError(f"{value!r}: {result.reason}")
    letter, digits = _split(value)
    return letter or _section_by_division()[digits[:2]]


def valid_mask(values: object) -> BoolArray:
    """Vectorized :func:`validate` (once per distinct value)."""
    return mask_by_distinct(values, lambda v: validate(v).ok)
