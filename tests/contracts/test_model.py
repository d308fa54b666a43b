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
        (lambda d: _prop(d, "name").__setitem__("logicalType", "text"), "logicalType 'text'"),
        (lambda d: d.__setitem__("unexpectedKey", 1), "not a valid ODCS v3 contract"),
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
