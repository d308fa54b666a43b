"""Every DAG file imports cleanly, cheaply, and yields one DAG per active contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub.settings import get_settings
from ingest.dag_factory import active_contracts, dag_id

DAG_FILES = sorted(get_settings().dags_dir.glob("*.py"))
HEAVY = ("pyarrow", "duckdb", "great_expectations", "pyiceberg", "pandas", "sqlglot", "fastapi")

PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("probe", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from airflow.sdk import DAG
dags = sorted(d.dag_id for d in vars(module).values() if isinstance(d, DAG))
print(json.dumps({"dags": dags, "heavy": sorted(m for m in HEAVY if m in sys.modules)}))
""".replace("HEAVY", repr(HEAVY))


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_dag_file_imports_without_errors_or_heavy_modules(path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [], f"{path.name} imports heavy modules at parse time: {result['heavy']}"
    assert result["dags"], f"{path.name} defines no DAG"


def test_one_dag_per_active_contract() -> None:
    from hub import airflow_env

    dags = airflow_env.load_dags(get_settings())
    expected = {dag_id(c["id"]) for c in active_contracts(get_settings().contracts_dir)}
    assert expected <= set(dags)
    ingest = dags[dag_id("population.residents")]
    assert {t.task_id for t in ingest.tasks} == {"discover", "check", "publish", "register"}
    register = ingest.get_task("register")
    assert [a.name for a in register.outlets] == ["population.residents"]
