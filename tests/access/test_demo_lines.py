"""The access lines `hub demo` prints work when pasted: the queue, the approval, the analyst's read."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from hub.cli import _demo_access, _demo_key, _demo_summary
from hub.settings import Settings
from tests.conftest import LiveServer
from tests.published import publish_export


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_printed_curl_lines_work_in_order(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "hub")
    settings.ensure_dirs()
    publish_export(settings, "v1.csv", rows=30, bad_share=0.0, seed=9)
    with LiveServer(settings) as server:
        live = server.settings  # the server's port is the one the lines name
        summary = _demo_summary(live, _demo_key(live), _demo_access(live))
        lines = [line.strip() for line in summary.splitlines() if line.strip().startswith("curl ")]
        queue, approve, read = lines[-3:]
        assert "status=pending" in queue and "/approve" in approve and "records" in read
        first_read = subprocess.run(["sh", "-c", read + " -s -o /dev/null -w '%{http_code}'"], capture_output=True)
        assert first_read.stdout == b"403", "the analyst reads only once the steward approved"
        for line in (queue, approve, read):
            done = subprocess.run(["sh", "-c", line + " -s -f"], capture_output=True, text=True, timeout=30)
            assert done.returncode == 0, (line, done.stdout, done.stderr)
        records = json.loads(done.stdout)["records"]
        assert len(records) == 3 and set(records[0]) == {"street_code", "community_code", "registered_on"}
        for line in lines[:2]:  # the consumer's lines, as before
            if "population-residents" in line:
                assert subprocess.run(["sh", "-c", line + " -s -f"], capture_output=True).returncode == 0
        ckan = next(line.strip() for line in summary.splitlines() if "ckanapi action" in line)
        assert ckan.startswith(".venv/bin/ckanapi "), "the hub's own ckanapi: it need not be on the PATH"
        keyless = subprocess.run(["sh", "-c", ckan.split(" -a ")[0]], capture_output=True, text=True, timeout=60)
        assert keyless.returncode != 0 and "NotAuthorized" in keyless.stderr + keyless.stdout, "residents are private"
        shown = subprocess.run(["sh", "-c", ckan], capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0, (ckan, shown.stdout, shown.stderr)
        assert json.loads(shown.stdout)["name"] == "population-residents", "a private dataset, read with the key"
        export = lines[2]
        assert "/export?format=csv" in export
        got = subprocess.run(["sh", "-c", export + " -s -f"], capture_output=True, cwd=tmp_path, timeout=30)
        assert got.returncode == 0, got.stderr
        saved = tmp_path / "population.residents-v1.csv"
        assert saved.read_bytes().decode("gb18030").splitlines()[0].startswith('"_key","id_number"')
