"""Generate the statistics bureau's monthly economic indicators per street (Parquet).

Five indicators for each of the 17 streets over 25 months up to 2026-10, so every month of the
last year has a year-earlier value. Each series is a street's share of a district total of about
Dongcheng's order of magnitude (万元 per month; not real figures), growing 2–7% a year, with a
seasonal pattern and ±2.5% noise: month-over-month moves stay under 17% and year-over-year ones
under 13%. A few deliberate one-month jumps (more than 30% month over month, the next month
falling back) give alerts something to flag; the manifest lists them. Fault: a street code that
is not one of Dongcheng's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from generator import faults, geography
from generator.export import Manifest, NotSendable, Record, file_format, write
from generator.scale import LAST_MONTH, months_up_to

DATASET = "economy.street_indicators"
FAULTS = ("unknown_street",)
MONTHS = 25
UNIT = "万元"
JUMPS = 4
UNKNOWN_STREETS = ("110101018", "110101099", "110102001")


@dataclass(frozen=True)
class Indicator:
    name: str
    district_per_month: float
    """万元."""
    season: tuple[float, ...]
    """Factor by calendar month, January first; consecutive months differ by at most ~10%."""


INDICATORS = (
    Indicator("地区生产总值", 2_600_000, (0.96, 0.92, 1.00, 0.98, 1.00, 1.04, 0.99, 0.98, 1.02, 1.00, 1.03, 1.07)),
    Indicator("社会消费品零售总额", 800_000, (1.06, 0.96, 0.94, 0.96, 1.01, 1.03, 0.98, 0.99, 1.00, 1.04, 1.02, 1.05)),
    Indicator("固定资产投资", 210_000, (0.98, 0.90, 0.96, 0.98, 1.00, 1.05, 0.99, 1.00, 1.04, 1.00, 1.03, 1.07)),
    Indicator(
        "规模以上企业营业收入", 10_000_000, (0.97, 0.91, 1.00, 0.99, 1.00, 1.04, 0.99, 0.98, 1.02, 1.00, 1.02, 1.08)
    ),
    Indicator("税收收入", 1_000_000, (1.08, 0.97, 0.95, 1.02, 1.06, 0.98, 1.02, 0.95, 0.97, 1.01, 0.97, 1.00)),
)


def _series(ind: Indicator, share: float, months: list[str], rng: random.Random) -> list[float]:
    growth = rng.uniform(0.02, 0.07)
    level = ind.district_per_month * share
    return [
        level * (1 + growth) ** (t / 12) * ind.season[int(m[5:]) - 1] * (1 + rng.uniform(-0.025, 0.025))
        for t, m in enumerate(months)
    ]


def make(rng: random.Random, months: int = MONTHS) -> tuple[list[Record], list[dict[str, object]]]:
    """Rows ordered by month, street, indicator; and the deliberate jumps."""
    streets = [s.code for s in geography.streets()]
    calendar = months_up_to(LAST_MONTH, months)
    weights = [rng.lognormvariate(0, 0.5) for _ in streets]
    shares = [w / sum(weights) for w in weights]
    values = {
        (s, ind.name): _series(ind, share * rng.lognormvariate(0, 0.2), calendar, rng)
        for s, share in zip(streets, shares, strict=True)
        for ind in INDICATORS
    }
    jumps = []
    for street, name in rng.sample(sorted(values), min(JUMPS, len(values))):
        t = rng.randrange(max(1, months - 12), months - 1) if months > 2 else months - 1
        values[street, name][t] *= rng.uniform(1.45, 1.8) if rng.random() < 0.6 else rng.uniform(0.5, 0.58)
        series = values[street, name]
        change = series[t] / series[t - 1] - 1
        jumps.append({"street_code": street, "indicator": name, "month": calendar[t], "mom_change": round(change, 4)})
    rows = [
        {"street_code": s, "month": m, "indicator": ind.name, "value": round(values[s, ind.name][t], 2), "unit": UNIT}
        for t, m in enumerate(calendar)
        for s in streets
        for ind in INDICATORS
    ]
    return rows, jumps


def _spoil_street(rng: random.Random) -> faults.Spoiler:
    def spoil(kind: str, row: Record, earlier: list[Record]) -> None:
        row["street_code"] = rng.choice(UNKNOWN_STREETS)

    return spoil


def export(
    out: Path, rows: list[Record], jumps: list[dict[str, object]], *, bad_share: float, rng: random.Random
) -> Manifest:
    """Parquet (field names as columns) unless ``out`` names .csv or .xlsx. Extras: the jumps."""
    fmt = file_format(out, "parquet")
    if fmt == "geojson":
        raise NotSendable(f"{DATASET} has no geometry: send it as Parquet, CSV or XLSX")
    jumped = {(j["street_code"], j["indicator"]) for j in jumps}
    protected = {i for i, r in enumerate(rows) if (r["street_code"], r["indicator"]) in jumped}
    planned = faults.plan(len(rows), bad_share, rng, FAULTS, protected)
    encoding = write(out, DATASET, faults.apply(rows, planned, _spoil_street(rng)), fmt=fmt, encoding="utf-8-sig")
    months = sorted({r["month"] for r in rows})
    extras = {"months": [months[0], months[-1]], "jumps": jumps}
    return Manifest(out, len(rows), encoding, len(rows) - len(planned), faults.rows(planned), fmt, extras)


def generate(
    out: Path,
    *,
    rows: int = 0,
    bad_share: float = 0.05,
    seed: int = 20261031,
    encoding: str = "utf-8",
    months: int = MONTHS,
) -> Manifest:
    """Write ``months`` months of the five indicators for every street (``rows`` and ``encoding`` are ignored:
    the size is streets × months × indicators)."""
    rows_, jumps = make(faults.stream(seed, "indicators"), months)
    return export(out, rows_, jumps, bad_share=bad_share, rng=faults.stream(seed, DATASET))
