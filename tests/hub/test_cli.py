"""The hub command line: every command has help, and generate writes into the inbox."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hub.cli import app

COMMANDS = [
    "generate",
    "ingest",
    "files",
    "versions",
    "serve",
    "demo",
    "keys",
    "standards",
    "requests",
    "grants",
    "audit",
]
runner = CliRunner()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(name: str) -> None:
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_generate_writes_into_the_inbox(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from hub.settings import get_settings

    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["generate", "population.residents", "--rows", "20", "--seed", "4"])
        assert result.exit_code == 0, result.output
        written = list((tmp_path / "home" / "inbox").rglob("*.csv"))
        assert len(written) == 1 and "20 rows" in result.output
        result = runner.invoke(app, ["generate", "all", "--rows", "700", "--months", "1"])
        assert result.exit_code == 0, result.output
        inbox = tmp_path / "home" / "inbox"
        folders = {p.parent.name for p in inbox.rglob("*") if p.is_file() and not p.name.startswith(".")}
        assert len(folders) == 8, folders
    finally:
        get_settings.cache_clear()


def test_generate_refuses_unknown_dataset() -> None:
    result = runner.invoke(app, ["generate", "economy.nothing", "--rows", "5"])
    assert result.exit_code != 0 and "population.residents" in result.output
