"""Generate the tax bureau's monthly export of tax paid per enterprise (one XLSX file per month).

Every active (存续) registered unit pays one to three tax types each month (VAT, corporate
income tax, individual income tax withheld, other taxes and fees: which ones depends on the kind
of unit), with amounts that follow its headcount, a seasonal pattern and noise. 从业人数 is the
taxpayer's headcount that month, repeated on each of its tax-type rows: count it once per credit
code and month, do not add the rows up. A few taxpayers carry valid GB 32100 codes that the
market-regulation register does not have (registered elsewhere, paying here): the building-economy
dataset must report them as unmatched; the manifest lists them.
Faults: a wrong check character, month "YYYY-13", a tax type outside the contract, no amount.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generator import faults
from generator.enterprises import Enterprise, new_credit_code
from generator.enterprises import build as build_enterprises
from generator.export import Manifest, NotSendable, Record, file_format, write
from generator.scale import LAST_MONTH, Sizes
from standards import gb32100

DATASET = "economy.tax_monthly"
FAULTS = ("bad_check_char", "bad_month", "unknown_tax_type", "missing_amount")
VAT, CIT, IIT, OTHER = "增值税", "企业所得税", "个人所得税", "其他税费"
TAX_TYPES = (VAT, CIT, IIT, OTHER)
POOLS = {"91": TAX_TYPES, "92": (VAT, IIT, OTHER), "12": (IIT, OTHER), "51": (IIT, OTHER)}
"""Tax types a unit of each GB 32100 kind can owe."""
PER_EMPLOYEE = {VAT: 3000.0, CIT: 1500.0, IIT: 450.0, OTHER: 250.0}
"""Typical yuan per employee per month."""
QUARTER_MONTHS = (1, 4, 7, 10)
"""Corporate income tax is prepaid after each quarter: those months weigh more."""
UNKNOWN_TAX_TYPES = ("印花税", "房产税", "城市维护建设税")


@dataclass(frozen=True, slots=True)
class Taxpayer:
    credit_code: str
    employees: int
    base: dict[str, float]
    """Tax type → typical monthly amount in yuan."""
    registered: bool


def _employees(kind: str, rng: random.Random) -> int:
    if kind == "92":
        return rng.randint(1, 6)
    if kind == "12":
        return rng.randint(20, 400)
    if kind == "51":
        return rng.randint(2, 30)
    return max(1, min(8000, round(rng.lognormvariate(2.5, 1.3))))


def _payer(code: str, kind: str, rng: random.Random, registered: bool) -> Taxpayer:
    employees = _employees(kind, rng)
    pool = POOLS[kind]
    chosen = rng.sample(pool, min(len(pool), rng.choice((1, 2, 2, 3))))
    base = {t: employees * PER_EMPLOYEE[t] * rng.lognormvariate(0, 0.6) for t in TAX_TYPES if t in chosen}
    return Taxpayer(code, employees, base, registered)


def taxpayers(units: Sequence[Enterprise], rng: random.Random) -> list[Taxpayer]:
    """Every active unit, and a few unregistered taxpayers among them (about 0.5%, at least 2)."""
    payers = [_payer(e.credit_code, e.kind, rng, True) for e in units if e.active]
    used = {e.credit_code for e in units}
    for _ in range(max(2, round(len(payers) * 0.005))):
        stranger = _payer(new_credit_code("91", rng, used), "91", rng, False)
        payers.insert(rng.randrange(1, len(payers) + 1), stranger)
    return payers


def records(payers: Sequence[Taxpayer], month: str, rng: random.Random) -> list[Record]:
    calendar_month = int(month[5:])
    out = []
    for p in payers:
        employees = max(1, p.employees + rng.choice((0, 0, 0, 0, 0, 0, 0, 0, -1, 1)))
        for tax_type, base in p.base.items():
            season = 2.0 if tax_type == CIT and calendar_month in QUARTER_MONTHS else 1.0
            amount = round(base * season * rng.uniform(0.8, 1.2), 2)
            out.append(
                {
                    "credit_code": p.credit_code,
                    "month": month,
                    "tax_type": tax_type,
                    "amount": amount,
                    "employees": employees,
                }
            )
    return out


class _Spoiler:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def __call__(self, kind: str, row: Record, earlier: list[Record]) -> None:
        rng = self.rng
        if kind == "bad_check_char":
            row["credit_code"] = faults.wrong_check_char(row["credit_code"], gb32100.ALPHABET, rng)
        elif kind == "bad_month":
            row["month"] = row["month"][:4] + "-13"
        elif kind == "unknown_tax_type":
            row["tax_type"] = rng.choice(UNKNOWN_TAX_TYPES)
        elif kind == "missing_amount":
            row["amount"] = None


def export(
    out: Path,
    payers: Sequence[Taxpayer],
    month: str,
    *,
    bad_share: float,
    rng: random.Random,
    encoding: str = "utf-8-sig",
) -> Manifest:
    """One month's file: XLSX unless ``out`` names a .csv file. Extras: month, unregistered credit codes."""
    fmt = file_format(out, "xlsx")
    if fmt not in ("xlsx", "csv"):
        raise NotSendable(f"{DATASET} is sent as XLSX (or CSV), not {fmt}")
    rows = records(payers, month, rng)
    strangers = {p.credit_code for p in payers if not p.registered}
    protected = {i for i, r in enumerate(rows) if r["credit_code"] in strangers}
    planned = faults.plan(len(rows), bad_share, rng, FAULTS, protected)
    used = write(out, DATASET, faults.apply(rows, planned, _Spoiler(rng)), fmt=fmt, encoding=encoding)
    extras = {"month": month, "unregistered_credit_codes": sorted(strangers)}
    return Manifest(out, len(rows), used, len(rows) - len(planned), faults.rows(planned), fmt, extras)


def month_stream(seed: int, month: str) -> random.Random:
    return faults.stream(seed, f"{DATASET}/{month}")


def generate(
    out: Path,
    *,
    rows: int = 2000,
    bad_share: float = 0.05,
    seed: int = 20261031,
    encoding: str = "utf-8-sig",
    month: str = LAST_MONTH,
) -> Manifest:
    """Write one month of tax paid by the ``rows`` registered units :func:`generator.enterprises.generate`
    writes for the same ``rows``, ``seed`` and ``bad_share`` (so the file has about 1.8 × ``rows`` rows)."""
    units = build_enterprises(Sizes.around("enterprises", rows), seed, bad_share)
    payers = taxpayers(units, faults.stream(seed, "tax"))
    return export(out, payers, month, bad_share=bad_share, rng=month_stream(seed, month), encoding=encoding)
