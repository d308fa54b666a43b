"""The build step of derived datasets: pin inputs, build in DuckDB, check, stage.

The inputs' current snapshot ids are the build's lineage; their hash is the build's identity in
the file ledger, so a derived dataset is built once per set of input versions. The output is
checked against the derived dataset's own contract like any export; publish and register are
then the same steps as for a department's file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import logging
import time
from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from catalog import db, service
from contracts import model
from contracts.model import Contract
from derived import Built, view_name
from hub.settings import Settings, get_settings
from ingest import steps
from ingest.outcome import FileOutcome, FileStatus
from ingest.standardize import arrow_schema
from ingest.validate import validate
from warehouse import duck, tables

log = logging.getLogger(__name__)


class InputsNotReady(Exception):
    """An input dataset has no published version yet."""


def lineage(contract: Contract, settings: Settings) -> dict[str, int]:
    """Each input's current version (snapshot id)."""
    cat = tables.catalog(settings.warehouse_dir)
    pinned = {}
    for dataset in contract.derived_from:
        source = model.find(settings.active_contracts_dir, dataset)
        try:
            versions = tables.versions(tables.load_table(cat, source))
        except Exception:  # noqa: BLE001 - no table yet
            versions = []
        if not versions:
            raise InputsNotReady(f"{contract.id} waits for a first version of {dataset}")
        pinned[dataset] = versions[-1].snapshot_id
    return pinned


def waiting(dataset: str, settings: Settings) -> str | None:
    """Why the derived dataset cannot be built now (an input has no version yet), or None."""
    try:
        lineage(model.find(settings.active_contracts_dir, dataset), settings)
    except InputsNotReady as exc:
        return str(exc)
    return None


def stale(dataset: str, settings: Settings) -> bool:
    """Whether the derived dataset was never built from its inputs' current versions (False while
    an input has no version yet: there is nothing to build from)."""
    contract = model.find(settings.active_contracts_dir, dataset)
    try:
        pinned = lineage(contract, settings)
    except InputsNotReady:
        return False
    with db.session(settings.db_url) as s:
        return service.file_seen(s, dataset, build_key(pinned)) is None


def build_key(pinned: dict[str, int]) -> str:
    return hashlib.sha256(json.dumps(pinned, sort_keys=True).encode()).hexdigest()


def _builder(contract: Contract) -> Any:
    module, _, name = (contract.builder or "").partition(":")
    return getattr(importlib.import_module(module), name)


def _run(contract: Contract, settings: Settings, pinned: dict[str, int]) -> Built:
    cat = tables.catalog(settings.warehouse_dir)
    con = duck.connect()
    try:
        for dataset, snapshot in pinned.items():
            source = model.find(settings.active_contracts_dir, dataset)
            sql, params = tables.duckdb_source(cat, source, snapshot)
            data = con.execute(f"SELECT * FROM {sql}", params).to_arrow_table()
            con.register(view_name(dataset), data)
        return _builder(contract)(con, contract)
    finally:
        con.close()


def _report(settings: Settings, contract: Contract, key: str, built: Built) -> tuple[str, dict[str, int]]:
    folder = settings.path("reports", contract.id, key[:16])
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, rows in built.unmatched.items():
        pacsv.write_csv(rows, folder / f"{name}.csv")
        counts[name] = rows.num_rows
    return str(folder), counts


def build(dataset: str, settings: Settings | None = None, today: dt.date | None = None) -> FileOutcome:
    """Build the derived dataset for its inputs' current versions, unless already built."""
    settings = settings or get_settings()
    contract = model.find(settings.active_contracts_dir, dataset)
    pinned = lineage(contract, settings)
    key = build_key(pinned)
    name = f"build-{key[:16]}"
    inputs = {"inputs": {k: str(v) for k, v in pinned.items()}, "build": key}
    with db.session(settings.db_url) as s:
        if service.file_seen(s, dataset, key) is not None:
            return FileOutcome(dataset=dataset, file=name, sha256=key, status=FileStatus.duplicate, lineage=inputs)
    started = time.perf_counter()
    built = _run(contract, settings, pinned)
    table = built.table.select([f.name for f in contract.fields]).cast(arrow_schema(contract))
    issues = validate(table, contract, today)
    bad = sorted({i.index for i in issues})
    accepted = table.filter(pc.invert(pc.is_in(pa.array(range(table.num_rows)), pa.array(bad, pa.int64()))))
    report_dir, unmatched = _report(settings, contract, key, built)
    outcome = FileOutcome(
        dataset=dataset,
        file=name,
        sha256=key,
        status=FileStatus.validated,
        rows_read=table.num_rows,
        rows_accepted=accepted.num_rows,
        rows_rejected=len(bad),
        issues_by_rule=dict(Counter(i.rule for i in issues)),
        issues_by_column=dict(Counter(i.column for i in issues)),
        unmatched=unmatched,
        lineage=inputs,
        report_dir=report_dir,
        checked_at=dt.datetime.now(dt.UTC),
    )
    if issues:
        log.warning("%s: %d rows fail the derived contract: %s", dataset, len(bad), outcome.issues_by_rule)
    staged = steps.staged_path(settings, dataset, key)
    staged.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(accepted, staged)
    outcome = outcome.timed("build", time.perf_counter() - started)
    steps.stage_outcome(settings, outcome)
    steps.record(settings, outcome)
    return outcome
