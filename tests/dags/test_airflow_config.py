"""``hub airflow-config``: plain Airflow, with only AIRFLOW_HOME set, sees the hub's DAGs and no examples."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hub import airflow_env
from hub.airflow_cli import set_options
from hub.settings import Settings, get_settings
from ingest.dag_factory import active_contracts, dag_id

pytestmark = pytest.mark.airflow
BIN = Path(sys.executable).parent


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment of an operator's shell: no AIRFLOW_* or HUB_* variables of this test run."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "HUB_", "OPENLINEAGE"))}
    return keep | extra


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    home = tmp_path_factory.mktemp("operator") / "hub"
    done = subprocess.run(
        [str(BIN / "hub"), "airflow-config"],
        env=_clean_env(HUB_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return home, done


def _airflow(airflow_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "AIRFLOW_HOME": str(airflow_home)}
    return subprocess.run([str(BIN / "airflow"), *args], env=env, capture_output=True, text=True, timeout=600)


def _json(stdout: str) -> object:
    """The JSON answer of ``airflow ... -o json``: its last line (Airflow may warn on stdout before it)."""
    return json.loads(stdout.strip().splitlines()[-1])


def test_airflow_dags_list_shows_the_hubs_dags_and_no_examples(configured: tuple[Path, object]) -> None:
    home, _ = configured
    done = _airflow(home / "airflow", "dags", "list", "-o", "json")
    assert done.returncode == 0, done.stderr[-3000:]
    listed = {d["dag_id"]: d for d in _json(done.stdout)}  # type: ignore[attr-defined]
    expected = {dag_id(c["id"]) for c in active_contracts(get_settings().contracts_dir)}
    assert set(listed) == expected, "exactly the hub's DAGs: no example DAG"
    assert not any(d["is_paused"] in (True, "True") for d in listed.values()), "the schedules run once Airflow does"
    errors = _airflow(home / "airflow", "dags", "list-import-errors", "-o", "json")
    assert errors.returncode == 0, errors.stderr[-3000:]
    assert _json(errors.stdout) == []


def test_config_points_at_the_hub_and_its_lineage_file(
    configured: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    home, done = configured
    cfg = home / "airflow" / "airflow.cfg"
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600, "airflow.cfg holds Airflow's generated secrets"
    text = cfg.read_text(encoding="utf-8")
    settings = Settings(home=home, HUB_AIRFLOW_HOME=home / "airflow")  # as the operator has it
    for (section, key), value in airflow_env.airflow_options(settings).items():
        assert f"\n{key} = {value}\n" in text, (section, key)
    assert "\nfernet_key = " in text and "\njwt_secret = " in text, "Airflow's own defaults, secrets included"
    assert f"export AIRFLOW_HOME={home / 'airflow'}" in done.stdout
    assert stat.S_IMODE((home / "lineage").stat().st_mode) == 0o700
    transport = json.loads(airflow_env.airflow_options(settings)[("openlineage", "transport")])
    assert transport == {"type": "file", "log_file_path": str(home / "lineage" / "openlineage.jsonl"), "append": True}


def test_an_existing_config_is_replaced_only_with_force(configured: tuple[Path, object]) -> None:
    home, _ = configured
    cfg = home / "airflow" / "airflow.cfg"
    before = cfg.read_text(encoding="utf-8")
    again = subprocess.run(
        [str(BIN / "hub"), "airflow-config"], env=_clean_env(HUB_HOME=str(home)), capture_output=True, text=True
    )
    assert again.returncode == 1
    assert "exists (written by hub airflow-config); pass --force" in again.stderr and "Traceback" not in again.stderr
    assert cfg.read_text(encoding="utf-8") == before


def test_set_options_replaces_commented_and_set_keys_and_adds_missing_ones() -> None:
    text = "[core]\n# Example: dags_folder = /x\n# dags_folder = \nload_examples = True\n\n[api]\nport = 8080\n"
    out = set_options(
        text,
        {
            ("core", "dags_folder"): "/d",
            ("core", "load_examples"): "False",
            ("core", "new"): "1",
            ("hub", "hub_home"): "/h%",
        },
    )
    assert out == (
        "[core]\n# Example: dags_folder = /x\ndags_folder = /d\nload_examples = False\nnew = 1\n\n"
        "[api]\nport = 8080\n\n[hub]\nhub_home = /h%%\n"
    )


def test_marquez_over_http_when_openlineage_url_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(home=Path("/srv/hub"), OPENLINEAGE_URL="http://marquez.internal:5000")
    transport = json.loads(airflow_env.airflow_options(settings)[("openlineage", "transport")])
    assert transport == {"type": "http", "url": "http://marquez.internal:5000", "endpoint": "api/v1/lineage"}
    own = '{"type": "console"}'
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__TRANSPORT", own)
    assert airflow_env.airflow_env(Settings(home=Path("/srv/hub")))["AIRFLOW__OPENLINEAGE__TRANSPORT"] == own
