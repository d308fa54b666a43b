"""Mainland China telephone numbers.

Accepted: mobile numbers ``1[3-9]`` + 9 digits, optionally prefixed ``+86``/``0086``/``86``
(with an optional space or hyphen); fixed lines with a trunk-prefixed area code,
``010``/``02X`` + 8 digits or ``0XXX`` + 7-8 digits, optionally hyphenated,
local numbers starting 2-9; and ``400``/``800`` service numbers (10 digits).
Short service numbers (12345, 95xxx) are not accepted.
"""

from __future__ import annotations

import re

import pyarrow.compute as pc

from standards.arrays import BoolArray, as_strings
from standards.result import Check, failed, passed

MOBILE = r"(?:(?:\+86|0086|86)[ -]?)?1[3-9][0-9]{9}"
FIXED = r"(?:010|02[0-9])-?[2-9][0-9]{7}|0[3-9][0-9]{2}-?[2-9][0-9]{6,7}"
SERVICE = r"[48]00-?[0-9]{3}-?[0-9]{4}"
PATTERN = rf"^(?:{MOBILE}|{FIXED}|{SERVICE})$"
_PATTERN = re.compile(PATTERN, re.ASCII)
_ALLOWED = re.compile(r"[0-9+\- ]+")


def _explain(value: str) -> Check:
    digits = re.sub(r"\D", "", value)
    if not _ALLOWED.fullmatch(value):
        return failed("phone.charset", "only digits, '+', '-' and spaces are allowed")
    if digits.startswith("1") or value.startswith("+"):
        national = re.sub(r"^(?:0086|86)", "", digits)
        if len(national) != 11:
            return failed("phone.length", f"mobile number has {len(national)} digits, expected 11")
        return failed("phone.mobile_prefix", f"mobile number starts {national[:2]}, expected 13-19")
    if digits.startswith("0"):
        return failed(
            "phone.fixed_line",
            "fixed-line number must be 010/02X + 8 digits or 0XXX + 7-8 digits, local part starting 2-9",
        )
    return failed("phone.format", "not a mobile (1XXXXXXXXXX), fixed-line (0XX-XXXXXXXX) or 400/800 number")


def validate(value: str) -> Check:
    """Check a phone number and say which rule it breaks."""
    if _PATTERN.fullmatch(value):
        return passed("phone")
    return _explain(value)


def valid_mask(values: object) -> BoolArray:
    """Vectorized :func:`validate` (one RE2 regex over the Arrow array)."""
    matched = pc.match_substring_regex(as_strings(values), PATTERN)
    return pc.fill_null(matched, False).to_numpy(zero_copy_only=False)
