"""``make bench``: run every benchmark and write docs/benchmarks.md.

Every figure is a ratio against a baseline measured in the same run on the same machine, so
the numbers stay comparable across machines. ``BENCH_ROWS`` (default 1,000,000) scales every
section; at the default the whole run stays under 15 minutes on two cores. The API section's
table of ratios (the hub against Datasette) is printed again at the end.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import bench_api, bench_exchange, bench_serving, bench_sql, bench_standards
from bench.bench_sql import kept_runs

OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def _ingest() -> tuple[str, Callable[[int], str]] | None:
    """The ingest section, when ``bench/bench_ingest.py`` exists: ``run(rows) -> str`` and an
    optional ``TITLE``. Skipped otherwise."""
    if importlib.util.find_spec("bench.bench_ingest") is None:
        return None
    module = importlib.import_module("bench.bench_ingest")
    return getattr(module, "TITLE", "Ingest (ingest/)"), module.run


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", "1000000"))
    with tempfile.TemporaryDirectory() as tmp:
        _run(rows, Path(tmp) / "hub")


def _run(rows: int, shared: Path) -> None:
    """``shared``: the hub the analyst-SQL and API sections both measure (built once)."""
    plan: list[tuple[str, Callable[[], str]]] = [
        ("GB 11643 ID-number check (standards/)", lambda: bench_standards.run(rows, 3)),
        ("Serving path: API queries (warehouse/serving.py)", lambda: bench_serving.run(min(rows, 200_000), 200)),
        ("Exports and change feeds (exchange/)", lambda: bench_exchange.run(rows)),
        (bench_sql.TITLE, lambda: bench_sql.run(rows, home=shared)),
        (bench_api.TITLE, lambda: bench_api.run(rows, home=shared)),
    ]
    ingest = _ingest()
    if ingest is not None:  # written separately; its place is here, after the serving sections
        title, run = ingest
        plan.append((title, lambda: run(rows)))
    sections = []
    failed = []
    for title, section in plan:
        started = time.monotonic()
        print(f"{title} ...", file=sys.stderr, flush=True)
        try:
            sections.append((title, section()))
        except Exception as exc:  # noqa: BLE001 - one broken section must not lose the others' figures
            traceback.print_exc()
            failed.append(title)
            sections.append((title, f"Not measured in this run: the section failed ({type(exc).__name__}: {exc})."))
        print(f"{title}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    head = [
        "# Benchmarks",
        "",
        "Written by `make bench`; each figure is compared with a baseline measured in the same run.",
        f'Subsections marked "{bench_sql.KEPT}" come from separate, longer runs; `make bench` keeps them.',
        f"Last run: {dt.date.today().isoformat()}, Python {platform.python_version()}, {os.cpu_count()} cores.",
    ]
    kept = kept_runs(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    body = [
        f"\n## {title}\n\n{text}" + "".join(f"\n\n{run}" for run in kept.get(title, [])) for title, text in sections
    ]
    OUT.write_text("\n".join(head + body) + "\n", encoding="utf-8")
    print(OUT.read_text(encoding="utf-8"))
    ratios = dict(sections)[bench_api.TITLE]
    print(f"\n== {bench_api.TITLE} ==\n\n{ratios}")
    if failed:
        sys.exit(f"make bench: {len(failed)} section(s) failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
