"""Households are made of the residents' own people, one head each, with the faults they claim."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from generator import households, residents
from standards import gb11643, grid, tables


def _read(path: Path, encoding: str = "gb18030") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    folder = tmp_path_factory.mktemp("households")
    residents.generate(folder / "r.csv", rows=1500, bad_share=0.0, seed=4)
    households.generate(folder / "h.csv", rows=1500, bad_share=0.0, seed=4)
    return _read(folder / "r.csv"), _read(folder / "h.csv")


def test_members_are_residents_in_the_same_grid(clean: tuple) -> None:
    people, members = clean
    grid_of = {r["公民身份号码"].upper(): r["网格编码"] for r in people}
    address_of = {r["公民身份号码"].upper(): r["居住地址"] for r in people}
    assert 0.9 * len(people) < len(members) <= len(people)
    for m in members:
        assert grid_of[m["公民身份号码"]] == m["网格编码"]
        assert address_of[m["公民身份号码"]] == m["住址"]


def test_one_head_one_grid_per_household(clean: tuple) -> None:
    _, members = clean
    known = tables.codes("gbt4761_relationship")
    homes: dict[str, list[dict[str, str]]] = defaultdict(list)
    for m in members:
        homes[m["户号"]].append(m)
        assert m["与户主关系"] in known
    for rows in homes.values():
        assert Counter(r["与户主关系"] for r in rows)["02"] == 1
        assert len({r["网格编码"] for r in rows}) == 1
    assert 2.2 < len(members) / len(homes) < 2.8


def test_ages_fit_relationships(clean: tuple) -> None:
    _, members = clean
    homes: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for m in members:
        homes[m["户号"]][m["与户主关系"][0]].append(gb11643.birth_date(m["公民身份号码"]).year)
    for by_group in homes.values():
        [head] = by_group["0"]
        assert all(born > head + 15 for born in by_group["2"] + by_group["3"])  # children
        assert all(born < head - 15 for born in by_group["5"])  # parents


def test_each_fault_kind_is_really_faulty(tmp_path: Path) -> None:
    manifest = households.generate(tmp_path / "h.csv", rows=800, bad_share=0.1, seed=5)
    rows = _read(manifest.path)
    counts = Counter(manifest.bad_rows.values())
    assert set(counts) == set(households.FAULTS) and max(counts.values()) - min(counts.values()) <= 1
    known = tables.codes("gbt4761_relationship")
    seen: set[tuple[str, str]] = set()
    for i, r in enumerate(rows):
        kind = manifest.bad_rows.get(i + 2)
        number = r["公民身份号码"]
        assert (kind == "bad_check_digit") == (gb11643.check_char(number[:17]) != number[17])
        assert (kind == "unknown_relationship") == (r["与户主关系"] not in known)
        assert (kind == "missing_address") == (r["住址"] == "")
        assert (kind == "bad_grid_code") == (not grid.validate(r["网格编码"]).ok)
        assert (kind == "duplicate_member") == ((r["户号"], number) in seen)
        seen.add((r["户号"], number))
