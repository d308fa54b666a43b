"""Generate the public-security department's resident-population export.

The export looks like what departments really send: CSV in GB18030 or UTF-8 with a BOM,
Chinese headers, ID numbers whose check digit, birth date and sex agree with the other columns,
Dongcheng street, community and work-grid codes, occasional full-width digits and Chinese date
spellings (which standardization repairs), and a configurable share of bad rows of realistic kinds.
The people are those of :mod:`generator.population`, so the civil-affairs households export of the
same population lists the same ID numbers in the same grids. Seeded: the same arguments give the
same bytes.

The file is written batch by batch as the people are made (:class:`generator.export.CsvStream`):
quirks and faults are drawn for a whole batch at once with numpy, text is assembled in the file's
encoding by Arrow, so ten million rows (about 1.5 GB of GB18030) take the memory of one batch.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator import faults, population
from generator.export import CsvStream, Manifest, Progress, Record
from generator.population import EXPORT_DATE, BoolArray, IntArray, People, Person, Population, Text, id_key, ymd
from standards import gb11643

__all__ = ["DATASET", "EXPORT_DATE", "FAULTS", "Manifest", "export", "generate", "records"]

DATASET = "population.residents"
FAULTS = ("bad_check_digit", "unknown_street", "duplicate_id", "missing_name", "future_birth_date")
UNKNOWN_STREETS = ("110101018", "110101050", "110101099")
"""Street codes of the district's form that no Dongcheng street has."""
_LOWER_X = len(gb11643.CHECK_CHARS)
"""Check index of a lower-case ``x`` (rendered from ``CHECK_CHARS + "x"``)."""
_FULL_WIDTH = tuple(chr(ord("０") + d) for d in range(10))


def record(p: Person) -> Record:
    return {
        "id_number": p.id_number,
        "name": p.name,
        "sex": p.sex,
        "birth_date": p.birth_date.isoformat(),
        "ethnicity": p.ethnicity,
        "phone": p.phone,
        "street_code": p.street_code,
        "community_code": p.community_code,
        "grid_code": p.grid_code,
        "address": p.address,
        "registered_on": p.registered_on.isoformat(),
    }


def records(pop: Population) -> list[Record]:
    return [record(p) for p in pop.people]


@dataclass
class _Earlier:
    """ID numbers of the previous batch's good rows: where a duplicate in a batch's first rows copies from."""

    key17: IntArray
    check: IntArray


class _Batch:
    """One batch of residents rows: quirks and planned faults as arrays, then text in the file's encoding."""

    def __init__(self, p: People, rng: np.random.Generator, where: IntArray, kinds: IntArray, earlier: _Earlier):
        n = len(p)
        self.p, self.rng, self.n = p, rng, n
        roll = rng.random(n)
        self.padded = rng.random(n) < 0.03
        self.registered_cn = roll < 0.05
        self.birth_slash = (roll >= 0.05) & (roll < 0.10)
        self.phone_wide = (roll >= 0.12) & (roll < 0.14) & (p.phone > 0)
        self.born = p.born.copy()
        self.key17 = p.key17
        self.check = np.where((roll >= 0.10) & (roll < 0.12) & (p.check == 2), _LOWER_X, p.check)
        self.good = np.ones(n, dtype=bool)
        self.good[where] = False
        self.no_name = np.zeros(n, dtype=bool)
        self.street = np.full(n, -1, dtype=np.int64)
        self.spoil(where, kinds, earlier)

    def spoil(self, where: IntArray, kinds: IntArray, earlier: _Earlier) -> None:
        """The planned faults, kind by kind, as :data:`FAULTS` describes them."""
        rng = self.rng
        at = {kind: where[kinds == i] for i, kind in enumerate(FAULTS)}
        bad = at["bad_check_digit"]
        right = np.where(self.check[bad] == _LOWER_X, 2, self.check[bad])
        self.check[bad] = (right + rng.integers(1, 11, size=len(bad))) % 11
        self.street[at["unknown_street"]] = rng.integers(0, len(UNKNOWN_STREETS), size=len(at["unknown_street"]))
        self.no_name[at["missing_name"]] = True
        future = at["future_birth_date"]
        self.born[future] = np.datetime64(EXPORT_DATE, "D") + rng.integers(30, 3000, size=len(future)).astype(
            "timedelta64[D]"
        )
        self.birth_slash[future] = False
        self.key17[future] = id_key(self.p.place[future], self.born[future], self.p.seq[future])
        self.check[future] = population.check_index(self.p.place[future], self.born[future], self.p.seq[future])
        dup = at["duplicate_id"]
        if len(dup):  # a copy of a good row before it: the previous batch's or an earlier one of this batch
            goods = np.flatnonzero(self.good)
            keys = np.concatenate((earlier.key17, self.key17[goods]))
            checks = np.concatenate((earlier.check, self.check[goods]))
            choices = len(earlier.key17) + np.searchsorted(goods, dup)  # the first row is never spoiled: >= 1
            pick = (rng.random(len(dup)) * choices).astype(np.int64)
            self.key17[dup], self.check[dup] = keys[pick], checks[pick]

    def earlier(self) -> _Earlier:
        return _Earlier(self.key17[self.good], self.check[self.good])

    def columns(self, text: Text) -> dict[str, pa.Array]:
        p, n = self.p, self.n
        name = text.name(p)
        name = pc.if_else(pa.array(self.padded), text.join(text.const(" ", n), name, text.const(" ", n)), name)
        name = pc.if_else(pa.array(self.no_name), text.const("", n), name)
        unknown = pa.array(self.street >= 0)
        street = pc.if_else(unknown, text.take(UNKNOWN_STREETS, np.maximum(self.street, 0)), text.street(p.grid))
        community = pc.if_else(unknown, text.join(street, text.const("001", n)), text.community(p.grid))
        return {
            "id_number": text.join(text.digits(self.key17, 17), text.take(gb11643.CHECK_CHARS + "x", self.check)),
            "name": name,
            "sex": text.sex(p.sex),
            "birth_date": _quirk(text.iso(self.born), self.birth_slash, lambda i: _slashed(text, self.born[i])),
            "ethnicity": text.ethnicity(p.ethnicity),
            "phone": _quirk(text.phone(p.phone), self.phone_wide, lambda i: _wide(text, p.phone[i])),
            "street_code": street,
            "community_code": community,
            "grid_code": text.grid(p.grid),
            "address": text.address(p),
            "registered_on": _quirk(
                text.iso(p.registered), self.registered_cn, lambda i: _chinese_date(text, p.registered[i])
            ),
        }


