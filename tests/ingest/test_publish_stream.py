"""A streamed publish is committed chunk by chunk in one transaction: one version, every row."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from contracts import model
from hub.settings import Settings
from warehouse import tables

DATASET = "population.residents"


def _stream(ids: list[str]) -> pa.RecordBatchReader:
    schema = pa.schema([pa.field("id_number", pa.string()), pa.field("name", pa.string())])
    batches = [
        pa.record_batch(
            [pa.array(ids[i : i + 7]), pa.array([f"n{j}" for j in range(i, min(i + 7, len(ids)))])], schema=schema
        )
        for i in range(0, len(ids), 7)
    ]
    return pa.RecordBatchReader.from_batches(schema, batches)


@pytest.mark.parametrize("chunk_rows", [10, 1_000_000])
def test_chunks_make_one_version_with_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_rows: int
) -> None:
    monkeypatch.setattr(tables, "CHUNK_ROWS", chunk_rows)
    settings = Settings(home=tmp_path / "hub")
    settings.ensure_dirs()
    contract = model.find(settings.contracts_dir, DATASET)
    cat = tables.catalog(settings.warehouse_dir)
    first, created = tables.publish(
        cat, contract, _stream([f"a{i}" for i in range(45)]), sha256="s1", source_file="1.csv"
    )
    second, _ = tables.publish(cat, contract, _stream([f"b{i}" for i in range(23)]), sha256="s2", source_file="2.csv")
    again, created_again = tables.publish(cat, contract, _stream(["x"]), sha256="s2", source_file="2.csv")
    assert created and not created_again and again.snapshot_id == second.snapshot_id
    table = tables.load_table(cat, contract)
    assert [v.source_sha256 for v in tables.versions(table)] == ["s1", "s2"]
    assert first.row_count == 45 and second.row_count == 23, "a snapshot publish replaces the rows"
    assert sorted(tables.read(cat, contract, first.snapshot_id).column("id_number").to_pylist()) == sorted(
        f"a{i}" for i in range(45)
    )
    assert sorted(tables.read(cat, contract).column("id_number").to_pylist()) == sorted(f"b{i}" for i in range(23))


def test_staged_rows_stream_in_the_memory_of_a_few_row_groups(tmp_path: Path) -> None:
    """Reading the staged Parquet holds a batch at a time: with Arrow's default pre-buffering every
    row group read stays allocated until the file closes (450 MB for 10M residents)."""
    import pyarrow.parquet as pq

    from ingest.batches import read_staged

    staged = tmp_path / "staged.parquet"
    schema = pa.schema([pa.field("id_number", pa.string()), pa.field("name", pa.string())])
    groups, group_rows = 40, 20_000
    with pq.ParquetWriter(staged, schema, compression="none") as writer:
        for g in range(groups):
            ids = [f"{g:04d}{i:014d}" for i in range(group_rows)]
            names = [f"名字{i}" for i in range(group_rows)]
            writer.write_table(pa.table([pa.array(ids), pa.array(names)], schema=schema))
    group_bytes = pq.ParquetFile(staged).metadata.row_group(0).total_byte_size
    rows, stream = read_staged(staged, batch_rows=group_rows)
    base = pa.total_allocated_bytes()
    peak, seen, first_ids = 0, 0, []
    for batch in stream:
        peak = max(peak, pa.total_allocated_bytes() - base)
        seen += batch.num_rows
        first_ids.append(batch.column(0)[0].as_py())
        del batch
    assert rows == seen == groups * group_rows
    assert first_ids == [f"{g:04d}{0:014d}" for g in range(groups)], "every row group, in order"
    held = f"{peak:,} bytes of Arrow memory held while streaming (a row group is {group_bytes:,})"
    assert peak < 4 * group_bytes, held
