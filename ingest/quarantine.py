"""Quarantine: rejected rows and whole rejected files, with a report a department can act on.

A report folder holds the original file byte-for-byte, ``rejects.csv`` (row, column, rule,
value, message; UTF-8 with BOM so spreadsheet programs show Chinese correctly), the rejected
records as they were read, ``warnings.csv`` (same columns) for findings of soft rules on rows that
were accepted, and ``report.json``: the file's :class:`~ingest.outcome.FileOutcome`.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from ingest.issues import HEADER_ROWS, REPORT_COLUMNS, Issue
from ingest.outcome import FileOutcome


@dataclass(frozen=True)
class Report:
    folder: Path
    rejects_csv: Path
    summary: FileOutcome


def report_folder(quarantine_dir: Path, dataset: str, filename: str, sha256: str) -> Path:
    return quarantine_dir / dataset / f"{Path(filename).stem}-{sha256[:12]}"


def write(
    folder: Path,
    *,
    original: Path,
    issues: list[Issue],
    rejected_rows: pa.Table | Path | None,
    summary: FileOutcome,
    warnings: list[Issue] | None = None,
) -> Report:
    """Write the report; ``original`` is the file as the department sent it (the hub's archived
    copy); ``warnings`` (soft rules' findings on accepted rows) go to ``warnings.csv``.
    ``rejected_rows`` is a table, or a CSV of them already written while checking (moved here)."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / original.name
    if not kept.exists():
        _keep(original, kept)
    rejects = folder / "rejects.csv"
    _write_issues(rejects, issues)
    if warnings:
        _write_issues(folder / "warnings.csv", warnings)
    if isinstance(rejected_rows, Path):
        shutil.move(rejected_rows, folder / "rejected_rows.csv")
    elif rejected_rows is not None and rejected_rows.num_rows:
        pacsv.write_csv(rejected_rows, folder / "rejected_rows.csv")
    report = json.dumps(summary.dump(), ensure_ascii=False, indent=2)
    (folder / "report.json").write_text(report, encoding="utf-8")
    return Report(folder, rejects, summary)


def _keep(original: Path, kept: Path) -> None:
    """The original file in the report folder: a hard link to ``original`` (the hub's archived copy,
    owner-only and never changed) when both are on one file system, else a copy. A department's
    file of 10M rows is 1.5 GB; a link costs nothing, a copy seconds and the disk space again."""
    try:
        os.link(original, kept)
    except OSError:  # another file system, or links not supported
        shutil.copy2(original, kept)
    kept.chmod(0o600)  # copy2 keeps the dropped file's mode; the quarantined copy is owner-only


def _write_issues(path: Path, issues: list[Issue]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(REPORT_COLUMNS)
        out.writerows(issue.report_row() for issue in sorted(issues, key=lambda i: (i.index, i.column, i.rule)))


def with_row_numbers(raw: pa.Table, indices: list[int], offset: int = 0) -> pa.Table:
    """The raw records at ``indices`` (of a batch starting at record ``offset``) with their
    spreadsheet row number in front."""
    rows = raw.take(pa.array(indices, pa.int64()))
    for i, field in enumerate(rows.schema):
        if pa.types.is_binary(field.type):  # geometry (WKB): shown as hex so the CSV stays text
            hexed = pa.array([v.hex() if v is not None else None for v in rows.column(i).to_pylist()], pa.string())
            rows = rows.set_column(i, field.name, hexed)
    numbers = pa.array([offset + i + HEADER_ROWS + 1 for i in indices], pa.int64())
    return rows.add_column(0, "row", numbers)
