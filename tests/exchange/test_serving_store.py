"""The serving store closes connections to copies that were pruned once they sit idle, without
cutting off a stream already reading from one."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from contracts import model
from hub.settings import Settings
from warehouse import serving


def test_pruned_copies_are_closed_when_idle_and_running_streams_finish(tmp_path: Path) -> None:
    contract = model.find(Settings().contracts_dir, "population.residents")
    now = [0.0]
    store = serving.Store(tmp_path, clock=lambda: now[0])

    def publish(snapshot: int) -> None:
        ids = [f"{snapshot}-{i:06d}" for i in range(50_000)]
        serving.build(tmp_path, contract, pa.table({"id_number": ids}), snapshot_id=snapshot, version=snapshot, keep=1)

    publish(1)
    first, cur = store.cursor(contract.id)
    stream = cur.execute(f"SELECT id_number FROM {serving.TABLE}").to_arrow_reader(1_000)
    rows = stream.read_next_batch().num_rows
    publish(2)  # keep=1: the first copy is deleted
    assert not first.path.exists()

    now[0] = 10.0
    second, _ = store.cursor(contract.id)
    assert store.open_copies == sorted([first.path, second.path]), "recently used: kept"

    now[0] = 10.0 + serving.Store.IDLE + 1
    publish(3)
    third, _ = store.cursor(contract.id)
    assert first.path not in store.open_copies and third.path in store.open_copies
    rows += sum(batch.num_rows for batch in stream)
    assert rows == 50_000, "a stream that began on the pruned copy still ends"
    store.close()
    assert store.open_copies == []
