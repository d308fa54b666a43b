"""Normalizers used by standardization, vectorized over Arrow string arrays.

Each takes a ``pyarrow.Array`` or ``pyarrow.ChunkedArray`` of strings and returns
``(new_values, changed)``, both of the same kind as the input; ``changed`` is a
boolean array, True exactly where the value was changed (never for nulls).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from standards.gb11643 import real_dates

Strings = TypeVar("Strings", pa.Array, pa.ChunkedArray)

#: Full-width digits and Latin letters (U+FF10-FF19, FF21-FF3A, FF41-FF5A).
FULLWIDTH_ALNUM = "[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]"
_TO_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF5B) if chr(code - 0xFEE0).isalnum()}
_SEPARATED = r"^\s*(?P<y>\d{4})\s*(?:年|/|\.|-)\s*(?P<m>\d{1,2})\s*(?:月|/|\.|-)\s*(?P<d>\d{1,2})\s*日?\s*$"
_ISO = r"^\d{4}-\d{2}-\d{2}$"
_COMPACT = r"^\s*(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})\s*$"


def _as_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _like(template: Strings, values: pa.Array) -> Strings:
    if isinstance(template, pa.ChunkedArray):
        return pa.chunked_array([values], type=values.type)
    return values


def _result(original: Strings, new: pa.Array) -> tuple[Strings, Strings]:
    old = _as_array(original)
    changed = pc.fill_null(pc.not_equal(old, new), False)
    return _like(original, new), _like(original, changed)


def _fix_where(values: pa.Array, needs: pa.Array, fix: Callable[[str], str]) -> pa.Array:
    """Apply a Python fix only to the rows flagged by a vectorized test."""
    rows = np.flatnonzero(pc.fill_null(needs, False).to_numpy(zero_copy_only=False))
    if len(rows) == 0:
        return values
    fixed = [fix(v) for v in values.take(pa.array(rows)).to_pylist()]
    out = values.to_pylist() if len(rows) > len(values) // 4 else None
    if out is not None:
        for row, value in zip(rows, fixed, strict=True):
            out[row] = value
        return pa.array(out, type=pa.string())
    mask = np.zeros(len(values), dtype=np.bool_)
    mask[rows] = True
    return pc.replace_with_mask(values, pa.array(mask), pa.array(fixed, type=pa.string()))


def strip_spaces(values: Strings) -> tuple[Strings, Strings]:
    """Remove leading and trailing whitespace (including U+3000 and NBSP)."""
    return _result(values, pc.utf8_trim_whitespace(_as_array(values)))


def _unchanged(values: Strings) -> tuple[Strings, Strings]:
    array = _as_array(values)
    return values, _like(values, pa.array(np.zeros(len(array), dtype=np.bool_)))


def _may_have_fullwidth(array: pa.Array) -> bool:
    """Whether any value holds a byte pair that starts a full-width letter or digit in UTF-8
    (EF BC or EF BD): a literal byte search over the array's character data (two ``bytes.find``,
    many times cheaper than Arrow's per-value substring match or the character-class regex, which
    then runs only on columns that have such a value). Bytes under null slots may answer yes: the
    regex decides."""
    if len(array) == 0 or array.null_count == len(array):
        return False
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        raw = array.cast(pa.binary())
        return any(bool(pc.any(pc.match_substring(raw, lead)).as_py()) for lead in (b"\xef\xbc", b"\xef\xbd"))
    if pa.types.is_large_string(array.type):
        offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)
    else:
        offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    data = array.buffers()[2]
    if data is None:
        return False
    start, end = int(offsets[array.offset]), int(offsets[array.offset + len(array)])
    text = data.slice(start, end - start).to_pybytes()
    return text.find(b"\xef\xbc") >= 0 or text.find(b"\xef\xbd") >= 0


def fullwidth_to_halfwidth(values: Strings) -> tuple[Strings, Strings]:
    """Full-width digits and Latin letters to ASCII (０１Ａａ → 01Aa); other text unchanged."""
    array = _as_array(values)
    if not _may_have_fullwidth(array):
        return _unchanged(values)
    needs = pc.match_substring_regex(array, FULLWIDTH_ALNUM)
    return _result(values, _fix_where(array, needs, lambda v: v.translate(_TO_HALFWIDTH)))


def id_number(values: Strings) -> tuple[Strings, Strings]:
    """ID-number clean-up: full-width to half-width, all whitespace removed, x to X."""
    array = _as_array(values)
    halfwidth = _as_array(fullwidth_to_halfwidth(array)[0])
    compact = pc.replace_substring_regex(halfwidth, r"\s+", "")
    return _result(values, pc.utf8_upper(compact))


def _date_parts(array: pa.Array, pattern: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    parts = pc.extract_regex(array, pattern)
    matched = pc.fill_null(pc.is_valid(parts), False).to_numpy(zero_copy_only=False)
    numbers = []
    for field in ("y", "m", "d"):
        text = pc.if_else(matched, pc.struct_field(parts, field), "0")
        numbers.append(pc.cast(pc.fill_null(text, "0"), pa.int64()).to_numpy(zero_copy_only=False))
    return (matched, *numbers)


def iso_date(values: Strings) -> tuple[Strings, Strings]:
    """Common date spellings to ``YYYY-MM-DD``.

    Handles 2024年1月5日, 2024/1/5, 2024-1-5, 2024.1.5 and 20240105. Values that
    do not parse, or do not name a real date, are left unchanged (and not
    marked changed).
    """
    whole = _as_array(values)
    # values already spelled YYYY-MM-DD come out as they went in (a real date is rewritten to
    # itself, an impossible one is left alone): only the other spellings are parsed
    spelled = pc.invert(pc.fill_null(pc.match_substring_regex(whole, _ISO), True))
    if not pc.any(spelled).as_py():
        return _unchanged(values)
    rows = pc.indices_nonzero(spelled)
    array = whole.take(rows)
    parsed = []
    for pattern in (_SEPARATED, _COMPACT):
        matched, year, month, day = _date_parts(array, pattern)
        parsed.append((matched & real_dates(year, month, day), year, month, day))
    (ok_a, y_a, m_a, d_a), (ok_b, y_b, m_b, d_b) = parsed
    ok = ok_a | ok_b
    ymd = np.where(ok_a, y_a * 10000 + m_a * 100 + d_a, y_b * 10000 + m_b * 100 + d_b)
    digits = pc.utf8_lpad(pc.cast(pa.array(ymd), pa.string()), width=8, padding="0")
    iso = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(digits, 0, 4),
        pc.utf8_slice_codeunits(digits, 4, 6),
        pc.utf8_slice_codeunits(digits, 6, 8),
        "-",
    )
    fixed = pc.if_else(pa.array(ok), iso, array)
    mask = np.zeros(len(whole), dtype=np.bool_)
    mask[rows.to_numpy()] = True
    return _result(values, pc.replace_with_mask(whole, pa.array(mask), fixed))
