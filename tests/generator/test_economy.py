"""Tax months and street indicators: consistent with the register, with the jumps and faults they claim."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from generator import enterprises, indicators, tax
from standards import gb32100
from warehouse import duck

STREETS = {f"110101{i:03d}" for i in range(1, 18)}


def _xlsx(path: Path) -> list[tuple]:
    con = duck.connect(extensions=("excel",))
    return con.execute(f"SELECT * FROM read_xlsx('{path}', all_varchar=true)").fetchall()


def test_tax_month_is_xlsx_paid_by_active_units(tmp_path: Path) -> None:
    units = enterprises.generate(tmp_path / "e.csv", rows=400, bad_share=0.0, seed=12, encoding="utf-8-sig")
    manifest = tax.generate(tmp_path / "t.xlsx", rows=400, bad_share=0.0, seed=12, month="2026-09")
    with units.path.open(encoding="utf-8-sig", newline="") as fh:
        status = {r["统一社会信用代码"]: r["登记状态"] for r in csv.DictReader(fh)}
    rows = _xlsx(manifest.path)
    assert manifest.format == "xlsx" and len(rows) == manifest.rows
    strangers = set(manifest.extras["unregistered_credit_codes"])
    types: dict[str, set[str]] = defaultdict(set)
    for code, month, tax_type, amount, employees in rows:
        assert month == "2026-09" and tax_type in tax.TAX_TYPES and float(amount) > 0 and int(employees) >= 1
        assert gb32100.validate(code).ok
        assert (code in strangers) != (code in status)
        types[code].add(tax_type)
    assert {c for c, s in status.items() if s == "存续"} == set(types) - strangers
    assert all(1 <= len(t) <= 3 for t in types.values())
    assert len(rows) == len({(r[0], r[2]) for r in rows})


def test_tax_faults_are_really_faulty(tmp_path: Path) -> None:
    manifest = tax.generate(tmp_path / "t.csv", rows=300, bad_share=0.05, seed=13, encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(manifest.path.read_text("utf-8-sig"), newline="")))
    assert set(manifest.bad_rows.values()) == set(tax.FAULTS)
    strangers = set(manifest.extras["unregistered_credit_codes"])
    for i, r in enumerate(rows):
        kind = manifest.bad_rows.get(i + 2)
        assert (kind == "bad_check_char") == (not gb32100.validate(r["统一社会信用代码"]).ok)
        assert (kind == "bad_month") == r["所属月份"].endswith("-13")
        assert (kind == "unknown_tax_type") == (r["税种"] not in tax.TAX_TYPES)
        assert (kind == "missing_amount") == (r["入库税额（元）"] == "")
        assert kind is None or r["统一社会信用代码"] not in strangers


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    path = tmp_path_factory.mktemp("indicators") / "街道经济指标.parquet"
    manifest = indicators.generate(path, bad_share=0.0, seed=14)
    values: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for r in pq.read_table(path).to_pylist():
        assert r["unit"] == "万元" and r["value"] > 0
        values[r["street_code"], r["indicator"]][r["month"]] = r["value"]
    return manifest, values


def test_indicators_cover_every_street_and_month(series: tuple) -> None:
    manifest, values = series
    assert manifest.rows == 17 * 25 * 5 and manifest.format == "parquet"
    assert {s for s, _ in values} == STREETS
    assert {i for _, i in values} == {i.name for i in indicators.INDICATORS}
    assert all(len(v) == 25 and min(v) == "2024-10" and max(v) == "2026-10" for v in values.values())


def test_only_the_recorded_jumps_move_more_than_thresholds(series: tuple) -> None:
    manifest, values = series
    jumps = {(j["street_code"], j["indicator"]): j for j in manifest.extras["jumps"]}
    assert len(jumps) == indicators.JUMPS
    for key, by_month in values.items():
        months = sorted(by_month)
        for t in range(1, len(months)):
            mom = by_month[months[t]] / by_month[months[t - 1]] - 1
            yoy = by_month[months[t]] / by_month[months[t - 12]] - 1 if t >= 12 else 0.0
            jump = jumps.get(key)
            if jump and months[t] == jump["month"]:
                assert abs(mom) > 0.3 and mom == pytest.approx(jump["mom_change"], abs=1e-3)
            elif not (jump and months[t - 1] == jump["month"]):
                assert abs(mom) < 0.2 and abs(yoy) < 0.3, (key, months[t], mom, yoy)


def test_indicator_faults_are_unknown_streets(tmp_path: Path) -> None:
    manifest = indicators.generate(tmp_path / "i.parquet", bad_share=0.05, seed=15)
    rows = pq.read_table(manifest.path).to_pylist()
    assert len(manifest.bad_rows) == round(len(rows) * 0.05)
    for i, r in enumerate(rows):
        assert (i + 2 in manifest.bad_rows) == (r["street_code"] not in STREETS)
