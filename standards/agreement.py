"""Vectorized agreement of ID numbers with separate birth-date and sex columns.

The scalar versions are :func:`standards.gb11643.agrees_with_birth_date` and
:func:`standards.gb11643.agrees_with_sex`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from standards import gb11643
from standards.arrays import BoolArray, as_strings

#: Day numbers standing for "no date"; different on each side so two misses never agree.
_NO_FIELD_DATE = np.int64(-(2**62))
_NO_ENCODED_DATE = np.int64(-(2**61))


def epoch_days(column: object) -> npt.NDArray[np.int64]:
    """Dates (ISO strings, dates, datetimes) as days since 1970-01-01.

    Strings are read from their first 10 characters (``YYYY-MM-DD``), so
    ``"1990-03-07T00:00"`` works; unreadable values and nulls give a sentinel
    that equals no real day.
    """
    if isinstance(column, pd.Series) and pd.api.types.is_datetime64_any_dtype(column.dtype):
        values = column.dt.tz_localize(None) if getattr(column.dt, "tz", None) else column
        days = values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        return np.where(np.isnat(days), _NO_FIELD_DATE, days.astype(np.int64))
    array = as_strings(column) if not isinstance(column, pd.Series) else pa.array(column, from_pandas=True)
    if not (pa.types.is_timestamp(array.type) or pa.types.is_date(array.type)):
        text = pc.utf8_slice_codeunits(as_strings(array), 0, 10)
        array = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    days = pc.cast(pc.cast(array, pa.date32()), pa.int32())
    return pc.fill_null(pc.cast(days, pa.int64()), _NO_FIELD_DATE).to_numpy(zero_copy_only=False)


def birth_dates_agree(ids: object, birth_dates: object) -> BoolArray:
    """True where the ID number's birth date equals the birth-date column's."""
    encoded = gb11643.birth_dates(ids)
    encoded_days = np.where(np.isnat(encoded), _NO_ENCODED_DATE, encoded.astype(np.int64))
    return encoded_days == epoch_days(birth_dates)


def sexes_agree(ids: object, sexes: object) -> BoolArray:
    """True where the ID number's sequence parity matches the GB/T 2261.1 sex code ("1"/"2")."""
    implied = gb11643.sexes(ids)
    same = pc.equal(as_strings(sexes), pa.array(implied, type=pa.string()))
    return pc.fill_null(same, False).to_numpy(zero_copy_only=False) & (implied != "")
