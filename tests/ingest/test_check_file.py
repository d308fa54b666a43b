"""A whole file through check(): partial acceptance, whole-file rejection, nothing lost."""

from __future__ import annotations

import datetime as dt
import json

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
    assert outcome["status"] == "rejected" and outcome["rows_accepted"] == 0
    assert "above the limit of 20%" in outcome["reason"]
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
    assert outcome["status"] == "rejected" and "公民身份号码" in outcome["reason"]
    rejects = next((settings.quarantine_dir / DATASET).glob("wrong-*/rejects.csv")).read_text(encoding="utf-8-sig")
    assert "file:columns" in rejects
    assert not path.exists()


def test_same_bytes_under_another_name_are_recognised(settings: Settings) -> None:
    contract = model.find(settings.contracts_dir, DATASET)
    inbox = steps.inbox_folder(settings, contract)
    manifest = generate(inbox / "a.csv", rows=30, bad_share=0.0, seed=2)
    (inbox / "b.csv").write_bytes(manifest.path.read_bytes())
    outcomes = [steps.check(DATASET, f, settings, today=TODAY) for f in steps.discover(DATASET, settings)]
    assert [o["status"] for o in outcomes] == ["validated", "duplicate"]
    assert len(steps.publish(DATASET, settings)) == 1
