"""``as_of`` reads a past version (rebuilt from Iceberg when its serving copy is gone), and ``hub sql``
runs the same path from the command line, one query or a prompt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from access.audit import AuditRecord
from catalog import db
from catalog.models import Dataset
from hub.settings import Settings
from tests.conftest import LiveServer
from tests.published import DATASET, new_key, publish_export

COUNT = "SELECT count(*) AS n FROM population.residents"


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings, dict[str, str]]]:
    settings = Settings(home=Path(tmp_path_factory.mktemp("sql-versions")) / "hub")
    settings.ensure_dirs()
    publish_export(settings, "v1.csv", rows=30, bad_share=0.0, seed=7)
    publish_export(settings, "v2.csv", rows=45, bad_share=0.0, seed=8)
    db.migrate(settings.db_url)
    keys = {"ana": new_key(settings, "ana", role="analyst"), "app": new_key(settings, "app", role="consumer")}
    with LiveServer(settings) as server:
        yield server.url, server.settings, keys


def _count(url: str, key: str, **body: str) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/sql", json={"sql": COUNT, **body}, headers={"X-API-Key": key}, timeout=60)


def test_as_of_reads_a_past_version_even_when_its_copy_was_pruned(versions: tuple) -> None:
    url, settings, keys = versions
    newest, first = _count(url, keys["ana"]).json(), _count(url, keys["ana"], as_of="1").json()
    assert newest["rows"] == [[45]] and newest["version"][DATASET]["version"] == 2
    assert first["rows"] == [[30]] and first["version"][DATASET]["version"] == 1
    with db.session(settings.db_url) as s:
        ds = s.scalar(select(Dataset).where(Dataset.key == DATASET))
        assert ds is not None
        snapshot = min(ds.versions, key=lambda v: v.number).snapshot_id
    published = settings.serving_dir / DATASET / f"{snapshot}.duckdb"
    published.unlink()
    again = _count(url, keys["ana"], as_of=str(snapshot)).json()
    assert again["rows"] == [[30]] and (settings.serving_dir / DATASET / "restored" / f"{snapshot}.duckdb").exists()
    with db.session(settings.db_url) as s:
        record = s.scalars(select(AuditRecord).where(AuditRecord.action == "sql").order_by(AuditRecord.seq.desc()))
        assert next(iter(record)).version == 1
    missing = _count(url, keys["ana"], as_of="9")
    assert missing.status_code == 404 and "has no version or snapshot 9" in missing.text


def _hub(settings: Settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_HOME": str(settings.resolved_home)}
    exe = str(Path(sys.executable).with_name("hub"))
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=120, input=stdin)


def test_hub_sql_runs_one_query_as_a_client(versions: tuple) -> None:
    _, settings, _ = versions
    as_json = _hub(settings, "sql", COUNT, "--as", "ana", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["rows"] == [[45]]
    old = _hub(settings, "sql", COUNT, "--as", "ana", "--as-of", "1", "--format", "csv")
    assert old.returncode == 0 and old.stdout.splitlines() == ["n", "30"], old.stderr
    table = _hub(settings, "sql", "SELECT id_number, name FROM population.residents LIMIT 2", "--as", "ana")
    lines = table.stdout.splitlines()
    assert table.returncode == 0 and lines[0].split() == ["id_number", "|", "name"] and len(lines) == 4
    assert "************" in lines[2] and "(2 rows" in table.stderr
    refused = _hub(settings, "sql", "SELECT * FROM read_csv('/etc/passwd')", "--as", "ana")
    assert refused.returncode == 1 and "function read_csv is not allowed (rule: function)" in refused.stderr
    consumer = _hub(settings, "sql", COUNT, "--as", "app")
    assert consumer.returncode == 1 and "analysts and data stewards" in consumer.stderr


def test_hub_sql_without_a_query_is_a_prompt(versions: tuple) -> None:
    _, settings, _ = versions
    session = "SELECT 1 AS a;\nSELECT street_code\n  FROM population.residents LIMIT 1;\nSELECT * FROM 'x.csv';\n\\q\n"
    answer = _hub(settings, "sql", "--as", "ana", "--format", "csv", stdin=session)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.splitlines()[:2] == ["a", "1"] and "street_code" in answer.stdout
    assert "(rule: file)" in answer.stderr
