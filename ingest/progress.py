"""Rows read and checked of one file as the check goes: a live bar on a terminal, plain lines otherwise.

The check step reports after every batch (:data:`ingest.batches.Progress`). On a terminal the
report is a transient ``rich`` progress line; in a log (Airflow's, a pipe, CI) it is one plain line
per batch on standard error, so a long file shows it is moving either way.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO


class FileProgress:
    """Progress of one file; use as a context manager and pass :meth:`update` to the check."""

    def __init__(self, label: str, stream: TextIO | None = None):
        self.label = label
        self.stream = stream or sys.stderr
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> FileProgress:
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=None, counts="reading …")
        return self

    def update(self, read: int, accepted: int) -> None:
        counts = f"{read:,} rows read, {accepted:,} accepted, {read - accepted:,} rejected"
        if self.bar is not None:
            self.bar.update(self.task, counts=counts)
        else:
            print(f"    {self.label}: {counts}", file=self.stream, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
