"""Mainland China postal codes (邮政编码): 6 digits.

The first two digits name a postal province; mainland codes run from 01 (Inner
Mongolia) to 86 (Tibet). This is a structural check: the hub has no list of
assigned codes.
"""

from __future__ import annotations

import pyarrow.compute as pc

from standards.arrays import BoolArray, as_strings
from standards.result import Check, failed, passed

PATTERN = r"^(?:0[1-9]|[1-7][0-9]|8[0-6])[0-9]{4}$"


def validate(value: str) -> Check:
    """Check a postal code."""
    if len(value) != 6:
        return failed("postcode.length", f"has {len(value)} characters, expected 6")
    if not (value.isascii() and value.isdigit()):
        return failed("postcode.charset", "must be 6 digits")
    if not ("01" <= value[:2] <= "86"):
        return failed("postcode.region", f"region {value[:2]} is outside the mainland range 01-86")
    return passed("postcode")


def valid_mask(values: object) -> BoolArray:
    """Vectorized :func:`validate`."""
    matched = pc.match_substring_regex(as_strings(values), PATTERN)
    return pc.fill_null(matched, False).to_numpy(zero_copy_only=False)
