"""``make clean`` deletes HUB_HOME (default ``.hub``) and the environment, and refuses dangerous values.

The Makefile runs from a copy in a temporary folder, so the checkout's own ``.venv`` is never
touched; the refusals run with an ``rm`` that only writes down what it was asked to delete, so a
broken guard shows up as a failed test, not as a deleted disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copy(MAKEFILE, root / "Makefile")
    for folder in (".venv", ".tools", ".hub"):
        (root / folder).mkdir()
        (root / folder / "kept").write_text("x")
    return root


def _make(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean_env = {k: v for k, v in os.environ.items() if k not in ("HUB_HOME", "MAKEFLAGS", "MAKELEVEL")}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=root,
        env={**clean_env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_clean_deletes_the_default_home_and_the_environment(tmp_path: Path) -> None:
    root = _checkout(tmp_path)
    done = _make(root, "clean")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in root.iterdir()) == ["Makefile"]


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_clean_deletes_the_hub_home_it_is_given(tmp_path: Path, how: str) -> None:
    root = _checkout(tmp_path)
    home = tmp_path / "elsewhere" / "hub"
    (home / "warehouse").mkdir(parents=True)
    given = ["HUB_HOME=" + str(home)] if how == "argument" else []
    done = _make(root, "clean", *given, env={"HUB_HOME": str(home)} if how == "environment" else None)
    assert done.returncode == 0, done.stderr
    assert not home.exists() and (tmp_path / "elsewhere").exists()
    assert (root / ".hub" / "kept").exists(), "only the HUB_HOME given is deleted"
    assert not (root / ".venv").exists()


@pytest.mark.parametrize("value", ["", "/", "HOME", ".", "..", "an ancestor spelled with .."])
def test_clean_refuses_a_dangerous_hub_home(tmp_path: Path, value: str) -> None:
    root = _checkout(tmp_path)
    fake_home = tmp_path / "home"
    fake_home.mkdir()
    tools = tmp_path / "bin"
    tools.mkdir()
    asked = tmp_path / "rm-was-asked"
    (tools / "rm").write_text(f'#!/bin/sh\necho "$@" >> {asked}\n')
    (tools / "rm").chmod(0o755)
    home_value = str(fake_home) if value == "HOME" else value
    if value == "an ancestor spelled with ..":
        home_value = str(root.parent) + "/../" + root.parent.name
    env = {"PATH": f"{tools}:{os.environ['PATH']}", "HOME": str(fake_home)}
    done = _make(root, "clean", f"HUB_HOME={home_value}", env=env)
    assert done.returncode != 0
    assert "make clean:" in done.stderr and "deleting nothing" in done.stderr, done.stderr
    assert not asked.exists(), f"rm was called with: {asked.read_text() if asked.exists() else ''}"
    assert (root / ".venv" / "kept").exists() and (fake_home).exists()
