"""docs/datasets.md cannot drift from the contracts: every dataset, field, title, type and classification."""

from __future__ import annotations

import re

import pytest

from contracts import model
from generator import registry
from hub.settings import PROJECT_ROOT, get_settings

DOC = PROJECT_ROOT / "docs" / "datasets.md"
FIX = "update docs/datasets.md to match the contract"


def _contracts() -> list[model.Contract]:
    folder = get_settings().contracts_dir
    return [model.find(folder, p.stem) for p in sorted(folder.glob("*.yaml"))]


def _section(text: str, dataset: str) -> str:
    match = re.search(rf"^### {re.escape(dataset)} — .*?(?=^### |^## |\Z)", text, re.M | re.S)
    assert match, f"no '### {dataset} — …' section: {FIX}"
    return match.group(0)


def _field_rows(section: str) -> dict[str, tuple[str, ...]]:
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| (\w+) \| (\w+) \|", section, re.M)
    return {name: (title.strip(), kind, level) for name, title, kind, level in rows}


@pytest.mark.parametrize("contract", _contracts(), ids=lambda c: c.id)
def test_each_dataset_is_documented_as_its_contract_says(contract: model.Contract) -> None:
    text = DOC.read_text("utf-8")
    section = _section(text, contract.id)
    expected = {f.name: (f.title, f.type, f.classification.value) for f in contract.fields}
    assert _field_rows(section) == expected, FIX
    assert f"contracts/datasets/{contract.id}.yaml" in section, FIX
    overview = next(line for line in text.splitlines() if line.startswith(f"| `{contract.id}` |"))
    assert f"{contract.update_frequency} / {contract.publish_mode}" in overview, FIX
    assert contract.department.name in overview and contract.department.code in overview, FIX
    assert all(d in overview for d in contract.derived_from), FIX


def test_generated_file_formats_are_the_documented_ones() -> None:
    text = DOC.read_text("utf-8")
    for dataset, suffix in registry.SUFFIXES.items():
        assert re.search(rf"`{registry.FILE_STEMS[dataset]}_[0-9-]+{re.escape(suffix)}`", text), dataset
