"""Buildings, grids and points of interest: inside their grids, in the formats the bureaus send."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from generator import buildings, geography, grids, pois
from generator.geography import METRES_PER_DEGREE_LAT, METRES_PER_DEGREE_LON
from warehouse import duck

BUILDING_ID = re.compile(r"^BD[0-9]{8}$")


def _box(polygon: dict) -> tuple[float, float, float, float]:
    [ring] = polygon["coordinates"]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    assert ring[0] == ring[-1] and len(ring) == 5
    return min(lons), min(lats), max(lons), max(lats)


@pytest.fixture(scope="module")
def building_file(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    path = tmp_path_factory.mktemp("buildings") / "楼宇.geojson"
    manifest = buildings.generate(path, rows=400, bad_share=0.0, seed=6)
    return manifest, json.loads(path.read_text("utf-8"))


def test_buildings_are_a_cgcs2000_feature_collection(building_file: tuple) -> None:
    manifest, doc = building_file
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == manifest.rows == 400
    assert doc["crs"] == {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}
    first = doc["features"][0]
    assert first["geometry"]["type"] == "Polygon"
    assert list(first["properties"])[:3] == ["楼宇编码", "楼宇名称", "地址"]
    assert "轮廓" not in first["properties"]


def test_buildings_lie_strictly_inside_their_grid_and_never_overlap(building_file: tuple) -> None:
    _, doc = building_file
    areas = geography.by_code()
    boxes: dict[str, list[tuple[float, float, float, float]]] = {}
    for f in doc["features"]:
        p = f["properties"]
        w, s, e, n = _box(f["geometry"])
        g = areas[p["网格编码"]]
        assert g.west < w < e < g.east and g.south < s < n < g.north
        assert p["街道代码"] == p["网格编码"][:9] and p["社区代码"] == p["网格编码"][:12]
        assert (p["经度"], p["纬度"]) == pytest.approx(((w + e) / 2, (s + n) / 2), abs=1e-6)
        for ow, os_, oe, on in boxes.get(p["网格编码"], []):
            assert e <= ow or oe <= w or n <= os_ or on <= s
        boxes.setdefault(p["网格编码"], []).append((w, s, e, n))


def test_building_attributes_are_plausible(building_file: tuple) -> None:
    _, doc = building_file
    props = [f["properties"] for f in doc["features"]]
    assert all(BUILDING_ID.match(p["楼宇编码"]) for p in props)
    assert len({p["楼宇编码"] for p in props}) == len(props)
    uses = Counter(p["用途"] for p in props)
    assert set(uses) == {"商业", "住宅", "商住混合"}
    for f, p in zip(doc["features"], props, strict=True):
        w, s, e, n = _box(f["geometry"])
        footprint = (e - w) * METRES_PER_DEGREE_LON * (n - s) * METRES_PER_DEGREE_LAT
        assert 0.8 * footprint * p["地上层数"] <= p["建筑面积（平方米）"] <= 1.01 * footprint * p["地上层数"]
        assert p["空置面积（平方米）"] is None or 0 <= p["空置面积（平方米）"] <= p["建筑面积（平方米）"]
        assert p["空置面积（平方米）"] is None or p["用途"] != "住宅"
    assert any(p["空置面积（平方米）"] for p in props)


def test_grids_are_every_street_community_and_work_grid(tmp_path: Path) -> None:
    manifest = grids.generate(tmp_path / "网格.geojson")
    doc = json.loads(manifest.path.read_text("utf-8"))
    props = [f["properties"] for f in doc["features"]]
    levels = Counter(p["层级"] for p in props)
    assert levels == {"street": 17, "community": 82, "grid": 414} and manifest.bad_rows == {}
    codes = {p["网格编码"] for p in props}
    for p in props:
        assert len(p["网格编码"]) == {"street": 9, "community": 12, "grid": 15}[p["层级"]]
        assert p["上级编码"] == "110101" if p["层级"] == "street" else p["上级编码"] in codes
        assert p["网格编码"].startswith(p["上级编码"])


def test_pois_are_geoparquet_inside_their_grid(tmp_path: Path) -> None:
    manifest = pois.generate(tmp_path / "兴趣点.parquet", rows=120, bad_share=0.0, seed=7)
    geo = json.loads(pq.read_schema(manifest.path).metadata[b"geo"])
    assert geo["primary_column"] == "geometry"
    assert geo["columns"]["geometry"]["crs"]["id"] == {"authority": "EPSG", "code": 4490}
    con = duck.connect(extensions=("spatial",))
    rows = con.execute(
        f"SELECT category, grid_code, ST_X(geometry), ST_Y(geometry) FROM read_parquet('{manifest.path}')"
    ).fetchall()
    assert len(rows) == 120
    assert {r[0] for r in rows} == {c for c, _ in pois.CATEGORIES}
    for _, code, lon, lat in rows:
        assert geography.locate(lon, lat).code == code  # type: ignore[union-attr]


def test_faults_are_really_faulty(tmp_path: Path) -> None:
    b = buildings.generate(tmp_path / "b.geojson", rows=200, bad_share=0.1, seed=8)
    features = json.loads(b.path.read_text("utf-8"))["features"]
    assert set(b.bad_rows.values()) == set(buildings.FAULTS)
    for i, f in enumerate(features):
        kind, p = b.bad_rows.get(i + 2), f["properties"]
        assert (kind == "missing_name") == (p["楼宇名称"] is None)
        assert (kind == "malformed_id") == (not BUILDING_ID.match(p["楼宇编码"]))
        assert (kind == "unknown_use") == (p["用途"] not in ("商业", "住宅", "商住混合"))
    p = pois.generate(tmp_path / "p.parquet", rows=100, bad_share=0.1, seed=8)
    table = pq.read_table(p.path).to_pylist()
    for i, r in enumerate(table):
        kind = p.bad_rows.get(i + 2)
        assert (kind == "unknown_category") == (r["category"] not in {c for c, _ in pois.CATEGORIES})
        assert (kind == "missing_name") == (r["name"] is None)


def test_same_seed_same_geojson_bytes(tmp_path: Path) -> None:
    a = buildings.generate(tmp_path / "a.geojson", rows=50, seed=9).path.read_bytes()
    b = buildings.generate(tmp_path / "b.geojson", rows=50, seed=9).path.read_bytes()
    c = buildings.generate(tmp_path / "c.geojson", rows=50, seed=10).path.read_bytes()
    assert a == b != c
