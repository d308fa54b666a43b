"""Derived builders on hand-made inputs, checked against independent computations."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import duckdb
import pyarrow as pa
import pytest

from contracts import model
from derived import building_economy, entity_location, grid_statistics, indicator_alerts
from hub.settings import get_settings
from warehouse import duck


def contract(dataset: str) -> model.Contract:
    return model.find(get_settings().contracts_dir, dataset)


def wkb(con: duckdb.DuckDBPyConnection, wkt: str) -> bytes:
    return con.execute("SELECT ST_AsWKB(ST_GeomFromText(?))", [wkt]).fetchone()[0]


def box(w: float, s: float, e: float, n: float) -> str:
    return f"POLYGON(({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duck.connect(extensions=("spatial",))


def spatial_inputs(con: duckdb.DuckDBPyConnection) -> None:
    # two work grids side by side; building B1 in grid G1, B2 in grid G2
    g1, g2 = "110101001001001", "110101001001002"
    con.register(
        "spatial__grids",
        pa.table(
            {
                "grid_code": [g1, g2],
                "level": ["grid", "grid"],
                "geometry": [wkb(con, box(0, 0, 10, 10)), wkb(con, box(10, 0, 20, 10))],
            }
        ),
    )
    con.register(
        "buildings__buildings",
        pa.table(
            {
                "building_id": ["BD00000001", "BD00000002"],
                "grid_code": [g1, g2],
                "use": ["商业", "商住混合"],
                "floor_area": [1000.0, 4000.0],
                "vacant_area": [100.0, None],
                "footprint": [wkb(con, box(1, 1, 4, 4)), wkb(con, box(12, 2, 15, 5))],
            }
        ),
    )
    con.register(
        "legal_entity__enterprises",
        pa.table(
            {
                "credit_code": ["A", "B", "C", "D", "E", "F"],
                "name": list("ABCDEF"),
                "address": ["x"] * 6,
                "industry_code": ["I6510", "6510", "F5191", "7211", "L7212", "H6110"],
                "building_id": ["BD00000001", "", None, None, "BD99999999", None],
                "longitude": [None, 13.0, 18.0, None, 2.0, 25.0],
                "latitude": [None, 3.0, 8.0, None, 2.0, 5.0],
            }
        ),
    )


def test_entity_location_by_id_then_building_then_grid(con: duckdb.DuckDBPyConnection) -> None:
    spatial_inputs(con)
    built = entity_location.build(con, contract("derived.entity_location"))
    got = {r["credit_code"]: (r["building_id"], r["grid_code"], r["method"]) for r in built.table.to_pylist()}
    assert got == {
        "A": ("BD00000001", "110101001001001", "building_id"),
        "B": ("BD00000002", "110101001001002", "point_in_building"),
        "C": (None, "110101001001002", "point_in_grid"),
        "D": (None, None, "unmatched"),
        "E": ("BD00000001", "110101001001001", "point_in_building"),  # its building id does not exist
        "F": (None, None, "unmatched"),  # outside every grid
    }
    assert built.unmatched["unlocated"].column("credit_code").to_pylist() == ["D", "F"]
    assert built.unmatched["unknown_building_id"].column("credit_code").to_pylist() == ["E"]


def test_building_economy_matches_a_hand_computation(con: duckdb.DuckDBPyConnection) -> None:
    spatial_inputs(con)
    located = entity_location.build(con, contract("derived.entity_location")).table
    con.register("derived__entity_location", located)
    tax = [
        ("A", "2026-09", "增值税", 100.0, 10),
        ("A", "2026-09", "企业所得税", 50.0, 10),
        ("A", "2026-10", "增值税", 120.0, 11),
        ("B", "2026-10", "增值税", 400.0, 40),
        ("E", "2026-10", "增值税", 80.0, 5),
        ("C", "2026-10", "增值税", 7.0, 1),
        ("Z", "2026-10", "增值税", 9.0, 1),  # not registered
    ]
    con.register(
        "economy__tax_monthly",
        pa.Table.from_pylist(
            [dict(zip(("credit_code", "month", "tax_type", "amount", "employees"), t, strict=True)) for t in tax]
        ),
    )
    built = building_economy.build(con, contract("derived.building_economy"))
    rows = {(r["building_id"], r["month"]): r for r in built.table.to_pylist()}

    where = {r["credit_code"]: r["building_id"] for r in located.to_pylist()}
    area = {"BD00000001": (1000.0, 100.0), "BD00000002": (4000.0, None)}
    expected: dict[tuple[str, str], float] = defaultdict(float)
    for code, month, _, amount, _ in tax:
        if where.get(code):
            expected[(where[code], month)] += amount
    tenants = Counter(b for b in where.values() if b)
    for (building, month), row in rows.items():
        floor, vacant = area[building]
        assert row["tax_total"] == pytest.approx(expected[(building, month)])
        assert row["tax_per_m2"] == pytest.approx(expected[(building, month)] / floor)
        assert row["enterprises"] == tenants[building]
        assert row["vacancy_rate"] == (pytest.approx(vacant / floor) if vacant else None)
    assert set(rows) == {(b, m) for b in tenants for m in ("2026-09", "2026-10")}
    assert rows[("BD00000001", "2026-09")]["employees"] == 10, "headcount is per taxpayer, not per tax row"
    assert built.unmatched["unregistered_credit_code"].column("credit_code").to_pylist() == ["Z"]
    assert built.unmatched["not_in_a_building"].column("credit_code").to_pylist() == ["C"]


def test_indicator_alerts_against_python(con: duckdb.DuckDBPyConnection) -> None:
    months = [f"{2025 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(1, 15)]  # 2025-01 .. 2026-02
    values = [100.0 + i for i in range(14)]
    values[13] = 150.0  # a jump in the last month
    con.register(
        "economy__street_indicators",
        pa.table(
            {
                "street_code": ["110101001"] * 14,
                "month": months,
                "indicator": ["税收收入"] * 14,
                "value": values,
                "unit": ["万元"] * 14,
            }
        ),
    )
    built = indicator_alerts.build(con, contract("derived.indicator_alerts"))
    rows = built.table.to_pylist()
    assert rows[0]["mom_change"] is None and rows[0]["yoy_change"] is None
    for i, r in enumerate(rows[1:], start=1):
        assert r["mom_change"] == pytest.approx(values[i] / values[i - 1] - 1)
        expected_yoy = values[i] / values[i - 12] - 1 if i >= 12 else None
        assert r["yoy_change"] == (pytest.approx(expected_yoy) if expected_yoy is not None else None)
        big = abs(r["mom_change"]) > 0.2 or (expected_yoy is not None and abs(expected_yoy) > 0.3)
        assert r["flagged"] is big
    assert [r["month"] for r in rows if r["flagged"]] == ["2026-02"]
    assert "环比 +" in rows[-1]["reason"]


def test_grid_statistics_against_python(con: duckdb.DuckDBPyConnection) -> None:
    spatial_inputs(con)
    con.register("derived__entity_location", entity_location.build(con, contract("derived.entity_location")).table)
    g1, g2 = "110101001001001", "110101001001002"
    people = [
        (g1, "1", dt.date(2020, 1, 1)),
        (g1, "2", dt.date(1990, 11, 1)),
        (g2, "1", dt.date(1960, 10, 31)),
        (g2, "2", dt.date(1966, 11, 1)),
        (g2, "2", dt.date(2011, 10, 31)),
    ]
    con.register(
        "population__residents",
        pa.Table.from_pylist([{"grid_code": g, "sex": s, "birth_date": b} for g, s, b in people]),
    )
    con.register(
        "population__households", pa.table({"household_no": ["H1", "H1", "H2", "H3"], "grid_code": [g1, g1, g2, g2]})
    )
    built = grid_statistics.build(con, contract("derived.grid_statistics"))
    got = {(r["level"], r["area_code"], r["measure"], r["category"]): r["value"] for r in built.table.to_pylist()}

    ref = dt.date(2026, 10, 31)

    def band(born: dt.date) -> str:
        age = ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))
        return "0-14" if age < 15 else "15-59" if age < 60 else "60+"

    expected = Counter((g, f"{band(b)}|{s}") for g, s, b in people)
    for (grid, category), n in expected.items():
        assert got[("grid", grid, "residents", category)] == n
    assert got[("street", "110101001", "residents", "60+|1")] == 1  # 66 on the reference date
    # women of 35 and 59 (60 a day later) and a girl who turns 15 on the reference date
    assert got[("street", "110101001", "residents", "15-59|2")] == 3
    assert got[("grid", g2, "households", "all")] == 2
    assert got[("community", "110101001001", "households", "all")] == 3
    # A, E in B1 (grid 1): sections I and L; B in B2, C in grid 2: I and F
    assert got[("grid", g1, "enterprises", "I")] == 1 and got[("grid", g1, "enterprises", "L")] == 1
    assert got[("grid", g2, "enterprises", "I")] == 1 and got[("grid", g2, "enterprises", "F")] == 1
    assert got[("street", "110101001", "buildings", "商业")] == 1
    assert built.unmatched["enterprises_without_grid"].column("credit_code").to_pylist() == ["D", "F"]
