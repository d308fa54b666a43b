"""Golden outputs of a whole ingest: what a department and a consumer see must not change when the
pipeline is made faster.

``golden/residents.csv`` is a generated GB18030 residents export (1,500 people, 10 % planned faults)
with eight rows broken by hand in kinds the generator does not plan (impossible date, unknown
ethnicity, sex and birth date disagreeing with the ID number, a grid missing from the grids
dataset, an unparseable registration date, a missing ID number, a duplicate far from its first
occurrence). It is checked in batches of 400 rows against a grids version made here, published and
registered; the reject report, the warnings, the rejected records, the outcome's counts, GX's kept
validation result and every row of the serving copy in ``_row`` order (with the shuffle's salt
fixed) are compared with ``golden/expected/``, recorded before the ingest was optimised.

``HUB_RECORD_GOLDEN=1`` rewrites the expected files (only when a change of output is intended).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from catalog import db
from contracts import model
from hub.settings import Settings
from ingest import steps
from warehouse import serving

DATASET = "population.residents"
TODAY = dt.date(2026, 11, 1)
HERE = Path(__file__).parent / "golden"
EXPECTED = HERE / "expected"
MISSING_GRIDS = ("110101099099099", "110101001001001")
"""Grid codes the made-up grids version does not list (one made up, one real)."""


def _grids_version(settings: Settings) -> None:
    """A serving copy of ``spatial.grids`` listing every grid of the file but :data:`MISSING_GRIDS`."""
    table = pacsv.read_csv(HERE / "residents.csv", read_options=pacsv.ReadOptions(encoding="gb18030"))
    codes = sorted({str(c) for c in table.column("网格编码").to_pylist() if c} - set(MISSING_GRIDS))
    folder = serving.folder(settings.serving_dir, "spatial.grids")
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(folder / "7.duckdb"))
    try:
        con.execute(f"CREATE TABLE {serving.TABLE} (_row BIGINT, grid_code VARCHAR)")
        con.executemany(f"INSERT INTO {serving.TABLE} VALUES (?, ?)", list(enumerate(codes, 1)))
    finally:
        con.close()
    pointer = {"snapshot_id": 7, "version": 1, "file": "7.duckdb", "rows": len(codes)}
    (folder / "CURRENT").write_text(json.dumps(pointer), encoding="utf-8")


def _validation(path: Path) -> str:
    """GX's kept result without what differs between runs (ids, times, the library's own metadata)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    results = []
    for r in doc["results"]:
        config = r["expectation_config"]
        kwargs = {k: v for k, v in config["kwargs"].items() if k != "batch_id"}
        if "serving_copy" in kwargs:  # a path under the test's temporary folder
            kwargs["serving_copy"] = Path(kwargs["serving_copy"]).name
        results.append(
            {
                "type": config["type"],
                "kwargs": kwargs,
                "meta": config.get("meta"),
                "success": r["success"],
                "result": r["result"],
            }
        )
    kept = {
        "suite_name": doc["suite_name"],
        "success": doc["success"],
        "statistics": doc["statistics"],
        "hub": {k: v for k, v in doc["meta"]["hub"].items() if k not in ("checked_at", "sha256")},
        "results": results,
    }
    return json.dumps(kept, ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n"


def _outcome(outcome: Any) -> str:
    fields = {
        "status",
        "rows_read",
        "rows_accepted",
        "rows_rejected",
        "row_count",
        "issues_by_rule",
        "issues_by_column",
        "warnings_by_rule",
        "changes",
        "references",
        "warnings",
        "ignored_columns",
        "encoding",
        "format",
        "version",
    }
    return json.dumps(outcome.model_dump(mode="json", include=fields), ensure_ascii=False, indent=1, sort_keys=True)


def _pages(copy: Path) -> str:
    """Every row of the serving copy, in ``_row`` order as the API pages them (one JSON line each)."""
    con = duckdb.connect(str(copy), read_only=True)
    try:
        cur = con.execute(f"SELECT * FROM {serving.TABLE} ORDER BY {serving.ROW}")
        names = [d[0] for d in cur.description]
        return "".join(
            json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False, default=str) + "\n"
            for row in cur.fetchall()
        )
    finally:
        con.close()


