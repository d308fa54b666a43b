"""Turning a column of strings into numpy arrays the vectorized checks work on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

BoolArray = npt.NDArray[np.bool_]
ByteMatrix = npt.NDArray[np.uint8]


def as_strings(values: Any) -> pa.Array:
    """Any column (Arrow, pandas, numpy, list) as one Arrow string array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        try:
            values = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            values = pa.array([None if v is None else str(v) for v in values])
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if not pa.types.is_string(values.type):
        values = pc.cast(values, pa.string())
    return values


def fixed_width(values: pa.Array, width: int) -> tuple[ByteMatrix, BoolArray]:
    """Bytes of each value as rows of an ``(n, width)`` matrix, and which rows fit.

    Values that are null or not exactly ``width`` bytes long come back as rows
    of ``"0"`` and ``False`` in the mask; callers must AND the mask in.
    """
    fits = pc.fill_null(pc.equal(pc.binary_length(values), width), False)
    filled = pc.if_else(fits, values, pa.scalar("0" * width))
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks()
    n = len(filled)
    if n == 0:
        return np.zeros((0, width), dtype=np.uint8), np.zeros(0, dtype=np.bool_)
    offset_type = np.int64 if pa.types.is_large_string(filled.type) else np.int32
    offsets = np.frombuffer(filled.buffers()[1], dtype=offset_type)
    start = int(offsets[filled.offset])
    data = np.frombuffer(filled.buffers()[2], dtype=np.uint8, count=n * width, offset=start)
    return data.reshape(n, width), fits.to_numpy(zero_copy_only=False)


def digit_values(matrix: ByteMatrix) -> npt.NDArray[np.int64]:
    """ASCII digit bytes as their integer values (other bytes give junk)."""
    return matrix.astype(np.int64) - ord("0")


def all_digits(matrix: ByteMatrix) -> BoolArray:
    """Rows whose every byte is an ASCII digit."""
    return np.all((matrix >= ord("0")) & (matrix <= ord("9")), axis=1)


def as_number(digits: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Rows of digit values read as one decimal number each."""
    powers = 10 ** np.arange(digits.shape[1] - 1, -1, -1, dtype=np.int64)
    return digits @ powers


def mask_by_distinct(values: Any, predicate: Callable[[str], bool]) -> BoolArray:
    """Apply a scalar predicate once per distinct value and spread the answers.

    Fast for low-cardinality columns (codes, streets, industries): the Python
    call happens per distinct value, the spreading is an Arrow ``take``.
    Nulls are False.
    """
    encoded = pc.dictionary_encode(as_strings(values))
    uniques = encoded.dictionary.to_pylist()
    answers = pa.array([predicate(u) for u in uniques], type=pa.bool_())
    spread = pc.take(answers, encoded.indices) if len(uniques) else pa.nulls(len(encoded), pa.bool_())
    return pc.fill_null(spread, False).to_numpy(zero_copy_only=False)
