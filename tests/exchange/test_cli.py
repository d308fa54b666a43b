"""`hub export` and `hub changes` in their own processes: the same policy and audit as the API."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq

from access import audit
from catalog import db
from hub.settings import Settings
from tests.access.test_cli import _hub
from tests.exchange.versions import publish_two_versions
from tests.published import grant, new_key


def test_operators_export_and_read_changes_as_a_client_or_as_themselves(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "hub")
    settings.ensure_dirs()
    edits = publish_two_versions(settings, rows=120)
    home = settings.resolved_home
    new_key(settings, "street-app", granted=None)
    grant(settings, "street-app", fields=("id_number", "street_code"), rows=f"street_code = '{edits.moved_to}'")

    out = tmp_path / "v1.parquet"
    done = _hub(home, "export", "population.residents", "--format", "parquet", "--out", str(out), "--as-of", "1")
    assert done.returncode == 0, done.stderr
    assert f"wrote {out} ({len(edits.v1)} rows" in done.stdout and "version 1 as hub-operator" in done.stderr
    table = pq.read_table(out)
    assert table.num_rows == len(edits.v1)
    assert all(set(v[6:]) == {"*"} for v in table.column("id_number").to_pylist()), "operators get masks too"

    mine = tmp_path / "street.csv"
    done = _hub(home, "export", "population.residents", "-f", "csv", "-o", str(mine), "--as", "street-app")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(mine.read_text(encoding="utf-8-sig"))))
    assert set(rows[0]) == {"_key", "id_number", "street_code"} and {r["street_code"] for r in rows} == {edits.moved_to}

    done = _hub(home, "changes", "population.residents", "--since", "1", "-f", "jsonl", "-o", "-")
    assert done.returncode == 0, done.stderr
    ops = [line.split('"_op":"')[1].split('"')[0] for line in done.stdout.splitlines()]
    assert sorted(ops) == sorted(
        ["added"] * len(edits.added) + ["removed"] * len(edits.removed) + ["changed"] * len(edits.changed)
    )
    assert f"{len(edits.added)} added, {len(edits.changed)} changed, {len(edits.removed)} removed" in done.stderr

    refused = _hub(
        home, "export", "population.residents", "-o", str(tmp_path / "x"), "--fields", "phone", "--as", "street-app"
    )
    assert refused.returncode != 0 and "Traceback" not in refused.stderr and "phone" in refused.stderr
    assert not (tmp_path / "x").exists()
    bad = _hub(home, "export", "population.residents", "-o", str(tmp_path / "y"), "-f", "xlsx")
    assert bad.returncode != 0 and "format must be one of" in bad.stderr

    with db.session(settings.db_url) as s:
        logged = audit.records(s, dataset="population.residents")
    assert [(r.action, r.client) for r in logged[:3]] == [
        ("changes", "hub-operator"),
        ("export", "street-app"),
        ("export", "hub-operator"),
    ]
