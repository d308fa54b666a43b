"""Generate the market-regulation bureau's export of legal entities registered in Dongcheng.

Unified social credit codes are valid GB 32100 codes (with a valid embedded GB 11714
organization code), industries are GB/T 4754-2017 classes, streets are Dongcheng's. Faults are
those such exports carry: a wrong check character, an industry code that does not exist, a
missing name, a code registered twice, an establishment date in the future.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from pathlib import Path

from generator.export import ENCODINGS, Manifest, write_csv
from generator.names import GIVEN_CHARS, LANES, SURNAME_WEIGHTS, SURNAMES
from standards import gb11714, gb32100, tables

DATASET = "legal_entity.enterprises"
FAULTS = ("bad_check_char", "unknown_industry", "missing_name", "duplicate_code", "future_established")
EXPORT_DATE = dt.date(2026, 10, 31)
KINDS = (("91", "有限责任公司", 0.80), ("92", "个体工商户", 0.12), ("12", "事业单位", 0.05), ("51", "社会团体", 0.03))
BRAND = "华信达通安泰恒远瑞丰博源中科京东方正德润嘉鸿盛和金宏"
SUFFIX = {"91": "有限公司", "92": "商店", "12": "中心", "51": "协会"}
TRADES = {
    "I": "科技",
    "F": "商贸",
    "H": "餐饮",
    "L": "商务咨询",
    "K": "置业",
    "M": "技术服务",
    "R": "文化传媒",
    "J": "投资",
}
STATUS = (("存续", 0.9), ("注销", 0.07), ("吊销", 0.03))


class _Units:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.streets = [r["code"] for r in tables.load("dongcheng_streets").to_pylist()]
        self.divisions = tables.load("gbt4754_divisions").to_pylist()
        self.used: set[str] = set()

    def credit_code(self, kind: str) -> str:
        while True:
            body = "".join(self.rng.choice(string.digits + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
            org = body + gb11714.check_char(body)
            first17 = kind + "110101" + org
            code = first17 + gb32100.check_char(first17)
            if code not in self.used:
                self.used.add(code)
                return code

    def row(self) -> dict[str, str]:
        rng = self.rng
        kind, label, _ = rng.choices(KINDS, weights=[k[2] for k in KINDS])[0]
        division = rng.choice(self.divisions)
        trade = TRADES.get(division["parent_code"], "实业")
        brand = "".join(rng.sample(BRAND, 2))
        name = f"北京{brand}{trade}{SUFFIX[kind]}"
        boss = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0] + "".join(rng.sample(GIVEN_CHARS, 2))
        established = EXPORT_DATE - dt.timedelta(days=rng.randrange(30, 30 * 365))
        status = rng.choices([s for s, _ in STATUS], weights=[w for _, w in STATUS])[0]
        return {
            "credit_code": self.credit_code(kind),
            "name": name,
            "legal_representative": boss,
            "unit_type": label,
            "industry_code": f"{division['code']}{rng.randrange(1, 10)}{rng.randrange(0, 10)}",
            "registered_capital": f"{rng.choice((10, 50, 100, 200, 500, 1000, 5000)) * rng.randrange(1, 5)}",
            "established_on": established.isoformat(),
            "status": status,
            "street_code": rng.choice(self.streets),
            "address": f"北京市东城区{rng.choice(LANES)}{rng.randrange(1, 200)}号",
            "building_id": "",
        }


def _fault(kind: str, row: dict[str, str], earlier: list[dict[str, str]], rng: random.Random) -> None:
    if kind == "bad_check_char":
        right = row["credit_code"][-1]
        wrong = rng.choice([c for c in gb32100.ALPHABET if c != right])
        row["credit_code"] = row["credit_code"][:-1] + wrong
    elif kind == "unknown_industry":
        row["industry_code"] = "9" + "9" + row["industry_code"][2:]
    elif kind == "missing_name":
        row["name"] = ""
    elif kind == "duplicate_code":
        row["credit_code"] = rng.choice(earlier)["credit_code"]
    elif kind == "future_established":
        row["established_on"] = (EXPORT_DATE + dt.timedelta(days=rng.randrange(30, 900))).isoformat()


def generate(
    out: Path, *, rows: int = 2000, bad_share: float = 0.05, seed: int = 20261031, encoding: str = "utf-8-sig"
) -> Manifest:
    """Write the export to ``out`` and return the manifest of good and bad rows."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}")
    rng = random.Random(seed)
    units = _Units(rng)
    n_bad = round(rows * bad_share)
    bad_at = set(rng.sample(range(1, rows), min(n_bad, rows - 1))) if n_bad else set()
    manifest = Manifest(out, rows, encoding, rows - len(bad_at))
    records: list[dict[str, str]] = []
    good: list[dict[str, str]] = []
    for i in range(rows):
        row = units.row()
        if i in bad_at:
            kind = FAULTS[len(manifest.bad_rows) % len(FAULTS)]
            _fault(kind, row, good, rng)
            manifest.bad_rows[i + 2] = kind
        else:
            good.append(row)
        records.append(row)
    write_csv(out, DATASET, records, encoding)
    return manifest
