"""Great Expectations 1.x expectations that check columns against the standards.

Importing this module registers every expectation (and its metric) with GX, so
contracts can name them (``expect_column_values_to_be_valid_gb11643``) or build
them with :func:`expectation_for`. The metrics run on the pandas engine and are
vectorized with numpy/pyarrow; they return a boolean Series aligned with the
column, so GX fills ``unexpected_index_list`` with the failing rows.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, Optional

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from great_expectations.compatibility import pydantic
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    ColumnPairMapExpectation,
)
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    ColumnPairMapMetricProvider,
    column_condition_partial,
    column_pair_condition_partial,
)

from standards import agreement, codes, gb11643, registry, tables
from standards.arrays import BoolArray
from standards.errors import UnknownStandard


def _series(mask: BoolArray, like: pd.Series) -> pd.Series:
    return pd.Series(mask, index=like.index, dtype=bool)


# --- metrics ------------------------------------------------------------------


def metric_name(standard: str) -> str:
    """The GX metric that checks a column against ``standard`` (a registry name)."""
    return f"column_values.standards_valid_{standard}"


def _define_metric(standard: str) -> type[ColumnMapMetricProvider]:
    mask = registry.get(standard).mask

    class Metric(ColumnMapMetricProvider):
        condition_metric_name = metric_name(standard)

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, **kwargs: Any) -> pd.Series:
            return _series(mask(column), column)

    Metric.__name__ = Metric.__qualname__ = f"ColumnValuesValid{standard.title()}"
    return Metric


#: One metric provider per registry standard (registered with GX on definition).
METRICS = {standard: _define_metric(standard) for standard in registry.known() if standard != "gb11643"}


class ColumnValuesValidGb11643(ColumnMapMetricProvider):
    """GB 11643 check; ``today`` (ISO date string) pins what counts as a future birth date."""

    condition_metric_name = metric_name("gb11643")
    condition_value_keys = ("today",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, today: str | None = None, **kwargs: Any) -> pd.Series:
        pinned = datetime.date.fromisoformat(today) if today else None
        return _series(gb11643.valid_mask(column, today=pinned), column)


METRICS["gb11643"] = ColumnValuesValidGb11643


class ColumnValuesInCodeTable(ColumnMapMetricProvider):
    condition_metric_name = "column_values.standards_in_code_table"
    condition_value_keys = ("code_table", "table_version")

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, code_table: str, table_version: str | None = None, **kwargs: Any) -> pd.Series:
        return _series(codes.in_table_mask(column, code_table, table_version), column)


class ColumnValuesInDataset(ColumnMapMetricProvider):
    """Values that are keys of another dataset's version: an Arrow hash lookup (``is_in``) of the
    batch's column against the key set read once from the version's serving copy."""

    condition_metric_name = "column_values.standards_in_dataset"
    condition_value_keys = ("serving_copy", "key")

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, serving_copy: str, key: str, **kwargs: Any) -> pd.Series:
        from warehouse.serving import key_values

        keys = key_values(Path(serving_copy), key)
        values = pc.cast(pa.array(column.to_numpy(dtype=object), from_pandas=True), pa.string())
        found = pc.fill_null(pc.is_in(values, value_set=keys), False)
        return _series(found.to_numpy(zero_copy_only=False), column)


class ColumnPairIdNumberAgreesWithBirthDate(ColumnPairMapMetricProvider):
    condition_metric_name = "column_pair_values.standards_id_number_agrees_with_birth_date"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_A",
        "column_B",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )

    @column_pair_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_A: pd.Series, column_B: pd.Series, **kwargs: Any) -> pd.Series:
        return _series(agreement.birth_dates_agree(column_A, column_B), column_A)


class ColumnPairIdNumberAgreesWithSex(ColumnPairMapMetricProvider):
    condition_metric_name = "column_pair_values.standards_id_number_agrees_with_sex"
    condition_domain_keys = ColumnPairIdNumberAgreesWithBirthDate.condition_domain_keys

    @column_pair_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_A: pd.Series, column_B: pd.Series, **kwargs: Any) -> pd.Series:
        return _series(agreement.sexes_agree(column_A, column_B), column_A)


# --- expectations ---------------------------------------------------------------


class _StandardExpectation(ColumnMapExpectation):
    """Base of the one-standard column expectations (abstract: no ``map_metric``)."""

    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
    library_metadata: ClassVar[dict[str, Any]] = {"tags": ["standards"], "contributors": ["basedata-hub"]}


class ExpectColumnValuesToBeValidGb11643(_StandardExpectation):
    """Expect values to be valid GB 11643 citizen ID numbers (nulls ignored).

    ``today`` (optional ISO date string) pins the day after which a birth date is
    "in the future"; by default it is the day the validation runs.
    """

    today: Optional[str] = None  # noqa: UP045  (GX models are pydantic v1)
    map_metric = metric_name("gb11643")
    success_keys = ("today", "mostly")

    @pydantic.validator("today")
    def _iso_date(cls, today: str | None) -> str | None:
        if today is not None:
            datetime.date.fromisoformat(today)
        return today


class ExpectColumnValuesToBeValidGb32100(_StandardExpectation):
    """Expect values to be valid GB 32100 unified social credit codes."""

    map_metric = metric_name("gb32100")


class ExpectColumnValuesToBeValidGb11714(_StandardExpectation):
    """Expect values to be valid GB 11714 organization codes (9 characters)."""

    map_metric = metric_name("gb11714")


class ExpectColumnValuesToBeValidGb2260Division(_StandardExpectation):
    """Expect values to be GB/T 2260 division codes (current or historical)."""

    map_metric = metric_name("gb2260")


class ExpectColumnValuesToBeValidDongchengStreet(_StandardExpectation):
    """Expect values to be 9-digit codes of Dongcheng's streets."""

    map_metric = metric_name("street")


