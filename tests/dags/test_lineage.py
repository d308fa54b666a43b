"""OpenLineage events of real DAG runs (``hub ingest``, i.e. ``dag.test()``), read back from the file transport."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from contracts import model
from hub.settings import Settings, get_settings
from warehouse import tables

pytestmark = pytest.mark.airflow
BIN = Path(sys.executable).parent
SOURCE, DERIVED = "economy.street_indicators", "derived.indicator_alerts"
SOURCE_DAG, DERIVED_DAG = "ingest__economy__street_indicators", "ingest__derived__indicator_alerts"


class Runs:
    def __init__(self, home: Path, events: list[dict[str, Any]], inbox_file: Path):
        self.home, self.events, self.inbox_file = home, events, inbox_file
        self.settings = Settings(home=home, HUB_AIRFLOW_HOME=home / "airflow")

    def of(self, job: str, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["job"]["name"] == job and e["eventType"] == event_type]

    def snapshot(self, dataset: str) -> str:
        contract = model.find(get_settings().contracts_dir, dataset)
        table = tables.load_table(tables.catalog(self.settings.warehouse_dir), contract)
        return str(tables.versions(table)[-1].snapshot_id)


def _hub(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "HUB_", "OPENLINEAGE"))}
    env["HUB_HOME"] = str(home)
    done = subprocess.run([str(BIN / "hub"), *args], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    home = tmp_path_factory.mktemp("lineage") / "hub"
    written = _hub(home, "generate", SOURCE, "--rows", "20").stdout
    inbox_file = Path(written.split("wrote ", 1)[1].split(" (", 1)[0])
    _hub(home, "ingest", SOURCE, DERIVED)
    lines = (home / "lineage" / "openlineage.jsonl").read_text(encoding="utf-8").splitlines()
    return Runs(home, [json.loads(line) for line in lines], inbox_file)


def test_lineage_file_is_owner_only(runs: Runs) -> None:
    assert stat.S_IMODE((runs.home / "lineage" / "openlineage.jsonl").stat().st_mode) == 0o600
    assert stat.S_IMODE((runs.home / "lineage").stat().st_mode) == 0o700


def test_every_task_of_both_dags_starts_and_completes(runs: Runs) -> None:
    states: dict[str, list[str]] = defaultdict(list)
    for event in runs.events:
        assert event["job"]["namespace"] == "dongcheng-hub"
        states[event["job"]["name"]].append(event["eventType"])
    for dag, tasks in (
        (SOURCE_DAG, ["discover", "check", "publish", "register"]),
        (DERIVED_DAG, ["build", "publish", "register"]),
    ):
        for task in tasks:
            assert states[f"{dag}.{task}"] == ["START", "COMPLETE"], (dag, task, states[f"{dag}.{task}"])
        assert "COMPLETE" in states[dag], f"the DAG run of {dag} completes"
    for job in (f"{SOURCE_DAG}.publish", f"{DERIVED_DAG}.publish"):
        (start,), (complete,) = runs.of(job, "START"), runs.of(job, "COMPLETE")
        assert start["run"]["runId"] == complete["run"]["runId"]


def test_ingest_run_reads_the_inbox_file_and_writes_the_iceberg_table(runs: Runs) -> None:
    (complete,) = runs.of(f"{SOURCE_DAG}.publish", "COMPLETE")
    warehouse = runs.settings.warehouse_dir.as_posix()
    assert [(d["namespace"].startswith("file://"), d["name"]) for d in complete["inputs"]] == [
        (True, str(runs.inbox_file))
    ]
    (output,) = complete["outputs"]
    assert output["namespace"].startswith("iceberg://") and output["namespace"].endswith(warehouse)
    assert output["name"] == "economy.street_indicators"
    assert output["facets"]["version"]["datasetVersion"] == runs.snapshot(SOURCE)
    published = tables.read(
        tables.catalog(runs.settings.warehouse_dir), model.find(get_settings().contracts_dir, SOURCE)
    )
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == published.num_rows > 0
    (start,) = runs.of(f"{SOURCE_DAG}.publish", "START")
    assert [d["name"] for d in start["outputs"]] == ["economy.street_indicators"]


def test_derived_run_reads_its_input_tables_at_their_versions(runs: Runs) -> None:
    (complete,) = runs.of(f"{DERIVED_DAG}.publish", "COMPLETE")
    (source,) = complete["inputs"]
    assert (source["name"], source["facets"]["version"]["datasetVersion"]) == (
        "economy.street_indicators",
        runs.snapshot(SOURCE),
    )
    (output,) = complete["outputs"]
    assert output["name"] == "derived.indicator_alerts"
    assert output["namespace"] == source["namespace"], "one warehouse, one namespace"
    assert output["facets"]["version"]["datasetVersion"] == runs.snapshot(DERIVED)


def test_in_process_runs_leave_the_airflow_home_to_hub_airflow_config(runs: Runs) -> None:
    """``airflow db migrate`` writes a default ``airflow.cfg`` where it finds none; not in the Airflow home."""
    assert (runs.home / "airflow" / "airflow.db").exists()
    assert not (runs.home / "airflow" / "airflow.cfg").exists()
