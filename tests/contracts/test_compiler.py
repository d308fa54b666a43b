"""The contract compiles to a GX suite, and the suite finds exactly the faulty rows."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from contracts import model
from contracts.compiler import compile_suite
from hub.settings import get_settings
from ingest.validate import validate

CONTRACT = model.find(get_settings().contracts_dir, "population.residents")
TODAY = dt.date(2026, 11, 1)


def test_suite_has_one_expectation_per_rule_with_its_meta() -> None:
    suite = compile_suite(CONTRACT, TODAY)
    rules = {(e.meta["column"], e.meta["rule"]): type(e).__name__ for e in suite.expectations}
    assert rules[("id_number", "required")] == "ExpectColumnValuesToNotBeNull"
    assert rules[("id_number", "unique")] == "ExpectColumnValuesToBeUnique"
    assert rules[("id_number", "standard:gb11643")] == "ExpectColumnValuesToBeValidGb11643"
    assert rules[("street_code", "code_table:dongcheng_streets")] == "ExpectColumnValuesToBeInCodeTable"
    assert rules[("birth_date", "agrees_with_id_number")] == "ExpectColumnPairIdNumberToAgreeWithBirthDate"
    assert rules[("sex", "agrees_with_id_number")] == "ExpectColumnPairIdNumberToAgreeWithSex"
    assert rules[("birth_date", "not_after_today")] == "ExpectColumnValuesToBeBetween"
    assert ("phone", "required") not in rules
    assert len(suite.expectations) == len(rules)


def _row(**overrides: object) -> dict[str, object]:
    base = {
        "id_number": "110101199003074477",
        "name": "王伟",
        "sex": "1",
        "birth_date": dt.date(1990, 3, 7),
        "ethnicity": "01",
        "phone": "13800138000",
        "street_code": "110101001",
        "community_code": "110101001001",
        "grid_code": "110101001001001",
        "address": "北京市东城区东华门街道南池子大街1号",
        "registered_on": dt.date(2000, 1, 1),
    }
    return base | overrides


def _table(rows: list[dict[str, object]]) -> pa.Table:
    from ingest.standardize import arrow_schema

    return pa.Table.from_pylist(rows, schema=arrow_schema(CONTRACT))


def test_validation_names_row_column_and_rule() -> None:
    rows = [
        _row(),
        _row(id_number="11010519491231002X", name=None, sex="2", birth_date=dt.date(1949, 12, 31)),
        _row(id_number="110101199003074478"),  # wrong check digit
        _row(id_number="110101199003074477"),  # duplicate of row 2
        _row(id_number="11010519491231002X", street_code="110101099", sex="1", birth_date=dt.date(1949, 12, 31)),
        _row(id_number="110101199003074477", birth_date=dt.date(2027, 1, 1)),
    ]
    issues = {(i.row, i.column, i.rule) for i in validate(_table(rows), CONTRACT, TODAY)}
    assert (3, "name", "required") in issues
    assert (4, "id_number", "standard:gb11643") in issues
    assert (5, "id_number", "unique") in issues
    assert (6, "street_code", "code_table:dongcheng_streets") in issues
    assert (6, "sex", "agrees_with_id_number") in issues
    assert (7, "birth_date", "not_after_today") in issues
    assert (7, "birth_date", "agrees_with_id_number") in issues
    assert not any(row == 2 for row, _, _ in issues), "the first occurrence of a key is kept"


def test_clean_table_has_no_issues() -> None:
    rows = [_row(), _row(id_number="11010519491231002X", sex="2", birth_date=dt.date(1949, 12, 31))]
    assert validate(_table(rows), CONTRACT, TODAY) == []
