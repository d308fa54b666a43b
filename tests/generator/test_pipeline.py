"""The new departments' exports through the contract pipeline: exactly the planned rows are rejected, for the
rule each fault breaks. (XLSX, GeoJSON and GeoParquet reading belongs to ingest; tax goes as CSV here.)"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from types import ModuleType

import pytest

from contracts import model
from generator import households, indicators, tax
from hub.settings import Settings
from ingest import steps

EXPECTED = {
    "bad_check_digit": ("id_number", "standard:gb11643"),
    "unknown_relationship": ("relationship", "code_table:gbt4761_relationship"),
    "missing_address": ("address", "required"),
    "bad_grid_code": ("grid_code", "standard:grid"),
    "duplicate_member": ("household_no", "unique"),
    "bad_check_char": ("credit_code", "standard:gb32100"),
    "bad_month": ("month", "pattern"),
    "unknown_tax_type": ("tax_type", "pattern"),
    "missing_amount": ("amount", "required"),
    "unknown_street": ("street_code", "code_table:dongcheng_streets"),
}


@pytest.mark.parametrize(
    ("generator", "name"), [(households, "家庭户.csv"), (tax, "纳税.csv"), (indicators, "指标.parquet")]
)
def test_planned_faults_are_what_the_hub_rejects(generator: ModuleType, name: str, settings: Settings) -> None:
    contract = model.find(settings.contracts_dir, generator.DATASET)
    manifest = generator.generate(steps.inbox_folder(settings, contract) / name, rows=300, bad_share=0.08, seed=5)
    [file] = steps.discover(generator.DATASET, settings)
    outcome = steps.check(generator.DATASET, file, settings, today=dt.date(2026, 11, 1))
    assert outcome.rows_accepted == manifest.good_rows
    [report] = (settings.quarantine_dir / generator.DATASET).glob("*/rejects.csv")
    found: dict[int, set[tuple[str, str]]] = defaultdict(set)
    with report.open(encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            found[int(r["row"])].add((r["column"], r["rule"]))
    assert set(found) == set(manifest.bad_rows)
    for row, kind in manifest.bad_rows.items():
        assert EXPECTED[kind] in found[row], (row, kind, found[row])
