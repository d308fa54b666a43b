"""Iceberg tables under HUB_HOME: one namespace per domain, one snapshot per published version.

Iceberg is the system of record. A publish is one atomic commit carrying the source file's
SHA-256 in the snapshot summary, so a rerun after a crash finds its own commit instead of
publishing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.table import Table

from contracts.model import Contract
from hub.errors import NotFound

SHA_KEY = "hub.source-sha256"
FILE_KEY = "hub.source-file"
CHUNK_ROWS = 250_000
"""Rows of a stream written per append of a publish's transaction."""


def _chunks(data: pa.Table | pa.RecordBatchReader) -> Iterator[pa.Table]:
    """``data`` in tables of about :data:`CHUNK_ROWS` rows (at least one, maybe empty).

    pyiceberg accepts a RecordBatchReader but hands every data file of it to a thread pool at once
    (``executor.map``), so the whole stream is read into memory; appending chunk by chunk within
    one transaction keeps one chunk in memory. The commit stays atomic: its snapshots (one per
    chunk) carry the same source SHA-256, and :func:`versions` counts them as one version."""
    if isinstance(data, pa.Table):
        yield data
        return
    pending: list[pa.RecordBatch] = []
    rows = 0
    sent = False
    for batch in data:
        pending.append(batch)
        rows += batch.num_rows
        if rows >= CHUNK_ROWS:
            yield pa.Table.from_batches(pending, schema=data.schema)
            pending, rows, sent = [], 0, True
    if pending or not sent:
        yield pa.Table.from_batches(pending, schema=data.schema)


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: int
    committed_at: dt.datetime
    operation: str
    source_sha256: str | None
    source_file: str | None
    row_count: int | None


@lru_cache(maxsize=8)
def catalog(warehouse_dir: Path) -> Catalog:
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    (warehouse_dir / "data").mkdir(exist_ok=True)
    return SqlCatalog(
        "hub",
        uri=f"sqlite:///{warehouse_dir / 'iceberg-catalog.db'}",
        warehouse=(warehouse_dir / "data").as_uri(),
    )


def identifier(contract: Contract) -> tuple[str, str]:
    return (contract.domain, contract.table)


def ensure_table(cat: Catalog, contract: Contract, schema: pa.Schema) -> Table:
    cat.create_namespace_if_not_exists(contract.domain)
    return cat.create_table_if_not_exists(identifier(contract), schema=schema)


def load_table(cat: Catalog, contract: Contract) -> Table:
    from pyiceberg.exceptions import NoSuchTableError

    try:
        return cat.load_table(identifier(contract))
    except NoSuchTableError:
        raise NotFound(f"dataset {contract.id} has no published version yet") from None


def _snapshot(s: object) -> Snapshot:
    summary = dict(s.summary.additional_properties) if s.summary else {}  # type: ignore[attr-defined]
    total = summary.get("total-records")
    return Snapshot(
        snapshot_id=s.snapshot_id,  # type: ignore[attr-defined]
        committed_at=dt.datetime.fromtimestamp(s.timestamp_ms / 1000, dt.UTC),  # type: ignore[attr-defined]
        operation=s.summary.operation.value if s.summary else "unknown",  # type: ignore[attr-defined]
        source_sha256=summary.get(SHA_KEY),
        source_file=summary.get(FILE_KEY),
        row_count=int(total) if total is not None else None,
    )


def snapshots(table: Table) -> list[Snapshot]:
    """Every snapshot in commit order."""
    return [_snapshot(s) for s in sorted(table.snapshots(), key=lambda s: s.timestamp_ms)]


def versions(table: Table) -> list[Snapshot]:
    """One snapshot per publish: an overwrite commits a delete and an append snapshot
    atomically, and the version is the last snapshot of that commit."""
    out: list[Snapshot] = []
    for snap in snapshots(table):
        if out and snap.source_sha256 is not None and out[-1].source_sha256 == snap.source_sha256:
            out[-1] = snap
        else:
            out.append(snap)
    return out


def find_publish(table: Table, sha256: str) -> Snapshot | None:
    return next((s for s in versions(table) if s.source_sha256 == sha256), None)


def publish(
    cat: Catalog, contract: Contract, data: pa.Table | pa.RecordBatchReader, *, sha256: str, source_file: str
) -> tuple[Snapshot, bool]:
    """Commit ``data`` as one snapshot; returns (snapshot, created). Idempotent per source file.

    ``data`` may be a stream of record batches (read from the staged Parquet), committed chunk by
    chunk in one transaction (:func:`_chunks`), so a file of 10M rows needs the memory of a chunk."""
    table = ensure_table(cat, contract, data.schema)
    existing = find_publish(table, sha256)
    if existing is not None:
        return existing, False
    props = {SHA_KEY: sha256, FILE_KEY: source_file}
    replace = contract.publish_mode == "snapshot" and table.current_snapshot() is not None
    with table.transaction() as tx:
        for n, chunk in enumerate(_chunks(data)):
            if n == 0 and replace:
                tx.overwrite(chunk, snapshot_properties=props)
            else:
                tx.append(chunk, snapshot_properties=props)
    table = table.refresh()
    current = table.current_snapshot()
    assert current is not None
    return _snapshot(current), True


def read(cat: Catalog, contract: Contract, snapshot_id: int | None = None) -> pa.Table:
    """The table as of a snapshot (time travel), or as of now."""
    table = load_table(cat, contract)
    if snapshot_id is not None and table.snapshot_by_id(snapshot_id) is None:
        raise NotFound(f"dataset {contract.id} has no snapshot {snapshot_id}")
    return table.scan(snapshot_id=snapshot_id).to_arrow()


def metadata_location(cat: Catalog, contract: Contract) -> str:
    return load_table(cat, contract).metadata_location


def duckdb_source(cat: Catalog, contract: Contract, snapshot_id: int | None = None) -> tuple[str, list[object]]:
    """A DuckDB table expression and its parameters reading the dataset, at a version if given:
    ``con.execute(f"SELECT count(*) FROM {sql}", params)``."""
    location = metadata_location(cat, contract).removeprefix("file://")
    if snapshot_id is None:
        return "iceberg_scan(?)", [location]
    return "iceberg_scan(?, snapshot_from_id=?)", [location, snapshot_id]
