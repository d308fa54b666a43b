"""Vectorized ID-number agreement with birth-date and sex columns."""

from __future__ import annotations

import datetime

import pandas as pd
import pyarrow as pa
import pytest

from standards import agreement

IDS = ["11010519491231002X", "110101199003074477", "junk", None]
BIRTH_COLUMNS = {
    "iso strings": pd.Series(["1949-12-31", "1990-03-08", "1990-03-07", "1990-03-07"]),
    "strings with time": pd.Series(["1949-12-31T08:00:00", "1990-03-08 00:00", None, "x"]),
    "python dates": pd.Series([datetime.date(1949, 12, 31), datetime.date(1990, 3, 8), None, None]),
    "datetime64": pd.Series(pd.to_datetime(["1949-12-31", "1990-03-08", None, None])),
    "tz-aware": pd.Series(pd.to_datetime(["1949-12-31", "1990-03-08", None, None]).tz_localize("Asia/Shanghai")),
    "arrow date32": pa.array([datetime.date(1949, 12, 31), datetime.date(1990, 3, 8), None, None]),
}


@pytest.mark.parametrize("born", BIRTH_COLUMNS.values(), ids=list(BIRTH_COLUMNS))
def test_birth_dates_agree(born: object) -> None:
    assert list(agreement.birth_dates_agree(IDS, born)) == [True, False, False, False]


@pytest.mark.parametrize(
    ("sexes", "expected"),
    [
        (["2", "1", "1", "1"], [True, True, False, False]),
        (["1", "2", "2", None], [False, False, False, False]),
        (pd.Series([2, 1, 1, 1]), [True, True, False, False]),
    ],
)
def test_sexes_agree(sexes: object, expected: list[bool]) -> None:
    assert list(agreement.sexes_agree(IDS, sexes)) == expected
