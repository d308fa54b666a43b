"""GB 11643-1999 citizen identification number (公民身份号码).

18 characters: GB/T 2260 address code (6) + birth date YYYYMMDD (8) + sequence
(3, odd for men, even for women) + ISO 7064 MOD 11-2 check character (0-9, X).

python-stdnum's ``stdnum.cn.ric`` is not used for validation: it accepts birth
dates in the future, and it rejects valid numbers whose address code was
created after the birth year (a person born in 1990 in 大兴 holds 110115,
created in 2001). See ``tests/standards/test_stdnum_differences.py``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from standards import gbt2260
from standards.arrays import BoolArray, all_digits, as_number, as_strings, digit_values, fixed_width
from standards.result import Check, failed, passed

STANDARD = "gb11643"
LENGTH = 18
#: Weights 2^(17-i) mod 11 of the first 17 digits.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
#: Birth dates before this are treated as typos (no living holder was born earlier).
EARLIEST_BIRTH = datetime.date(1880, 1, 1)
MALE, FEMALE = "1", "2"


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError(f"expected 17 digits, got {first17!r}")
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def _shape(value: str) -> Check | None:
    if len(value) != LENGTH:
        return failed("gb11643.length", f"has {len(value)} characters, expected {LENGTH}")
    for position, char in enumerate(value[:17], start=1):
        if not ("0" <= char <= "9"):
            return failed("gb11643.charset", f"character {position} is {char!r}, expected a digit")
    if value[17] == "x":
        return failed("gb11643.charset", "check character is lower-case 'x', expected upper-case 'X'")
    if value[17] not in CHECK_CHARS:
        return failed("gb11643.charset", f"check character is {value[17]!r}, expected a digit or 'X'")
    return None


def _birth(value: str, today: datetime.date) -> Check | None:
    raw = value[6:14]
    try:
        born = birth_date(value)
    except ValueError:
        return failed("gb11643.birth_date", f"birth date {raw} is not a real date")
    if born > today:
        return failed("gb11643.birth_date_future", f"birth date {born.isoformat()} is in the future")
    if born < EARLIEST_BIRTH:
        return failed(
            "gb11643.birth_date_too_early",
            f"birth date {born.isoformat()} is before {EARLIEST_BIRTH.isoformat()}",
        )
    return None


def _address(value: str) -> Check | None:
    code = value[:6]
    division = gbt2260.lookup(code)
    if division is None:
        return failed(
            "gb11643.address_code",
            f"address code {code} is not a GB/T 2260 division code (current or historical)",
        )
    born = int(value[6:10])
    if born > division.last_year:
        return failed(
            "gb11643.address_code_withdrawn",
            f"address code {code} ({division.name}) was withdrawn after {division.last_year},"
            f" before the birth year {born}",
        )
    return None


def _check_digit(value: str) -> Check | None:
    expected = check_char(value[:17])
    if value[17] != expected:
        return failed("gb11643.check_digit", f"check digit is {value[17]}, expected {expected}")
    return None


def validate(value: str, *, today: datetime.date | None = None) -> Check:
    """Check a citizen ID number; the first fault found is reported.

    Order: length, characters, birth date (real, not future, not before 1880),
    address code (known, not withdrawn before the birth year), check digit.
    """
    today = today or datetime.date.today()
    fault = _shape(value) or _birth(value, today) or _address(value) or _check_digit(value)
    return fault or passed(STANDARD)


def birth_date(value: str) -> datetime.date:
    """The birth date encoded in the number; ValueError if it is not a date."""
    raw = value[6:14]
    if len(raw) != 8 or not raw.isdigit():
        raise ValueError(f"no birth date in {value!r}")
    return datetime.date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))


def sex(value: str) -> str:
    """GB/T 2261.1 sex code from the sequence: "1" (odd, male) or "2" (even, female)."""
    digit = value[16:17]
    if not digit.isdigit():
        raise ValueError(f"no sequence digit in {value!r}")
    return MALE if int(digit) % 2 else FEMALE


@dataclass(frozen=True)
class Birthplace:
    """Where the number was first registered (GB/T 2260 division of the address code)."""

    code: str
    names: tuple[str, ...]

    @property
    def label(self) -> str:
        return "".join(name for name in self.names if name not in ("市辖区", "县"))


def birthplace(value: str) -> Birthplace | None:
    """The division of the address code, province first; None if unknown."""
    code = value[:6]
    names = gbt2260.names_path(code)
    return Birthplace(code, tuple(names)) if names else None


def agrees_with_sex(value: str, sex_code: str) -> Check:
    """The sequence's parity agrees with a separate GB/T 2261.1 sex field."""
    implied = sex(value)
    if sex_code not in (MALE, FEMALE):
        return failed("gb11643.sex_field", f"sex field is {sex_code!r}, expected '1' or '2'")
    if sex_code != implied:
        return failed("gb11643.sex_mismatch", f"sex field is {sex_code}, ID number says {implied}")
    return passed(STANDARD)


