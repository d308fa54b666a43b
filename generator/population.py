"""The district's people, made household by household, so residents and households agree.

Most people live in a family household (one head, a spouse, children, parents, now and then a
grandchild or a non-relative, ~2.5 people on average) at one address in one work grid; the rest
live in collective quarters (dormitories, care homes) and have no family household. Ages fit the
relationships; ID numbers are valid GB 11643 numbers that agree with birth date and sex.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from functools import cache

from generator import geography
from generator.names import GIVEN_CHARS, LANES, MOBILE_PREFIXES, SURNAME_WEIGHTS, SURNAMES
from standards import gb11643, tables

EXPORT_DATE = dt.date(2026, 10, 31)
HOUSEHOLD_SIZES = ((1, 25), (2, 30), (3, 25), (4, 12), (5, 6), (6, 2))  # mean 2.5
COLLECTIVE_SHARE = 0.08
"""Chance that the next person drawn lives in collective quarters rather than a family household."""
HEAD = "02"
RELATIONSHIP = {  # GB/T 4761-2008 codes used: head, spouse by sex, child by sex, parent by sex, grandchild
    ("spouse", "1"): "11",
    ("spouse", "2"): "12",
    ("child", "1"): "20",
    ("child", "2"): "30",
    ("parent", "1"): "51",
    ("parent", "2"): "52",
    ("grandchild", "1"): "40",
    ("grandchild", "2"): "40",
    ("other", "1"): "99",
    ("other", "2"): "99",
}


@dataclass(frozen=True, slots=True)
class Person:
    id_number: str
    name: str
    sex: str
    birth_date: dt.date
    ethnicity: str
    phone: str
    grid_code: str
    address: str
    registered_on: dt.date
    household_no: str | None = None
    relationship: str | None = None

    @property
    def street_code(self) -> str:
        return self.grid_code[:9]

    @property
    def community_code(self) -> str:
        return self.grid_code[:12]


@dataclass
class Household:
    number: str
    grid_code: str
    address: str
    members: list[Person] = field(default_factory=list)


@dataclass
class Population:
    people: list[Person]
    households: list[Household]


@cache
def _street_names() -> dict[str, str]:
    return {r["code"]: r["name"] for r in tables.load("dongcheng_streets").to_pylist()}


@cache
def _birthplaces() -> tuple[str, ...]:
    counties = [
        r["code"]
        for r in tables.load("gbt2260_divisions").to_pylist()
        if r.get("level") == "county" and not r.get("valid_to")
    ]
    return tuple(c for c in counties if not c.startswith("11")) or tuple(counties)


@cache
def _ethnic_codes() -> tuple[str, ...]:
    return tuple(r["code"] for r in tables.load("gbt3304_ethnicity").to_pylist())


class _Maker:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.grids = geography.grids()
        self.grid_weights = [rng.lognormvariate(0, 0.5) for _ in self.grids]
        self.used: set[str] = set()
        self.households = 0

    def id_number(self, born: dt.date, sex: str) -> str:
        rng = self.rng
        while True:
            roll = rng.random()
            if roll < 0.6:
                place = "110101"
            elif roll < 0.7 and born.year < 2010:
                place = "110103"  # 崇文区, merged into 东城区 in 2010: still on the cards of people born before
            else:
                place = rng.choice(_birthplaces())
            seq = rng.randrange(0, 1000)
            if (seq % 2 == 1) != (sex == "1"):
                seq = (seq + 1) % 1000
            first17 = f"{place}{born:%Y%m%d}{seq:03d}"
            number = first17 + gb11643.check_char(first17)
            if number not in self.used:
                self.used.add(number)
                return number

    def born(self, age: int) -> dt.date:
        return EXPORT_DATE - dt.timedelta(days=age * 365 + self.rng.randrange(0, 365))

    def person(self, age: int, sex: str, grid: str, address: str, surname: str | None = None, **kw: str) -> Person:
        rng = self.rng
        born = self.born(max(0, min(age, 104)))
        surname = surname or rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
        given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))
        has_phone = age >= 12 and rng.random() < 0.9
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}" if has_phone else ""
        return Person(
            id_number=self.id_number(born, sex),
            name=surname + given,
            sex=sex,
            birth_date=born,
            ethnicity="01" if rng.random() < 0.95 else rng.choice(_ethnic_codes()),
            phone=phone,
            grid_code=grid,
            address=address,
            registered_on=born + dt.timedelta(days=rng.randrange(0, (EXPORT_DATE - born).days + 1)),
            **kw,
        )

    def place(self) -> tuple[str, str]:
        """A work grid and the start of an address in its street."""
        rng = self.rng
        grid = rng.choices(self.grids, weights=self.grid_weights)[0].code
        street = _street_names()[grid[:9]]
        return grid, f"北京市东城区{street}{rng.choice(LANES)}{rng.randrange(1, 120)}号"

    def collective(self) -> Person:
        grid, address = self.place()
        age = self.rng.randrange(18, 95)
        return self.person(age, self.rng.choice("12"), grid, address + "集体户")

    def household(self, size: int) -> Household:
        rng = self.rng
        grid, address = self.place()
        address += f"{rng.randrange(1, 8)}号楼{rng.randrange(1, 6)}单元{rng.randrange(1, 7)}0{rng.randrange(1, 5)}"
        self.households += 1
        home = Household(f"{grid[6:9]}{self.households:06d}", grid, address)
        head_age = min(rng.randrange(22, 70) + rng.randrange(0, 20), 95)
        head_sex = rng.choice("12")
        head = self.person(head_age, head_sex, grid, address, household_no=home.number, relationship=HEAD)
        home.members.append(head)
        surname = head.name[0]
        parents: set[str] = set()
        for kind in _kinds(size, head_age, rng):
            age, sex = _age_sex(kind, head_age, head_sex, rng)
            if kind == "parent":
                sex = sex if sex not in parents else "2" if sex == "1" else "1"
                parents.add(sex)
            kin = surname if kind in ("child", "grandchild") else None
            relationship = RELATIONSHIP[(kind, sex)]
            home.members.append(
                self.person(age, sex, grid, address, kin, household_no=home.number, relationship=relationship)
            )
        return home


def _kinds(size: int, head_age: int, rng: random.Random) -> list[str]:
    """Who else lives with the head, by relationship kind."""
    kinds = ["spouse"] if size >= 2 and rng.random() < 0.8 else []
    while len(kinds) < size - 1:
        options = ["other"]
        if kinds.count("child") < 3 and head_age >= 24:
            options += ["child"] * 8
        if kinds.count("parent") < 2 and head_age <= 70:
            options += ["parent"] * 3
        if head_age >= 50 and kinds.count("grandchild") < 2:
            options += ["grandchild"] * 3
        kinds.append(rng.choice(options))
    return kinds


def _age_sex(kind: str, head_age: int, head_sex: str, rng: random.Random) -> tuple[int, str]:
    if kind == "spouse":
        return max(20, head_age + rng.randint(-5, 5)), "2" if head_sex == "1" else "1"
    if kind == "child":
        return max(0, head_age - rng.randint(22, 40)), rng.choice("12")
    if kind == "parent":
        return head_age + rng.randint(22, 34), rng.choice("12")
    if kind == "grandchild":
        return max(0, head_age - rng.randint(45, 65)), rng.choice("12")
    return rng.randint(18, 60), rng.choice("12")


def make(n: int, rng: random.Random) -> Population:
    """Exactly ``n`` people (the last household may be cut short), household by household."""
    maker = _Maker(rng)
    sizes, weights = zip(*HOUSEHOLD_SIZES, strict=True)
    people: list[Person] = []
    households: list[Household] = []
    while len(people) < n:
        if rng.random() < COLLECTIVE_SHARE:
            people.append(maker.collective())
            continue
        home = maker.household(rng.choices(sizes, weights=weights)[0])
        home.members = home.members[: n - len(people)]
        households.append(home)
        people.extend(home.members)
    return Population(people, households)
