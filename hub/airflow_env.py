"""Run the hub's DAGs with real Airflow on embedded defaults (SQLite under HUB_HOME).

Airflow reads its configuration when first imported, so :func:`configure` must run before
anything imports ``airflow``; the CLI and the tests call it first.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.errors import ConfigError
from hub.settings import LINEAGE_NAMESPACE, Settings, private_files

SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
HUB_SECTION = "hub"
"""Section of ``airflow.cfg`` holding the environment the hub's DAG files and tasks need (see
``ingest.dag_factory.hub_env_from_airflow``): a plain Airflow with only ``AIRFLOW_HOME`` set then
runs the hub's tasks against the right HUB_HOME."""


def lineage_transport(settings: Settings) -> dict[str, Any]:
    """Where OpenLineage events go: a file under HUB_HOME, or Marquez (HTTP) when OPENLINEAGE_URL is set."""
    if settings.openlineage_url:
        return {"type": "http", "url": settings.openlineage_url, "endpoint": "api/v1/lineage"}
    return {"type": "file", "log_file_path": str(settings.lineage_file), "append": True}


def airflow_options(settings: Settings) -> dict[tuple[str, str], str]:
    """Every Airflow option the hub sets, by (section, key): the one source of both the embedded
    runs' environment (:func:`airflow_env`) and the operators' ``airflow.cfg`` (``hub airflow-config``)."""
    home = settings.airflow_home
    return {
        ("core", "dags_folder"): str(settings.dags_dir),
        ("core", "load_examples"): "False",
        ("core", "dags_are_paused_at_creation"): "False",  # the schedules run once Airflow does
        ("core", "dagbag_import_error_tracebacks"): "True",
        ("core", "auth_manager"): SIMPLE_AUTH_MANAGER,
        ("core", "simple_auth_manager_users"): "admin:admin",
        ("core", "simple_auth_manager_passwords_file"): str(home / "simple_auth_manager_passwords.json.generated"),
        ("database", "sql_alchemy_conn"): f"sqlite:///{home / 'airflow.db'}",
        ("openlineage", "namespace"): LINEAGE_NAMESPACE,
        ("openlineage", "transport"): json.dumps(lineage_transport(settings)),
        ("openlineage", "execute_in_thread"): "True",  # in the task's process: no fork per event
        ("openlineage", "extractors"): "hub.lineage.HubExtractor",
        **{(HUB_SECTION, name.lower()): value for name, value in hub_env(settings).items()},
    }


def hub_env(settings: Settings) -> dict[str, str]:
    """What the hub's tasks read from their environment."""
    env = {
        "HUB_HOME": str(settings.resolved_home),
        "HUB_AIRFLOW_HOME": str(settings.airflow_home),
        "GX_ANALYTICS_ENABLED": "False",
    }
    if settings.database_url:
        env["HUB_DATABASE_URL"] = settings.database_url
    return env


def airflow_env(settings: Settings) -> dict[str, str]:
    """The environment of the embedded runs: the same options as ``airflow.cfg``, as variables."""
    env = {
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
    }
    for (section, key), value in airflow_options(settings).items():
        if section != HUB_SECTION:
            env[f"AIRFLOW__{section.upper()}__{key.upper()}"] = value
    if os.environ.get("AIRFLOW__OPENLINEAGE__TRANSPORT"):  # an operator's own transport wins
        env["AIRFLOW__OPENLINEAGE__TRANSPORT"] = os.environ["AIRFLOW__OPENLINEAGE__TRANSPORT"]
    return env | hub_env(settings)


def configure(settings: Settings) -> None:
    """Point Airflow at HUB_HOME; refuse if Airflow was already configured elsewhere."""
    env = airflow_env(settings)
    if "airflow" in sys.modules and os.environ.get("AIRFLOW_HOME") != env["AIRFLOW_HOME"]:
        raise ConfigError("airflow was imported before the hub configured it; call configure() first")
    private_files()  # Airflow's database, logs and what the tasks write: owner-only
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    home_changed = os.environ.get("HUB_HOME") != env["HUB_HOME"]
    os.environ.update(env)
    if home_changed:  # tasks run in this process and read settings from the environment
        from hub.settings import get_settings

        get_settings.cache_clear()
    settings.lineage_file.parent.mkdir(parents=True, exist_ok=True)


def ensure_db(settings: Settings) -> None:
    """Create or upgrade Airflow's metadata database once (about five seconds the first time)."""
    marker = settings.airflow_home / ".migrated"
    if marker.exists():
        return
    env = {**os.environ, **airflow_env(settings)}
    with tempfile.TemporaryDirectory() as scratch:
        if not (settings.airflow_home / "airflow.cfg").exists():
            # the airflow command writes a default airflow.cfg where it finds none: not into the
            # Airflow home, where `hub airflow-config` writes the operators' one
            env["AIRFLOW_CONFIG"] = str(Path(scratch) / "airflow.cfg")
        done = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        raise ConfigError(f"airflow db migrate failed:\n{done.stderr[-2000:]}")
    marker.touch()


def load_dags(settings: Settings) -> dict[str, Any]:
    """Import the DAG files the way Airflow does and return their DAGs by id."""
    from airflow.sdk import DAG

    found: dict[str, Any] = {}
    for path in sorted(settings.dags_dir.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"hub_dags_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found |= {d.dag_id: d for d in vars(module).values() if isinstance(d, DAG)}
    return found


@dataclass(frozen=True)
class Finished:
    """A DAG run that ended: its state, what each task returned, and how long each took."""

    dag_id: str
    state: str
    returned: dict[str, list[Any]] = field(default_factory=dict)
    """Task id → its return values (one per mapped task instance, in map order)."""
    seconds: dict[str, float] = field(default_factory=dict)
    """Task id → seconds its instances ran."""
    wall: float = 0.0
    """Seconds from the start of ``dag.test()`` to its end, Airflow's own work included."""

    @property
    def ok(self) -> bool:
        return self.state.endswith("success")


def run(settings: Settings, dag_id: str) -> Finished:
    """Run one DAG to completion with ``dag.test()``."""
    configure(settings)
    ensure_db(settings)
    dags = load_dags(settings)
    if dag_id not in dags:
        raise ConfigError(f"no DAG {dag_id!r}; known: {', '.join(sorted(dags))}")
    started = time.perf_counter()
    done = dags[dag_id].test()
    wall = time.perf_counter() - started
    if done is None:
        return Finished(dag_id, "unknown", wall=wall)
    returned, seconds = _results(dag_id, done.run_id)
    return Finished(dag_id, str(done.state), returned, seconds, wall)


def _results(dag_id: str, run_id: str) -> tuple[dict[str, list[Any]], dict[str, float]]:
    """The return values (XComs) and durations of a run's task instances, from Airflow's database."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    returned: dict[str, list[Any]] = defaultdict(list)
    seconds: dict[str, float] = defaultdict(float)
    with create_session() as session:
        instances = select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        for ti in session.scalars(instances):
            seconds[ti.task_id] += ti.duration or 0.0
        values = XComModel.get_many(run_id=run_id, dag_ids=dag_id, key="return_value").with_only_columns(
            XComModel.task_id, XComModel.map_index, XComModel.value
        )
        for row in sorted(session.execute(values), key=lambda r: (r.task_id, r.map_index)):
            returned[row.task_id].append(XComModel.deserialize_value(row))
    return dict(returned), dict(seconds)


def run_dag(settings: Settings, dag_id: str) -> str:
    """Run one DAG to completion with ``dag.test()``; returns the run's final state."""
    return run(settings, dag_id).state
