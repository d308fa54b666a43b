"""Reading what departments send and standardizing it: encodings, headers, types, file faults."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from contracts import model
from hub.errors import InputError
from hub.settings import get_settings
from ingest.read import read_file, sniff_encoding
from ingest.standardize import standardize

CONTRACT = model.find(get_settings().contracts_dir, "population.residents")
HEADER = "公民身份号码,姓名,性别,出生日期,民族,联系电话,街道代码,社区代码,网格编码,居住地址,登记日期"
ROW = (
    "１１０１０１１９９００３０７４４７７,王伟 ,1,1990年3月7日,01,13800138000,"
    "110101001,110101001001,110101001001001,北京市东城区,2001/2/3"
)


@pytest.mark.parametrize(
    ("encoding", "expected"), [("gb18030", "gb18030"), ("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8")]
)
def test_encodings_are_sniffed(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(f"{HEADER}\n{ROW}\n".encode(encoding))
    raw = read_file(path, CONTRACT)
    assert raw.encoding == expected
    assert raw.table.column("name").to_pylist() == ["王伟 "]


def test_undecodable_bytes_are_a_file_error() -> None:
    with pytest.raises(InputError, match="GB18030"):
        sniff_encoding(b"\xff\xfe\xfa\xfb" * 10)


def test_missing_required_column_names_the_file_and_column(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_text("姓名,性别\n王伟,1\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_file(path, CONTRACT)
    assert "cut.csv" in str(err.value) and "公民身份号码" in str(err.value) and err.value.rule == "columns"


def test_unsupported_format(tmp_path: Path) -> None:
    path = tmp_path / "x.docx"
    path.write_bytes(b"PK")
    with pytest.raises(InputError, match="unsupported format"):
        read_file(path, CONTRACT)


def test_standardize_repairs_spellings_and_reports_changes(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(f"{HEADER}\n{ROW}\n", encoding="utf-8")
    out = standardize(read_file(path, CONTRACT).table, CONTRACT)
    row = out.table.to_pylist()[0]
    assert row["id_number"] == "110101199003074477"
    assert row["name"] == "王伟"
    assert row["birth_date"] == dt.date(1990, 3, 7) and row["registered_on"] == dt.date(2001, 2, 3)
    assert out.issues == []
    changed = {(c.column, c.rule) for c in out.changes}
    assert ("id_number", "normalize:fullwidth") in changed
    assert ("birth_date", "normalize:iso_date") in changed
    assert ("name", "normalize:strip_spaces") in changed


def test_values_that_do_not_cast_are_issues_not_failures() -> None:
    raw = pa.table({f.name: pa.array(["x"], pa.string()) for f in CONTRACT.fields})
    raw = raw.set_column(raw.column_names.index("birth_date"), "birth_date", pa.array(["2024-02-30"]))
    out = standardize(raw, CONTRACT)
    assert [(i.row, i.column, i.rule) for i in out.issues] == [
        (2, "birth_date", "type:date"),
        (2, "registered_on", "type:date"),
    ]
    assert out.table.column("birth_date").to_pylist() == [None]
