"""docs/catalogue.md names every action, catalogue element, search field, domain and theme."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import profile, search
from exchange_api import ckan_api  # noqa: F401 - registers the actions
from exchange_api.ckan_actions import ACTIONS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "catalogue.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_every_action_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC


@pytest.mark.parametrize(("element", "key"), sorted(profile.ELEMENTS.items()))
def test_every_catalogue_element_is_documented(element: str, key: str) -> None:
    assert element in DOC and f"`{key}`" in DOC


@pytest.mark.parametrize("field", sorted(set(search.SEARCH_FIELDS) | set(search.SORTS)))
def test_every_search_field_is_documented(field: str) -> None:
    assert f"`{field}`" in DOC


def test_domains_themes_and_frequencies_are_documented() -> None:
    for domain in profile.DOMAINS.values():
        assert f"{domain.item_code} {domain.title} (`{domain.name}`)" in DOC
    for theme in profile.THEMES.values():
        assert f"`{theme.name}`" in DOC and f"{theme.item_code} {theme.title}" in DOC
    for key, (label, eu) in profile.FREQUENCIES.items():
        assert f"| {key} | {label} | {eu} |" in DOC
    for logical, national in profile.DATA_TYPES.items():
        assert f"{logical} {national}" in DOC
