"""The row store answers exactly what DuckDB answers: for every dataset's contract, under the
default release and with every field granted in clear, the same pages (values, Python types, order,
masks), the same keyed lookups and the same verify answers, including nulls, empty and non-ASCII
text, dates, times with and without microseconds, booleans, numbers and geometry."""

from __future__ import annotations

import datetime as dt
import random
import struct
from pathlib import Path
from typing import cast

import duckdb
import pyarrow as pa
import pytest

from access.policy import Column, Policy
from access.query import PageQuery
from access.verify import Question
from contracts import disclosure, model
from contracts.model import Contract, Field
from hub.settings import Settings
from warehouse import rowstore, serving

ROWS = 400
TIMESTAMPED = "test.timestamped"
"""The residents' contract with its registration date made a timestamp (no dataset has one yet)."""
CONTRACTS = [*sorted(p.name.removesuffix(".yaml") for p in Settings().contracts_dir.glob("*.yaml")), TIMESTAMPED]


def _contract(name: str) -> Contract:
    if name != TIMESTAMPED:
        return model.find(Settings().contracts_dir, name)
    base = model.find(Settings().contracts_dir, "population.residents")
    fields = [f.model_copy(update={"type": "timestamp"}) if f.type == "date" else f for f in base.fields]
    assert any(f.type == "timestamp" for f in fields)
    return base.model_copy(update={"id": TIMESTAMPED, "fields": fields})


TEXTS = ["", "東城區 东城区", "a'b\"c", "  padded  ", "x" * 300, "110101199001011234", "Zürich", "😀"]


def _value(f: Field, i: int, rng: random.Random) -> object:
    if f.primary_key or f.unique:
        return i if f.type == "integer" else f"k{i:06d}"
    if rng.random() < 0.1:
        return None
    if f.type == "string":
        return rng.choice(TEXTS) if rng.random() < 0.5 else f"v{rng.randrange(5)}"
    if f.type == "integer":
        return rng.randrange(-(2**40), 2**40)
    if f.type == "number":
        return rng.choice([0.1, -2.5, 1e300, 3.0, rng.random()])
    if f.type == "date":
        return dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(50_000))
    if f.type == "timestamp":
        micro = rng.choice([0, 123_000, 999_999])
        return dt.datetime(2020, 1, 1, 8, 30) + dt.timedelta(seconds=rng.randrange(10**8), microseconds=micro)
    if f.type == "boolean":
        return rng.random() < 0.5
    if f.type == "geometry":
        return struct.pack("<BIdd", 1, 1, 116.4 + rng.random() / 10, 39.9 + rng.random() / 10)  # WKB point
    raise AssertionError(f"no sample for type {f.type}")


ARROW = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "boolean": pa.bool_(),
    "geometry": pa.binary(),
}


def _table(contract: Contract) -> pa.Table:
    rng = random.Random(contract.id)
    return pa.table(
        {f.name: pa.array([_value(f, i, rng) for i in range(ROWS)], ARROW[f.type]) for f in contract.fields}
    )


def _policies(contract: Contract) -> list[Policy]:
    by_name = {f.name: f for f in contract.fields}
    out = []
    for clear in ((), tuple(by_name)):
        released = disclosure.releases(contract, clear)
        columns = tuple(Column(by_name[k], v) for k, v in released.items())
        out.append(Policy(contract.id, columns, frozenset(by_name) - frozenset(released)))
    return out


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Contract, serving.Store, pa.Table]]:
    root = tmp_path_factory.mktemp("serving")
    out = {}
    for name in CONTRACTS:
        contract = _contract(name)
        table = _table(contract)
        serving.build(root, contract, table, snapshot_id=1, version=1)
        out[name] = (contract, serving.Store(root), table)
    return out


def _pages(contract: Contract, policy: Policy, table: pa.Table) -> list[PageQuery]:
    columns = list(policy.columns)
    pages = [
        PageQuery(policy, columns, limit=101),
        PageQuery(policy, columns, after=150, limit=101),
        PageQuery(policy, columns, after=ROWS - 3, limit=10),  # the end of the copy
        PageQuery(policy, columns, after=ROWS, limit=10),  # past it
        PageQuery(policy, columns[:2], limit=1000),
    ]
    text = [c for c in columns if not c.masked and c.field.type == "string" and not c.field.primary_key]
    for col in text[:3]:
        for value in ("v1", TEXTS[1], "nowhere"):
            pages.append(PageQuery(policy, columns, filters={col.name: value}, after=10, limit=20))
    keys = [f for f in contract.fields if f.primary_key]
    if keys and all(k.type == "string" and k.name in policy.clear_names for k in keys):
        row = table.slice(123, 1).to_pylist()[0]
        pinned = {k.name: str(row[k.name]) for k in keys}
        pages += [
            PageQuery(policy, columns, filters=pinned, limit=1),
            PageQuery(policy, columns, filters=pinned, after=ROWS, limit=1),
            PageQuery(policy, columns, filters={k.name: "k999999" for k in keys}, limit=1),
        ]
    return pages


