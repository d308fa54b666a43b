"""The sandbox holds even if the guard were bypassed: dangerous statements run straight on the
sandbox's DuckDB connection, and DuckDB itself refuses them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from access.sql.sandbox import Limits, Pool, Sandbox, SqlFailed, View, alias, clean_message
from warehouse.duck import extension_path


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    path = tmp_path / "serving" / "copy.duckdb"
    path.parent.mkdir()
    con = duckdb.connect(str(path))
    rows = "SELECT i AS _row, 'secret-' || i AS name, i % 3 AS street FROM range(1000) t(i)"
    con.execute(f"CREATE TABLE records AS {rows}")
    con.close()
    return path


def view(path: Path, *, fenced: bool = False, spatial: bool = False) -> View:
    select = f'SELECT street, left(name, 1) AS name FROM "{alias(0)}".records AS src'
    if fenced:
        select += " WHERE street = 1"
    return View("population", "residents", path, alias(0), select, fenced, spatial)


@pytest.fixture(params=[False, True], ids=["plain", "spatial"])
def box(copy: Path, request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    limits = Limits(memory_limit="128MB", threads=1, timeout_seconds=1)
    sandbox = Sandbox([view(copy, spatial=request.param)], limits)
    yield sandbox
    sandbox.close()


def dangerous(tmp: Path, copy: Path) -> list[str]:
    out = tmp / "out"
    return [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_csv_auto('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        f"SELECT * FROM read_blob('{copy}')",
        f"SELECT * FROM read_text('{copy}')",
        f"SELECT * FROM read_parquet('{copy}')",
        "SELECT * FROM read_json('/etc/hosts')",
        "SELECT * FROM glob('/*')",
        f"SELECT * FROM glob('{copy.parent}/*')",
        "SELECT * FROM sniff_csv('/etc/passwd')",
        "SELECT * FROM '/etc/passwd'",
        f"SELECT * FROM '{copy}'",
        "SELECT * FROM st_read('/etc/passwd')",
        "SELECT * FROM read_csv('https://example.com/x.csv')",
        f"COPY (SELECT 1) TO '{out}.csv'",
        f"COPY (SELECT * FROM population.residents) TO '{out}.parquet' (FORMAT parquet)",
        f"EXPORT DATABASE '{out}'",
        f"ATTACH '{out}.duckdb' AS other",
        f"ATTACH '{copy}' AS again (READ_ONLY)",
        "INSTALL httpfs",
        "LOAD httpfs",
        f"LOAD '{extension_path('spatial')}'",
        "SET enable_external_access = true",
        "RESET enable_external_access",
        "SET lock_configuration = false",
        "SET disabled_filesystems = ''",
        f"SET allowed_directories = ['{tmp}']",
        "SET memory_limit = '100GB'",
        "SET threads = 64",
        f"SET temp_directory = '{out}'",
        "SET autoinstall_known_extensions = true",
        "SET allow_community_extensions = true",
        "PRAGMA enable_profiling = 'json'",
        f"PRAGMA profiling_output = '{out}.json'",
        "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    ]


def test_duckdb_refuses_every_way_out(box: Sandbox, copy: Path, tmp_path: Path) -> None:
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    ran = []
    spatial = any(v.spatial for v in box.views)
    for statement in dangerous(tmp_path, copy):
        if spatial and statement.startswith("LOAD '"):
            continue  # loaded on purpose, before the lock
        try:
            box.con.execute(statement).fetchall()
        except duckdb.Error:
            continue
        ran.append(statement)
    assert not ran, f"DuckDB ran: {ran}"
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before, "no file was written"
    settings = dict(box.con.execute("SELECT name, value FROM duckdb_settings()").fetchall())
    assert settings["enable_external_access"] == "false" and settings["lock_configuration"] == "true"
    with pytest.raises(duckdb.PermissionException, match="LocalFileSystem has been disabled"):
        box.con.execute(f"SELECT * FROM read_text('{copy}')")  # not even as an allowed path
    assert box.con.execute("SELECT count(*), max(name) FROM population.residents").fetchone() == (1000, "s")


def test_the_policy_view_is_what_a_query_reads(box: Sandbox) -> None:
    result = box.run("SELECT name, count(*) AS n FROM population.residents GROUP BY 1", max_rows=10)
    assert result.columns == [("name", "VARCHAR"), ("n", "BIGINT")]
    assert result.table.to_pylist() == [{"name": "s", "n": 1000}]


def test_a_fenced_view_keeps_the_callers_conditions_above_its_row_filter(copy: Path) -> None:
    oracle = (
        "SELECT count(*) AS n FROM population.residents WHERE CASE WHEN street <> 1 THEN CAST('x' AS INT) END IS NULL"
    )
    fenced = Sandbox([view(copy, fenced=True)], Limits(timeout_seconds=5))
    try:
        assert fenced.run(oracle, max_rows=1).table.to_pylist() == [{"n": 333}]
    finally:
        fenced.close()


def test_a_query_past_its_time_is_interrupted(box: Sandbox) -> None:
    started = time.monotonic()
    with pytest.raises(SqlFailed) as refused:
        box.run("SELECT count(*) FROM range(1000000000000)", max_rows=1)
    assert refused.value.code == "sql_timeout" and time.monotonic() - started < 3
    assert box.run("SELECT 1 AS one", max_rows=1).rows == 1, "the sandbox serves the next query"


def test_a_query_past_its_memory_is_stopped(box: Sandbox) -> None:
    with pytest.raises(SqlFailed) as refused:
        box.run("SELECT list(i) FROM range(100000000) t(i)", max_rows=1)
    assert refused.value.code == "sql_too_large"


def test_messages_lose_the_sandboxes_names_and_paths(copy: Path) -> None:
    text = f'Catalog Error: Table "{alias(0)}"."records" at {copy} does not exist! Did you mean "x"?\n\nLINE 1: SELECT'
    assert clean_message(text, [view(copy)]) == 'Catalog Error: Table "records" at <serving copy> does not exist!'


def test_the_pool_reuses_a_sandbox_per_caller_and_views(copy: Path) -> None:
    pool = Pool(size=1)
    limits = Limits(timeout_seconds=5)
    with pool.lease(("a",), [view(copy)], limits) as first:
        pass
    with pool.lease(("a",), [view(copy)], limits) as again:
        assert again is first
    with pool.lease(("b",), [view(copy)], limits) as other:
        assert other is not first
    with pytest.raises(duckdb.Error):
        first.con.execute("SELECT 1")  # evicted beyond the pool's size: closed
    pool.close()
    with pytest.raises(duckdb.Error):
        other.con.execute("SELECT 1")