def _quirk(values: pa.Array, where: BoolArray, spelled: Callable[[IntArray], pa.Array]) -> pa.Array:
    """``values`` with the rows ``where`` says spelled otherwise (only those rows are spelled)."""
    rows = np.flatnonzero(where)
    if not len(rows):
        return values
    return pc.replace_with_mask(values, pa.array(where), spelled(rows))


def _slashed(text: Text, days: np.ndarray) -> pa.Array:
    """2001/2/3: a spelling some systems export."""
    y, m, d = ymd(days)
    n = len(days)
    return text.join(text.digits(y), text.const("/", n), text.digits(m), text.const("/", n), text.digits(d))


def _chinese_date(text: Text, days: np.ndarray) -> pa.Array:
    """2001年2月3日."""
    y, m, d = ymd(days)
    n = len(days)
    return text.join(
        text.digits(y), text.const("年", n), text.digits(m), text.const("月", n), text.digits(d), text.const("日", n)
    )


def _wide(text: Text, phone: IntArray) -> pa.Array:
    """The phone number in full-width digits (typed with a Chinese input method)."""
    return text.join(*(text.take(_FULL_WIDTH, (phone // 10 ** (10 - i)) % 10) for i in range(11)))


def export(
    out: Path,
    pop: Population | Iterable[People],
    *,
    bad_share: float,
    rng: random.Random | np.random.Generator,
    encoding: str = "gb18030",
    progress: Progress | None = None,
) -> Manifest:
    """Write the residents of ``pop`` (a population or its batches) with quirks and planned faults;
    ``rng`` decides both. Each batch is written before the next is made."""
    parts = pop.parts if isinstance(pop, Population) else pop
    draw = population.numpy_rng(rng)
    text = Text(encoding)
    planner = faults.Planner(bad_share, FAULTS, draw)
    earlier = _Earlier(np.zeros(0, np.int64), np.zeros(0, np.int64))
    with CsvStream(out, DATASET, encoding) as stream:
        for part in parts:
            batch = _Batch(part, draw, *planner.next(len(part)), earlier)
            stream.write(batch.columns(text))
            earlier = batch.earlier() if batch.good.any() else earlier  # duplicates need a good row before them
            if progress is not None:
                progress(stream.rows)
    return Manifest(out, stream.rows, encoding, stream.rows - len(planner.rows), planner.rows)


def generate(
    out: Path,
    *,
    rows: int = 3000,
    bad_share: float = 0.05,
    seed: int = 20261031,
    encoding: str = "gb18030",
    progress: Progress | None = None,
    batch_rows: int = population.BATCH_ROWS,
) -> Manifest:
    """Write the export of a population of ``rows`` people to ``out``; the manifest names the bad rows.

    The same ``rows``, ``seed`` and ``batch_rows`` give the population :func:`generator.households.generate` uses.
    """
    people = population.batches(rows, faults.numpy_stream(seed, "population"), batch_rows)
    return export(
        out, people, bad_share=bad_share, rng=faults.numpy_stream(seed, DATASET), encoding=encoding, progress=progress
    )