def ingest_outputs(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Ingest the golden file end to end; the text of each output compared."""
    monkeypatch.setattr(serving.secrets, "token_hex", lambda n=16: "5a17" * n)
    db.migrate(settings.db_url)
    _grids_version(settings)
    contract = model.find(settings.contracts_dir, DATASET)
    inbox = steps.inbox_folder(settings, contract)
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "residents.csv", inbox / "residents.csv")
    [file] = steps.discover(DATASET, settings)
    checked = steps.check(DATASET, file, settings, today=TODAY)
    published = steps.publish(DATASET, settings)
    [registered] = steps.register(DATASET, published, settings)
    folder = Path(checked.report_dir or "")
    head = serving.current(settings.serving_dir, DATASET)
    return {
        "rejects.csv": (folder / "rejects.csv").read_text(encoding="utf-8-sig"),
        "warnings.csv": (folder / "warnings.csv").read_text(encoding="utf-8-sig")
        if (folder / "warnings.csv").exists()
        else "",
        "rejected_rows.csv": (folder / "rejected_rows.csv").read_text(encoding="utf-8"),
        "outcome.json": _outcome(registered),
        "validation.json": _validation(next(settings.quality_dir.glob(f"{DATASET}/*/validation.json"))),
        "pages.jsonl": _pages(head.path),
    }


def test_ingest_outputs_are_the_recorded_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(home=tmp_path / "hub", batch_rows=400)
    settings.ensure_dirs()
    outputs = ingest_outputs(settings, monkeypatch)
    if os.environ.get("HUB_RECORD_GOLDEN"):
        EXPECTED.mkdir(parents=True, exist_ok=True)
        for name, text in outputs.items():
            (EXPECTED / name).write_text(text, encoding="utf-8")
    for name, text in outputs.items():
        expected = (EXPECTED / name).read_text(encoding="utf-8")
        assert text == expected, f"{name} differs from the recorded output"


def test_serving_copy_rows_are_dense_and_stored_in_row_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The API pages by ``_row`` ranges: ``_row`` must be 1..N without gaps and the table stored in
    that order (its physical ``rowid`` is ``_row - 1``), so a page is a contiguous stretch of the file."""
    settings = Settings(home=tmp_path / "hub", batch_rows=400)
    settings.ensure_dirs()
    ingest_outputs(settings, monkeypatch)
    head = serving.current(settings.serving_dir, DATASET)
    con = duckdb.connect(str(head.path), read_only=True)
    try:
        rows = con.execute(f"SELECT rowid, {serving.ROW} FROM {serving.TABLE}").fetchall()
        keys = con.execute(f"SELECT count(DISTINCT id_number) FROM {serving.TABLE}").fetchone()
    finally:
        con.close()
    assert len(rows) == head.row_count == 1349
    assert [r for r, _ in rows] == list(range(len(rows)))
    assert [n for _, n in rows] == list(range(1, len(rows) + 1))
    assert keys == (1349,)


def test_completeness_measured_on_the_copy_is_that_of_the_iceberg_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Register measures completeness on the serving copy; the numbers are those of the whole
    snapshot read into Arrow (how it was measured before)."""
    from catalog import service
    from quality import history
    from warehouse import tables

    settings = Settings(home=tmp_path / "hub", batch_rows=400)
    settings.ensure_dirs()
    ingest_outputs(settings, monkeypatch)
    contract = model.find(settings.contracts_dir, DATASET)
    with db.session(settings.db_url) as s:
        [version] = service.dataset(s, DATASET).versions
        recorded, snapshot = version.quality["completeness"], version.snapshot_id
    whole = tables.read(tables.catalog(settings.warehouse_dir), contract, snapshot)
    assert recorded == history.completeness(whole)
    assert recorded["phone"] < 1.0


def _check_parquet(tmp_path: Path, batch_rows: int) -> dict[str, str]:
    """The golden file as Parquet (read in batches of exactly ``batch_rows``, unlike CSV, whose
    batches follow its read blocks) checked; the report, the rejected records and the staged rows."""
    import pyarrow.parquet as pq

    settings = Settings(home=tmp_path / f"hub{batch_rows}", batch_rows=batch_rows)
    settings.ensure_dirs()
    db.migrate(settings.db_url)
    _grids_version(settings)
    contract = model.find(settings.contracts_dir, DATASET)
    inbox = steps.inbox_folder(settings, contract)
    inbox.mkdir(parents=True, exist_ok=True)
    with (HERE / "residents.csv").open("rb") as fh:
        header = fh.readline().decode("gb18030").strip().split(",")
    text = pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False)
    table = pacsv.read_csv(
        HERE / "residents.csv", read_options=pacsv.ReadOptions(encoding="gb18030"), convert_options=text
    )
    pq.write_table(table, inbox / "residents.parquet")
    checked = steps.check(DATASET, str(inbox / "residents.parquet"), settings, today=TODAY)
    folder = Path(checked.report_dir or "")
    staged = pq.read_table(steps.staged_path(settings, DATASET, checked.sha256))
    return {
        "rejects.csv": (folder / "rejects.csv").read_text(encoding="utf-8-sig"),
        "rejected_rows.csv": (folder / "rejected_rows.csv").read_text(encoding="utf-8"),
        "counts": json.dumps(checked.model_dump(mode="json", include={"rows_read", "rows_accepted", "issues_by_rule"})),
        "staged": staged.to_pandas().to_csv(index=False),
    }


def test_batches_of_any_size_give_the_reports_of_one_batch(tmp_path: Path) -> None:
    """Duplicates across batches (key digests) and inside a later batch (the row they point to),
    rejected records written batch by batch and the staged rows: the same for batches of 97 rows
    as for one batch."""
    whole, batched = _check_parquet(tmp_path, 100_000), _check_parquet(tmp_path, 97)
    assert json.loads(whole["counts"])["rows_read"] == 1508
    for name in ("rejects.csv", "rejected_rows.csv", "staged"):
        assert batched[name] == whole[name], name
    assert json.loads(batched["counts"]) == json.loads(whole["counts"])
    # and the same report as the CSV's recorded one
    assert whole["rejects.csv"] == (EXPECTED / "rejects.csv").read_text(encoding="utf-8")
