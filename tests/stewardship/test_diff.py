"""Golden cases of the contract diff: one folder per change kind under ``diff_cases/`` holding a real
contract (``old.yaml``), the same contract with one change (``new.yaml``), and the expected
classification (``expected.yaml``: each change's kind, field and impact, the verdict, the bump)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stewardship import diff
from stewardship.diff import ChangeKind

CASES = Path(__file__).with_name("diff_cases")
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", NAMES)
def test_golden_case(case: str) -> None:
    folder = CASES / case
    old, new = diff.read_file(folder / "old.yaml"), diff.read_file(folder / "new.yaml")
    expected = yaml.safe_load((folder / "expected.yaml").read_text(encoding="utf-8"))
    changes = diff.diff_sides(old, new)
    found = [{"kind": c.kind.value, "field": c.field, "impact": c.impact.value} for c in changes]
    assert found == expected["changes"], [c.describe() for c in changes]
    verdict = diff.verdict(old.contract, new.contract, changes)
    assert (verdict.impact.value if verdict.impact else None) == expected["impact"]
    assert verdict.bump.value == expected["bump"]
    assert verdict.version_ok, f"{case}: new.yaml carries {new.contract.version}, needs {verdict.least_version}"


def test_the_cases_are_real_contracts_with_one_change_kind_each() -> None:
    covered = set()
    for case in NAMES:
        expected = yaml.safe_load((CASES / case / "expected.yaml").read_text(encoding="utf-8"))
        kinds = {c["kind"] for c in expected["changes"]}
        covered |= kinds
        assert expected["dataset"] == diff.read_file(CASES / case / "old.yaml").contract.id
    assert len(NAMES) >= 20
    assert covered == {k.value for k in ChangeKind}, {k.value for k in ChangeKind} - covered


def test_every_change_kind_is_in_the_docs_table() -> None:
    text = (Path(__file__).parents[2] / "docs" / "stewardship.md").read_text(encoding="utf-8")
    missing = [k.value for k in ChangeKind if f"| `{k.value}` |" not in text]
    assert not missing, f"docs/stewardship.md lacks a row for {missing}"
