"""The disclosure rule in the contract model: no contract may declare a mask a sibling field undoes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contracts import disclosure, model
from contracts.masks import IdPart, Precision
from hub.errors import ContractError
from hub.settings import Settings

FOLDER = Settings().contracts_dir
RESIDENTS = (FOLDER / "population.residents.yaml").read_text(encoding="utf-8")
HOUSEHOLDS = (FOLDER / "population.households.yaml").read_text(encoding="utf-8")

ID_MASK = "- {property: mask, value: id_number}"
BIRTH_MASK = "- {property: mask, value: year_month}"


def residents(*edits: tuple[str, str]) -> str:
    text = RESIDENTS
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


# (case, contract text, None if accepted else a phrase the error must contain)
CASES = [
    ("as shipped: area-only ID, birth year-month", RESIDENTS, None),
    ("birth date to the year", residents((BIRTH_MASK, "- {property: mask, value: year}")), None),
    ("clear birth date beside the area-only ID", residents((BIRTH_MASK, "")), "narrowed to 500 candidate"),
    (
        "area and last four beside a clear birth date (the old mask)",
        residents((ID_MASK, "- {property: mask, value: id_number_tail}"), (BIRTH_MASK, "")),
        "narrowed to 1 candidate",
    ),
    (
        "area and last four beside the birth month",
        residents((ID_MASK, "- {property: mask, value: id_number_tail}")),
        "can be narrowed",
    ),
    ("an unknown mask", residents((BIRTH_MASK, "- {property: mask, value: blur}")), "is not one of"),
    ("a date mask on a text field", residents((ID_MASK, "- {property: mask, value: year}")), "applies to date"),
]


@pytest.mark.parametrize(("case", "text", "error"), CASES, ids=[c[0] for c in CASES])
def test_a_contract_cannot_declare_a_mask_its_siblings_undo(case: str, text: str, error: str | None) -> None:
    if error is None:
        contract = model.parse(text)
        disclosure.check_release(contract, disclosure.releases(contract))
        return
    with pytest.raises(ContractError, match=error) as raised:
        model.parse(text, "population.residents.yaml")
    assert raised.value.path == "population.residents.yaml"


def _with_mask(contract: model.Contract, field: str, mask: str) -> model.Contract:
    fields = [f.model_copy(update={"mask": mask}) if f.name == field else f for f in contract.fields]
    return contract.model_copy(update={"fields": fields})


def test_the_rule_holds_across_datasets_sharing_a_masked_key(tmp_path: Path) -> None:
    """What linked datasets show of one person's ID number is added up: households' masked IDs
    joined to residents' birth months leave a handful of candidates."""
    res, hh = model.parse(RESIDENTS), model.parse(HOUSEHOLDS)
    disclosure.check_across([res, hh])
    with pytest.raises(ContractError, match="population.residents.id_number \\+ population.households.id_number"):
        disclosure.check_across([res, _with_mask(hh, "id_number", "id_number_tail")])
    folder = tmp_path / "contracts"
    shutil.copytree(FOLDER, folder)
    tail = HOUSEHOLDS.replace("{property: mask, value: id_number}", "{property: mask, value: id_number_tail}")
    (folder / "population.households.yaml").write_text(tail, encoding="utf-8")
    with pytest.raises(ContractError, match="narrowed to 3321"):
        model.load_all(folder)
    assert len(model.load_all(FOLDER)) >= 10


def test_a_grant_in_clear_of_the_birth_date_does_not_undo_the_id_mask() -> None:
    contract = model.parse(RESIDENTS)
    assert disclosure.releases(contract)["birth_date"] == "year_month"
    granted = disclosure.releases(contract, clear={"birth_date", "name"})
    assert granted["birth_date"] == "year_month" and granted["name"] == disclosure.CLEAR
    disclosure.check_release(contract, granted)
    with_id = disclosure.releases(contract, clear={"id_number"})
    assert with_id["id_number"] == with_id["birth_date"] == with_id["sex"] == disclosure.CLEAR


@pytest.mark.parametrize(
    ("known", "count"),
    [
        (disclosure.Known(frozenset({IdPart.area}), Precision.month), 31_000),
        (disclosure.Known(frozenset({IdPart.area, IdPart.sex}), Precision.month), 15_500),
        (disclosure.Known(frozenset({IdPart.area, IdPart.sex}), Precision.day), 500),
        (disclosure.Known(frozenset({IdPart.area, IdPart.sequence, IdPart.check}), Precision.day), 1),
        (disclosure.Known(frozenset({IdPart.area, IdPart.sequence, IdPart.sex, IdPart.check})), 3_321),
    ],
)
def test_candidate_counts(known: disclosure.Known, count: int) -> None:
    assert disclosure.candidates(known) == count
