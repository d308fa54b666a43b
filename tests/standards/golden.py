"""The one loader of the golden example files in ``tests/standards/golden/``.

Each ``<standard>.csv`` has: ok (true/false), value, rule (the expected
``Check.rule``), reason_contains (a substring the reason must contain) and
source (where the example comes from, or which fault it was crafted for).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).parent / "golden"


@dataclass(frozen=True)
class Case:
    standard: str
    ok: bool
    value: str
    rule: str
    reason_contains: str
    source: str


def standards() -> list[str]:
    """Standards that have a golden file."""
    return sorted(p.stem for p in GOLDEN_DIR.glob("*.csv"))


def load(standard: str) -> list[Case]:
    with (GOLDEN_DIR / f"{standard}.csv").open(encoding="utf-8", newline="") as handle:
        return [
            Case(standard, row["ok"] == "true", row["value"], row["rule"], row["reason_contains"], row["source"])
            for row in csv.DictReader(handle)
        ]


def cases(*only: str) -> list[pytest.param]:
    """All golden cases (or those of the given standards) as pytest params."""
    return [
        pytest.param(case, id=f"{case.standard}:{case.value or '<empty>'}")
        for standard in (only or standards())
        for case in load(standard)
    ]
