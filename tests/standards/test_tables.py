"""Code tables: names, versions, content facts, Arrow and DuckDB loading."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from standards import tables
from standards.errors import UnknownStandard

NAMES = [
    "dongcheng_communities",
    "dongcheng_streets",
    "gbt2260_divisions",
    "gbt2261_1_sex",
    "gbt3304_ethnicity",
    "gbt4754_divisions",
    "gbt4754_sections",
    "gbt4761_relationship",
]
PROVINCES = [
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
]


def test_names() -> None:
    assert tables.names() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_table_shape_and_metadata(name: str) -> None:
    table = tables.load(name)
    assert table.schema.field("code").type == pa.string()
    assert table.schema.field("name").type == pa.string()
    assert table.column("code").null_count == 0 and table.column("name").null_count == 0
    meta = tables.metadata(name)
    assert set(meta.versions) == set(tables.versions(name))
    for version, info in meta.versions.items():
        assert info.source.strip() and str(info.year) == version


@pytest.mark.parametrize("name", [n for n in NAMES if n != "gbt2260_divisions"])
def test_codes_are_unique(name: str) -> None:
    column = tables.load(name).column("code").to_pylist()
    assert len(column) == len(set(column)) == len(tables.codes(name))


def test_latest_version_is_default() -> None:
    name = "gbt3304_ethnicity"
    assert tables.load(name) is tables.load(name, tables.versions(name)[-1])


@pytest.mark.parametrize(
    ("call", "listed"),
    [
        (lambda: tables.load("nope"), "gbt3304_ethnicity"),
        (lambda: tables.codes("gbt3304_ethnicity", "1990"), "1991"),
        (lambda: tables.versions("dongcheng"), "dongcheng_streets"),
    ],
)
def test_unknown_names_and_versions(call, listed: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownStandard) as error:
        call()
    assert isinstance(error.value, LookupError)
    assert listed in str(error.value)


def test_dongcheng_streets() -> None:
    rows = tables.load("dongcheng_streets").to_pylist()
    assert [r["code"] for r in rows] == [f"110101{n:03d}" for n in range(1, 18)]
    assert all(r["name"].endswith("街道") for r in rows)
    assert rows[0]["name"] == "东华门街道" and rows[16]["name"] == "永定门外街道"


def test_dongcheng_communities() -> None:
    rows = tables.load("dongcheng_communities").to_pylist()
    streets = tables.codes("dongcheng_streets")
    per_street = {s: [r for r in rows if r["parent_code"] == s] for s in streets}
    assert all(len(found) >= 3 for found in per_street.values())
    assert all(r["code"][:9] == r["parent_code"] and len(r["code"]) == 12 for r in rows)
    assert {r["provenance"] for r in rows} == {"recalled-unverified", "placeholder"}
    assert "NOT the official list" in tables.metadata("dongcheng_communities").notes


def test_divisions_cover_every_province_and_beijing_history() -> None:
    rows = tables.load("gbt2260_divisions").to_pylist()
    counties = {r["code"] for r in rows if r["level"] == "county"}
    for province in PROVINCES:
        assert f"{province}0000" in tables.codes("gbt2260_divisions")
        assert any(c.startswith(province) for c in counties), province
    by_code = {r["code"]: r for r in rows}
    assert by_code["110101"]["name"] == "东城区" and by_code["110101"]["valid_to"] is None
    assert (by_code["110103"]["name"], by_code["110103"]["valid_to"]) == ("崇文区", "2010")
    assert (by_code["110104"]["name"], by_code["110104"]["valid_to"]) == ("宣武区", "2010")
    assert by_code["110101"]["parent_code"] == "110100"


def test_person_tables() -> None:
    assert tables.codes("gbt2261_1_sex") == {"0", "1", "2", "9"}
    ethnic = tables.load("gbt3304_ethnicity").to_pylist()
    assert [r["code"] for r in ethnic] == [f"{n:02d}" for n in range(1, 57)]
    assert (ethnic[0]["name"], ethnic[55]["name"]) == ("汉族", "基诺族")
    relationship = {r["code"]: r["name"] for r in tables.load("gbt4761_relationship").to_pylist()}
    assert (relationship["01"], relationship["02"], relationship["99"]) == ("本人", "户主", "非亲属")
    assert all(relationship[code[0] + "0"] for code in relationship if code[1] != "0" and code[0] in "1234567")


def test_gbt4754_sections_match_divisions() -> None:
    sections = tables.load("gbt4754_sections").to_pylist()
    divisions = tables.load("gbt4754_divisions").to_pylist()
    assert [s["code"] for s in sections] == list("ABCDEFGHIJKLMNOPQRST")
    assert [d["code"] for d in divisions] == [f"{n:02d}" for n in range(1, 98)]
    for section in sections:
        low, high = section["division_from"], section["division_to"]
        inside = [d["parent_code"] for d in divisions if low <= d["code"] <= high]
        assert inside and set(inside) == {section["code"]}


def test_register_duckdb() -> None:
    con = duckdb.connect()
    assert tables.register_duckdb(con, "dongcheng_streets") == "dongcheng_streets"
    assert con.sql("select name from dongcheng_streets where code = '110101011'").fetchone() == ("前门街道",)
    tables.register_duckdb(con, "gbt3304_ethnicity", "1991", table_name="ethnic")
    assert con.sql("select count(*), min(code) from ethnic").fetchone() == (56, "01")
    tables.register_duckdb(con, "dongcheng_streets")  # replacing is fine
    assert con.sql("select count(*) from dongcheng_streets").fetchone() == (17,)
