"""The market-regulation export through the same contract pipeline as every dataset."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter

from contracts import model
from generator import buildings, geography
from generator.enterprises import DATASET, FAULTS, generate
from generator.scale import Sizes
from hub.settings import Settings
from ingest import steps
from standards import gb32100, gbt4754
from warehouse import duck, tables

EXPECTED_RULE = {
    "bad_check_char": ("credit_code", "standard:gb32100"),
    "unknown_industry": ("industry_code", "standard:gb4754"),
    "missing_name": ("name", "required"),
    "duplicate_code": ("credit_code", "unique"),
    "future_established": ("established_on", "not_after_today"),
}


def test_good_rows_carry_valid_codes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    manifest = generate(tmp_path / "e.csv", rows=300, bad_share=0.0, seed=1)
    with manifest.path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 300
    assert all(gb32100.validate(r["统一社会信用代码"]).ok for r in rows)
    assert all(gbt4754.validate(r["行业代码"]).ok for r in rows)
    assert len({r["统一社会信用代码"] for r in rows}) == 300


def test_enterprises_go_through_the_contract_pipeline(settings: Settings) -> None:
    contract = model.find(settings.contracts_dir, DATASET)
    manifest = generate(steps.inbox_folder(settings, contract) / "法人_202610.csv", rows=200, bad_share=0.1, seed=2)
    [file] = steps.discover(DATASET, settings)
    outcome = steps.check(DATASET, file, settings, today=dt.date(2026, 11, 1))
    versions = steps.register(DATASET, steps.publish(DATASET, settings), settings)
    assert outcome.rows_accepted == manifest.good_rows == 180
    assert versions[0].row_count == 180
    assert tables.read(tables.catalog(settings.warehouse_dir), contract).num_rows == 180
    report = next((settings.quarantine_dir / DATASET).glob("*/rejects.csv"))
    with report.open(encoding="utf-8-sig", newline="") as fh:
        found = {(int(r["row"]), r["column"], r["rule"]) for r in csv.DictReader(fh)}
    for row, kind in manifest.bad_rows.items():
        assert (row, *EXPECTED_RULE[kind]) in found, (row, kind)
    assert Counter(manifest.bad_rows.values()) == Counter({k: 4 for k in FAULTS})


def test_default_export_is_xlsx_located_in_the_buildings_register(tmp_path) -> None:  # type: ignore[no-untyped-def]
    manifest = generate(tmp_path / "法人单位.xlsx", rows=1000, bad_share=0.0, seed=3)
    register = buildings.generate(
        tmp_path / "楼宇.geojson", rows=Sizes.around("enterprises", 1000).buildings, bad_share=0.0, seed=3
    )
    features = json.loads(register.path.read_text("utf-8"))["features"]
    footprint = {f["properties"]["楼宇编码"]: f["geometry"]["coordinates"][0] for f in features}
    con = duck.connect(extensions=("excel",))
    rows = con.execute(
        "SELECT 统一社会信用代码, 街道代码, 楼宇编码, 经度::DOUBLE, 纬度::DOUBLE"
        f" FROM read_xlsx('{manifest.path}', all_varchar=true)"
    ).fetchall()
    assert manifest.format == "xlsx" and len(rows) == 1000

    def building_at(lon: float, lat: float) -> str | None:
        for bid, ring in footprint.items():
            if ring[0][0] < lon < ring[2][0] and ring[0][1] < lat < ring[2][1]:
                return bid
        return None

    found = Counter()
    for code, street, building, lon, lat in rows:
        method = manifest.extras["located_by"][code]
        found[method] += 1
        if lon is None:
            assert method == "unmatched" and building is None
            continue
        assert geography.locate(lon, lat).code[:9] == street  # type: ignore[union-attr]
        inside = building_at(lon, lat)
        if building is not None:
            assert method == "building_id" and inside == building
        else:
            assert method == ("point_in_building" if inside else "point_in_grid")
    assert found == manifest.extras["placement"]
    assert 0.5 < found["building_id"] / 1000 < 0.7 and 0.18 < found["point_in_building"] / 1000 < 0.32
    assert 0.05 < found["point_in_grid"] / 1000 < 0.15 and 0.02 < found["unmatched"] / 1000 < 0.08
