"""Where the hub's validators deliberately differ from python-stdnum, pinned.

If a python-stdnum upgrade fixes one of these, the test fails and the wrapper
can be revisited.
"""

from __future__ import annotations

import pytest
from stdnum.cn import ric, uscc

from standards import gb11643, gb32100

AGREE_ID = ["11010519491231002X", "110101199003074477", "110101199003074478", "999999199003074477"]
AGREE_USCC = ["91110108551385082Q", "91110000600037341L", "91310115MA1K3BTP2B", "91110108551385082R"]


@pytest.mark.parametrize("value", AGREE_ID)
def test_id_numbers_both_agree_on(value: str) -> None:
    assert ric.is_valid(value) is gb11643.validate(value).ok


@pytest.mark.parametrize("value", AGREE_USCC)
def test_credit_codes_both_agree_on(value: str) -> None:
    assert uscc.is_valid(value) is gb32100.validate(value).ok


def test_stdnum_accepts_future_birth_dates() -> None:
    value = "110101209901011239"
    assert ric.is_valid(value)
    assert gb11643.validate(value).rule == "gb11643.birth_date_future"


def test_stdnum_rejects_codes_created_after_the_birth_year() -> None:
    value = "110115199001011235"  # 大兴区 (110115, since 2001), born 1990
    assert not ric.is_valid(value)
    assert gb11643.validate(value).ok


def test_stdnum_accepts_lower_case_x() -> None:
    assert ric.is_valid("11010519491231002x")
    assert gb11643.validate("11010519491231002x").rule == "gb11643.charset"


@pytest.mark.parametrize("value", ["N2110101123456788Q", "Y1110101A1B2C3D48J", "A1110000MA0000AB0L"])
def test_stdnum_rejects_letter_authorities(value: str) -> None:
    assert not uscc.is_valid(value)
    assert gb32100.validate(value).ok


def test_stdnum_ignores_the_embedded_organization_code() -> None:
    body = "91110108551385083"  # organization code check wrong (should be 2)
    value = body + gb32100.check_char(body)
    assert uscc.is_valid(value)
    assert gb32100.validate(value).rule == "gb32100.organization_code"
