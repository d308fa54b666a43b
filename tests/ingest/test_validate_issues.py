"""Row-level issues read from GX's results: duplicates point to the row that was kept, whatever the
order of the failing rows; a batch read in many chunks gives the same issues as one chunk."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from contracts import model
from contracts.model import Contract
from hub.settings import Settings
from ingest.issues import HEADER_ROWS
from ingest.standardize import standardize
from ingest.validate import RESULT_FORMAT, validate_with_result

TODAY = dt.date(2026, 11, 1)
GOLDEN = Path(__file__).parent / "golden" / "residents.csv"


def _contract(dataset: str) -> Contract:
    return model.find(Settings().contracts_dir, dataset)


def _expected_duplicates(table: pa.Table, key: list[str], offset: int) -> set[tuple[int, str]]:
    """Every row whose key (no part null for one column) appeared on an earlier row of the table,
    with the message naming that earlier row: read from the whole key columns, as a person would."""
    columns = [table.column(c).to_pylist() for c in key]
    first: dict[Any, int] = {}
    out = set()
    for i, parts in enumerate(zip(*columns, strict=True)):
        k = parts[0] if len(key) == 1 else parts
        if k is None:
            continue
        if k in first:
            out.add((i, f"duplicate of row {first[k] + offset + HEADER_ROWS + 1}: the first occurrence is kept"))
        else:
            first[k] = i
    return out


def _residents() -> pa.Table:
    header = GOLDEN.read_bytes().split(b"\n", 1)[0].decode("gb18030").strip().split(",")
    raw = pacsv.read_csv(
        GOLDEN,
        read_options=pacsv.ReadOptions(encoding="gb18030"),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False
        ),
    )
    contract = _contract("population.residents")
    titles = {f.title: f.name for f in contract.fields}
    return raw.rename_columns([titles[c] for c in raw.column_names])


@pytest.mark.parametrize("offset", [0, 4000])
def test_duplicates_name_the_first_row_of_their_key_wherever_it_is(offset: int) -> None:
    """Rows copied to earlier and later places, out of order: each copy but the first is rejected,
    pointing to the first row of the batch with that key (the one that is kept)."""
    contract = _contract("population.residents")
    raw = _residents().slice(0, 600)
    rng = random.Random(7)
    order = list(range(raw.num_rows)) + [rng.randrange(raw.num_rows) for _ in range(150)]
    rng.shuffle(order)
    table = standardize(raw.take(pa.array(order)), contract).table
    issues, result = validate_with_result(table, contract, TODAY, (), offset)
    found = {(i.index, i.message) for i in issues if i.rule == "unique"}
    expected = _expected_duplicates(table, ["id_number"], offset)
    assert len(expected) > 100
    assert found == expected
    [unique] = [r for r in result.results if r.expectation_config.type == "expect_column_values_to_be_unique"]
    assert "unexpected_index_query" not in unique.result
    assert len(unique.result["unexpected_index_list"]) == len(expected) + len(
        {table.column("id_number")[i].as_py() for i, _ in expected}
    )


def test_compound_key_duplicates_name_the_first_row_of_their_key() -> None:
    contract = _contract("economy.street_indicators")
    assert contract.primary_key == ["street_code", "month", "indicator"]
    rng = random.Random(11)
    rows = [
        {
            "street_code": rng.choice(["110101001", "110101002"]),
            "month": rng.choice(["2026-01", "2026-02", "2026-03"]),
            "indicator": rng.choice(["税收收入", "固定资产投资"]),
            "value": str(rng.randrange(1000)),
            "unit": "万元",
        }
        for _ in range(80)
    ]
    table = standardize(pa.Table.from_pylist(rows), contract).table
    issues, _ = validate_with_result(table, contract, TODAY)
    found = {(i.index, i.message) for i in issues if i.rule == "unique"}
    expected = _expected_duplicates(table, contract.primary_key, 0)
    assert len(expected) == 80 - 12
    assert found == expected


def test_many_chunks_give_the_issues_of_one_chunk() -> None:
    contract = _contract("population.residents")
    table = standardize(_residents(), contract).table.combine_chunks()
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=97))
    assert chunked.column("id_number").num_chunks > 10
    one, result_one = validate_with_result(table, contract, TODAY, (), 400)
    many, result_many = validate_with_result(chunked, contract, TODAY, (), 400)
    assert many == one
    assert len(one) > 100
    assert [r.result for r in result_many.results] == [r.result for r in result_one.results]


def test_the_result_format_keeps_every_failing_row() -> None:
    assert RESULT_FORMAT["result_format"] == "COMPLETE"
