"""docs/standards.md cannot drift: every standard, table and rule is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from standards import expectations, registry, tables

DOCS = (Path(__file__).parents[2] / "docs" / "standards.md").read_text(encoding="utf-8")
SOURCES = Path(registry.__file__).parent


def _rules_in_code() -> set[str]:
    rules: set[str] = set()
    for path in SOURCES.glob("*.py"):
        rules |= set(re.findall(r'"((?:[a-z0-9_]+)\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    return {r for r in rules if r.split(".")[0] in registry.known() + ["code_table"]}


@pytest.mark.parametrize("name", registry.known())
def test_standard_documented(name: str) -> None:
    assert f"`{name}`" in DOCS


@pytest.mark.parametrize("name", tables.names())
def test_table_documented(name: str) -> None:
    assert f"`{name}`" in DOCS


@pytest.mark.parametrize("rule", sorted(_rules_in_code()))
def test_rule_documented(rule: str) -> None:
    assert f"`{rule}`" in DOCS


@pytest.mark.parametrize("cls", sorted(set(expectations.BY_STANDARD.values()), key=lambda c: c.__name__))
def test_expectation_documented(cls: type) -> None:
    assert f"`{cls.__name__}" in DOCS
