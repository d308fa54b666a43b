"""Vectorized masks agree with the scalar validators on arbitrary text.

The masks re-implement the checks with numpy and RE2; these properties catch
drift between the two implementations (e.g. Python ``re`` vs RE2 anchors).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from standards import phone, postcode, registry

ALPHABETS = {
    "gb11714": ("0123456789ABXa-１", 7, 11),
    "gb2260": ("0123456789a１ ", 4, 8),
    "phone": ("0123456789+- \n１x", 3, 17),
    "postcode": ("0123456789a\n１", 4, 8),
    "gb11643": ("0123456789Xx \n７", 16, 20),
    "gb32100": ("0123456789ANYQXIOz\n", 16, 20),
}


@pytest.mark.parametrize("standard", sorted(ALPHABETS))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_mask_agrees_with_check(standard: str, data: st.DataObject) -> None:
    alphabet, low, high = ALPHABETS[standard]
    values = data.draw(st.lists(st.text(alphabet=alphabet, min_size=low, max_size=high), min_size=1, max_size=5))
    expected = [registry.check(standard, v).ok for v in values]
    assert [bool(m) for m in registry.mask(standard, values)] == expected


@pytest.mark.parametrize("standard", ["phone", "postcode", "gb2260", "gb11714"])
@settings(max_examples=100, deadline=None)
@given(value=st.text(max_size=20))
def test_mask_agrees_with_check_on_any_unicode(standard: str, value: str) -> None:
    assert bool(registry.mask(standard, [value])[0]) is registry.check(standard, value).ok


@pytest.mark.parametrize("standard", ["phone", "postcode"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_values_matching_the_pattern_are_valid_both_ways(standard: str, data: st.DataObject) -> None:
    pattern = {"phone": phone.PATTERN, "postcode": postcode.PATTERN}[standard]
    value = data.draw(st.from_regex(pattern, fullmatch=True))
    assert registry.check(standard, value).ok
    assert registry.mask(standard, [value])[0]
