"""Loading contracts: ODCS models, the hub's typed view, and clear errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from contracts import model
from contracts.model import Classification, SharingType
from hub.errors import ContractError
from hub.settings import get_settings

RESIDENTS = get_settings().contracts_dir / "population.residents.yaml"


def _variant(edit: object) -> str:
    doc = yaml.safe_load(RESIDENTS.read_text(encoding="utf-8"))
    edit(doc)  # type: ignore[operator]
    return yaml.safe_dump(doc, allow_unicode=True)


def _prop(doc: dict, name: str) -> dict:
    return next(p for p in doc["schema"][0]["properties"] if p["name"] == name)


def test_residents_contract_loads_with_what_the_hub_enforces() -> None:
    c = model.load(RESIDENTS)
    assert c.id == "population.residents" and c.domain == "population" and c.table == "residents"
    assert c.primary_key == ["id_number"]
    assert c.sharing_type is SharingType.conditional
    assert c.field("id_number").standard == "gb11643"
    assert c.field("id_number").classification is Classification.sensitive
    assert c.field("street_code").code_table == "dongcheng_streets"
    assert c.field("birth_date").agrees_with_id_number == "id_number"
    assert c.field("name").title == "姓名"
    assert c.department.name == "东城区公安分局"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: _prop(d, "id_number")["customProperties"].__setitem__(
                0, {"property": "standard", "value": "gb99999"}
            ),
            "unknown standard 'gb99999'",
        ),
        (
            lambda d: _prop(d, "street_code")["customProperties"].__setitem__(
                0, {"property": "codeTable", "value": "no_such_table"}
            ),
            "no_such_table",
        ),
        (lambda d: _prop(d, "name").__setitem__("classification", "top-secret"), "classification 'top-secret'"),
        (
            lambda d: _prop(d, "name").__setitem__("logicalType", "text"),
            "not a valid ODCS v3.1.0 contract at schema[0].properties[1].logicalType: 'text' is not one of",
        ),
        (lambda d: d.__setitem__("unexpectedKey", 1), "not a valid ODCS v3.1.0 contract at the top"),
        (
            lambda d: d.__setitem__("team", d["team"]["members"]) or d.__setitem__("apiVersion", "v2.0.0"),
            "no ODCS JSON schema for apiVersion 'v2.0.0'",
        ),
        (lambda d: [p.pop("primaryKey", None) for p in d["schema"][0]["properties"]], "primaryKey"),
        (
            lambda d: d["customProperties"].__setitem__(2, {"property": "sharingType", "value": "随便共享"}),
            "sharingType",
        ),
    ],
    ids=[
        "unknown-standard",
        "unknown-code-table",
        "bad-classification",
        "bad-type",
        "not-odcs",
        "unknown-api-version",
        "no-key",
        "bad-sharing-type",
    ],
)
def test_bad_contracts_fail_with_a_clear_error(edit: object, message: str) -> None:
    with pytest.raises(ContractError) as err:
        model.parse(_variant(edit), "bad.yaml")
    assert message in str(err.value)
    assert "bad.yaml" in str(err.value)


def test_unknown_dataset_lists_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="population.residents"):
        model.find(RESIDENTS.parent, "population.nobody")


POIS = RESIDENTS.parent / "spatial.pois.yaml"


def _pois_geometry(edit: object) -> str:
    doc = yaml.safe_load(POIS.read_text(encoding="utf-8"))
    edit(_prop(doc, "geometry"))  # type: ignore[operator]
    return yaml.safe_dump(doc, allow_unicode=True)


def test_geometry_is_an_odcs_object_with_geometry_type_and_crs() -> None:
    f = model.load(POIS).field("geometry")
    assert (f.type, f.geometry_type, f.crs) == ("geometry", "Point", "EPSG:4490")
    buildings = model.load(RESIDENTS.parent / "buildings.buildings.yaml").field("footprint")
    assert (buildings.type, buildings.geometry_type, buildings.crs) == ("geometry", "Polygon", "EPSG:4490")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p.__setitem__("logicalType", "geometry"), "properties[4].logicalType: 'geometry' is not one of"),
        (lambda p: p.__setitem__("customProperties", [p["customProperties"][0]]), "geometry: the hub's only object"),
        (lambda p: p.__setitem__("customProperties", [p["customProperties"][1]]), "geometry: the hub's only object"),
        (lambda p: p.__setitem__("physicalType", "WKB"), "field geometry: the hub's only object fields"),
        (lambda p: p["customProperties"][1].__setitem__("value", "Blob"), "geometry: geometryType 'Blob' is not"),
    ],
    ids=["old-geometry-type", "no-geometry-type", "no-crs", "not-physical-geometry", "bad-geometry-type"],
)
def test_geometry_not_written_as_odcs_allows_fails_with_the_convention(edit: object, message: str) -> None:
    with pytest.raises(ContractError) as err:
        model.parse(_pois_geometry(edit), "pois.yaml")
    assert message in str(err.value)
