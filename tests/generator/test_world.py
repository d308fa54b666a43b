"""The whole district at once: every department's files agree with one another."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from contracts import model
from generator import registry, world
from generator.export import Manifest, atomic
from generator.scale import Sizes
from hub.settings import get_settings
from standards import gb32100
from warehouse import duck

SCALE = 0.005
Box = tuple[float, float, float, float]


class Files:
    """What one generate_all run wrote, read back the way a consumer would."""

    def __init__(self, root: Path, manifests: dict[str, list[Manifest]]):
        self.root, self.manifests = root, manifests
        self.con = duck.connect(extensions=("spatial", "excel"))

    def one(self, dataset: str) -> Manifest:
        [m] = self.manifests[dataset]
        return m

    def good(self, dataset: str, rows: list) -> list:
        bad = {r for m in self.manifests[dataset] for r in m.bad_rows}
        assert len(self.manifests[dataset]) == 1 or not bad
        return [r for i, r in enumerate(rows) if i + 2 not in bad]

    def csv(self, dataset: str) -> list[dict[str, str]]:
        text = self.one(dataset).path.read_bytes().decode("gb18030")
        return self.good(dataset, list(csv.DictReader(io.StringIO(text, newline=""))))

    def xlsx(self, path: Path) -> list[dict[str, str | None]]:
        """Every cell as text (an empty cell as None): column types are not guessed from the first rows."""
        cursor = self.con.execute(f"SELECT * FROM read_xlsx('{path}', all_varchar=true)")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def features(self, dataset: str) -> list[dict]:
        return self.good(dataset, json.loads(self.one(dataset).path.read_text("utf-8"))["features"])

    def parquet(self, dataset: str) -> list[dict]:
        return self.good(dataset, pq.read_table(self.one(dataset).path).to_pylist())


def _box(geometry: dict) -> Box:
    ring = geometry["coordinates"][0]
    return min(p[0] for p in ring), min(p[1] for p in ring), max(p[0] for p in ring), max(p[1] for p in ring)


def _inside(inner: Box, outer: Box) -> bool:
    return outer[0] < inner[0] and inner[2] < outer[2] and outer[1] < inner[1] and inner[3] < outer[3]


def _contains(box: Box, lon: float, lat: float) -> bool:
    return box[0] < lon < box[2] and box[1] < lat < box[3]


def _generate(root: Path, **options: object) -> Files:
    return Files(root, world.generate_all(lambda d: root / d, **options))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return _generate(tmp_path_factory.mktemp("clean"), scale=SCALE, seed=41, bad_share=0.0)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return _generate(tmp_path_factory.mktemp("faulty"), scale=SCALE, seed=42)


def test_every_department_file_is_where_and_what_it_should_be(clean: Files) -> None:
    names = {d: [m.path.name for m in ms] for d, ms in clean.manifests.items()}
    assert names == {
        "spatial.grids": ["网格划分_2024.geojson"],
        "buildings.buildings": ["楼宇_20261031.geojson"],
        "spatial.pois": ["兴趣点_20261031.parquet"],
        "population.residents": ["常住人口_20261031.csv"],
        "population.households": ["家庭户成员_20261031.csv"],
        "legal_entity.enterprises": ["法人单位_20261031.xlsx"],
        "economy.tax_monthly": ["企业纳税_202608.xlsx", "企业纳税_202609.xlsx", "企业纳税_202610.xlsx"],
        "economy.street_indicators": ["街道经济指标_202410-202610.parquet"],
    }
    for dataset, ms in clean.manifests.items():
        folder = clean.root / dataset
        assert sorted(p.name for p in folder.iterdir()) == sorted(m.path.name for m in ms)  # no temporary files
        assert all(m.path.parent == folder and m.rows > 0 for m in ms)


def test_formats_are_what_departments_send(clean: Files) -> None:
    raw = clean.one("population.residents").path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gb18030").startswith("公民身份号码,姓名,")
    assert clean.one("population.households").path.read_bytes().decode("gb18030").startswith("户号,公民身份号码,")
    for dataset in ("spatial.grids", "buildings.buildings"):
        doc = json.loads(clean.one(dataset).path.read_text("utf-8"))
        assert doc["type"] == "FeatureCollection" and doc["crs"]["properties"]["name"].endswith("EPSG::4490")
    assert b"geo" in pq.read_schema(clean.one("spatial.pois").path).metadata
    assert pq.read_schema(clean.one("economy.street_indicators").path).names[:2] == ["street_code", "month"]
    units = clean.xlsx(clean.one("legal_entity.enterprises").path)
    assert list(units[0])[:2] == ["统一社会信用代码", "单位名称"]
    assert all(re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", u["成立日期"] or "") for u in units)


def test_grid_codes_used_anywhere_exist_in_the_grids_file(clean: Files) -> None:
    areas = {f["properties"]["网格编码"]: f for f in clean.features("spatial.grids")}
    work_grids = {c for c, f in areas.items() if f["properties"]["层级"] == "grid"}
    used = {r["网格编码"] for r in clean.csv("population.residents")}
    used |= {r["网格编码"] for r in clean.csv("population.households")}
    used |= {f["properties"]["网格编码"] for f in clean.features("buildings.buildings")}
    used |= {r["grid_code"] for r in clean.parquet("spatial.pois")}
    assert used <= work_grids and len(work_grids) == 414
    for r in clean.csv("population.residents"):
        assert r["社区代码"] in areas and r["街道代码"] in areas and r["网格编码"].startswith(r["社区代码"])


def test_household_members_are_residents_in_the_same_grid(clean: Files) -> None:
    grid_of = {r["公民身份号码"].upper(): r["网格编码"] for r in clean.csv("population.residents")}
    members = clean.csv("population.households")
    assert all(grid_of[m["公民身份号码"]] == m["网格编码"] for m in members)
    heads = Counter(m["户号"] for m in members if m["与户主关系"] == "02")
    assert set(heads.values()) == {1} and len(heads) == len({m["户号"] for m in members})


def test_buildings_lie_inside_their_grid_polygons(clean: Files) -> None:
    grid_box = {f["properties"]["网格编码"]: _box(f["geometry"]) for f in clean.features("spatial.grids")}
    for f in clean.features("buildings.buildings"):
        assert _inside(_box(f["geometry"]), grid_box[f["properties"]["网格编码"]])


def test_enterprises_sit_in_existing_buildings(clean: Files) -> None:
    footprint = {f["properties"]["楼宇编码"]: _box(f["geometry"]) for f in clean.features("buildings.buildings")}
    units = clean.xlsx(clean.one("legal_entity.enterprises").path)
    claimed = [u for u in units if u["楼宇编码"]]
    assert 0.45 * len(units) < len(claimed) < 0.75 * len(units)
    for u in claimed:
        assert _contains(footprint[u["楼宇编码"]], float(u["经度"]), float(u["纬度"]))
    for u in units:
        if u["经度"] is not None and not u["楼宇编码"]:
            lon, lat = float(u["经度"]), float(u["纬度"])
            containing = [c for c, box in footprint.items() if _contains(box, lon, lat)]
            method = clean.one("legal_entity.enterprises").extras["located_by"][u["统一社会信用代码"]]
            assert method == ("point_in_building" if containing else "point_in_grid")


def test_taxpayers_are_registered_units_but_the_deliberate_strangers(clean: Files) -> None:
    registered = {u["统一社会信用代码"] for u in clean.xlsx(clean.one("legal_entity.enterprises").path)}
    for m in clean.manifests["economy.tax_monthly"]:
        strangers = set(m.extras["unregistered_credit_codes"])
        codes = {r["统一社会信用代码"] for r in clean.xlsx(m.path)}
        assert strangers and strangers <= codes and not strangers & registered
        assert all(gb32100.validate(c).ok for c in strangers)
        assert codes - strangers <= registered


def test_faulty_world_keeps_good_rows_consistent(faulty: Files) -> None:
    for dataset, ms in faulty.manifests.items():
        for m in ms:
            expected = 0 if dataset == "spatial.grids" else round(m.rows * 0.03)
            assert len(m.bad_rows) == expected and m.good_rows == m.rows - expected, m.path.name
    good_buildings = {f["properties"]["楼宇编码"] for f in faulty.features("buildings.buildings")}
    units = faulty.good("legal_entity.enterprises", faulty.xlsx(faulty.one("legal_entity.enterprises").path))
    assert {u["楼宇编码"] for u in units if u["楼宇编码"]} <= good_buildings
    registered = {u["统一社会信用代码"] for u in units}
    last = faulty.manifests["economy.tax_monthly"][-1]
    rows = [r for i, r in enumerate(faulty.xlsx(last.path)) if i + 2 not in last.bad_rows]
    codes = {r["统一社会信用代码"] for r in rows} - set(last.extras["unregistered_credit_codes"])
    assert len(codes & registered) >= 0.9 * len(codes)


def test_same_seed_same_bytes(clean: Files, tmp_path: Path) -> None:
    again = _generate(tmp_path, scale=SCALE, seed=41, bad_share=0.0)
    for dataset in ("population.residents", "population.households", "buildings.buildings", "spatial.grids"):
        assert again.one(dataset).path.read_bytes() == clean.one(dataset).path.read_bytes(), dataset


def test_counts_grow_with_scale() -> None:
    tiny, small, district = Sizes.at(0.002), Sizes.at(0.05), Sizes.at(1.0)
    assert district == Sizes(residents=700_000, enterprises=30_000, buildings=3_000, pois=600)
    for field in ("residents", "enterprises", "buildings", "pois"):
        assert getattr(tiny, field) <= getattr(small, field) < getattr(district, field)
    assert Sizes.at(2.0).residents == 2 * district.residents


def test_tiny_world_still_has_every_dataset(tmp_path: Path) -> None:
    files = _generate(tmp_path, scale=0.001, seed=43, months=1)
    assert set(files.manifests) == set(registry.GENERATORS)
    assert all(m.good_rows > 0 for ms in files.manifests.values() for m in ms)
    units = files.xlsx(files.one("legal_entity.enterprises").path)
    assert any(u["楼宇编码"] for u in units)


def test_registry_covers_every_base_dataset() -> None:
    folder = get_settings().contracts_dir
    ids = {p.stem for p in folder.glob("*.yaml") if not model.find(folder, p.stem).derived}
    assert len(ids) == 8
    assert set(registry.GENERATORS) == set(registry.FILE_STEMS) == set(registry.SUFFIXES) == ids


@pytest.mark.parametrize("dataset", sorted(registry.SUFFIXES))
def test_single_file_generators_write_their_department_format(dataset: str, tmp_path: Path) -> None:
    out = tmp_path / registry.file_name(dataset, 80, 1)
    manifest = registry.generate(dataset, out, rows=80, bad_share=0.05, seed=1, encoding="gb18030")
    assert manifest.path == out and out.stat().st_size > 0
    assert manifest.format == registry.SUFFIXES[dataset].lstrip(".")


def test_atomic_write_leaves_nothing_behind_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "x.csv"
    with pytest.raises(RuntimeError), atomic(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("export broke")
    assert list(tmp_path.iterdir()) == []