class ExpectColumnValuesToBeValidDongchengCommunity(_StandardExpectation):
    """Expect values to be 12-digit codes of Dongcheng's communities."""

    map_metric = metric_name("community")


class ExpectColumnValuesToBeValidBeijingGrid(_StandardExpectation):
    """Expect values to be 15-digit Beijing unit-grid codes."""

    map_metric = metric_name("grid")


class ExpectColumnValuesToBeValidGb4754(_StandardExpectation):
    """Expect values to be GB/T 4754-2017 industry codes."""

    map_metric = metric_name("gb4754")


class ExpectColumnValuesToBeValidPhoneNumber(_StandardExpectation):
    """Expect values to be mainland China phone numbers."""

    map_metric = metric_name("phone")


class ExpectColumnValuesToBeValidPostcode(_StandardExpectation):
    """Expect values to be mainland China postal codes."""

    map_metric = metric_name("postcode")


class ExpectColumnValuesToBeInCodeTable(ColumnMapExpectation):
    """Expect column values to be codes of a hub code table (``standards.tables``).

    Built as ``ExpectColumnValuesToBeInCodeTable(column=..., table=..., version=None)``
    (latest version when None). GX reserves ``table`` (the batch's table in
    domain kwargs) and ``version`` (its own version), so the fields are stored as
    ``code_table`` and ``table_version``; both spellings are accepted.
    """

    code_table: str = pydantic.Field(alias="table")
    table_version: Optional[str] = pydantic.Field(default=None, alias="version")  # noqa: UP045

    map_metric = "column_values.standards_in_code_table"
    success_keys = ("code_table", "table_version", "mostly")

    class Config:
        allow_population_by_field_name = True

    @pydantic.validator("code_table")
    def _known_table(cls, table: str) -> str:
        tables.versions(table)  # raises UnknownStandard
        return table


class ExpectColumnValuesToExistInDataset(ColumnMapExpectation):
    """Expect column values to be keys (``key``) of another hub dataset's version (nulls ignored).

    ``dataset``, ``dataset_version`` and ``snapshot_id`` name the version checked against, so GX's
    result records it; ``serving_copy`` is that version's DuckDB copy, whose key column is read once
    per process. Built by the contract compiler from a field's reference (``contracts.model.Reference``).
    """

    dataset: str
    key: str
    dataset_version: int
    snapshot_id: int
    serving_copy: str

    map_metric = "column_values.standards_in_dataset"
    success_keys = ("serving_copy", "key", "mostly")
    library_metadata: ClassVar[dict[str, Any]] = {"tags": ["references"], "contributors": ["basedata-hub"]}


IgnoreRowIf = Literal["both_values_are_missing", "either_value_is_missing", "neither"]


class ExpectColumnPairIdNumberToAgreeWithBirthDate(ColumnPairMapExpectation):
    """Expect the birth date in the ID number (column_A) to equal the birth-date column (column_B).

    column_B holds ISO date strings (YYYY-MM-DD) or date/datetime values. Rows
    where either value is missing are ignored by default.
    """

    ignore_row_if: IgnoreRowIf = "either_value_is_missing"
    map_metric = "column_pair_values.standards_id_number_agrees_with_birth_date"
    success_keys = ("column_A", "column_B", "ignore_row_if", "mostly")


class ExpectColumnPairIdNumberToAgreeWithSex(ColumnPairMapExpectation):
    """Expect the sex implied by the ID number (column_A) to equal the GB/T 2261.1 code in column_B."""

    ignore_row_if: IgnoreRowIf = "either_value_is_missing"
    map_metric = "column_pair_values.standards_id_number_agrees_with_sex"
    success_keys = ("column_A", "column_B", "ignore_row_if", "mostly")


#: Expectation class by registry short name, plus "code_table" (needs ``table=``).
BY_STANDARD: dict[str, type[ColumnMapExpectation]] = {
    "gb11643": ExpectColumnValuesToBeValidGb11643,
    "gb32100": ExpectColumnValuesToBeValidGb32100,
    "gb11714": ExpectColumnValuesToBeValidGb11714,
    "gb2260": ExpectColumnValuesToBeValidGb2260Division,
    "street": ExpectColumnValuesToBeValidDongchengStreet,
    "community": ExpectColumnValuesToBeValidDongchengCommunity,
    "grid": ExpectColumnValuesToBeValidBeijingGrid,
    "gb4754": ExpectColumnValuesToBeValidGb4754,
    "phone": ExpectColumnValuesToBeValidPhoneNumber,
    "postcode": ExpectColumnValuesToBeValidPostcode,
    "code_table": ExpectColumnValuesToBeInCodeTable,
}


def expectation_for(standard: str, column: str, **kwargs: Any) -> ColumnMapExpectation:
    """The column expectation for a short name, e.g. ``expectation_for("gb11643", "id_no")``.

    ``kwargs`` go to the expectation (``mostly``, ``meta``, ``table=`` for "code_table").
    Unknown names raise :class:`UnknownStandard`.
    """
    try:
        cls = BY_STANDARD[standard]
    except KeyError:
        raise UnknownStandard("standard", standard, sorted(BY_STANDARD)) from None
    return cls(column=column, **kwargs)
