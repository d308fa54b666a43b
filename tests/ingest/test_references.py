"""Cross-dataset rules: fields checked against the referenced dataset's current published version."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from contracts import model
from generator import enterprises, grids, population, residents, tax
from generator.export import write_csv
from generator.faults import stream
from hub.settings import Settings
from ingest import steps
from ingest.dag_factory import active_contracts, run_order
from ingest.outcome import FileOutcome
from warehouse import serving, tables

TODAY = dt.date(2026, 11, 1)
RESIDENTS = "population.residents"
GRIDS = "spatial.grids"
RULE = "reference:spatial.grids.grid_code"
MISSING = "110101001001999"  # a well-formed grid code of a real community that spatial.grids does not list


def _ingest(settings: Settings, dataset: str) -> list[FileOutcome]:
    checked = [steps.check(dataset, f, settings, today=TODAY) for f in steps.discover(dataset, settings)]
    steps.register(dataset, steps.publish(dataset, settings), settings)
    return checked


def _inbox(settings: Settings, dataset: str) -> Path:
    return steps.inbox_folder(settings, model.find(settings.contracts_dir, dataset))


def _publish_grids(settings: Settings, name: str, drop: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    path = _inbox(settings, GRIDS) / name
    grids.generate(path)
    if drop:
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["features"] = [f for f in doc["features"] if f["properties"]["网格编码"] not in drop]
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert [o.status for o in _ingest(settings, GRIDS)] == ["validated"]


def _residents(settings: Settings, name: str, rows: int, bad: dict[int, str]) -> list[dict[str, str]]:
    records = residents.records(population.make(rows, stream(7, "population")))
    for i, code in bad.items():
        records[i]["grid_code"] = code
    write_csv(_inbox(settings, RESIDENTS) / name, RESIDENTS, records, "gb18030")
    return records


def _report(outcome: FileOutcome, name: str) -> list[dict[str, str]]:
    assert outcome.report_dir
    with (Path(outcome.report_dir) / name).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _published_codes(settings: Settings, dataset: str, column: str) -> set[str]:
    head = serving.current(settings.serving_dir, dataset)
    return {str(v) for v in serving.key_values(head.path, column).to_pylist()}


def test_residents_with_grid_codes_missing_from_grids_are_rejected(settings: Settings) -> None:
    _publish_grids(settings, "grids-1.geojson")
    _residents(settings, "r1.csv", 40, {3: MISSING, 17: MISSING})
    (outcome,) = _ingest(settings, RESIDENTS)
    assert outcome.rows_read == 40 and outcome.rows_rejected == 2 and outcome.rows_accepted == 38
    assert outcome.issues_by_rule == {RULE: 2}
    assert outcome.references == {GRIDS: 1}
    rejects = _report(outcome, "rejects.csv")
    assert [(r["row"], r["column"], r["rule"], r["value"]) for r in rejects] == [
        ("5", "grid_code", RULE, MISSING),
        ("19", "grid_code", RULE, MISSING),
    ]
    assert all("spatial.grids version 1" in r["message"] for r in rejects)
    assert MISSING not in _published_codes(settings, RESIDENTS, "grid_code")
    # GX is the engine: the clean rows pass every other expectation, the reference one fails
    assert outcome.validation and outcome.validation["unsuccessful_expectations"] == 1


def test_a_new_version_of_grids_changes_what_is_accepted(settings: Settings) -> None:
    _publish_grids(settings, "grids-1.geojson")
    records = _residents(settings, "r1.csv", 40, {})
    (first,) = _ingest(settings, RESIDENTS)
    assert first.rows_rejected == 0 and first.references == {GRIDS: 1}
    gone = records[0]["grid_code"]
    using = sum(r["grid_code"] == gone for i, r in enumerate(records) if i != 1)  # row 1 gets MISSING below
    _publish_grids(settings, "grids-2.geojson", drop={gone})
    assert gone not in _published_codes(settings, GRIDS, "grid_code")
    _residents(settings, "r2.csv", 40, {1: MISSING})  # the same people, one more bad code: new bytes
    (second,) = _ingest(settings, RESIDENTS)
    assert second.references == {GRIDS: 2}
    assert second.issues_by_rule == {RULE: using + 1}
    rejects = _report(second, "rejects.csv")
    assert {r["value"] for r in rejects} == {gone, MISSING}
    assert all("spatial.grids version 2" in r["message"] for r in rejects)


def test_a_reference_to_a_dataset_without_a_version_is_skipped_with_a_warning(settings: Settings) -> None:
    _residents(settings, "r1.csv", 20, {2: MISSING})
    (outcome,) = _ingest(settings, RESIDENTS)
    assert outcome.rows_accepted == 20 and outcome.references == {}
    assert outcome.warnings == [
        "grid_code not checked against spatial.grids.grid_code (hard): spatial.grids has no published version yet"
    ]


def test_taxpayers_missing_from_the_register_are_reported_and_kept(settings: Settings) -> None:
    units = enterprises.generate(_inbox(settings, "legal_entity.enterprises") / "e.csv", rows=60, bad_share=0.0, seed=3)
    assert _ingest(settings, "legal_entity.enterprises")[0].rows_accepted == units.rows
    paid = tax.generate(_inbox(settings, "economy.tax_monthly") / "t.csv", rows=60, bad_share=0.0, seed=3)
    strangers = set(paid.extras["unregistered_credit_codes"])
    assert strangers
    (outcome,) = _ingest(settings, "economy.tax_monthly")
    warnings = _report(outcome, "warnings.csv")
    assert outcome.rows_rejected == 0 and outcome.rows_accepted == paid.rows
    assert {w["value"] for w in warnings} == strangers
    assert outcome.warnings_by_rule == {"reference:legal_entity.enterprises.credit_code": len(warnings)}
    assert all("legal_entity.enterprises version 1 (reported; the row is kept)" in w["message"] for w in warnings)
    assert _report(outcome, "rejects.csv") == []
    contract = model.find(settings.contracts_dir, "economy.tax_monthly")
    kept = tables.read(tables.catalog(settings.warehouse_dir), contract).column("credit_code").to_pylist()
    assert strangers <= set(kept)


def test_referenced_datasets_are_ingested_first(settings: Settings) -> None:
    order = run_order(active_contracts(settings.contracts_dir))
    assert order.index(GRIDS) < order.index(RESIDENTS)
    assert order.index("legal_entity.enterprises") < order.index("economy.tax_monthly")


def test_a_reference_must_name_a_unique_key_of_a_known_dataset(tmp_path: Path, settings: Settings) -> None:
    import pytest

    from hub.errors import ContractError

    for path in settings.contracts_dir.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    target = tmp_path / f"{RESIDENTS}.yaml"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("properties/grid_code", "properties/parent_code"), encoding="utf-8")
    with pytest.raises(ContractError, match="not a unique key of spatial.grids"):
        model.load_all(tmp_path)


def test_a_reference_is_a_foreign_key_into_another_contract_file(settings: Settings) -> None:
    import pytest

    from hub.errors import ContractError

    path = settings.contracts_dir / f"{RESIDENTS}.yaml"
    text = path.read_text(encoding="utf-8")
    ref = model.parse(text, str(path)).field("grid_code").references
    assert ref is not None and (ref.dataset, ref.field, ref.strength, ref.rule) == (GRIDS, "grid_code", "hard", RULE)
    shorthand = text.replace("spatial.grids.yaml#/schema/grids/properties/grid_code", "grids.grid_code")
    with pytest.raises(ContractError, match="names no dataset"):
        model.parse(shorthand, str(path))
    with pytest.raises(ContractError, match="strength 'sometimes' is not one of hard, soft"):
        model.parse(text.replace("value: hard}", "value: sometimes}"), str(path))
