"""``hub standards`` commands, through typer's CliRunner."""

from __future__ import annotations

from typer.testing import CliRunner

from standards.cli import app

runner = CliRunner()


def test_list_names_standards_and_tables() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    for name in ("gb11643", "gb32100", "grid", "gbt2260_divisions", "dongcheng_communities"):
        assert name in result.output


def test_show_prints_rows_and_source() -> None:
    result = runner.invoke(app, ["show", "dongcheng_streets", "--version", "2024"])
    assert result.exit_code == 0
    assert "source:" in result.output
    assert "110101011\t前门街道\t110101" in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("110101")]) == 17


def test_show_unknown_table() -> None:
    result = runner.invoke(app, ["show", "streets"])
    assert result.exit_code == 2
    assert "dongcheng_streets" in result.output


def test_check_all_valid_exits_zero() -> None:
    result = runner.invoke(app, ["check", "gb11643", "11010519491231002X", "110101199003074477"])
    assert result.exit_code == 0
    assert result.output.splitlines() == ["11010519491231002X\tvalid", "110101199003074477\tvalid"]


def test_check_reports_each_invalid_value_and_fails() -> None:
    result = runner.invoke(app, ["check", "gb32100", "91110108551385082Q", "91110108551385082R"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "91110108551385082Q\tvalid"
    assert lines[1] == "91110108551385082R\tinvalid\tgb32100.check_digit: check character is R, expected Q"


def test_check_unknown_standard() -> None:
    result = runner.invoke(app, ["check", "gb999", "1"])
    assert result.exit_code == 2
    assert "gb11643" in result.output
