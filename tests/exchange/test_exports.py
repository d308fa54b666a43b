"""Exports over HTTP: every format reads back as the records API releases the same version to the
same caller; masks, grants and row filters hold; CSV is safe to open in a spreadsheet; as_of reads
older versions, rebuilt from Iceberg when their serving copy was pruned."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from access import audit
from catalog import db
from exchange.export import FORMULA, neutralize
from hub.settings import Settings
from tests.conftest import LiveServer
from tests.exchange.versions import FORMULA as FORMULA_ADDRESS
from tests.exchange.versions import Edits, publish_two_versions
from tests.published import grant, new_key
from warehouse import serving

BASE = "/api/v1/datasets/population-residents"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, str, dict[str, str], Edits]]:
    settings = Settings(home=Path(tmp_path_factory.mktemp("exports")) / "hub", serving_versions_kept=1)
    settings.ensure_dirs()
    edits = publish_two_versions(settings)
    keys = {
        "masked": new_key(settings, "masked-app"),
        "clear": new_key(settings, "clear-app", granted=None),
        "narrow": new_key(settings, "narrow-app", granted=None),
        "street": new_key(settings, "street-app", granted=None),
    }
    grant(settings, "clear-app", clear=("id_number", "name", "address"))
    grant(settings, "narrow-app", fields=("id_number", "street_code", "name"))
    grant(settings, "street-app", rows=f"street_code = '{edits.moved_to}'")
    with LiveServer(settings) as server:
        yield settings, server.url, keys, edits


def text(value: object) -> str:
    """Values compared across formats as the text a CSV holds (dates ISO, None empty)."""
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def records(url: str, key: str, **params: object) -> list[dict[str, str]]:
    """Every record of the records API, page by page, values as text."""
    out, cursor = [], None
    with httpx.Client(base_url=url, headers={"X-API-Key": key}) as http:
        while True:
            body = http.get(
                f"{BASE}/records", params={"limit": 1000, **params, **({"cursor": cursor} if cursor else {})}
            ).json()
            out += [{k: text(v) for k, v in r.items()} for r in body["records"]]
            if not (cursor := body["next_cursor"]):
                return out


def read_back(fmt: str, content: bytes, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    if fmt == "parquet":
        rows = pq.read_table(io.BytesIO(content)).to_pylist()
    elif fmt == "arrow":
        rows = pa.ipc.open_stream(content).read_all().to_pylist()
    elif fmt == "jsonl":
        rows = [orjson.loads(line) for line in content.splitlines()]
    else:
        rows = list(csv.DictReader(io.StringIO(content.decode(encoding), newline="")))
    return [{k: text(v) for k, v in r.items()} for r in rows]


def export(url: str, key: str, **params: object) -> httpx.Response:
    answer = httpx.get(f"{url}{BASE}/export", params=params, headers={"X-API-Key": key}, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer


@pytest.mark.parametrize("fmt", ["parquet", "arrow", "jsonl"])
def test_each_format_reads_back_as_the_records_api_releases_it(hub: tuple, fmt: str) -> None:
    _, url, keys, edits = hub
    expected = records(url, keys["masked"])
    rows = read_back(fmt, export(url, keys["masked"], format=fmt).content)
    assert [{k: v for k, v in r.items() if k != "_key"} for r in rows] == expected, "same rows, same order"
    assert len(rows) == len(edits.v2)
    assert all(set(r["id_number"][6:]) == {"*"} for r in rows)
    assert len({r["_key"] for r in rows}) == len(rows)


def test_headers_name_the_version_and_a_validator(hub: tuple) -> None:
    _, url, keys, edits = hub
    answer = export(url, keys["masked"], format="csv")
    assert answer.headers["content-disposition"] == 'attachment; filename="population.residents-v2.csv"'
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["x-hub-version"] == "2" and answer.headers["x-hub-rows"] == str(len(edits.v2))
    etag = answer.headers["etag"]
    again = httpx.get(
        f"{url}{BASE}/export", params={"format": "csv"}, headers={"X-API-Key": keys["masked"], "If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""
    assert export(url, keys["masked"], format="csv", as_of="1").headers["etag"] != etag
    assert export(url, keys["clear"], format="csv").headers["etag"] != etag, "another caller, another release"
    assert export(url, keys["masked"], format="parquet").headers["etag"] != etag


def test_csv_has_a_bom_neutralizes_formulas_and_round_trips_in_gb18030(hub: tuple) -> None:
    _, url, keys, edits = hub
    utf8 = export(url, keys["clear"], format="csv").content
    assert utf8.startswith(b"\xef\xbb\xbf")
    rows = read_back("csv", utf8)
    victim = next(r for r in rows if r["id_number"] in edits.address_only)
    assert victim["address"] == "'" + FORMULA_ADDRESS, "a spreadsheet shows the text instead of running it"
    gb = export(url, keys["clear"], format="csv", encoding="gb18030")
    assert gb.headers["content-type"] == "text/csv; charset=gb18030" and not gb.content.startswith(b"\xef\xbb\xbf")
    assert read_back("csv", gb.content, "gb18030") == rows
    assert any(not r["name"].isascii() for r in rows), "Chinese names went through GB18030 and back"
    parquet = read_back("parquet", export(url, keys["clear"], format="parquet").content)
    assert next(r for r in parquet if r["id_number"] in edits.address_only)["address"] == FORMULA_ADDRESS


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")', "plain", "", None, "a=b", "中=文"],
)
def test_neutralize_prefixes_only_what_a_spreadsheet_would_run(value: str | None) -> None:
    batch = pa.RecordBatch.from_pydict({"v": pa.array([value], pa.string()), "n": pa.array([-1], pa.int64())})
    out = neutralize(batch)
    risky = value is not None and value[:1] in ("=", "+", "-", "@", "\t", "\r")
    assert out.column(0)[0].as_py() == ("'" + value if risky else value)
    assert out.column(1)[0].as_py() == -1, "numbers are numbers, never prefixed"
    assert FORMULA.startswith("^")


def test_grants_narrow_fields_and_rows(hub: tuple) -> None:
    _, url, keys, edits = hub
    narrow = read_back("jsonl", export(url, keys["narrow"], format="jsonl").content)
    assert set(narrow[0]) == {"_key", "id_number", "street_code", "name"}
    street = read_back("jsonl", export(url, keys["street"], format="jsonl").content)
    assert street and {r["street_code"] for r in street} == {edits.moved_to}
    assert len(street) == sum(r["street_code"] == edits.moved_to for r in edits.v2)
    clear = read_back("jsonl", export(url, keys["clear"], format="jsonl").content)
    assert {r["id_number"] for r in clear} == {r["id_number"] for r in edits.v2}
    assert all(r["_key"] == r["id_number"] for r in clear), "with the key in clear, _key is the key"


def test_fields_filters_and_refusals(hub: tuple) -> None:
    _, url, keys, edits = hub
    some = read_back(
        "jsonl",
        export(url, keys["masked"], format="jsonl", fields="street_code,sex", street_code=edits.moved_to).content,
    )
    assert set(some[0]) == {"_key", "street_code", "sex"} and {r["street_code"] for r in some} == {edits.moved_to}
    with httpx.Client(base_url=url, headers={"X-API-Key": keys["masked"]}) as http:
        assert http.get(f"{BASE}/export", params={"format": "xlsx"}).status_code == 400
        assert http.get(f"{BASE}/export", params={"encoding": "latin-1", "format": "csv"}).status_code == 400
        masked_filter = http.get(f"{BASE}/export", params={"name": "王**"})
        assert masked_filter.status_code == 400 and "masked" in masked_filter.json()["error"]["message"]
        assert http.get(f"{BASE}/export", params={"as_of": "5"}).status_code == 404
    with httpx.Client(base_url=url, headers={"X-API-Key": keys["narrow"]}) as http:
        assert http.get(f"{BASE}/export", params={"fields": "phone"}).status_code == 403


def test_as_of_reads_an_older_version_rebuilt_from_iceberg(hub: tuple) -> None:
    settings, url, keys, edits = hub
    restored = serving.folder(settings.serving_dir, "population.residents") / serving.RESTORED
    shutil.rmtree(restored, ignore_errors=True)
    # serving_versions_kept=1: version 1's copy was pruned when version 2 was published
    old = read_back("jsonl", export(url, keys["clear"], format="jsonl", as_of="1").content)
    assert {r["id_number"] for r in old} == {r["id_number"] for r in edits.v1}
    assert any(restored.glob("*.duckdb")), "rebuilt from the Iceberg snapshot"
    with httpx.Client(base_url=url, headers={"X-API-Key": keys["clear"]}) as http:
        page = http.get(f"{BASE}/records", params={"as_of": "1", "limit": 5}).json()
        assert page["version"]["version"] == 1 and page["version"]["row_count"] == len(edits.v1)
        walked = records(url, keys["clear"], as_of="1")
        assert {r["id_number"] for r in walked} == {r["id_number"] for r in edits.v1}
        by_time = http.get(f"{BASE}/records", params={"as_of": page["version"]["published_at"], "limit": 1}).json()
        assert by_time["version"]["version"] == 1
        assert http.get(f"{BASE}/records", params={"limit": 1}).json()["version"]["version"] == 2


def test_every_export_is_audited_before_it_leaves(hub: tuple) -> None:
    settings, url, keys, edits = hub
    export(url, keys["street"], format="arrow")
    with db.session(settings.db_url) as s:
        last = [r for r in audit.records(s) if r.action == "export"][0]
    assert last.client == "street-app" and last.version == 2
    assert last.rows == sum(r["street_code"] == edits.moved_to for r in edits.v2)
    with db.session(settings.db_url) as s:
        assert audit.verify(s, settings.audit_key_path).ok
