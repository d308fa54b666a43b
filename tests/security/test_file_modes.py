"""Finding 7: everything under HUB_HOME is its owner's only (folders 0700, files 0600).

The real pipeline (discover, check with rejects, archive, quarantine, publish, register, serving
copy) and the API run into a temporary HUB_HOME under a permissive umask, with a department's
file dropped world-readable into the inbox; then every folder and file is walked.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from contracts import model
from generator.residents import generate
from hub.settings import Settings
from ingest import steps
from tests.conftest import LiveServer
from tests.published import DATASET, new_key, publish_export


def _loose(home: Path) -> list[str]:
    out = []
    for path in [home, *home.rglob("*")]:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            out.append(f"{oct(mode)} {path.relative_to(home.parent)}")
    return out


def test_the_pipeline_and_the_api_leave_nothing_readable_by_others(tmp_path: Path) -> None:
    old = os.umask(0o022)  # as a typical login shell
    try:
        settings = Settings(home=tmp_path / "hub")
        settings.ensure_dirs()
        contract = model.find(settings.contracts_dir, DATASET)
        dropped = steps.inbox_folder(settings, contract) / "dropped.csv"  # a department's file, left 0644
        generate(dropped, rows=40, bad_share=0.2, seed=11)
        dropped.chmod(0o644)
        publish_export(settings, "v1.csv", rows=60, bad_share=0.1, seed=5)  # with rejects and a report
        key = new_key(settings, "modes-app")
        os.umask(0o022)  # the API app sets its own
        with LiveServer(settings) as server:
            got = httpx.get(f"{server.url}/api/v1/datasets/population-residents/records", headers={"X-API-Key": key})
            assert got.status_code == 200
    finally:
        os.umask(old)
    home = settings.resolved_home
    assert list(home.rglob("*.parquet")) and list(home.glob("hub.db*")), "the walk must see real state"
    assert list(settings.archive_dir.rglob("dropped.csv")) and list(settings.quarantine_dir.rglob("dropped.csv"))
    assert list(settings.quarantine_dir.rglob("rejects.csv")) and list(settings.serving_dir.rglob("*"))
    archived, quarantined = (
        next(settings.archive_dir.rglob("dropped.csv")),
        next(settings.quarantine_dir.rglob("dropped.csv")),
    )
    assert quarantined.read_bytes() == archived.read_bytes()
    assert os.path.samefile(archived, quarantined), "the report's original is a link to the archived copy, not a copy"
    assert _loose(home) == []


def test_ensure_dirs_tightens_folders_and_the_database_made_before(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    (home / "inbox").mkdir(parents=True, mode=0o755)
    home.chmod(0o755)
    for name in ("hub.db", "hub.db-wal"):
        (home / name).touch(mode=0o644)
        (home / name).chmod(0o644)
    Settings(home=home).ensure_dirs()
    assert _loose(home) == []
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_the_hub_command_creates_its_files_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "cli-hub"
    env = {**os.environ, "HUB_HOME": str(home)}
    hub = str(Path(sys.executable).with_name("hub"))
    done = subprocess.run(
        ["sh", "-c", f"umask 022 && {hub} keys create modes-cli"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert _loose(home) == []