def agrees_with_birth_date(value: str, born: datetime.date | str) -> Check:
    """The encoded birth date agrees with a separate birth-date field."""
    field = born.isoformat() if isinstance(born, datetime.date) else str(born)
    try:
        implied = birth_date(value).isoformat()
    except ValueError:
        return failed("gb11643.birth_date", f"birth date {value[6:14]} is not a real date")
    if field[:10] != implied:
        return failed("gb11643.birth_date_mismatch", f"birth date field is {field}, ID number says {implied}")
    return passed(STANDARD)


# --- vectorized -------------------------------------------------------------

_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)
_CHECK_BYTES = np.frombuffer(CHECK_CHARS.encode(), dtype=np.uint8)


def real_dates(year: npt.NDArray[np.int64], month: npt.NDArray[np.int64], day: npt.NDArray[np.int64]) -> BoolArray:
    """Which (year, month, day) triples are real Gregorian dates."""
    month_ok = (month >= 1) & (month <= 12)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    return month_ok & (day >= 1) & (day <= days)


def _yyyymmdd(date: datetime.date) -> int:
    return date.year * 10000 + date.month * 100 + date.day


def valid_mask(values: object, *, today: datetime.date | None = None) -> BoolArray:
    """Vectorized :func:`validate`: a boolean per value (nulls are False)."""
    today = today or datetime.date.today()
    matrix, fits = fixed_width(as_strings(values), LENGTH)
    last = matrix[:, 17]
    shape_ok = fits & all_digits(matrix[:, :17]) & (((last >= 48) & (last <= 57)) | (last == ord("X")))
    digits = np.where(shape_ok[:, None], digit_values(matrix[:, :17]), 0)
    year, month, day = (as_number(digits[:, a:b]) for a, b in ((6, 10), (10, 12), (12, 14)))
    ymd = as_number(digits[:, 6:14])
    born_ok = real_dates(year, month, day) & (ymd <= _yyyymmdd(today)) & (ymd >= _yyyymmdd(EARLIEST_BIRTH))
    last_year = gbt2260.last_year_lookup()[as_number(digits[:, :6])]
    address_ok = (last_year != gbt2260.UNKNOWN) & (year <= last_year)
    check_ok = _CHECK_BYTES[(digits @ _WEIGHTS) % 11] == last
    return shape_ok & born_ok & address_ok & check_ok


def birth_dates(values: object) -> npt.NDArray[np.datetime64]:
    """Encoded birth dates as ``datetime64[D]``; NaT where there is none."""
    matrix, fits = fixed_width(as_strings(values), LENGTH)
    ok = fits & all_digits(matrix[:, 6:14])
    digits = np.where(ok[:, None], digit_values(matrix[:, 6:14]), 0)
    year, month, day = as_number(digits[:, :4]), as_number(digits[:, 4:6]), as_number(digits[:, 6:8])
    ok &= real_dates(year, month, day) & (year >= 1)
    out = np.full(len(ok), np.datetime64("NaT"), dtype="datetime64[D]")
    if ok.any():
        months = (year[ok] - 1970) * 12 + (month[ok] - 1)
        out[ok] = months.astype("datetime64[M]").astype("datetime64[D]") + (day[ok] - 1)
    return out


def sexes(values: object) -> npt.NDArray[np.str_]:
    """GB/T 2261.1 sex codes per value: "1", "2", or "" when there is no sequence digit."""
    matrix, fits = fixed_width(as_strings(values), LENGTH)
    digit = matrix[:, 16]
    ok = fits & (digit >= ord("0")) & (digit <= ord("9"))
    return np.where(ok, np.where(digit % 2 == 1, MALE, FEMALE), "")
