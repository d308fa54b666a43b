"""GB 32100 / GB 11714 property tests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from standards import gb11714, gb32100, gbt2260

TYPE_PAIRS = sorted(a + t for a in gb32100.AUTHORITIES for t in gb32100.TYPES.get(a, gb32100.ANY_TYPE))
COUNTIES = sorted(c for c, d in gbt2260.divisions().items() if d.level == "county" and d.current)


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from(TYPE_PAIRS)) + draw(st.sampled_from(COUNTIES))
    body = draw(st.text(alphabet=gb32100.ALPHABET, min_size=8, max_size=8))
    first17 = head + body + gb11714.check_char(body)
    return first17 + gb32100.check_char(first17)


def test_weights_are_powers_of_three_mod_31() -> None:
    assert gb32100.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize(("body", "check"), [("55138508", "2"), ("50001234", "X"), ("MA1K3BTP", "2")])
def test_organization_check_char(body: str, check: str) -> None:
    assert gb11714.check_char(body) == check


def test_organization_check_value_11_is_zero() -> None:
    body = next(f"{n:08d}" for n in range(10_000) if gb11714.check_char(f"{n:08d}") == "0")
    assert gb11714.validate(body + "0").ok


@settings(max_examples=200, deadline=None)
@given(credit_codes())
def test_generated_codes_validate(value: str) -> None:
    assert gb32100.validate(value).ok
    assert gb32100.valid_mask([value])[0]


@settings(max_examples=300, deadline=None)
@given(credit_codes(), st.integers(0, 17), st.sampled_from(gb32100.ALPHABET))
def test_any_single_changed_character_fails(value: str, position: int, char: str) -> None:
    changed = value[:position] + char + value[position + 1 :]
    if changed == value:
        return
    assert not gb32100.validate(changed).ok
    assert not gb32100.valid_mask([changed])[0]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789ABCNYQXIO", min_size=17, max_size=19))
def test_mask_agrees_with_validate_on_arbitrary_text(value: str) -> None:
    assert bool(gb32100.valid_mask([value])[0]) is gb32100.validate(value).ok
