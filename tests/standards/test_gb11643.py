"""GB 11643 helpers, agreement checks and property tests."""

from __future__ import annotations

import datetime

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from standards import gb11643, gbt2260

TODAY = datetime.date(2025, 6, 1)
CURRENT_COUNTIES = sorted(code for code, d in gbt2260.divisions().items() if d.level == "county" and d.current)


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    county = draw(st.sampled_from(CURRENT_COUNTIES))
    born = draw(st.dates(datetime.date(1900, 1, 1), TODAY))
    sequence = draw(st.integers(0, 999))
    first17 = f"{county}{born:%Y%m%d}{sequence:03d}"
    return first17 + gb11643.check_char(first17)


@pytest.mark.parametrize(
    ("first17", "expected"),
    [("11010519491231002", "X"), ("11010119900307447", "7"), ("11011519900101123", "5")],
)
def test_check_char(first17: str, expected: str) -> None:
    assert gb11643.check_char(first17) == expected


@pytest.mark.parametrize("bad", ["1101051949123100", "1101051949123100X", "110105194912310020"])
def test_check_char_needs_17_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        gb11643.check_char(bad)


def test_birth_date_sex_and_birthplace() -> None:
    value = "11010519491231002X"
    assert gb11643.birth_date(value) == datetime.date(1949, 12, 31)
    assert gb11643.sex(value) == "2"
    assert gb11643.sex("110101199003074477") == "1"
    place = gb11643.birthplace(value)
    assert place is not None and place.names == ("北京市", "市辖区", "朝阳区")
    assert place.label == "北京市朝阳区"
    assert gb11643.birthplace("110103201001011230").names[-1] == "崇文区"
    assert gb11643.birthplace("999999199003074477") is None


def test_birth_date_rejects_impossible_dates() -> None:
    with pytest.raises(ValueError):
        gb11643.birth_date("110101199902290018")


def test_today_decides_what_is_future() -> None:
    value = "110101202506020011"
    value = value[:17] + gb11643.check_char(value[:17])
    assert gb11643.validate(value, today=datetime.date(2025, 6, 2)).ok
    late = gb11643.validate(value, today=datetime.date(2025, 6, 1))
    assert late.rule == "gb11643.birth_date_future"
    assert list(gb11643.valid_mask([value], today=datetime.date(2025, 6, 1))) == [False]
    assert list(gb11643.valid_mask([value], today=datetime.date(2025, 6, 2))) == [True]


@pytest.mark.parametrize(
    ("sex_code", "rule"),
    [("2", "gb11643"), ("1", "gb11643.sex_mismatch"), ("9", "gb11643.sex_field"), ("女", "gb11643.sex_field")],
)
def test_agrees_with_sex(sex_code: str, rule: str) -> None:
    assert gb11643.agrees_with_sex("11010519491231002X", sex_code).rule == rule


@pytest.mark.parametrize(
    ("born", "ok"),
    [
        (datetime.date(1949, 12, 31), True),
        ("1949-12-31", True),
        ("1949-12-31T00:00:00", True),
        ("1949-12-30", False),
        (datetime.date(1950, 12, 31), False),
    ],
)
def test_agrees_with_birth_date(born: datetime.date | str, ok: bool) -> None:
    result = gb11643.agrees_with_birth_date("11010519491231002X", born)
    assert result.ok is ok
    if not ok:
        assert result.rule == "gb11643.birth_date_mismatch" and "1949-12-31" in str(result.reason)


def test_vectorized_birth_dates_and_sexes() -> None:
    values = pa.array(["11010519491231002X", None, "abc", "110101199002304477", "110101199003074477"])
    assert [str(d) for d in gb11643.birth_dates(values)] == ["1949-12-31", "NaT", "NaT", "NaT", "1990-03-07"]
    assert list(gb11643.sexes(values)) == ["2", "", "", "1", "1"]


def test_mask_accepts_chunked_and_sliced_arrays() -> None:
    values = pa.array(["junk", "11010519491231002X", "110101199003074478"]).slice(1)
    chunked = pa.chunked_array([values, values])
    assert list(gb11643.valid_mask(chunked)) == [True, False, True, False]


@settings(max_examples=200, deadline=None)
@given(id_numbers())
def test_generated_numbers_validate(value: str) -> None:
    assert gb11643.validate(value, today=TODAY).ok
    assert gb11643.valid_mask([value], today=TODAY)[0]
    assert gb11643.birth_date(value) <= TODAY


@settings(max_examples=300, deadline=None)
@given(id_numbers(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_changed_character_fails(value: str, position: int, char: str) -> None:
    changed = value[:position] + char + value[position + 1 :]
    if changed == value:
        return
    result = gb11643.validate(changed, today=TODAY)
    assert not result.ok
    assert not gb11643.valid_mask([changed], today=TODAY)[0]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789Xx ", min_size=16, max_size=19))
def test_mask_agrees_with_validate_on_arbitrary_text(value: str) -> None:
    expected = gb11643.validate(value, today=TODAY).ok
    assert bool(gb11643.valid_mask(np.array([value], dtype=object), today=TODAY)[0]) is expected
