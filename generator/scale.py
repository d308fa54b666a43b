"""How big the generated world is (scale 1.0 is about Dongcheng's size) and when it is.

About 700,000 residents, 30,000 legal entities, 3,000 buildings in the housing commission's
register and 600 points of interest; the 17 streets, 82 communities and 414 work grids are fixed
by the code tables. Each count has a floor so that tiny scales (0.002) still give every dataset
rows, commercial buildings for enterprises to sit in, and taxpayers for every month.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

LAST_MONTH = "2026-10"
"""The month the exports are made after (the export date is 2026-10-31)."""
BASE = {"residents": 700_000, "enterprises": 30_000, "buildings": 3_000, "pois": 600}
MINIMUM = {"residents": 200, "enterprises": 60, "buildings": 12, "pois": 24}


@dataclass(frozen=True)
class Sizes:
    residents: int
    enterprises: int
    buildings: int
    pois: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        return cls(**{k: max(MINIMUM[k], round(BASE[k] * scale)) for k in BASE})

    @classmethod
    def around(cls, part: str, rows: int) -> Sizes:
        """The world a single export of ``rows`` records of ``part`` belongs to (that count exactly)."""
        return replace(cls.at(max(rows, 1) / BASE[part]), **{part: rows})


def months_up_to(last: str, n: int) -> list[str]:
    """The ``n`` months ending with ``last`` (YYYY-MM), oldest first."""
    year, month = map(int, last.split("-"))
    index = year * 12 + month - 1
    return [f"{i // 12}-{i % 12 + 1:02d}" for i in range(index - n + 1, index + 1)]
