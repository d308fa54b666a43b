"""``hub contracts diff OLD NEW``: the table, the verdict and the bump, ``--json``, ``--consumers``
from the hub's grants, and the exit codes (0 compatible, 3 breaking, 4 policy, 1 error)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import Settings, get_settings
from tests.published import grant, new_key

CASES = Path(__file__).with_name("diff_cases")
runner = CliRunner()


def pair(name: str) -> list[str]:
    return [str(CASES / name / "old.yaml"), str(CASES / name / "new.yaml")]


@pytest.fixture()
def home(tmp_path: Path) -> Iterator[Settings]:
    settings = Settings(home=tmp_path / "hub")
    settings.ensure_dirs()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUB_HOME", str(settings.resolved_home))
        mp.delenv("HUB_DATABASE_URL", raising=False)
        get_settings.cache_clear()
        yield settings
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("case", "code", "verdict"),
    [
        ("no_change", 0, "no change"),
        ("description_only", 0, "compatible"),
        ("enum_values_added", 0, "compatible"),
        ("mask_changed", 4, "policy"),
        ("field_removed", 3, "breaking"),
        ("primary_key_changed", 3, "breaking"),
    ],
)
def test_exit_code_and_verdict(home: Settings, case: str, code: int, verdict: str) -> None:
    result = runner.invoke(app, ["contracts", "diff", *pair(case)])
    assert result.exit_code == code, result.output
    assert f"verdict: {verdict};" in result.output


def test_the_table_names_kind_field_before_after_impact_and_the_bump(home: Settings) -> None:
    result = runner.invoke(app, ["contracts", "diff", *pair("enum_values_removed")])
    lines = result.output.splitlines()
    assert lines[0].split() == ["kind", "field", "before", "→", "after", "impact"]
    assert lines[1].split() == ["enum_values_removed", "status", "吊销", "→", "—", "breaking"]
    assert "version: 1.0.0 → 2.0.0; needs a major bump (yes)" in result.output


def test_a_version_not_raised_enough_is_shown(home: Settings, tmp_path: Path) -> None:
    old, new = pair("field_added_optional")
    same = tmp_path / "same-version.yaml"
    same.write_text(Path(new).read_text(encoding="utf-8").replace("version: 1.1.0", "version: 1.0.0"), encoding="utf-8")
    result = runner.invoke(app, ["contracts", "diff", old, str(same)])
    assert result.exit_code == 0 and "needs a minor bump (no: at least 1.1.0)" in result.output


def test_json_with_the_consumers_the_hub_knows(home: Settings) -> None:
    new_key(home, "tax-office", granted=None)
    new_key(home, "grid-centre", granted=None)
    grant(home, "tax-office", fields=("name", "phone"))
    grant(home, "grid-centre", fields=("grid_code",))
    result = runner.invoke(app, ["contracts", "diff", *pair("required_made"), "--consumers", "--json"])
    assert result.exit_code == 3, result.output
    doc = json.loads(result.output)
    assert doc["impact"] == "breaking" and doc["bump"] == "major" and doc["least_version"] == "2.0.0"
    assert [(c["kind"], c["field"], c["before"], c["after"]) for c in doc["changes"]] == [
        ("required_changed", "phone", False, True)
    ]
    assert [(c["client"], c["fields"]) for c in doc["consumers"]] == [("tax-office", ["name", "phone"])]
    table = runner.invoke(app, ["contracts", "diff", *pair("required_made"), "--consumers"]).output
    assert "consumers reached: 1" in table and "tax-office (grant " in table and "reads name, phone" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such.yaml", "x.yaml"], "no contract file 'no-such.yaml'"),
        (["population.residents@9.9.9", "x.yaml"], "dataset population.residents has no contract version 9.9.9"),
        (["no-such-thing", "x.yaml"], "not DATASET@VERSION"),
    ],
)
def test_a_missing_contract_is_one_line_and_exit_1(home: Settings, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["contracts", "diff", *args])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_versions_the_hub_keeps_are_named_dataset_at_version(home: Settings) -> None:
    """The seeded active version against a file that drops a field; and a kept version against itself."""
    result = runner.invoke(app, ["contracts", "diff", "population.residents@1.0.0", pair("field_removed")[1]])
    assert result.exit_code == 3, result.output
    assert "verdict: breaking" in result.output
    same = runner.invoke(app, ["contracts", "diff", "spatial.grids@1.0.0", "spatial.grids@1.0.0"])
    assert same.exit_code == 0 and "verdict: no change" in same.output, same.output


def test_two_datasets_are_refused(home: Settings) -> None:
    result = runner.invoke(app, ["contracts", "diff", pair("field_removed")[0], pair("pattern_changed")[1]])
    assert result.exit_code == 1 and "different datasets" in result.output
