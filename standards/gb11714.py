"""GB 11714-1997 organization code (组织机构代码): 8 characters + check character.

Body characters are digits or upper-case letters (A=10 … Z=35); weights
3, 7, 9, 10, 5, 8, 4, 2; check = 11 - sum mod 11, where 10 is written X and 11 is 0.
"""

from __future__ import annotations

import string

import numpy as np
import numpy.typing as npt

from standards.arrays import as_strings, fixed_width
from standards.result import Check, failed, passed

STANDARD = "gb11714"
WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
BODY_CHARS = string.digits + string.ascii_uppercase


def check_char(body: str) -> str:
    """The check character for the 8-character body."""
    if len(body) != 8 or any(c not in BODY_CHARS for c in body):
        raise ValueError(f"expected 8 digits or upper-case letters, got {body!r}")
    total = sum(BODY_CHARS.index(c) * w for c, w in zip(body, WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def validate(value: str) -> Check:
    """Check a 9-character organization code (without the hyphen some print)."""
    if len(value) != 9:
        return failed("gb11714.length", f"has {len(value)} characters, expected 9")
    for position, char in enumerate(value[:8], start=1):
        if char not in BODY_CHARS:
            return failed("gb11714.charset", f"character {position} is {char!r}, expected a digit or upper-case letter")
    expected = check_char(value[:8])
    if value[8] != expected:
        return failed("gb11714.check_digit", f"check character is {value[8]}, expected {expected}")
    return passed(STANDARD)


_VALUE = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(BODY_CHARS):
    _VALUE[ord(_c)] = _i
_CHECK_BYTES = np.frombuffer(b"0123456789X0", dtype=np.uint8)  # index 11 - sum % 11 (0 never occurs)


def valid_rows(matrix: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """Vectorized check of an ``(n, 9)`` byte matrix of organization codes."""
    values = _VALUE[matrix[:, :8]]
    body_ok = np.all(values >= 0, axis=1)
    total = np.where(values >= 0, values, 0) @ np.array(WEIGHTS, dtype=np.int64)
    expected = _CHECK_BYTES[11 - total % 11]
    return body_ok & (expected == matrix[:, 8])


def valid_mask(values: object) -> npt.NDArray[np.bool_]:
    """Vectorized :func:`validate`: a boolean per value (nulls are False)."""
    matrix, fits = fixed_width(as_strings(values), 9)
    return fits & valid_rows(matrix)
