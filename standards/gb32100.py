"""GB 32100-2015 unified social credit code (统一社会信用代码).

18 characters: registration authority (1) + entity type (1) + GB/T 2260 division (6)
+ GB 11714 organization code (9, with its own check character) + check character.
Only the province of the division part is checked against GB/T 2260 (plus 100000
for central bodies), so a real code is not rejected for a division missing from
the hub's list.
Alphabet ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, S, V, Z); weights 3^i mod 31;
check = alphabet[(31 - sum mod 31) mod 31].

python-stdnum's ``stdnum.cn.uscc`` is not used: it requires the first 8 characters
to be digits, so it rejects real codes from authorities A, N and Y, and it does not
check the embedded organization code.
"""

from __future__ import annotations

import numpy as np

from standards import gb11714, gbt2260
from standards.arrays import BoolArray, all_digits, as_number, as_strings, digit_values, fixed_width
from standards.result import Check, failed, passed

STANDARD = "gb32100"
LENGTH = 18
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
#: Division code used by central-government bodies (not a GB/T 2260 entry).
CENTRAL = "100000"

#: Entity-type codes per registration authority. Authorities 1, 5 and 9 list their
#: types (from GB 32100-2015 Appendix A); for the others any type digit 1-9 is
#: accepted, because the hub has not verified their lists.
AUTHORITIES: dict[str, str] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "工商(市场监管)",
    "A": "中央军委改革和编制办公室",
    "N": "农业",
    "Y": "其他",
}
TYPES: dict[str, str] = {"1": "1239", "5": "1239", "9": "123"}
ANY_TYPE = "123456789"


def check_char(first17: str) -> str:
    """The check character for the first 17 characters."""
    if len(first17) != 17 or any(c not in ALPHABET for c in first17):
        raise ValueError(f"expected 17 characters of {ALPHABET}, got {first17!r}")
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def _shape(value: str) -> Check | None:
    if len(value) != LENGTH:
        return failed("gb32100.length", f"has {len(value)} characters, expected {LENGTH}")
    for position, char in enumerate(value, start=1):
        if char not in ALPHABET:
            hint = " (letters I, O, S, V, Z are not used)" if char.upper() in "IOSVZ" else ""
            if char.islower():
                hint = " (letters must be upper-case)"
            return failed("gb32100.charset", f"character {position} is {char!r}{hint}")
    return None


def _codes(value: str) -> Check | None:
    authority, kind = value[0], value[1]
    if authority not in AUTHORITIES:
        return failed("gb32100.authority", f"registration authority code {authority!r} is not assigned")
    if kind not in TYPES.get(authority, ANY_TYPE):
        return failed(
            "gb32100.entity_type",
            f"entity type {authority}{kind} is not a type of authority {authority} ({AUTHORITIES[authority]})",
        )
    division = value[2:8]
    if not division.isdigit():
        return failed("gb32100.division", f"division code {division} must be 6 digits")
    if division != CENTRAL and gbt2260.lookup(division[:2] + "0000") is None:
        return failed("gb32100.division", f"division code {division} is in no GB/T 2260 province")
    return None


def _check_chars(value: str) -> Check | None:
    organization = gb11714.validate(value[8:17])
    if not organization.ok:
        return failed("gb32100.organization_code", f"embedded organization code {value[8:17]}: {organization.reason}")
    expected = check_char(value[:17])
    if value[17] != expected:
        return failed("gb32100.check_digit", f"check character is {value[17]}, expected {expected}")
    return None


def validate(value: str) -> Check:
    """Check a unified social credit code; the first fault found is reported.

    Order: length, characters, authority, entity type, division, embedded
    organization code, check character.
    """
    fault = _shape(value) or _codes(value) or _check_chars(value)
    return fault or passed(STANDARD)


# --- vectorized -------------------------------------------------------------

_VALUE = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(ALPHABET):
    _VALUE[ord(_c)] = _i
_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)
_ALPHABET_BYTES = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)


def _type_table() -> np.ndarray:
    allowed = np.zeros((256, 256), dtype=np.bool_)
    for authority in AUTHORITIES:
        for kind in TYPES.get(authority, ANY_TYPE):
            allowed[ord(authority), ord(kind)] = True
    return allowed


_TYPE_OK = _type_table()


def valid_mask(values: object) -> BoolArray:
    """Vectorized :func:`validate`: a boolean per value (nulls are False)."""
    matrix, fits = fixed_width(as_strings(values), LENGTH)
    values_ = _VALUE[matrix]
    shape_ok = fits & np.all(values_ >= 0, axis=1)
    types_ok = _TYPE_OK[matrix[:, 0], matrix[:, 1]]
    division = matrix[:, 2:8]
    digits_ok = all_digits(division)
    number = as_number(np.where(digits_ok[:, None], digit_values(division), 0))
    province = (number // 10000) * 10000
    known = gbt2260.last_year_lookup()[province] != gbt2260.UNKNOWN
    division_ok = digits_ok & (known | (number == int(CENTRAL)))
    total = np.where(values_[:, :17] >= 0, values_[:, :17], 0) @ _WEIGHTS
    check_ok = _ALPHABET_BYTES[(31 - total % 31) % 31] == matrix[:, 17]
    return shape_ok & types_ok & division_ok & gb11714.valid_rows(matrix[:, 8:17]) & check_ok
