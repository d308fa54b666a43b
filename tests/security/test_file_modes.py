"""Finding 7: everything under HUB_HOME is its owner's only (folders 0700, files 0600).

The real pipeline (discover, check with rejects, publish, register, serving copy) and the API
run into a temporary HUB_HOME created under a permissive umask; then every folder and file is
walked.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from hub.settings import Settings
from tests.conftest import LiveServer
from tests.published import new_key, publish_export


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
        publish_export(settings, "v1.csv", rows=60, bad_share=0.1, seed=5)  # with rejects and a report
        key = new_key(settings, "modes-app")
        with LiveServer(settings) as server:
            got = httpx.get(f"{server.url}/api/v1/datasets/population-residents/records", headers={"X-API-Key": key})
            assert got.status_code == 200
    finally:
        os.umask(old)
    home = settings.resolved_home
    assert list(home.rglob("*.parquet")) and list(home.glob("hub.db*")), "the walk must see real state"
    assert any(settings.quarantine_dir.rglob("*")) or any(home.glob("reports/**/*"))
    assert _loose(home) == []


def test_ensure_dirs_tightens_folders_made_before(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    (home / "inbox").mkdir(parents=True, mode=0o755)
    home.chmod(0o755)
    Settings(home=home).ensure_dirs()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "inbox").stat().st_mode) == 0o700


def test_the_hub_command_creates_its_files_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "cli-hub"
    env = {**os.environ, "HUB_HOME": str(home)}
    hub = str(Path(sys.executable).with_name("hub"))
    done = subprocess.run(
        ["sh", "-c", f"umask 022 && {hub} keys create modes-cli"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert _loose(home) == []
