"""The district's people, made household by household, so residents and households agree.

Most people live in a family household (one head, a spouse, children, parents, now and then a
grandchild or a non-relative, ~2.5 people on average) at one address in one work grid; the rest
live in collective quarters (dormitories, care homes) and have no family household. Ages fit the
relationships; ID numbers are valid GB 11643 numbers that agree with birth date and sex, and no
two people share one.

People are made in batches of at most :data:`BATCH_ROWS`, as numpy columns (:class:`People`), so
ten million residents take the memory of one batch plus the set of ID numbers already given out
(8 bytes a person): the exports write each batch and drop it. A household never straddles two
batches. :func:`make` keeps every batch for callers that want the whole population in memory
(tests, small demos) and turns it into :class:`Person` and :class:`Household` objects on demand.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from generator import geography
from generator.names import GIVEN_CHARS, LANES, MOBILE_PREFIXES, SURNAME_WEIGHTS, SURNAMES
from standards import gb11643, tables

EXPORT_DATE = dt.date(2026, 10, 31)
HOUSEHOLD_SIZES = ((1, 25), (2, 30), (3, 25), (4, 12), (5, 6), (6, 2))  # mean 2.5
COLLECTIVE_SHARE = 0.08
"""Chance that the next unit drawn is a person in collective quarters rather than a family household."""
BATCH_ROWS = 50_000
"""People per batch: large enough for vectorized code to pay off, small enough to keep memory flat."""
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
KINDS = ("head", "spouse", "child", "parent", "grandchild", "other", "collective")
"""Kind codes of :attr:`People.kind` (index into this tuple)."""
HEAD_K, SPOUSE_K, CHILD_K, PARENT_K, GRANDCHILD_K, OTHER_K, COLLECTIVE_K = range(len(KINDS))
MAX_AGE = 104
_EXPORT_DAY = np.datetime64(EXPORT_DATE, "D")

IntArray = npt.NDArray[np.int64]
DayArray = npt.NDArray[np.datetime64]
BoolArray = npt.NDArray[np.bool_]


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
    members: list[Person]


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


@cache
def grid_codes() -> tuple[str, ...]:
    """Work-grid codes; :attr:`People.grid` indexes this tuple."""
    return tuple(g.code for g in geography.grids())


_DAY0 = np.datetime64("1850-01-01", "D")
_DAY_SPAN = 80_000
"""Dates from 1850 to 2069 have precomputed YYYYMMDD numbers and check-sum parts."""


def _digit_sum(values: IntArray, weights: Sequence[int]) -> IntArray:
    """Weighted sum of the digits of ``values`` (as many digits as weights, most significant first)."""
    total = np.zeros(len(values), dtype=np.int64)
    for i, w in enumerate(weights):
        total += (values // 10 ** (len(weights) - 1 - i)) % 10 * w
    return total


@cache
def _date_tables() -> tuple[IntArray, IntArray]:
    """YYYYMMDD of each day from 1850 on, and the weighted digit sum of its part of an ID number."""
    days = _DAY0 + np.arange(_DAY_SPAN).astype("timedelta64[D]")
    y, m, d = ymd(days)
    numbers = y * 10_000 + m * 100 + d
    return numbers, _digit_sum(numbers, gb11643.WEIGHTS[6:14])


_SEQ_SUMS = _digit_sum(np.arange(1000, dtype=np.int64), gb11643.WEIGHTS[14:17])


def _day_index(days: DayArray) -> IntArray:
    index = (days - _DAY0).astype(np.int64)
    if len(index) and (index.min() < 0 or index.max() >= _DAY_SPAN):
        raise ValueError("birth dates must lie between 1850 and 2069")
    return index  # type: ignore[no-any-return]


def check_index(place: IntArray, born: DayArray, seq: IntArray) -> IntArray:
    """Index into ``gb11643.CHECK_CHARS`` of the check characters of ID numbers (ISO 7064 MOD 11-2)."""
    _, sums = _date_tables()
    total = _digit_sum(place, gb11643.WEIGHTS[:6]) + sums[_day_index(born)] + _SEQ_SUMS[seq]
    return total % 11  # type: ignore[no-any-return]


def ymd(days: DayArray) -> tuple[IntArray, IntArray, IntArray]:
    """Year, month and day of each date."""
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    return (
        years.astype(np.int64) + 1970,
        (months - years.astype("datetime64[M]")).astype(np.int64) + 1,
        (days - months.astype("datetime64[D]")).astype(np.int64) + 1,
    )


def id_key(place: IntArray, born: DayArray, seq: IntArray) -> IntArray:
    """The first 17 digits of an ID number as one integer: birthplace, birth date, sequence."""
    numbers, _ = _date_tables()
    return place * 10**11 + numbers[_day_index(born)] * 1_000 + seq  # type: ignore[no-any-return]


class UsedKeys:
    """The ID numbers (first 17 digits as integers) given out so far: sorted runs merged like a binary counter.

    A Python set of ten million numbers takes about a gigabyte; these runs take 8 bytes a number,
    look-ups are binary searches over at most log2(batches) runs, and each number is merged about
    log2(batches) times in all.
    """

    def __init__(self) -> None:
        self.runs: list[IntArray] = []

    def __contains__(self, key: int) -> bool:
        return bool(self.contains(np.array([key], dtype=np.int64))[0])

    def contains(self, keys: IntArray) -> BoolArray:
        order = np.argsort(keys)
        out = np.empty(len(keys), dtype=bool)
        out[order] = self.contains_sorted(keys[order])
        return out

    def contains_sorted(self, keys: IntArray) -> BoolArray:
        """Like :meth:`contains` for sorted keys (sorted needles make the binary searches walk the runs in order)."""
        found = np.zeros(len(keys), dtype=bool)
        for run in self.runs:
            at = np.searchsorted(run, keys)
            found |= run[np.minimum(at, len(run) - 1)] == keys
        return found

    def add(self, keys: IntArray) -> None:
        self.add_sorted(np.sort(keys))

    def add_sorted(self, run: IntArray) -> None:
        while self.runs and len(self.runs[-1]) <= len(run):
            run = np.concatenate((self.runs.pop(), run))
            run.sort(kind="stable")  # in place: two sorted runs merge in linear time, no third copy
        self.runs.append(run)

    def __len__(self) -> int:
        return sum(len(r) for r in self.runs)


@dataclass(frozen=True, slots=True)
class People:
    """One batch of people as columns, household by household (a household's members are adjacent).

    Codes and names are indices into small vocabularies (:data:`SURNAMES`, :func:`grid_codes`, …);
    :mod:`generator.residents` and :mod:`generator.households` render them as text in the
    export's encoding without building a Python object per person.
    """

    start: int
    """Index in the whole population of the first person of the batch."""
    kind: IntArray
    """Index into :data:`KINDS`."""
    sex: IntArray
    """1 (male) or 2 (female), as GB/T 2261.1 codes them."""
    born: DayArray
    place: IntArray
    """GB/T 2260 birthplace code (the ID number's first six digits)."""
    seq: IntArray
    """The ID number's order code (odd for men, even for women)."""
    check: IntArray
    """Index into ``gb11643.CHECK_CHARS``."""
    surname: IntArray
    given1: IntArray
    given2: IntArray
    """Index into :data:`GIVEN_CHARS`, or ``len(GIVEN_CHARS)`` for a one-character given name."""
    ethnicity: IntArray
    """Index into the GB/T 3304 code table."""
    phone: IntArray
    """Eleven-digit mobile number, 0 for none."""
    grid: IntArray
    """Index into :func:`grid_codes`."""
    lane: IntArray
    number: IntArray
    flat: IntArray
    """Building, unit, floor and room as the digits bbuufr (0 for collective quarters)."""
    registered: DayArray
    household: IntArray
    """1-based household number across the whole population; 0 in collective quarters."""

    def __len__(self) -> int:
        return len(self.kind)

    @property
    def key17(self) -> IntArray:
        return id_key(self.place, self.born, self.seq)

    @property
    def relationship(self) -> IntArray:
        """GB/T 4761 relationship code as an integer (2 = head), 0 in collective quarters."""
        male = self.sex == 1
        codes = np.select(
            [
                self.kind == HEAD_K,
                self.kind == SPOUSE_K,
                self.kind == CHILD_K,
                self.kind == PARENT_K,
                self.kind == GRANDCHILD_K,
                self.kind == OTHER_K,
            ],
            [
                np.full(len(self), 2),
                np.where(male, 11, 12),
                np.where(male, 20, 30),
                np.where(male, 51, 52),
                np.full(len(self), 40),
                np.full(len(self), 99),
            ],
            0,
        )
        return codes.astype(np.int64)  # type: ignore[no-any-return]

    def persons(self) -> list[Person]:
        """The batch as :class:`Person` objects (for small populations: one Python object per person)."""
        t = Text("utf-8")
        columns = {
            "id_number": t.id_number(self.key17, self.check),
            "name": t.name(self),
            "sex": t.sex(self.sex),
            "ethnicity": t.ethnicity(self.ethnicity),
            "phone": t.phone(self.phone),
            "grid_code": t.grid(self.grid),
            "address": t.address(self),
            "household_no": t.household_no(self.grid, self.household),
            "relationship": t.relationship(self.relationship),
        }
        values = {k: v.cast(pa.string()).to_pylist() for k, v in columns.items()}
        born = self.born.astype(dt.date).tolist()
        registered = self.registered.astype(dt.date).tolist()
        out = []
        for i in range(len(self)):
            home = bool(self.household[i])
            out.append(
                Person(
                    id_number=values["id_number"][i],
                    name=values["name"][i],
                    sex=values["sex"][i],
                    birth_date=born[i],
                    ethnicity=values["ethnicity"][i],
                    phone=values["phone"][i],
                    grid_code=values["grid_code"][i],
                    address=values["address"][i],
                    registered_on=registered[i],
                    household_no=values["household_no"][i] if home else None,
                    relationship=values["relationship"][i] if home else None,
                )
            )
        return out


class Text:
    """Columns of a batch as text already encoded in an export's encoding (Arrow binary arrays).

    Every piece of text comes from a small vocabulary encoded once, so a GB18030 file of ten
    million rows costs no per-value encoding: pieces are gathered (``take``) and joined by Arrow.
    ASCII (digits, codes, dates) is the same bytes in GB18030 and UTF-8.
    """

    def __init__(self, encoding: str):
        self.encoding = "utf-8" if encoding == "utf-8-sig" else encoding

    def vocab(self, words: Sequence[str]) -> pa.Array:
        return pa.array([w.encode(self.encoding) for w in words], type=pa.binary())

    def take(self, words: Sequence[str], index: IntArray) -> pa.Array:
        return self.vocab(words).take(pa.array(index))

    def const(self, word: str, n: int) -> pa.Array:
        return self.take((word,), np.zeros(n, dtype=np.int64))

    @staticmethod
    def digits(values: IntArray, width: int = 0) -> pa.Array:
        text = pc.cast(pa.array(values, type=pa.int64()), pa.string())
        if width:
            text = pc.utf8_lpad(text, width, "0")
        return text.cast(pa.binary())

    @staticmethod
    def join(*parts: pa.Array, sep: bytes = b"") -> pa.Array:
        return pc.binary_join_element_wise(*parts, sep)

    @staticmethod
    def iso(days: DayArray) -> pa.Array:
        return pa.array(days.astype("datetime64[D]"), type=pa.date32()).cast(pa.string()).cast(pa.binary())

    def id_number(self, key17: IntArray, check: IntArray) -> pa.Array:
        return self.join(self.digits(key17, 17), self.take(gb11643.CHECK_CHARS, check))

    def name(self, p: People) -> pa.Array:
        return self.join(
            self.take(SURNAMES, p.surname),
            self.take(GIVEN_CHARS, p.given1),
            self.take((*GIVEN_CHARS, ""), p.given2),
        )

    def ethnicity(self, index: IntArray) -> pa.Array:
        return self.take(_ethnic_codes(), index)

    def phone(self, numbers: IntArray) -> pa.Array:
        return pc.if_else(pa.array(numbers > 0), self.digits(numbers), self.const("", len(numbers)))

    def grid(self, index: IntArray) -> pa.Array:
        return self.take(grid_codes(), index)

    def street(self, index: IntArray) -> pa.Array:
        return self.take([g[:9] for g in grid_codes()], index)

    def community(self, index: IntArray) -> pa.Array:
        return self.take([g[:12] for g in grid_codes()], index)

    def address(self, p: People) -> pa.Array:
        """北京市东城区 + street + lane + number 号, then building/unit/flat or 集体户."""
        streets = _street_names()
        return self.join(
            self.take([f"北京市东城区{streets[g[:9]]}" for g in grid_codes()], p.grid),
            self.take(LANES, p.lane),
            self.take([f"{n}号" for n in range(120)], p.number),
            self.take(_FLATS, _flat_index(p.flat)),
        )

    def household_no(self, grid: IntArray, household: IntArray) -> pa.Array:
        """Street part of the grid code (3 digits) and the household's number (6 digits or more)."""
        return self.join(self.take([g[6:9] for g in grid_codes()], grid), self.digits(household, 6))

    def relationship(self, codes: IntArray) -> pa.Array:
        return self.take([f"{c:02d}" for c in range(100)], codes)

    def sex(self, codes: IntArray) -> pa.Array:
        return self.take(("0", "1", "2"), codes)


_FLATS = ("集体户",) + tuple(
    f"{b}号楼{u}单元{f}0{r}" for b in range(1, 8) for u in range(1, 6) for f in range(1, 7) for r in range(1, 5)
)
"""The end of an address: collective quarters, or building (1-7), unit (1-5), floor (1-6) and room (1-4)."""


def _flat_index(flat: IntArray) -> IntArray:
    """Index into :data:`_FLATS` of flats coded as the digits bbuufr (0: collective quarters)."""
    b, u, f, r = flat // 1000, flat // 100 % 10, flat // 10 % 10, flat % 10
    return np.where(flat > 0, 1 + (((b - 1) * 5 + (u - 1)) * 6 + (f - 1)) * 4 + (r - 1), 0)  # type: ignore[no-any-return]


@dataclass
class Population:
    """A whole population in memory, as the batches :func:`batches` made."""

    parts: list[People]

    @cached_property
    def people(self) -> list[Person]:
        return [p for part in self.parts for p in part.persons()]

    @cached_property
    def households(self) -> list[Household]:
        homes: dict[str, Household] = {}
        for p in self.people:
            if p.household_no is not None:
                home = homes.setdefault(p.household_no, Household(p.household_no, p.grid_code, p.address, []))
                home.members.append(p)
        return list(homes.values())

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)


def _uniform(rng: np.random.Generator, low: int, high: int, n: int) -> IntArray:
    """Integers in [low, high)."""
    return rng.integers(low, high, size=n, dtype=np.int64)


def _surnames(rng: np.random.Generator, n: int) -> IntArray:
    weights = np.array(SURNAME_WEIGHTS)
    return rng.choice(len(SURNAMES), size=n, p=weights / weights.sum()).astype(np.int64)  # type: ignore[no-any-return]


class _Maker:
    """Draws batches one after another from one random stream; remembers the ID numbers given out."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        weights = rng.lognormal(0.0, 0.5, size=len(grid_codes()))
        self.grid_p = weights / weights.sum()
        self.used = UsedKeys()
        self.households = 0
        self.places = np.array([int(c) for c in _birthplaces()], dtype=np.int64)
        sizes, weights_ = zip(*HOUSEHOLD_SIZES, strict=True)
        self.sizes = np.array(sizes, dtype=np.int64)
        self.size_p = np.array(weights_, dtype=float) / sum(weights_)

    def units(self, n: int) -> IntArray:
        """Sizes of the units (0 = one person in collective quarters) filling exactly ``n`` people.

        Units are drawn until the next would not fit; the few places left are collective quarters,
        so every batch is full and no household is split between batches.
        """
        rng = self.rng
        mean = (1 - COLLECTIVE_SHARE) * float(self.sizes @ self.size_p) + COLLECTIVE_SHARE
        drawn: list[IntArray] = []
        total = 0
        while total < n:
            m = int(n / mean * 1.05) + 16
            collective = rng.random(m) < COLLECTIVE_SHARE
            sizes = np.where(collective, 0, rng.choice(self.sizes, size=m, p=self.size_p))
            drawn.append(sizes)
            total += int(np.maximum(sizes, 1).sum())
        units = np.concatenate(drawn)
        fits = int(np.searchsorted(np.cumsum(np.maximum(units, 1)), n, side="right"))
        units = units[:fits]
        gap = n - int(np.maximum(units, 1).sum())
        return np.concatenate((units, np.zeros(gap, dtype=np.int64)))

    def batch(self, start: int, n: int) -> People:
        rng = self.rng
        units = self.units(n)
        u = len(units)
        home = units > 0
        members = np.maximum(units, 1)
        unit_of = np.repeat(np.arange(u), members)
        position = np.arange(n) - np.repeat(np.cumsum(members) - members, members)

        head_age = np.minimum(_uniform(rng, 22, 70, u) + _uniform(rng, 0, 20, u), 95)
        head_sex = _uniform(rng, 1, 3, u)
        kinds = self.kinds(units, head_age)  # unit × 6 positions
        kind = np.where(home[unit_of], kinds[unit_of, np.minimum(position, 5)], COLLECTIVE_K)

        h_age, h_sex = head_age[unit_of], head_sex[unit_of]
        age = np.select(
            [
                kind == HEAD_K,
                kind == SPOUSE_K,
                kind == CHILD_K,
                kind == PARENT_K,
                kind == GRANDCHILD_K,
                kind == OTHER_K,
            ],
            [
                h_age,
                np.maximum(20, h_age + _uniform(rng, -5, 6, n)),
                np.maximum(0, h_age - _uniform(rng, 22, 41, n)),
                h_age + _uniform(rng, 22, 35, n),
                np.maximum(0, h_age - _uniform(rng, 45, 66, n)),
                _uniform(rng, 18, 61, n),
            ],
            _uniform(rng, 18, 95, n),  # collective quarters
        )
        age = np.clip(age, 0, MAX_AGE)
        sex = np.where(kind == HEAD_K, h_sex, np.where(kind == SPOUSE_K, 3 - h_sex, _uniform(rng, 1, 3, n)))
        sex = self.parents_apart(kind, unit_of, sex)

        born = _EXPORT_DAY - (age * 365 + _uniform(rng, 0, 365, n)).astype("timedelta64[D]")
        place, seq, check = self.id_numbers(born, sex)

        surname = _surnames(rng, n)
        head_surname = surname[np.cumsum(members) - members][unit_of]
        surname = np.where((kind == CHILD_K) | (kind == GRANDCHILD_K), head_surname, surname)
        given1 = _uniform(rng, 0, len(GIVEN_CHARS), n)
        given2 = np.where(rng.random(n) < 1 / 3, len(GIVEN_CHARS), _uniform(rng, 0, len(GIVEN_CHARS), n))
        has_phone = (age >= 12) & (rng.random(n) < 0.9)
        prefixes = np.array([int(p) for p in MOBILE_PREFIXES], dtype=np.int64)
        phone = np.where(
            has_phone, prefixes[_uniform(rng, 0, len(prefixes), n)] * 10**8 + _uniform(rng, 0, 10**8, n), 0
        )
        ethnicity = np.where(
            rng.random(n) < 0.95, _ethnic_codes().index("01"), _uniform(rng, 0, len(_ethnic_codes()), n)
        )

        grid = rng.choice(len(self.grid_p), size=u, p=self.grid_p).astype(np.int64)
        lane = _uniform(rng, 0, len(LANES), u)
        number = _uniform(rng, 1, 120, u)
        flat = (
            _uniform(rng, 1, 8, u) * 1000
            + _uniform(rng, 1, 6, u) * 100
            + _uniform(rng, 1, 7, u) * 10
            + _uniform(rng, 1, 5, u)
        )
        flat = np.where(home, flat, 0)
        household = np.zeros(u, dtype=np.int64)
        household[home] = self.households + 1 + np.arange(int(home.sum()))
        self.households += int(home.sum())

        lived = (_EXPORT_DAY - born).astype(np.int64)
        registered = born + np.floor(rng.random(n) * (lived + 1)).astype(np.int64).astype("timedelta64[D]")
        return People(
            start=start,
            kind=kind.astype(np.int64),
            sex=sex.astype(np.int64),
            born=born,
            place=place,
            seq=seq,
            check=check,
            surname=surname,
            given1=given1,
            given2=given2.astype(np.int64),
            ethnicity=np.asarray(ethnicity, dtype=np.int64),
            phone=phone.astype(np.int64),
            grid=grid[unit_of],
            lane=lane[unit_of],
            number=number[unit_of],
            flat=flat[unit_of],
            registered=registered,
            household=household[unit_of],
        )

    def kinds(self, units: IntArray, head_age: IntArray) -> IntArray:
        """Who lives with each head, position by position: spouse first (80%), then children, parents,
        grandchildren or others, at most 3 children, 2 parents and 2 grandchildren, as ages allow."""
        rng = self.rng
        u = len(units)
        kinds = np.full((u, 6), OTHER_K, dtype=np.int64)
        kinds[:, 0] = HEAD_K
        spouse = (units >= 2) & (rng.random(u) < 0.8)
        kinds[spouse, 1] = SPOUSE_K
        counts = {CHILD_K: np.zeros(u, np.int64), PARENT_K: np.zeros(u, np.int64), GRANDCHILD_K: np.zeros(u, np.int64)}
        for pos in range(1, 6):
            active = pos < units
            if pos == 1:
                active &= ~spouse
            child = np.where((counts[CHILD_K] < 3) & (head_age >= 24), 8, 0)
            parent = np.where((counts[PARENT_K] < 2) & (head_age <= 70), 3, 0)
            grand = np.where((head_age >= 50) & (counts[GRANDCHILD_K] < 2), 3, 0)
            roll = rng.random(u) * (1 + child + parent + grand)
            chosen = np.select(
                [roll < 1, roll < 1 + child, roll < 1 + child + parent], [OTHER_K, CHILD_K, PARENT_K], GRANDCHILD_K
            )
            kinds[active, pos] = chosen[active]
            for k, c in counts.items():
                c += active & (chosen == k)
        return kinds

    @staticmethod
    def parents_apart(kind: IntArray, unit_of: IntArray, sex: IntArray) -> IntArray:
        """A household's second parent has the other sex than its first."""
        parent = np.flatnonzero(kind == PARENT_K)
        second = parent[1:][unit_of[parent[1:]] == unit_of[parent[:-1]]]
        sex = sex.copy()
        sex[second] = 3 - sex[second - 1]
        return sex

    def id_numbers(self, born: DayArray, sex: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Birthplace, order code and check index of new ID numbers, none given out before.

        60% are born in 东城区 (110101), 10% of those born before 2010 in 崇文区 (110103, merged into
        东城区 in 2010, still on their cards), the rest anywhere else in China. A number already
        given out (or drawn twice in the batch) is drawn again.
        """
        rng = self.rng
        n = len(born)
        place = np.zeros(n, dtype=np.int64)
        seq = np.zeros(n, dtype=np.int64)
        key = np.zeros(n, dtype=np.int64)
        before_2010 = born < np.datetime64("2010-01-01")
        todo = np.arange(n)
        others = np.zeros(0, dtype=np.int64)
        while len(todo):
            m = len(todo)
            roll = rng.random(m)
            place[todo] = np.where(
                roll < 0.6,
                110101,
                np.where((roll < 0.7) & before_2010[todo], 110103, self.places[_uniform(rng, 0, len(self.places), m)]),
            )
            drawn = _uniform(rng, 0, 1000, m)
            seq[todo] = np.where((drawn % 2 == 1) != (sex[todo] == 1), (drawn + 1) % 1000, drawn)
            key[todo] = id_key(place[todo], born[todo], seq[todo])
            order = np.argsort(key[todo], kind="stable")
            ordered = key[todo][order]
            again = np.zeros(m, dtype=bool)
            again[order[1:][ordered[1:] == ordered[:-1]]] = True  # drawn twice now: the later one draws again
            at = np.minimum(np.searchsorted(others, ordered), max(len(others) - 1, 0))
            clash = self.used.contains_sorted(ordered)
            if len(others):
                clash |= others[at] == ordered  # another row of the batch holds it already
            again[order] |= clash
            keep = todo[~again]
            others = np.sort(np.concatenate((others, key[keep])), kind="stable")
            todo = todo[again]
        self.used.add_sorted(others)
        return place, seq, check_index(place, born, seq)


def batches(n: int, rng: np.random.Generator, batch_rows: int = BATCH_ROWS) -> Iterator[People]:
    """Exactly ``n`` people in batches of ``batch_rows`` (the last may be smaller), household by household."""
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be positive, got {batch_rows}")
    maker = _Maker(rng)
    for start in range(0, n, batch_rows):
        yield maker.batch(start, min(batch_rows, n - start))


def numpy_rng(rng: random.Random | np.random.Generator) -> np.random.Generator:
    """A numpy generator seeded from ``rng`` (so callers holding a ``random.Random`` keep reproducibility)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng.getrandbits(128))


def make(n: int, rng: random.Random | np.random.Generator, batch_rows: int = BATCH_ROWS) -> Population:
    """Exactly ``n`` people in memory, household by household (for small populations)."""
    return Population(list(batches(n, numpy_rng(rng), batch_rows)))
