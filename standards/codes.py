"""Membership of values in a code table, vectorized."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from standards import tables
from standards.arrays import BoolArray, as_strings
from standards.result import Check, failed, passed


def validate(value: str, table: str, version: str | None = None) -> Check:
    """Is ``value`` a code of ``table`` (latest version when None)?"""
    resolved = tables.resolve_version(table, version)
    if value in tables.codes(table, resolved):
        return passed(f"code_table.{table}")
    return failed("code_table.unknown_code", f"{value!r} is not a code in {table} version {resolved}")


def in_table_mask(values: object, table: str, version: str | None = None) -> BoolArray:
    """True where the value is a code of the table; nulls are False."""
    value_set = pa.array(sorted(tables.codes(table, version)), type=pa.string())
    found = pc.is_in(as_strings(values), value_set=value_set, skip_nulls=True)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)
