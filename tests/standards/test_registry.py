"""The registry of short names."""

from __future__ import annotations

import pytest

from standards import registry
from standards.errors import UnknownStandard

SHORT_NAMES = ["community", "gb11643", "gb11714", "gb2260", "gb32100", "gb4754", "grid", "phone", "postcode", "street"]


def test_known() -> None:
    assert registry.known() == SHORT_NAMES


def test_unknown_name_lists_known_ones() -> None:
    with pytest.raises(UnknownStandard, match="gb11643, gb11714"):
        registry.check("gb1164", "x")


def test_check_explains() -> None:
    result = registry.check("gb11643", "110101199003074478")
    assert (result.ok, result.rule, result.reason) == (False, "gb11643.check_digit", "check digit is 8, expected 7")
