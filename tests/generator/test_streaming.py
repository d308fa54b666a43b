"""The population's exports are written batch by batch, and what they mean does not depend on the batches."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from generator import faults, grids, households, population, residents
from generator.export import CsvStream, write_csv
from generator.population import EXPORT_DATE, Text, UsedKeys
from generator.progress import GenerationProgress
from standards import gb11643, tables

ROWS, BATCH = 2_345, 500


def _read(path: Path, encoding: str = "gb18030") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


class Spy:
    """Counts the batches a generator reports (one report per batch written)."""

    def __init__(self) -> None:
        self.done: list[int] = []

    def __call__(self, done: int) -> None:
        self.done.append(done)

    @property
    def sizes(self) -> list[int]:
        return [b - a for a, b in zip([0, *self.done], self.done, strict=False)]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("streaming")
    spies = {"r": Spy(), "h": Spy()}
    options = {"rows": ROWS, "bad_share": 0.1, "seed": 8, "batch_rows": BATCH}
    r = residents.generate(folder / "r.csv", progress=spies["r"], **options)  # type: ignore[arg-type]
    h = households.generate(folder / "h.csv", progress=spies["h"], **options)  # type: ignore[arg-type]
    return {"r": r, "h": h, "spies": spies, "rows_r": _read(r.path), "rows_h": _read(h.path)}


def test_people_come_in_full_batches_and_no_household_straddles_two() -> None:
    parts = list(population.batches(ROWS, np.random.default_rng(1), BATCH))
    assert [len(p) for p in parts] == [BATCH] * (ROWS // BATCH) + [ROWS % BATCH]
    assert [p.start for p in parts] == list(range(0, ROWS, BATCH))
    seen: set[int] = set()
    for p in parts:
        homes = set(p.household[p.household > 0].tolist())
        assert not homes & seen
        seen |= homes
        heads = Counter(p.household[(p.household > 0) & (p.kind == population.HEAD_K)].tolist())
        assert set(heads) == homes and set(heads.values()) == {1}
    assert seen == set(range(1, max(seen) + 1))


def test_the_writer_gets_one_batch_at_a_time(files: dict) -> None:
    spy = files["spies"]["r"]
    assert len(spy.done) == math.ceil(ROWS / BATCH) and max(spy.sizes) <= BATCH and spy.done[-1] == ROWS
    spy = files["spies"]["h"]  # households report people made, one report per batch too
    assert len(spy.done) == math.ceil(ROWS / BATCH) and spy.done[-1] == ROWS


def test_csv_stream_records_its_batches(tmp_path: Path) -> None:
    pop = population.make(30, random.Random(1), batch_rows=7)
    text = Text("utf-8")
    with CsvStream(tmp_path / "r.csv", residents.DATASET, "utf-8") as stream:
        for part in pop.parts:
            stream.write({"id_number": text.id_number(part.key17, part.check), "sex": text.digits(part.sex)})
    assert stream.batches == [7, 7, 7, 7, 2] and stream.rows == 30
    rows = _read(tmp_path / "r.csv", "utf-8")
    assert [r["公民身份号码"] for r in rows] == [p.id_number for p in pop.people]
    assert {r["姓名"] for r in rows} == {""}


def test_counts_are_exact_and_good_ids_valid_and_unique_across_batches(files: dict) -> None:
    manifest, rows = files["r"], files["rows_r"]
    assert manifest.rows == len(rows) == ROWS
    assert len(manifest.bad_rows) == round(ROWS * 0.1) and manifest.good_rows == ROWS - len(manifest.bad_rows)
    assert set(manifest.bad_rows.values()) == set(residents.FAULTS)
    assert max(Counter(manifest.bad_rows.values()).values()) - min(Counter(manifest.bad_rows.values()).values()) <= 1
    grid_codes = {r["grid_code"] for r in grids.records() if r["level"] == "grid"}
    streets = tables.codes("dongcheng_streets")
    good_ids = []
    earlier: set[str] = set()
    for i, r in enumerate(rows):
        number = r["公民身份号码"].upper()
        kind = manifest.bad_rows.get(i + 2)
        valid = gb11643.validate(number, today=EXPORT_DATE).ok
        assert valid == (kind not in ("bad_check_digit", "future_birth_date")), (i, kind, number)
        assert (kind == "duplicate_id") == (number in earlier), (i, kind)
        assert (kind == "unknown_street") == (r["街道代码"] not in streets)
        assert (kind == "missing_name") == (r["姓名"] == "")
        assert r["网格编码"] in grid_codes
        if kind is None:
            good_ids.append(number)
            assert gb11643.sex(number) == r["性别"]
            born = r["出生日期"].replace("/", "-")
            assert gb11643.birth_date(number) == dt.date(*map(int, born.split("-")))
        earlier.add(number)
    assert len(set(good_ids)) == len(good_ids) == manifest.good_rows


def test_households_across_batches(files: dict) -> None:
    manifest, members = files["h"], files["rows_h"]
    assert manifest.rows == len(members) and len(manifest.bad_rows) == round(len(members) * 0.1)
    pop = population.Population(list(population.batches(ROWS, faults.numpy_stream(8, "population"), BATCH)))
    ids = {p.id_number for p in pop.people}  # the residents file's people, before its own faults
    assert len(ids) == ROWS
    pairs: set[tuple[str, str]] = set()
    heads: Counter[str] = Counter()
    for i, m in enumerate(members):
        kind = manifest.bad_rows.get(i + 2)
        number = m["公民身份号码"]
        assert (kind == "duplicate_member") == ((m["户号"], number) in pairs), (i, kind)
        assert (kind == "bad_check_digit") == (gb11643.check_char(number[:17]) != number[17])
        if kind is None:
            assert number in ids
            heads[m["户号"]] += m["与户主关系"] == "02"
        pairs.add((m["户号"], number))
    assert set(heads.values()) <= {0, 1} and sum(heads.values()) > len(heads) * 0.8


def test_same_seed_same_bytes_and_encodings_say_the_same(tmp_path: Path) -> None:
    a = residents.generate(tmp_path / "a.csv", rows=900, seed=5, batch_rows=200)
    b = residents.generate(tmp_path / "b.csv", rows=900, seed=5, batch_rows=200)
    u = residents.generate(tmp_path / "u.csv", rows=900, seed=5, batch_rows=200, encoding="utf-8-sig")
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.path.read_bytes().decode("gb18030") == u.path.read_bytes().decode("utf-8-sig")
    assert a.bad_rows == u.bad_rows


def test_stream_writes_what_the_csv_module_writes(tmp_path: Path) -> None:
    """Golden: the batch writer's bytes equal ``csv.writer``'s for the same records, quoting included."""
    pop = population.make(60, random.Random(2), batch_rows=25)
    records = residents.records(pop)
    records[3]["address"] = '=HYPERLINK("x"),\r\n东城'
    records[4]["name"] = ' 王"五 '
    write_csv(tmp_path / "golden.csv", residents.DATASET, records, "gb18030")
    text = Text("gb18030")
    with CsvStream(tmp_path / "stream.csv", residents.DATASET, "gb18030") as stream:
        for start in range(0, len(records), 25):
            chunk = records[start : start + 25]
            stream.write({k: text.vocab([r[k] for r in chunk]) for k in chunk[0]})
    assert (tmp_path / "stream.csv").read_bytes() == (tmp_path / "golden.csv").read_bytes()


def test_used_keys_agree_with_a_set() -> None:
    rng = np.random.default_rng(3)
    used, truth = UsedKeys(), set()
    for _ in range(40):
        keys = np.unique(rng.integers(0, 5_000, size=150))
        assert used.contains(keys).tolist() == [int(k) in truth for k in keys]
        fresh = keys[~used.contains(keys)]
        used.add(fresh)
        truth |= set(fresh.tolist())
    assert len(used) == len(truth) and len(used.runs) <= 7


def test_planner_plans_exactly_what_plan_would_whatever_the_batches() -> None:
    for sizes in ([1, 1, 1, 997], [1000], [300, 0, 700], [7] * 142 + [6]):
        planner = faults.Planner(0.07, ("a", "b", "c"), np.random.default_rng(4))
        for size in sizes:
            where, _ = planner.next(size)
            assert len(set(where.tolist())) == len(where) and all(0 <= w < size for w in where.tolist())
        assert len(planner.rows) == round(sum(sizes) * 0.07) and 2 not in planner.rows
        kinds = [planner.rows[r] for r in sorted(planner.rows)]
        assert kinds == [("a", "b", "c")[i % 3] for i in range(len(kinds))]


def test_progress_without_a_terminal_is_plain_lines() -> None:
    out = io.StringIO()
    with GenerationProgress("常住人口.csv", 2_500_000, out) as progress:
        for done in range(100_000, 2_500_001, 100_000):
            progress.update(done)
    assert out.getvalue().splitlines() == [
        "    常住人口.csv: 1,000,000 of 2,500,000 rows",
        "    常住人口.csv: 2,000,000 of 2,500,000 rows",
        "    常住人口.csv: 2,500,000 of 2,500,000 rows",
    ]


@pytest.mark.parametrize("module", [residents, households])
def test_tiny_batches_and_many_faults(module: object, tmp_path: Path) -> None:
    """One person a batch and 90% faulty rows: a duplicate still finds a good row before it."""
    manifest = module.generate(tmp_path / "x.csv", rows=60, bad_share=0.9, seed=2, batch_rows=1)  # type: ignore[attr-defined]
    rows = _read(manifest.path)
    assert len(rows) == manifest.rows and len(manifest.bad_rows) == min(round(manifest.rows * 0.9), manifest.rows - 1)
    seen: set[str] = set()
    for i, r in enumerate(rows):
        key = r["公民身份号码"].upper() + r.get("户号", "")
        kind = manifest.bad_rows.get(i + 2)
        if kind in ("duplicate_id", "duplicate_member"):
            assert key in seen
        seen.add(key)
