"""docs/exchange.md's sync client, run as written against a live hub: applying the change feed onto
the first export gives exactly the new version's export."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pyarrow.parquet as pq

from hub.settings import Settings
from tests.conftest import LiveServer
from tests.exchange.versions import publish_two_versions
from tests.published import new_key

DOC = Path(__file__).parents[2] / "docs" / "exchange.md"


def example() -> str:
    text = DOC.read_text(encoding="utf-8")
    return re.search(r"<!-- sync-example -->\n```python\n(.*?)```", text, re.S).group(1)  # type: ignore[union-attr]


def test_the_documented_sync_client_ends_equal_to_the_new_export(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "hub")
    settings.ensure_dirs()
    key = new_key(settings, "sync-app")
    script = tmp_path / "sync.py"
    script.write_text(example(), encoding="utf-8")
    runs: list[str] = []
    with LiveServer(settings) as server:
        env = {**os.environ, "HUB": server.url, "HUB_KEY": key, "SYNC_DIR": str(tmp_path)}

        def run() -> None:
            done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            runs.append(done.stdout.strip())

        edits = publish_two_versions(settings, rows=150, between=run)
        run()
        fresh = httpx.get(
            f"{server.url}/api/v1/datasets/population-residents/export",
            params={"format": "parquet"},
            headers={"X-API-Key": key},
        )
    assert runs[0] == "took version 1"
    assert runs[1] == f"version 1 → 2: {len(edits.added | edits.changed | edits.removed)} changes"
    held = pq.read_table(tmp_path / "residents.parquet").sort_by("_key")
    expected = pq.read_table(io.BytesIO(fresh.content)).sort_by("_key")
    assert held.num_rows == len(edits.v2)
    assert held.to_pylist() == expected.to_pylist()
