"""Check a file batch by batch: standardize and validate each, keep keys unique across batches,
write accepted rows as they come. Memory holds one batch plus the keys seen so far."""

from __future__ import annotations

import ctypes
import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from contracts.model import Contract
from ingest import quarantine
from ingest.issues import HEADER_ROWS, Issue
from ingest.keys import SeenKeys
from ingest.read import iter_batches
from ingest.references import ReferenceSet
from ingest.standardize import arrow_schema, standardize
from ingest.validate import validate_with_result
from quality.results import compact


@dataclass
class Checked:
    rows: int = 0
    accepted: int = 0
    issues: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    """Findings of soft rules (cross-dataset references): reported, their rows accepted."""
    bad: set[int] = field(default_factory=set)
    changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    rejected_file: Path | None = None
    """The rejected records as they were read, with their row number in front (CSV), written
    batch by batch beside the staged rows (:class:`_RejectedRows`); ``None`` when there are none."""
    encoding: str | None = None
    format: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    results: list[tuple[int, Any]] = field(default_factory=list)
    """GX's validation result of each batch as JSON without its complete lists (:func:`quality.results.compact`),
    with the batch's first row (kept by :mod:`quality`)."""
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    """Time spent reading, standardizing, validating and staging the batches."""

    def rejected_rows(self) -> Path | None:
        return self.rejected_file


class _RejectedRows:
    """A CSV of rejected records appended batch by batch, so a file with many bad rows never holds
    them all; the same bytes ``pyarrow.csv.write_csv`` writes for the rows of every batch at once."""

    def __init__(self, path: Path):
        self.path = path
        self._writer: pacsv.CSVWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, rows: pa.Table) -> None:
        if self._writer is None or self._schema is None:
            self.path.unlink(missing_ok=True)
            self._schema = rows.schema
            self._writer = pacsv.CSVWriter(self.path, rows.schema)
        elif rows.schema != self._schema:
            rows = rows.cast(self._schema)
        self._writer.write_table(rows)

    def close(self) -> Path | None:
        if self._writer is None:
            return None
        self._writer.close()
        return self.path


def rejected_spill(staged: Path) -> Path:
    """Where :func:`check_file` writes a file's rejected records until the quarantine takes them."""
    return staged.with_suffix(".rejected.csv")


def read_staged(staged: Path, batch_rows: int) -> tuple[int, pa.RecordBatchReader]:
    """The accepted rows :func:`check_file` staged, as their count and a stream of record batches
    holding one batch in memory at a time.

    ``pre_buffer=False``: with Arrow's default read-ahead, every row group read stays buffered until
    the file is closed (about 6 MB per 131,072 residents, 450 MB for a 10M-row file)."""
    file = pq.ParquetFile(staged, pre_buffer=False)
    return file.metadata.num_rows, pa.RecordBatchReader.from_batches(
        file.schema_arrow, file.iter_batches(batch_size=batch_rows)
    )


def _earlier_duplicates(table: pa.Table, contract: Contract, offset: int, seen: SeenKeys) -> list[Issue]:
    """Rows whose key already appeared in an earlier batch (duplicates inside a batch are GX's);
    then the batch's keys join ``seen``, each with the first row it appeared at (a rejected row's
    key too: a later row with the same key points to the row the department wrote first)."""
    key = contract.primary_key
    rows, hi, lo = seen.digests(table)
    earlier = seen.find(hi, lo)
    repeated = earlier >= 0
    seen.add(hi[~repeated], lo[~repeated], rows[~repeated] + offset)
    if not repeated.any():
        return []
    at, first = rows[repeated], earlier[repeated]
    values = [table.column(c).take(pa.array(at)).to_pylist() for c in key]
    issues = []
    for n, (i, kept) in enumerate(zip(at.tolist(), first.tolist(), strict=True)):
        value = values[0][n] if len(key) == 1 else "|".join(str(v[n]) for v in values)
        message = f"duplicate of row {kept + HEADER_ROWS + 1}: the first occurrence is kept"
        issues.append(Issue(offset + i, key[0], "unique", str(value), message))
    return issues


def _trim() -> Callable[[int], object] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc
        return None


_MALLOC_TRIM = _trim()


def give_back_memory() -> None:
    """Hand the memory a batch used back to the system. Each batch makes millions of short-lived
    objects (pandas, GX) between the few that stay (issues): without this, glibc keeps the freed
    heap, and a 10M-row file grows the process by hundreds of MB it no longer uses."""
    pa.default_memory_pool().release_unused()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


Progress = Callable[[int, int], None]
"""Called after each batch with the rows read and the rows accepted so far."""


def check_file(
    path: Path,
    contract: Contract,
    staged: Path,
    *,
    today: dt.date | None,
    batch_rows: int,
    progress: Progress | None = None,
    references: Sequence[ReferenceSet] = (),
) -> Checked:
    """Check every batch; accepted rows go to ``staged`` (Parquet), the rest are collected.
    ``references`` are pinned once for the whole file (:func:`ingest.references.resolve`)."""
    out = Checked()
    seen = SeenKeys(list(contract.primary_key))
    rejected_rows = _RejectedRows(rejected_spill(staged))
    staged.parent.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter
    try:
        with pq.ParquetWriter(staged, arrow_schema(contract)) as writer:
            batches = iter_batches(path, contract, batch_rows)
            while True:
                started = clock()
                raw = next(batches, None)
                out.seconds["read"] += clock() - started
                if raw is None:
                    break
                offset = out.rows
                out.encoding, out.format, out.ignored_columns = raw.encoding, raw.format, raw.ignored_columns
                started = clock()
                std = standardize(raw.table, contract)
                out.seconds["standardize"] += clock() - started
                started = clock()
                local = list(std.issues)
                warned: list[Issue] = []
                if raw.table.num_rows:
                    found, result = validate_with_result(std.table, contract, today, references, offset)
                    warned = [replace(i, index=i.index + offset) for i in found if i.warning]
                    local += [i for i in found if not i.warning]
                    out.results.append((offset, compact(result)))
                issues = [replace(i, index=i.index + offset) for i in local]
                flagged = {(i.index, i.rule) for i in issues}
                issues += [
                    i
                    for i in _earlier_duplicates(std.table, contract, offset, seen)
                    if (i.index, i.rule) not in flagged
                ]
                bad_here = sorted({i.index - offset for i in issues if i.index >= offset})
                keep = pc.invert(
                    pc.is_in(pa.array(range(raw.table.num_rows), pa.int64()), pa.array(bad_here, pa.int64()))
                )
                accepted = std.table.filter(keep)
                out.seconds["validate"] += clock() - started
                started = clock()
                writer.write_table(accepted)
                if bad_here:
                    rejected_rows.write(quarantine.with_row_numbers(raw.table, bad_here, offset=offset))
                out.rows += raw.table.num_rows
                out.accepted += accepted.num_rows
                out.issues += issues
                rejected = set(bad_here)
                out.warnings += [
                    w for w in warned if w.index - offset not in rejected
                ]  # a rejected row needs no warning
                out.bad |= {offset + i for i in bad_here}
                out.changes.update({(c.column, c.rule): c.count for c in std.changes})
                out.seconds["stage"] += clock() - started
                del raw, std, accepted
                give_back_memory()
                if progress is not None:
                    progress(out.rows, out.accepted)
    finally:
        seen.close()
        out.rejected_file = rejected_rows.close()
    return out
