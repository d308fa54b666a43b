"""The README's commands work exactly as written in a checkout where ``make setup`` ran.

Its ``bash`` blocks run for real (``make`` lines as a dry run, the ``hub`` block in a fresh
HUB_HOME, through real Airflow), and every ``hub ...`` it names inline is a command of the CLI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import typer

from hub.cli import app

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
HUB_BLOCK = next(b for b in BLOCKS if ".venv/bin/hub" in b)
TREE = typer.main.get_command(app)


def _lines(block: str) -> list[str]:
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def _env(home: Path | None = None) -> dict[str, str]:
    """The environment of a new shell: none of the test run's own HUB_ and AIRFLOW_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "AIRFLOW", "MAKE"))}
    return env | ({"HUB_HOME": str(home)} if home else {})


def test_no_command_needs_uv_on_the_path() -> None:
    assert "uv run" not in README, "uv may live in .tools/ and not be on the PATH: use make or .venv/bin/hub"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(
    "line",
    sorted(
        {line for b in BLOCKS for line in _lines(b) if line.startswith("make ")}
        | set(re.findall(r"`(make [^`]+)`", README))
    ),
)
def test_make_lines_name_real_targets(line: str) -> None:
    done = subprocess.run(
        ["make", "-n", *line.split()[1:]], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, (line, done.stderr)


def _resolves(words: list[str]) -> bool:
    command = TREE
    for word in words:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            return True  # the rest are the command's arguments
        if word not in subcommands:
            return False
        command = subcommands[word]
    return True


@pytest.mark.parametrize("mention", sorted(set(re.findall(r"`hub ([a-z][^`]*)`", README))))
def test_every_hub_command_named_exists(mention: str) -> None:
    assert _resolves(mention.split()), mention


def test_every_command_in_the_list_exists() -> None:
    listed = README.split("The commands: ", 1)[1].split(". Every command", 1)[0]
    for item in re.findall(r"`([^`]+)`", listed):  # `generate [DATASET]`, `keys create|revoke|list`, ...
        head, *rest = item.split()
        subs = rest[0].split("|") if rest and not rest[0].startswith("[") else []
        assert _resolves([head]) and all(_resolves([head, sub]) for sub in subs), item


@pytest.mark.airflow
def test_the_hub_block_runs_as_written(tmp_path: Path) -> None:
    home = tmp_path / "hub-readme"
    script = HUB_BLOCK.replace("/tmp/hub-readme", str(home))
    assert script != HUB_BLOCK, "the block sets HUB_HOME to a folder of its own"
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=900
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "Traceback" not in output
    assert re.search(r"常住人口_1000_\d+\.csv: published as version 1: 1000 read, \d+ accepted", output), output[-3000:]
    assert "stage times: " in output and "v1  snapshot " in output


@pytest.mark.skipif(not (ROOT / ".git").exists() or shutil.which("git") is None, reason="not a git checkout")
def test_the_tools_the_environment_and_the_state_are_ignored() -> None:
    for folder in (".tools/bin/uv", ".venv/bin/hub", ".hub/hub.db"):
        done = subprocess.run(["git", "check-ignore", "-q", folder], cwd=ROOT, capture_output=True, timeout=30)
        assert done.returncode == 0, f"{folder} is not ignored by .gitignore"
