"""The market-regulation export through the same contract pipeline as every dataset."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter

from contracts import model
from generator.enterprises import DATASET, FAULTS, generate
from hub.settings import Settings
from ingest import steps
from standards import gb32100, gbt4754
from warehouse import tables

EXPECTED_RULE = {
    "bad_check_char": ("credit_code", "standard:gb32100"),
    "unknown_industry": ("industry_code", "standard:gb4754"),
    "missing_name": ("name", "required"),
    "duplicate_code": ("credit_code", "unique"),
    "future_established": ("established_on", "not_after_today"),
}


def test_good_rows_carry_valid_codes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    manifest = generate(tmp_path / "e.csv", rows=300, bad_share=0.0, seed=1)
    with manifest.path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 300
    assert all(gb32100.validate(r["统一社会信用代码"]).ok for r in rows)
    assert all(gbt4754.validate(r["行业代码"]).ok for r in rows)
    assert len({r["统一社会信用代码"] for r in rows}) == 300


def test_enterprises_go_through_the_contract_pipeline(settings: Settings) -> None:
    contract = model.find(settings.contracts_dir, DATASET)
    manifest = generate(steps.inbox_folder(settings, contract) / "法人_202610.csv", rows=200, bad_share=0.1, seed=2)
    [file] = steps.discover(DATASET, settings)
    outcome = steps.check(DATASET, file, settings, today=dt.date(2026, 11, 1))
    versions = steps.register(DATASET, steps.publish(DATASET, settings), settings)
    assert outcome["rows_accepted"] == manifest.good_rows == 180
    assert versions[0]["rows"] == 180
    assert tables.read(tables.catalog(settings.warehouse_dir), contract).num_rows == 180
    report = next((settings.quarantine_dir / DATASET).glob("*/rejects.csv"))
    with report.open(encoding="utf-8-sig", newline="") as fh:
        found = {(int(r["row"]), r["column"], r["rule"]) for r in csv.DictReader(fh)}
    for row, kind in manifest.bad_rows.items():
        assert (row, *EXPECTED_RULE[kind]) in found, (row, kind)
    assert Counter(manifest.bad_rows.values()) == Counter({k: 4 for k in FAULTS})
