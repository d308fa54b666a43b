"""Finding 1: a masked ID number cannot be rebuilt from what the hub releases beside it.

An attacker with an ordinary consumer key downloads every record of every dataset that holds
GB 11643 ID numbers, links households to residents, and for each person counts the valid ID
numbers that agree with everything released (the mask's visible characters, the birth date at
whatever precision it is released, the sex, the check digit). A person is *rebuilt* when one
candidate is left. The same attacker is first run on the masks the hub used to release (area and
last four characters beside a clear birth date) to show it does rebuild them all.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from contracts import disclosure, model
from contracts.masks import MASKS
from generator import households, population, residents
from hub.settings import Settings
from ingest import steps
from standards import gb11643
from tests.conftest import LiveServer
from tests.published import grant, new_key

PEOPLE = 600
DATASETS = (residents.DATASET, households.DATASET)


@dataclass(frozen=True)
class Seen:
    """What one released record shows of one person's ID number."""

    pattern: str  # 18 characters, '*' where hidden
    birth: str | None = None  # 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD'
    sex: str | None = None  # GB/T 2261.1: '1' male, '2' female

    def __and__(self, other: Seen) -> Seen:
        pattern = "".join(a if a != "*" else b for a, b in zip(self.pattern, other.pattern, strict=True))
        births = [b for b in (self.birth, other.birth) if b]
        return Seen(pattern, max(births, key=len) if births else None, self.sex or other.sex)


@cache
def _days(birth: str | None) -> tuple[str, ...]:
    return tuple(d.strftime("%Y%m%d") for d in _dates(birth))


def _dates(birth: str | None) -> list[dt.date]:
    if birth is None:
        years = range(1900, 2027)
        return [dt.date(y, 1, 1) + dt.timedelta(days=d) for y in years for d in range(365 + calendar.isleap(y))]
    parts = [int(p) for p in birth.split("-")]
    if len(parts) == 3:
        return [dt.date(*parts)]
    months = [parts[1]] if len(parts) == 2 else list(range(1, 13))
    return [dt.date(parts[0], m, d) for m in months for d in range(1, calendar.monthrange(parts[0], m)[1] + 1)]


@cache
def candidates(seen: Seen, cutoff: int = disclosure.PROMISE) -> int:
    """Valid ID numbers agreeing with ``seen``, counted up to ``cutoff``."""
    p = seen.pattern
    if "*" in p[:6]:
        return cutoff  # the area is hidden: thousands of areas on their own
    days = _days(seen.birth) if p[6:14] == "*" * 8 else [born for born in _days(seen.birth) if _fits(p[6:14], born)]
    sequences = [
        digits
        for seq in range(1000)
        if _fits(p[14:17], digits := f"{seq:03d}") and (not seen.sex or (seq % 2 == 1) == (seen.sex == "1"))
    ]
    if p[17] == "*":  # every (date, sequence) has its one check character
        return min(len(days) * len(sequences), cutoff)
    count = 0
    for born in days:
        for digits in sequences:
            count += gb11643.check_char(p[:6] + born + digits) == p[17]
            if count >= cutoff:
                return count
    return count


def _fits(pattern: str, value: str) -> bool:
    return all(c in ("*", v) for c, v in zip(pattern, value, strict=True))


def rebuilt(seen: Seen) -> bool:
    return candidates(seen, 2) == 1


