"""``hub ingest`` through real Airflow: each file's real outcome, the derived datasets downstream of
what was published rebuilt (and only those), stage times, and the typed outcome in report.json."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from catalog import db, service
from contracts import model
from generator import indicators, residents
from generator.export import Manifest
from hub import airflow_env
from hub.cli import app
from hub.settings import Settings, get_settings
from ingest.outcome import FileOutcome, FileStatus
from ingest.steps import inbox_folder

pytestmark = pytest.mark.airflow
INDICATORS = "economy.street_indicators"
ALERTS = "derived.indicator_alerts"
RESIDENTS = "population.residents"
runner = CliRunner()


@dataclass
class First:
    settings: Settings
    indicators: Manifest
    residents: Manifest
    exit_code: int
    output: str


def _drop(settings: Settings, dataset: str, name: str, module: object, **kwargs: object) -> Manifest:
    contract = model.find(settings.contracts_dir, dataset)
    return module.generate(inbox_folder(settings, contract) / name, **kwargs)  # type: ignore[attr-defined, no-any-return]


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Iterator[First]:
    """Street indicators (published) and a residents file with 60 % bad rows (rejected whole)."""
    before = get_settings()
    settings = Settings(home=Path(tmp_path_factory.mktemp("ingest-cli")) / "hub")
    settings.ensure_dirs()
    shown = _drop(settings, INDICATORS, "指标_202610.parquet", indicators, bad_share=0.03, seed=3)
    refused = _drop(settings, RESIDENTS, "常住人口_坏.csv", residents, rows=50, bad_share=0.6, seed=3)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUB_HOME", str(settings.resolved_home))
        get_settings.cache_clear()
        result = runner.invoke(app, ["ingest", INDICATORS, RESIDENTS])
        yield First(settings, shown, refused, result.exit_code, result.output)
    get_settings.cache_clear()
    airflow_env.configure(before)
    shutil.rmtree(settings.resolved_home, ignore_errors=True)


def test_each_file_gets_its_real_outcome(first: First) -> None:
    assert first.exit_code == 0, first.output
    m = first.indicators
    published = f"指标_202610.parquet: published as version 1: {m.rows} read, {m.good_rows} accepted, "
    assert published + f"{m.rows - m.good_rows} rejected → report " in first.output
    assert re.search(r"常住人口_坏.csv: rejected whole: \d+ of 50 rows \(\d+%\) fail the contract", first.output)
    assert "success" not in first.output


def test_the_derived_dataset_downstream_is_rebuilt_and_only_it(first: First) -> None:
    assert f"ingest__derived__indicator_alerts ({INDICATORS} published) …" in first.output
    assert re.search(r"build-[0-9a-f]{16}: published as version 1: \d+ read", first.output)
    ran = re.findall(r"^(ingest__\S+) \(", first.output, flags=re.M)
    assert ran == [f"ingest__{d.replace('.', '__')}" for d in (INDICATORS, RESIDENTS, ALERTS)]
    with db.session(first.settings.db_url) as s:
        [version] = service.dataset(s, ALERTS).versions
        source = service.dataset(s, INDICATORS).versions[0]
        assert version.lineage["inputs"] == {INDICATORS: str(source.snapshot_id)}
        assert version.lineage["source_file"].startswith("build-"), "a derived version keeps its source too"


def test_stage_times_end_the_output(first: First) -> None:
    last = first.output.strip().splitlines()[-1]
    assert last.startswith("stage times: discover ") and "check " in last and "(read " in last
    assert "publish " in last and "register " in last and "build " in last and "3 DAG run(s) in " in last


def test_progress_lines_show_rows_as_they_go(first: First) -> None:
    m = first.indicators
    assert f"{INDICATORS} 指标_202610.parquet: {m.rows:,} rows read, {m.good_rows:,} accepted" in first.output


def test_report_json_is_the_typed_outcome(first: First) -> None:
    [report] = (first.settings.quarantine_dir / RESIDENTS).glob("常住人口_坏-*/report.json")
    raw = json.loads(report.read_text(encoding="utf-8"))
    assert {"dataset", "file", "sha256", "status", "reason", "rows_read", "rows_accepted", "rows_rejected"} <= set(raw)
    outcome = FileOutcome.model_validate(raw)
    assert outcome.status is FileStatus.rejected and outcome.rows_read == 50 and outcome.rows_accepted == 0
    assert outcome.report_dir == str(report.parent) and {"read", "validate"} <= set(outcome.seconds)


def test_the_same_file_again_is_nothing_new_and_rebuilds_nothing(first: First) -> None:
    again = inbox_folder(first.settings, model.find(first.settings.contracts_dir, INDICATORS)) / "指标_重发.parquet"
    again.parent.mkdir(parents=True, exist_ok=True)
    archived = next((first.settings.archive_dir / INDICATORS).glob("*/指标_202610.parquet"))
    again.write_bytes(archived.read_bytes())
    result = runner.invoke(app, ["ingest", INDICATORS])
    assert result.exit_code == 0, result.output
    assert "指标_重发.parquet: nothing new" in result.output
    assert "indicator_alerts" not in result.output
    with db.session(first.settings.db_url) as s:
        assert len(service.dataset(s, ALERTS).versions) == 1
    quiet = runner.invoke(app, ["ingest", INDICATORS])
    assert quiet.exit_code == 0 and f"{INDICATORS}: nothing waiting in the inbox" in quiet.output
    assert "nothing to run" in quiet.output
