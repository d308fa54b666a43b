"""SQL answers as files (CSV, Parquet, JSON Lines, Arrow), and the server answering others while a
long query runs."""

from __future__ import annotations

import io
import threading
import time

import httpx
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.sql.conftest import Hub

QUERY = "SELECT street_code, name, count(*) OVER () AS total FROM population.residents"


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl", "arrow"])
def test_files_stream_the_same_masked_rows(hub: Hub, fmt: str) -> None:
    expected = hub.rows("analyst", QUERY)
    answer = hub.sql("analyst", QUERY, format=fmt)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["x-hub-rows"] == str(len(expected)) and answer.headers["x-hub-truncated"] == "false"
    assert "attachment" in answer.headers["content-disposition"]
    if fmt == "csv":
        lines = answer.content.decode("utf-8-sig").splitlines()
        assert lines[0] == '"street_code","name","total"' and len(lines) == len(expected) + 1
        table = None
    elif fmt == "parquet":
        table = pq.read_table(io.BytesIO(answer.content))
    elif fmt == "arrow":
        table = pa.ipc.open_stream(answer.content).read_all()
    else:
        records = [orjson.loads(line) for line in answer.content.splitlines()]
        assert [[r["street_code"], r["name"], r["total"]] for r in records] == expected
        table = None
    if table is not None:
        assert table.column_names == ["street_code", "name", "total"]
        assert [list(r.values()) for r in table.to_pylist()] == expected
    names = {row[1] for row in expected}
    assert all(set(n[1:]) == {"*"} for n in names)


def test_a_file_is_cut_at_its_limit(hub: Hub) -> None:
    answer = hub.sql("analyst", "SELECT i FROM range(50000) t(i)", format="csv", limit=20000)
    assert answer.headers["x-hub-rows"] == "20000" and answer.headers["x-hub-truncated"] == "true"
    assert len(answer.content.decode("utf-8-sig").splitlines()) == 20001


def test_an_unknown_format_is_a_bad_request(hub: Hub) -> None:
    answer = hub.sql("analyst", "SELECT 1", format="xml")
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"


def test_the_server_answers_others_while_a_long_query_runs(hub: Hub) -> None:
    outcome: dict[str, object] = {}

    def long_query() -> None:
        started = time.monotonic()
        outcome["answer"] = hub.sql("analyst", "SELECT count(*) FROM range(1000000000000)")
        outcome["seconds"] = time.monotonic() - started

    runner = threading.Thread(target=long_query)
    runner.start()
    time.sleep(0.5)
    started = time.monotonic()
    listing = httpx.get(f"{hub.url}/api/v1/datasets", headers={"X-API-Key": hub.keys["steward"]}, timeout=10)
    other = hub.sql("clear", "SELECT count(*) AS n FROM population.residents")
    quick = time.monotonic() - started
    still_running = runner.is_alive()
    runner.join(timeout=30)
    assert listing.status_code == 200 and other.status_code == 200
    assert still_running and quick < 1.0, quick
    answer = outcome["answer"]
    assert isinstance(answer, httpx.Response) and answer.json()["error"]["code"] == "sql_timeout"
    assert hub.settings.sql_timeout_seconds <= float(str(outcome["seconds"])) < hub.settings.sql_timeout_seconds + 3
