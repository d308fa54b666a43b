"""All five departments' exports and the derived datasets, through real Airflow DAGs.

Generates a small consistent world, runs every DAG with ``dag.test()`` in dependency order, and
checks published counts, rejected rows, the derived values against an independent computation
here, lineage, once-per-input-set builds, and that one department's broken file blocks no one.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog import db, service
from contracts import model
from hub import airflow_env
from hub.settings import Settings, get_settings
from ingest.dag_factory import active_contracts, dag_id, run_order
from ingest.steps import inbox_folder
from warehouse import tables

pytestmark = pytest.mark.airflow
BASE = [
    "population.residents",
    "population.households",
    "legal_entity.enterprises",
    "economy.tax_monthly",
    "economy.street_indicators",
    "buildings.buildings",
    "spatial.grids",
    "spatial.pois",
]
DERIVED = ["derived.entity_location", "derived.building_economy", "derived.grid_statistics", "derived.indicator_alerts"]


class World:
    def __init__(self, settings: Settings, manifests: dict[str, list[Any]], states: dict[str, str]):
        self.settings, self.manifests, self.states = settings, manifests, states
        self.contracts = {c.id: c for c in model.load_all(settings.contracts_dir)}
        self.cat = tables.catalog(settings.warehouse_dir)

    def rows(self, dataset: str) -> list[dict[str, Any]]:
        return tables.read(self.cat, self.contracts[dataset]).to_pylist()

    def versions(self, dataset: str) -> int:
        return len(tables.versions(tables.load_table(self.cat, self.contracts[dataset])))

    def run_all(self) -> dict[str, str]:
        order = run_order(active_contracts(self.settings.contracts_dir))
        return {d: airflow_env.run_dag(self.settings, dag_id(d)) for d in order}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from generator.world import generate_all

    before = get_settings()
    settings = Settings(home=Path(tmp_path_factory.mktemp("world")) / "hub")
    settings.ensure_dirs()
    contracts = {c.id: c for c in model.load_all(settings.contracts_dir)}
    manifests = generate_all(lambda d: inbox_folder(settings, contracts[d]), scale=0.002, seed=5, months=2)
    w = World(settings, manifests, {})
    w.states = w.run_all()
    yield w
    airflow_env.configure(before)


def test_every_dag_succeeds(world: World) -> None:
    assert set(world.states) == set(BASE + DERIVED)
    assert all(state.endswith("success") for state in world.states.values()), world.states


@pytest.mark.parametrize("dataset", BASE)
def test_published_counts_equal_good_rows(world: World, dataset: str) -> None:
    manifests = world.manifests[dataset]
    contract = world.contracts[dataset]
    expected = sum(m.good_rows for m in manifests) if contract.publish_mode == "append" else manifests[-1].good_rows
    assert len(world.rows(dataset)) == expected > 0


@pytest.mark.parametrize("dataset", BASE)
def test_rejected_rows_are_reported(world: World, dataset: str) -> None:
    for manifest in world.manifests[dataset]:
        if not manifest.bad_rows:
            continue
        reports = list((world.settings.quarantine_dir / dataset).glob(f"{manifest.path.stem}-*/rejects.csv"))
        assert len(reports) == 1, manifest.path.name
        with reports[0].open(encoding="utf-8-sig", newline="") as fh:
            rows = {int(r["row"]) for r in csv.DictReader(fh)}
        assert set(manifest.bad_rows) <= rows


def _inside(lon: float, lat: float, ring: list[list[float]]) -> bool:
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return min(xs) < lon < max(xs) and min(ys) < lat < max(ys)


def _footprints(world: World) -> dict[str, list[list[float]]]:
    import duckdb

    from warehouse import duck

    con: duckdb.DuckDBPyConnection = duck.connect(extensions=("spatial",))
    out = {}
    for b in world.rows("buildings.buildings"):
        geo = con.execute("SELECT ST_AsGeoJSON(ST_GeomFromWKB(?))", [b["footprint"]]).fetchone()[0]
        out[b["building_id"]] = json.loads(geo)["coordinates"][0]
    return out


def test_entity_location_agrees_with_an_independent_point_in_rectangle(world: World) -> None:
    footprints = _footprints(world)
    located = {r["credit_code"]: r for r in world.rows("derived.entity_location")}
    enterprises = world.rows("legal_entity.enterprises")
    assert set(located) == {e["credit_code"] for e in enterprises}
    for e in enterprises:
        got = located[e["credit_code"]]
        if e["building_id"] in footprints:
            assert (got["building_id"], got["method"]) == (e["building_id"], "building_id")
        elif e["longitude"] is not None:
            inside = [b for b, ring in footprints.items() if _inside(e["longitude"], e["latitude"], ring)]
            assert got["building_id"] == (inside[0] if inside else None), e
        else:
            assert got["method"] == "unmatched"
    assert {r["method"] for r in located.values()} >= {"building_id", "point_in_building"}


def test_building_economy_against_an_independent_sum(world: World) -> None:
    where = {r["credit_code"]: r["building_id"] for r in world.rows("derived.entity_location")}
    expected: dict[tuple[str, str], float] = defaultdict(float)
    unregistered = 0
    for t in world.rows("economy.tax_monthly"):
        if t["credit_code"] not in where:
            unregistered += 1
        elif where[t["credit_code"]]:
            expected[(where[t["credit_code"]], t["month"])] += t["amount"]
    got = {(r["building_id"], r["month"]): r for r in world.rows("derived.building_economy")}
    assert expected and all(got[k]["tax_total"] == pytest.approx(v) for k, v in expected.items())
    area = {b["building_id"]: b["floor_area"] for b in world.rows("buildings.buildings")}
    for (building, _), row in got.items():
        assert row["tax_per_m2"] == pytest.approx(row["tax_total"] / area[building])
    with db.session(world.settings.db_url) as s:
        version = service.dataset(s, "derived.building_economy").versions[-1]
        assert version.quality["unmatched"]["unregistered_credit_code"] == unregistered > 0


def test_grid_statistics_households_and_buildings(world: World) -> None:
    stats = {
        (r["level"], r["area_code"], r["measure"], r["category"]): r["value"]
        for r in world.rows("derived.grid_statistics")
    }
    households: dict[str, set[str]] = defaultdict(set)
    for h in world.rows("population.households"):
        households[h["grid_code"]].add(h["household_no"])
    for grid, numbers in households.items():
        assert stats[("grid", grid, "households", "all")] == len(numbers)
    residents = len(world.rows("population.residents"))
    by_street = sum(v for (level, _, measure, _), v in stats.items() if level == "street" and measure == "residents")
    assert by_street == residents


def test_lineage_names_the_input_versions(world: World) -> None:
    with db.session(world.settings.db_url) as s:
        lineage = service.dataset(s, "derived.building_economy").versions[-1].lineage
    inputs = lineage["inputs"]
    assert set(inputs) == {"derived.entity_location", "economy.tax_monthly", "buildings.buildings"}
    for dataset, snapshot in inputs.items():
        current = tables.versions(tables.load_table(world.cat, world.contracts[dataset]))[-1].snapshot_id
        assert int(snapshot) == current


def test_the_whole_catalogue_is_dcat_ap_3(world: World) -> None:
    """Every dataset published, derived ones with lineage: DCAT-AP 3.0.1 shapes, 0 violations."""
    from pyshacl import validate
    from rdflib import Graph
    from sqlalchemy import select

    from catalog import dcat
    from catalog.models import Dataset

    shapes = Graph()
    for path in sorted((Path(__file__).parent / "shapes" / "dcat-ap-3.0.1").glob("*.ttl")):
        shapes.parse(path, format="turtle")
    with db.session(world.settings.db_url) as s:
        datasets = list(s.scalars(select(Dataset)))
        builder = dcat.Builder("http://hub.example", withheld=dcat.Withheld())
        builder.catalog("东城区", datasets)
    assert len(datasets) == 12 and all(d.versions for d in datasets)
    conforms, _, text = validate(builder.g, shacl_graph=shapes, inference="none")
    assert conforms, text


def test_indicator_alerts_flag_the_generated_jumps(world: World) -> None:
    alerts = world.rows("derived.indicator_alerts")
    assert any(a["flagged"] for a in alerts)
    assert all(a["reason"] for a in alerts if a["flagged"])


def test_derived_runs_once_per_set_of_input_versions_and_faults_stay_local(world: World) -> None:
    counts = {d: world.versions(d) for d in DERIVED}
    broken = inbox_folder(world.settings, world.contracts["spatial.pois"]) / "pois_broken.parquet"
    broken.write_bytes(b"this is not parquet")
    states = world.run_all()
    assert all(state.endswith("success") for state in states.values()), states
    assert {d: world.versions(d) for d in DERIVED} == counts, "no input changed, so nothing was rebuilt"
    report = next((world.settings.quarantine_dir / "spatial.pois").glob("pois_broken-*/report.json"))
    assert json.loads(report.read_text(encoding="utf-8"))["status"] == "rejected"
