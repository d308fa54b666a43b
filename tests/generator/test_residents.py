"""The generator writes what departments send, reproducibly, with the faults it claims."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from generator.residents import EXPORT_DATE, FAULTS, generate
from standards import gb11643, tables


def _read(path: Path, encoding: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    path = tmp_path_factory.mktemp("gen") / "residents.csv"
    manifest = generate(path, rows=600, bad_share=0.1, seed=3, encoding="gb18030")
    return manifest, _read(path, "gb18030")


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a.csv", rows=50, seed=11)
    b = generate(tmp_path / "b.csv", rows=50, seed=11)
    c = generate(tmp_path / "c.csv", rows=50, seed=12)
    assert a.path.read_bytes() == b.path.read_bytes() != c.path.read_bytes()


def test_encodings_and_chinese_headers(tmp_path: Path) -> None:
    gb = generate(tmp_path / "gb.csv", rows=5, encoding="gb18030").path.read_bytes()
    bom = generate(tmp_path / "bom.csv", rows=5, encoding="utf-8-sig").path.read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf")
    assert gb.decode("gb18030").splitlines()[0].startswith("公民身份号码,姓名,性别,出生日期")
    with pytest.raises(UnicodeDecodeError):
        gb.decode("utf-8")


def test_good_rows_have_valid_ids_that_agree_with_sex_and_birth_date(export: tuple) -> None:
    manifest, rows = export
    streets = tables.codes("dongcheng_streets")
    good = [r for i, r in enumerate(rows) if i + 2 not in manifest.bad_rows]
    assert len(good) == manifest.good_rows == 540
    for r in good:
        number = r["公民身份号码"].upper()
        assert gb11643.check_char(number[:17]) == number[17]
        assert gb11643.validate(number, today=EXPORT_DATE).ok
        assert gb11643.sex(number) == r["性别"]
        born = r["出生日期"].replace("/", "-")
        assert gb11643.birth_date(number) == dt.date(*map(int, born.split("-")))
        assert r["街道代码"] in streets and r["社区代码"].startswith(r["街道代码"])
    assert len({r["公民身份号码"].upper() for r in good}) == len(good)


def test_each_fault_kind_is_really_faulty(export: tuple) -> None:
    manifest, rows = export
    assert set(manifest.bad_rows.values()) == set(FAULTS)
    ids_before: set[str] = set()
    for i, r in enumerate(rows):
        kind = manifest.bad_rows.get(i + 2)
        number = r["公民身份号码"].upper()
        if kind == "bad_check_digit":
            assert gb11643.check_char(number[:17]) != number[17]
        elif kind == "unknown_street":
            assert r["街道代码"] not in tables.codes("dongcheng_streets")
        elif kind == "duplicate_id":
            assert number in ids_before
        elif kind == "missing_name":
            assert r["姓名"] == ""
        elif kind == "future_birth_date":
            assert dt.date.fromisoformat(r["出生日期"]) > EXPORT_DATE
        ids_before.add(number)
