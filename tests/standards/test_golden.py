"""Every golden example, through the scalar check and the vectorized mask."""

from __future__ import annotations

import pytest

from standards import registry
from tests.standards.golden import Case, cases, load, standards


def test_every_standard_has_a_golden_file() -> None:
    assert standards() == registry.known()


@pytest.mark.parametrize("standard", registry.known())
def test_golden_file_has_valid_and_invalid_examples(standard: str) -> None:
    oks = {case.ok for case in load(standard)}
    assert oks == {True, False}


@pytest.mark.parametrize("case", cases())
def test_check(case: Case) -> None:
    result = registry.check(case.standard, case.value)
    assert (result.ok, result.rule) == (case.ok, case.rule), result.reason
    if case.ok:
        assert result.reason is None
    else:
        assert result.reason and case.reason_contains in result.reason


@pytest.mark.parametrize("standard", registry.known())
def test_vectorized_mask_agrees_with_check(standard: str) -> None:
    golden = load(standard)
    mask = registry.mask(standard, [case.value for case in golden])
    assert [bool(m) for m in mask] == [case.ok for case in golden]


@pytest.mark.parametrize("standard", registry.known())
def test_mask_is_false_for_nulls(standard: str) -> None:
    valid = next(case.value for case in load(standard) if case.ok)
    assert list(registry.mask(standard, [None, valid, None])) == [False, True, False]