@pytest.mark.parametrize("name", CONTRACTS)
def test_row_store_pages_equal_duckdb_pages(
    copies: dict[str, tuple[Contract, serving.Store, pa.Table]], name: str
) -> None:
    contract, store, table = copies[name]
    head, cur = store.cursor(contract.id)
    rows = store.rows(head.path)
    assert rows is not None, "every serving copy is built with its row store"
    last = store.last_row(head.path, cur)
    checked = 0
    for policy in _policies(contract):
        for query in _pages(contract, policy, table):
            assert query.row_store_sql() is not None, query
            expected = query.rows(cur, last)  # DuckDB
            got = query.rows(cast(duckdb.DuckDBPyConnection, None), last, rows)  # the row store alone
            assert got == expected, (query.filters, query.after)
            assert [type(v) for r in got for v in r] == [type(v) for r in expected for v in r]
            checked += len(got)
    assert checked > ROWS  # the comparisons saw rows, not only empty pages


def test_masked_values_come_from_the_mask_sql(copies: dict[str, tuple[Contract, serving.Store, pa.Table]]) -> None:
    contract, store, _ = copies["population.residents"]
    head, cur = store.cursor(contract.id)
    rows = store.rows(head.path)
    default = _policies(contract)[0]
    masked = [c for c in default.columns if c.masked]
    assert masked, "the residents' default release masks fields"
    query = PageQuery(default, masked, limit=50)
    got = query.rows(cur, store.last_row(head.path, cur), rows)
    clear = PageQuery(_policies(contract)[1], [Column(c.field, disclosure.CLEAR) for c in masked], limit=50)
    shown = clear.rows(cur, store.last_row(head.path, cur), rows)
    assert got != shown  # the masked columns were read, not the clear ones
    assert any("*" in str(v) for r in got for v in r[1:])


@pytest.mark.parametrize("name", CONTRACTS)
def test_verify_on_the_row_store_equals_duckdb(
    copies: dict[str, tuple[Contract, serving.Store, pa.Table]], name: str
) -> None:
    contract, store, table = copies[name]
    head, cur = store.cursor(contract.id)
    rows = store.rows(head.path)
    keys = [f for f in contract.fields if f.primary_key or f.unique]
    others = [f for f in contract.fields if f.type == "string" and not (f.primary_key or f.unique)]
    if not keys or any(k.type != "string" for k in keys):
        pytest.skip(f"{name}: no text key to verify through the row store")
    policy = _policies(contract)[0]
    asked = 0
    for i in (0, 57, ROWS - 1):
        row = table.slice(i, 1).to_pylist()[0]
        for extra in [None, *others[:2]]:
            for wrong in (False, True):
                values = {k.name: str(row[k.name]) for k in keys[:1]}
                if extra is not None and row[extra.name] is not None:
                    values[extra.name] = str(row[extra.name]) + ("?" if wrong else "")
                question = Question(contract, policy, values)
                assert question.row_store_sql() is not None
                found, sql, _ = question.ask(cur, rows)
                assert sql.startswith("SELECT EXISTS") and "TRY_CAST" not in sql  # asked on the row store
                assert found == question.ask(cur, None)[0]
                assert found == (not wrong or extra is None or row[extra.name] is None)
                asked += 1
    assert asked >= 6


def test_reads_that_stay_on_duckdb(copies: dict[str, tuple[Contract, serving.Store, pa.Table]]) -> None:
    contract, _, _ = copies["population.residents"]
    policy = _policies(contract)[1]
    columns = list(policy.columns)
    row_filtered = Policy(policy.dataset, policy.columns, policy.withheld, row_filter="street_code = 'v1'")
    dated = next(c for c in columns if c.field.type == "date")
    for query in (
        PageQuery(policy, columns, text="v1"),
        PageQuery(policy, columns, offset=5),
        PageQuery(row_filtered, columns),
        PageQuery(policy, columns, filters={dated.name: "2000-01-01"}),  # DuckDB casts dates its own way
    ):
        assert query.row_store_sql() is None


