"""A whole file through check(): partial acceptance, whole-file rejection, nothing lost."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq

from contracts import model
from generator.residents import generate
from hub.settings import Settings
from ingest import steps

DATASET = "population.residents"
TODAY = dt.date(2026, 11, 1)


def test_too_many_bad_rows_reject_the_whole_file(settings: Settings) -> None:
    contract = model.find(settings.contracts_dir, DATASET)
    manifest = generate(steps.inbox_folder(settings, contract) / "bad.csv", rows=50, bad_share=0.5, seed=1)
    original = manifest.path.read_bytes()
    outcome = steps.check(DATASET, str(manifest.path), settings, today=TODAY)
    assert outcome.status == "rejected" and outcome.rows_accepted == 0
    assert "above the limit of 20%" in outcome.reason
    folder = settings.quarantine_dir / DATASET
    report = next(folder.glob("bad-*/report.json"))
    assert json.loads(report.read_text(encoding="utf-8"))["status"] == "rejected"
    assert next(folder.glob("bad-*/bad.csv")).read_bytes() == original
    assert steps.publish(DATASET, settings) == []


def test_unreadable_file_is_quarantined_with_a_file_level_reason(settings: Settings) -> None:
    contract = model.find(settings.contracts_dir, DATASET)
    path = steps.inbox_folder(settings, contract) / "wrong.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("姓名,性别\n王伟,1\n", encoding="utf-8")
    outcome = steps.check(DATASET, str(path), settings, today=TODAY)
    assert outcome.status == "rejected" and "公民身份号码" in outcome.reason
    rejects = next((settings.quarantine_dir / DATASET).glob("wrong-*/rejects.csv")).read_text(encoding="utf-8-sig")
    assert "file:columns" in rejects
    assert not path.exists()


def test_same_bytes_under_another_name_are_recognised(settings: Settings) -> None:
    contract = model.find(settings.contracts_dir, DATASET)
    inbox = steps.inbox_folder(settings, contract)
    manifest = generate(inbox / "a.csv", rows=30, bad_share=0.0, seed=2)
    (inbox / "b.csv").write_bytes(manifest.path.read_bytes())
    outcomes = [steps.check(DATASET, f, settings, today=TODAY) for f in steps.discover(DATASET, settings)]
    assert [o.status for o in outcomes] == ["validated", "duplicate"]
    assert len(steps.publish(DATASET, settings)) == 1


def test_small_batches_give_the_same_outcome_as_one_batch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    outcomes = []
    reports = []
    for batch_rows in (10_000, 37):
        settings = Settings(home=tmp_path / f"hub{batch_rows}", batch_rows=batch_rows)
        settings.ensure_dirs()
        contract = model.find(settings.contracts_dir, DATASET)
        manifest = generate(steps.inbox_folder(settings, contract) / "big.csv", rows=400, bad_share=0.1, seed=9)
        outcome = steps.check(DATASET, str(manifest.path), settings, today=TODAY)
        outcomes.append(outcome.model_dump(include={"rows_read", "rows_accepted", "rows_rejected", "issues_by_rule"}))
        report = next((settings.quarantine_dir / DATASET).glob("big-*/rejects.csv"))
        reports.append(report.read_text(encoding="utf-8-sig"))
        staged = settings.staging_dir / DATASET / f"{outcome.sha256}.parquet"
        assert pq.read_table(staged).num_rows == manifest.good_rows == outcome.rows_accepted
    assert outcomes[0] == outcomes[1]
    assert reports[0] == reports[1], "row numbers, rules and duplicate pointers survive batching"
    assert outcomes[0]["issues_by_rule"]["unique"] == 8
