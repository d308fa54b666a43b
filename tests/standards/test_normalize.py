"""Normalizers: new values and changed masks."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pytest

from standards import normalize

Normalizer = Callable[[pa.Array], tuple[pa.Array, pa.Array]]

CASES: list[tuple[str, Normalizer, str | None, str | None]] = [
    ("strip", normalize.strip_spaces, "  110101 ", "110101"),
    ("strip ideographic space", normalize.strip_spaces, "\u3000东城区\u3000", "东城区"),
    ("strip keeps inner spaces", normalize.strip_spaces, "Zhang San", "Zhang San"),
    ("full-width digits", normalize.fullwidth_to_halfwidth, "１１０１０１", "110101"),
    ("full-width letters", normalize.fullwidth_to_halfwidth, "ＡＢｃ", "ABc"),
    ("full-width punctuation kept", normalize.fullwidth_to_halfwidth, "东城区（北）１号", "东城区（北）1号"),
    ("id lower x", normalize.id_number, "11010519491231002x", "11010519491231002X"),
    ("id spaces", normalize.id_number, " 110105 19491231 002X ", "11010519491231002X"),
    ("id full-width", normalize.id_number, "１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"),
    ("id unchanged", normalize.id_number, "11010519491231002X", "11010519491231002X"),
    ("date chinese", normalize.iso_date, "2024年1月5日", "2024-01-05"),
    ("date slashes", normalize.iso_date, "2024/1/5", "2024-01-05"),
    ("date dots", normalize.iso_date, "2024.12.31", "2024-12-31"),
    ("date short dashes", normalize.iso_date, "2024-1-5", "2024-01-05"),
    ("date compact", normalize.iso_date, "20240105", "2024-01-05"),
    ("date iso unchanged", normalize.iso_date, "2024-01-05", "2024-01-05"),
    ("date impossible kept", normalize.iso_date, "2023/2/29", "2023/2/29"),
    ("date compact impossible kept", normalize.iso_date, "20241301", "20241301"),
    ("date ambiguous 7 digits kept", normalize.iso_date, "2024115", "2024115"),
    ("date text kept", normalize.iso_date, "unknown", "unknown"),
    ("null stays null", normalize.iso_date, None, None),
]


@pytest.mark.parametrize(("fn", "before", "after"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_normalizer(fn: Normalizer, before: str | None, after: str | None) -> None:
    values, changed = fn(pa.array([before], type=pa.string()))
    assert values.to_pylist() == [after]
    assert changed.to_pylist() == [before != after and before is not None]


ALL = [normalize.strip_spaces, normalize.fullwidth_to_halfwidth, normalize.id_number, normalize.iso_date]


@pytest.mark.parametrize("fn", ALL)
def test_chunked_in_chunked_out(fn: Normalizer) -> None:
    chunked = pa.chunked_array([["a", None], ["２０２４/1/5 "]])
    values, changed = fn(chunked)
    assert isinstance(values, pa.ChunkedArray) and isinstance(changed, pa.ChunkedArray)
    assert len(values) == len(changed) == 3
    assert changed.type == pa.bool_() and changed.null_count == 0


def test_mixed_column_marks_only_changed_rows() -> None:
    values, changed = normalize.fullwidth_to_halfwidth(pa.array(["1", "２", None, "3", "４"] * 10))
    assert values.to_pylist()[:5] == ["1", "2", None, "3", "4"]
    assert changed.to_pylist()[:5] == [False, True, False, False, True]


def test_sparse_changes_keep_other_rows() -> None:
    raw = ["110101"] * 99 + ["１１０１０１"]
    values, changed = normalize.fullwidth_to_halfwidth(pa.array(raw))
    assert values.to_pylist() == ["110101"] * 100
    assert changed.to_pylist() == [False] * 99 + [True]


@pytest.mark.parametrize(
    ("values", "found"),
    [
        (["110101", None, "东城区"], False),
        (["110101", "１号"], True),  # EF BC 91
        (["ａ"], True),  # EF BD 81
        (["东城区（北）"], True),  # full-width punctuation shares the lead bytes: the regex decides
        ([None, None], False),
        ([], False),
    ],
)
def test_fullwidth_prefilter_finds_the_lead_bytes(values: list[str | None], found: bool) -> None:
    array = pa.array(values, pa.string())
    assert normalize._may_have_fullwidth(array) is found
    assert normalize._may_have_fullwidth(array.cast(pa.large_string())) is found


def test_fullwidth_prefilter_reads_only_a_slice_s_own_bytes() -> None:
    """A slice of a column shares its data buffer: bytes of rows outside the slice do not count."""
    array = pa.array(["１", "1", "2", "3", "ａ"], pa.string())
    assert normalize._may_have_fullwidth(array.slice(1, 3)) is False
    assert normalize._may_have_fullwidth(array.slice(0, 2)) is True
    assert normalize._may_have_fullwidth(array.slice(3, 2)) is True
    values, changed = normalize.fullwidth_to_halfwidth(array.slice(1, 3))
    assert values.to_pylist() == ["1", "2", "3"] and not any(changed.to_pylist())