def _records(http: httpx.Client, dataset: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 1000}
    while True:
        page = http.get(f"/api/v1/datasets/{dataset.replace('.', '-')}/records", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        out += body["records"]
        if not body["next_cursor"]:
            return out
        params["cursor"] = body["next_cursor"]


def _seen_residents(rows: list[dict[str, Any]]) -> list[Seen]:
    return [Seen(r["id_number"], str(r["birth_date"]) if r["birth_date"] else None, r["sex"]) for r in rows]


def _linked(res: list[dict[str, Any]], hh: list[dict[str, Any]]) -> list[Seen]:
    """Household members joined to residents on everything the two releases share (mask + grid)."""
    by_key: dict[tuple[str, str], list[Seen]] = {}
    for r, seen in zip(res, _seen_residents(res), strict=True):
        by_key.setdefault((r["id_number"][:6], r["grid_code"]), []).append(seen)
    out = []
    for h in hh:
        for seen in by_key.get((h["id_number"][:6], h["grid_code"]), []):
            out.append(seen & Seen(h["id_number"]))
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[population.Population, dict[str, list]]]:
    settings = Settings(home=Path(tmp_path_factory.mktemp("masks")) / "hub")
    settings.ensure_dirs()
    pop = population.make(PEOPLE, random.Random(7))
    for module in (residents, households):
        contract = model.find(settings.contracts_dir, module.DATASET)
        module.export(steps.inbox_folder(settings, contract) / "export.csv", pop, bad_share=0.0, rng=random.Random(8))
        for file in steps.discover(module.DATASET, settings):
            steps.check(module.DATASET, file, settings, today=dt.date(2026, 11, 1))
        steps.register(module.DATASET, steps.publish(module.DATASET, settings), settings)
    key = new_key(settings, "curious-app")  # granted every residents field (masked), and the households:
    grant(settings, "curious-app", households.DATASET)
    with LiveServer(settings) as server, httpx.Client(base_url=server.url, headers={"X-API-Key": key}) as http:
        yield pop, {d: _records(http, d) for d in DATASETS}


def test_every_dataset_with_id_numbers_is_attacked() -> None:
    holding = {c.id for c in model.load_all(Settings().contracts_dir) if disclosure.id_fields(c)}
    assert holding == set(DATASETS)


def _old_release(pop: population.Population) -> tuple[list[Seen], list[Seen]]:
    """What the hub used to release: ID as area + last four beside the clear birth date."""
    con = duckdb.connect()
    con.execute("CREATE TABLE p (id_number VARCHAR, birth_date DATE, sex VARCHAR, household_no VARCHAR)")
    con.executemany(
        "INSERT INTO p VALUES (?, ?, ?, ?)", [(x.id_number, x.birth_date, x.sex, x.household_no) for x in pop.people]
    )
    tail = MASKS["id_number_tail"].sql("id_number")
    res = [Seen(i, str(b), s) for i, b, s in con.execute(f"SELECT {tail}, birth_date, sex FROM p").fetchall()]
    hh = [Seen(i) for (i,) in con.execute(f"SELECT {tail} FROM p WHERE household_no IS NOT NULL").fetchall()]
    return res, hh


def test_the_attack_rebuilds_the_old_masks(world: tuple) -> None:
    pop, _ = world
    res, hh = _old_release(pop)
    assert sum(map(rebuilt, res)) == len(pop.people)
    # a household member's masked ID alone: area, sequence, check digit -- with any resident's birth
    # date that fits, most are rebuilt
    births = {s.pattern: s for s in res}
    linked = [h & births[h.pattern] for h in hh]
    assert sum(map(rebuilt, linked)) == len(linked)


def test_no_resident_is_rebuilt_from_a_residents_record(world: tuple) -> None:
    pop, released = world
    rows = released[residents.DATASET]
    assert len(rows) == PEOPLE
    seen = _seen_residents(rows)
    assert all(len(s.birth or "") == 7 for s in seen), "the birth date leaves as year-month beside a masked ID"
    counts = Counter(min(candidates(s), disclosure.PROMISE) for s in seen)
    assert sum(map(rebuilt, seen)) == 0
    assert min(counts) >= disclosure.PROMISE, counts


def test_no_household_member_is_rebuilt_by_linking_to_residents(world: tuple) -> None:
    _, released = world
    res, hh = released[residents.DATASET], released[households.DATASET]
    assert hh and all(set(h["id_number"][6:]) == {"*"} for h in hh)
    linked = _linked(res, hh)
    assert len(linked) >= len(hh), "every household member links to at least one resident"
    assert sum(map(rebuilt, linked)) == 0
    assert min(candidates(s) for s in linked) >= disclosure.PROMISE


def test_a_household_members_masked_id_alone_stands_for_many(world: tuple) -> None:
    _, released = world
    assert all(candidates(Seen(h["id_number"])) >= disclosure.PROMISE for h in released[households.DATASET])