def test_a_budgeted_read_answers_the_same_or_stops_and_leaves_the_connection_usable(
    copies: dict[str, tuple[Contract, serving.Store, pa.Table]],
) -> None:
    """What the API reads on its event loop has a budget of SQLite steps: within it the page is the
    one read without a budget; past it (a filter matching nothing walks the whole copy) the read
    stops with OverBudget, and the same connection answers the next read in full. DuckDB pages are
    never read under a budget."""
    contract, store, _ = copies["population.residents"]
    head, cur = store.cursor(contract.id)
    rows = store.rows(head.path)
    assert rows is not None
    last = store.last_row(head.path, cur)
    policy = _policies(contract)[1]
    columns = list(policy.columns)
    text = next(c for c in columns if not c.masked and c.field.type == "string" and not c.field.primary_key)
    page = PageQuery(policy, columns, limit=20)
    assert page.rows(cur, last, rows, budget=50_000) == page.rows(cur, last, rows)
    nowhere = PageQuery(policy, columns, filters={text.name: "nowhere"}, limit=20)
    with pytest.raises(rowstore.OverBudget):
        nowhere.rows(cur, last, rows, budget=1)
    assert nowhere.rows(cur, last, rows) == [], "the interrupted connection reads again, without a budget"
    assert page.rows(cur, last, rows, budget=50_000) == page.rows(cur, last, rows)
    with pytest.raises(rowstore.OverBudget):
        PageQuery(policy, columns, offset=5).rows(cur, last, rows, budget=50_000)
    question = Question(contract, policy, {text.name: "nowhere", "id_number": "k000001"})
    if question.row_store_sql() is not None:
        assert question.ask(cur, rows, budget=50_000)[0] == question.ask(cur, rows)[0]


def test_a_copy_without_a_row_store_is_read_through_duckdb(tmp_path: Path) -> None:
    contract = model.find(Settings().contracts_dir, "population.residents")
    head = serving.build(tmp_path, contract, _table(contract), snapshot_id=7, version=1)
    rowstore.path_for(head.path).unlink()  # a copy written before row stores existed
    store = serving.Store(tmp_path)
    _, cur = store.cursor(contract.id)
    assert store.rows(head.path) is None
    policy = _policies(contract)[0]
    page = PageQuery(policy, list(policy.columns), limit=5).rows(cur, store.last_row(head.path, cur), None)
    assert [r[0] for r in page] == [1, 2, 3, 4, 5]


def test_pruned_copies_take_their_row_stores_along(tmp_path: Path) -> None:
    contract = model.find(Settings().contracts_dir, "population.residents")
    table = _table(contract)
    for snapshot in (1, 2, 3):
        serving.build(tmp_path, contract, table, snapshot_id=snapshot, version=snapshot, keep=2)
    folder = serving.folder(tmp_path, contract.id)
    assert sorted(p.name for p in folder.glob("*.rows")) == ["2.rows", "3.rows"]
    assert sorted(p.name for p in folder.glob("*.duckdb")) == ["2.duckdb", "3.duckdb"]


def test_keyed_reads_left_on_duckdb_find_the_key_through_the_row_store(
    copies: dict[str, tuple[Contract, serving.Store, pa.Table]],
) -> None:
    """A grant's row filter keeps a keyed page and a verify question on DuckDB; the row store still
    finds the key's rows (the copy itself has no key index), and the answers are those of a scan."""
    contract, store, table = copies["population.residents"]
    head, cur = store.cursor(contract.id)
    rows = store.rows(head.path)
    last = store.last_row(head.path, cur)
    clear = _policies(contract)[1]
    answered = 0
    for i in (0, 200, ROWS - 1):
        row = table.slice(i, 1).to_pylist()[0]
        for street in (row["street_code"], "elsewhere"):
            if street is None:
                continue
            policy = Policy(clear.dataset, clear.columns, clear.withheld, row_filter=f"street_code = '{street}'")
            query = PageQuery(policy, list(policy.columns), filters={"id_number": row["id_number"]}, limit=5)
            assert query.row_store_sql() is None
            found = query.rows(cur, last, rows)
            assert found == query.rows(cur, last)  # no row store: DuckDB alone
            assert len(found) == (street != "elsewhere")
            question = Question(contract, policy, {"id_number": row["id_number"], "name": str(row["name"])})
            assert question.row_store_sql() is None
            sql, _ = question.sql(rows)
            assert "_row IN (" in sql
            assert question.ask(cur, rows)[0] == question.ask(cur, None)[0] == (street != "elsewhere")
            answered += 1
    assert answered == 6
