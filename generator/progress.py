"""Rows made of one generated file as it is written: a live bar on a terminal, plain lines otherwise.

Only worth showing for big files (:data:`SHOWN_FROM` rows: ten million residents take about a
minute); the streaming generators report after every batch (:data:`generator.export.Progress`).
Like :mod:`ingest.progress`, a log (a pipe, CI) gets one plain line per report on standard error.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

SHOWN_FROM = 1_000_000
"""Files of more rows than this show their progress."""


class GenerationProgress:
    """Progress of one file of ``total`` rows; use as a context manager and pass :meth:`update` as ``progress``."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None, every: int = 1_000_000):
        self.label, self.total = label, total
        self.stream = stream or sys.stderr
        self.every = every
        """Plain lines: one per this many rows (and one at the end)."""
        self.printed = 0
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> GenerationProgress:
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total)
        return self

    def update(self, done: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done)
        elif done - self.printed >= self.every or done >= self.total:
            self.printed = done
            print(f"    {self.label}: {done:,} of {self.total:,} rows", file=self.stream, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
