"""The GX expectations on the pandas engine, as the pipeline runs them."""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from typing import Any

import great_expectations as gx
import pandas as pd
import pytest
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

from standards import expectations as se
from standards import gb11643, registry
from standards.errors import UnknownStandard
from tests.standards.golden import load

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="module")
def context() -> Iterator[Any]:
    yield gx.get_context(mode="ephemeral")


@pytest.fixture(scope="module")
def validate(context: Any) -> Any:
    definition = (
        context.data_sources.add_pandas("standards_tests")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole")
    )

    def run(df: pd.DataFrame, expectation: Any) -> Any:
        batch = definition.get_batch(batch_parameters={"dataframe": df})
        return batch.validate(expectation, result_format="COMPLETE")

    return run


@pytest.mark.parametrize("standard", registry.known())
def test_expectation_for_flags_exactly_the_invalid_golden_rows(validate: Any, standard: str) -> None:
    golden = load(standard)
    values: list[str | None] = [case.value for case in golden] + [None]
    result = validate(pd.DataFrame({"v": values}), se.expectation_for(standard, "v"))
    assert not result.success
    expected = [i for i, case in enumerate(golden) if not case.ok]
    assert result.result["unexpected_index_list"] == expected
    assert result.result["missing_count"] == 1


def test_valid_column_succeeds_and_mostly_applies(validate: Any) -> None:
    df = pd.DataFrame({"id": ["11010519491231002X", "110101199003074477", None, "bad"]})
    assert not validate(df, se.ExpectColumnValuesToBeValidGb11643(column="id")).success
    assert validate(df, se.expectation_for("gb11643", "id", mostly=0.6)).success
    assert validate(df.iloc[:3], se.ExpectColumnValuesToBeValidGb11643(column="id")).success


def test_non_default_index_is_reported(validate: Any) -> None:
    df = pd.DataFrame({"id": ["11010519491231002X", "x"]}, index=[10, 20])
    result = validate(df, se.ExpectColumnValuesToBeValidGb11643(column="id"))
    assert result.result["unexpected_index_list"] == [20]


@pytest.mark.parametrize(("version", "unexpected"), [(None, [1, 3]), ("1991", [1, 3])])
def test_in_code_table(validate: Any, version: str | None, unexpected: list[int]) -> None:
    df = pd.DataFrame({"ethnic": ["01", "57", None, "1", "56"]})
    expectation = se.ExpectColumnValuesToBeInCodeTable(column="ethnic", table="gbt3304_ethnicity", version=version)
    result = validate(df, expectation)
    assert result.result["unexpected_index_list"] == unexpected


def test_code_table_via_expectation_for(validate: Any) -> None:
    df = pd.DataFrame({"sex": ["1", "2", "3"]})
    result = validate(df, se.expectation_for("code_table", "sex", table="gbt2261_1_sex"))
    assert result.result["unexpected_index_list"] == [2]


def test_unknown_code_table_is_refused() -> None:
    with pytest.raises(UnknownStandard):
        se.ExpectColumnValuesToBeInCodeTable(column="x", table="nope")


BIRTH_COLUMNS = {
    "iso strings": ["1949-12-31", "1990-03-08", "1990-03-07", None],
    "dates": [datetime.date(1949, 12, 31), datetime.date(1990, 3, 8), datetime.date(1990, 3, 7), None],
    "datetime64": pd.to_datetime(["1949-12-31", "1990-03-08", "1990-03-07", None]),
}


@pytest.mark.parametrize("born", BIRTH_COLUMNS.values(), ids=list(BIRTH_COLUMNS))
def test_id_number_agrees_with_birth_date(validate: Any, born: Any) -> None:
    df = pd.DataFrame({"id": ["11010519491231002X", "110101199003074477", "110101199003074477", "110101199003074477"]})
    df["born"] = born
    expectation = se.ExpectColumnPairIdNumberToAgreeWithBirthDate(column_A="id", column_B="born")
    result = validate(df, expectation)
    assert result.result["unexpected_index_list"] == [1]


def test_id_number_agrees_with_sex(validate: Any) -> None:
    df = pd.DataFrame(
        {
            "id": ["11010519491231002X", "110101199003074477", "110101199003074477", None, "junk"],
            "sex": ["2", "2", "1", "1", "1"],
        }
    )
    result = validate(df, se.ExpectColumnPairIdNumberToAgreeWithSex(column_A="id", column_B="sex"))
    assert result.result["unexpected_index_list"] == [1, 4]


def test_unknown_short_name() -> None:
    with pytest.raises(UnknownStandard, match="gb11643"):
        se.expectation_for("gb1164", "id")


@pytest.mark.parametrize(
    ("type_", "kwargs"),
    [
        ("expect_column_values_to_be_valid_gb11643", {"column": "id"}),
        ("expect_column_values_to_be_valid_beijing_grid", {"column": "grid"}),
        ("expect_column_values_to_be_in_code_table", {"column": "sex", "table": "gbt2261_1_sex"}),
        ("expect_column_pair_id_number_to_agree_with_sex", {"column_A": "id", "column_B": "sex"}),
    ],
)
def test_contracts_can_name_expectations(type_: str, kwargs: dict[str, str]) -> None:
    expectation = ExpectationConfiguration(type=type_, kwargs=kwargs).to_domain_obj()
    again = expectation.configuration.to_domain_obj()
    assert again.expectation_type == type_ == expectation.expectation_type
    assert again.configuration.kwargs == expectation.configuration.kwargs


def test_suite_round_trip_keeps_code_table_version(context: Any) -> None:
    suite = context.suites.add(gx.ExpectationSuite(name="standards_round_trip"))
    suite.add_expectation(se.ExpectColumnValuesToBeInCodeTable(column="e", table="gbt3304_ethnicity", version="1991"))
    stored = context.suites.get("standards_round_trip").expectations[0]
    assert (stored.code_table, stored.table_version) == ("gbt3304_ethnicity", "1991")


@pytest.mark.parametrize(("today", "unexpected"), [("2025-06-01", [0]), ("2025-06-02", []), (None, [])])
def test_gb11643_today_pins_future_birth_dates(validate: Any, today: str | None, unexpected: list[int]) -> None:
    born_2025_06_02 = "11010120250602001" + gb11643.check_char("11010120250602001")
    expectation = se.ExpectColumnValuesToBeValidGb11643(column="id", today=today)
    result = validate(pd.DataFrame({"id": [born_2025_06_02]}), expectation)
    assert result.result["unexpected_index_list"] == unexpected


def test_gb11643_today_must_be_iso() -> None:
    with pytest.raises(ValueError):
        se.ExpectColumnValuesToBeValidGb11643(column="id", today="1 June 2025")
