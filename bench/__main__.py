"""``make bench``: run every benchmark and write docs/benchmarks.md.

Every figure is a ratio against a baseline measured in the same run on the same machine, so
the numbers stay comparable across machines.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path

from bench import bench_exchange, bench_serving, bench_sql, bench_standards

OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", "1000000"))
    sections = [
        ("GB 11643 ID-number check (standards/)", bench_standards.run(rows, 3)),
        ("Serving path: API queries (warehouse/serving.py)", bench_serving.run(min(rows, 200_000), 200)),
        ("Exports and change feeds (exchange/)", bench_exchange.run(rows)),
        (bench_sql.TITLE, bench_sql.run(rows)),
    ]
    head = [
        "# Benchmarks",
        "",
        "Written by `make bench`; each figure is compared with a baseline measured in the same run.",
        f"Last run: {dt.date.today().isoformat()}, Python {platform.python_version()}, {os.cpu_count()} cores.",
    ]
    body = [f"\n## {title}\n\n{text}" for title, text in sections]
    OUT.write_text("\n".join(head + body) + "\n", encoding="utf-8")
    print(OUT.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
