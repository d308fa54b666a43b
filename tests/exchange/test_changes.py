"""Change feeds over HTTP: exactly the keys added, changed and removed between two versions, as
each caller's policy sees them (masked, narrowed, row-filtered), in JSON pages and streamed formats."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from access import audit
from catalog import db
from generator import faults, indicators
from hub.settings import Settings
from tests.conftest import LiveServer
from tests.exchange.versions import Edits, publish_two_versions
from tests.published import grant, new_key

URL = "/api/v1/datasets/population-residents/changes"
ALL = ("id_number", "name", "sex", "birth_date", "ethnicity", "phone", "street_code", "community_code", "grid_code",
       "address", "registered_on")  # fmt: skip


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, str, dict[str, str], Edits]]:
    settings = Settings(home=Path(tmp_path_factory.mktemp("changes")) / "hub")
    settings.ensure_dirs()
    edits = publish_two_versions(settings)
    keys = {
        "masked": new_key(settings, "masked-app"),
        "other": new_key(settings, "other-app"),
        "clear": new_key(settings, "clear-app", granted=None),
        "narrow": new_key(settings, "narrow-app", granted=None),
        "from": new_key(settings, "from-street", granted=None),
        "to": new_key(settings, "to-street", granted=None),
    }
    grant(settings, "clear-app", clear=("id_number", "name", "phone", "address"))
    grant(settings, "narrow-app", fields=("id_number", "street_code", "name"), clear=("id_number",))
    grant(settings, "from-street", clear=("id_number",), rows=f"street_code = '{edits.moved_from}'")
    grant(settings, "to-street", clear=("id_number",), rows=f"street_code = '{edits.moved_to}'")
    with LiveServer(settings) as server:
        yield settings, server.url, keys, edits


def expected(edits: Edits, fields: tuple[str, ...], keep: Callable[[dict[str, str]], bool] = lambda r: True) -> dict:
    """The oracle: the change sets computed in Python from the two versions' rows."""
    old = {r["id_number"]: r for r in edits.v1 if keep(r)}
    new = {r["id_number"]: r for r in edits.v2 if keep(r)}
    changed = {k for k in old.keys() & new.keys() if any(old[k][f] != new[k][f] for f in fields)}
    return {"added": new.keys() - old.keys(), "changed": changed, "removed": old.keys() - new.keys()}


def feed(url: str, key: str, path: str = URL, **params: object) -> tuple[dict, dict[str, set[str]], list[dict]]:
    """Every page of a change feed; the first page's body, the keys by op and every change."""
    every: list[dict] = []
    first, cursor = None, None
    with httpx.Client(base_url=url, headers={"X-API-Key": key}) as http:
        while True:
            answer = http.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
            assert answer.status_code == 200, answer.text
            body = answer.json()
            first = first or body
            every += body["changes"]
            cursor = body["next_cursor"]
            if not cursor:
                break
    by_op: dict[str, set[str]] = {"added": set(), "changed": set(), "removed": set()}
    for change in every:
        by_op[change["op"]].add(change["key"])
    assert first is not None
    return first, by_op, every


def test_a_clear_key_gets_exactly_the_known_edits(hub: tuple) -> None:
    _, url, keys, edits = hub
    body, by_op, _ = feed(url, keys["clear"], since="1")
    assert by_op == expected(edits, ALL)
    assert by_op["removed"] == edits.removed and by_op["added"] == edits.added
    assert by_op["changed"] == edits.changed, "a change only in a masked field (name, phone, address) counts"
    assert body["counts"] == {k: len(v) for k, v in by_op.items()}
    assert body["since"]["version"] == 1 and body["until"]["version"] == 2


def test_pages_walk_every_change_once_in_key_order(hub: tuple) -> None:
    _, url, keys, edits = hub
    _, by_op, every = feed(url, keys["clear"], since="1", limit=4)
    assert len(every) == sum(map(len, by_op.values())) == len(edits.added | edits.removed | edits.changed)
    assert [c["key"] for c in every] == sorted(c["key"] for c in every)


def test_a_masked_key_sees_the_same_changes_masked_under_stable_pseudonyms(hub: tuple) -> None:
    _, url, keys, edits = hub
    body, by_op, every = feed(url, keys["masked"], since="1")
    assert {k: len(v) for k, v in by_op.items()} == {k: len(v) for k, v in expected(edits, ALL).items()}
    assert all(len(c["key"]) == 32 and c["key"] not in edits.removed | edits.added for c in every)
    assert all(set(c["record"]["id_number"][6:]) == {"*"} for c in every)
    assert all(set(c["record"]["name"][1:]) <= {"*"} for c in every)
    renamed = next(c for c in every if c["op"] == "changed" and c["record"]["name"].endswith("**"))
    assert "新名" not in renamed["record"]["name"]
    again = feed(url, keys["masked"], since="1")[1]
    assert again == by_op, "the same caller gets the same pseudonyms"
    other = feed(url, keys["other"], since="1")[1]
    assert not (other["changed"] & by_op["changed"]), "another caller cannot join on them"
    with httpx.Client(base_url=url, headers={"X-API-Key": keys["masked"]}) as http:
        exported = http.get("/api/v1/datasets/population-residents/export", params={"format": "parquet"})
    in_export = set(pq.read_table(io.BytesIO(exported.content)).column("_key").to_pylist())
    assert by_op["added"] | by_op["changed"] <= in_export and not by_op["removed"] & in_export


def test_fields_outside_the_grant_are_not_compared(hub: tuple) -> None:
    _, url, keys, edits = hub
    body, by_op, every = feed(url, keys["narrow"], since="1")
    assert by_op == expected(edits, ("id_number", "street_code", "name"))
    assert not (edits.phone_only | edits.address_only) & by_op["changed"]
    assert {f["name"] for f in body["fields"]} == set(every[0]["record"]) == {"id_number", "street_code", "name"}


def test_row_filters_turn_moves_into_removals_and_additions(hub: tuple) -> None:
    _, url, keys, edits = hub
    left = feed(url, keys["from"], since="1")[1]
    arrived = feed(url, keys["to"], since="1")[1]
    assert left == expected(edits, ALL, lambda r: r["street_code"] == edits.moved_from)
    assert arrived == expected(edits, ALL, lambda r: r["street_code"] == edits.moved_to)
    moved_away = {
        i for i in edits.moved if next(r for r in edits.v1 if r["id_number"] == i)["street_code"] == edits.moved_from
    }
    assert moved_away and moved_away <= left["removed"]
    assert edits.moved <= arrived["added"]
    _, _, every = feed(url, keys["to"], since="1")
    assert {c["record"]["street_code"] for c in every if c["op"] != "removed"} == {edits.moved_to}


def test_since_the_current_version_is_empty_and_bad_versions_are_clear_errors(hub: tuple) -> None:
    _, url, keys, _ = hub
    with httpx.Client(base_url=url, headers={"X-API-Key": keys["masked"]}) as http:
        same = http.get(URL, params={"since": "2"}).json()
        assert same["changes"] == [] and same["counts"] == {"added": 0, "changed": 0, "removed": 0}
        unknown = http.get(URL, params={"since": "7"})
        assert unknown.status_code == 404 and "versions 1–2" in unknown.json()["error"]["message"]
        assert http.get(URL, params={"since": "last tuesday"}).status_code == 400
        assert http.get(URL, params={"since": "2", "until": "1"}).status_code == 400
        assert http.get(URL).status_code == 400
        assert http.get(URL, params={"since": "1", "cursor": "bm90IGEgY3Vyc29y"}).status_code == 400
        by_time = http.get(URL, params={"since": "2000-01-01"})
        assert by_time.status_code == 404 and "no version yet" in by_time.json()["error"]["message"]
        snapshot = same["until"]["snapshot_id"]
        assert http.get(URL, params={"since": snapshot}).json()["since"]["version"] == 2


def test_streamed_formats_carry_op_and_key_and_are_audited(hub: tuple) -> None:
    settings, url, keys, edits = hub
    with httpx.Client(base_url=url, headers={"X-API-Key": keys["clear"]}) as http:
        answer = http.get(URL, params={"since": "1", "format": "parquet"})
    assert answer.status_code == 200 and answer.headers["x-hub-since-version"] == "1"
    table = pq.read_table(io.BytesIO(answer.content))
    assert table.column_names[:2] == ["_op", "_key"]
    rows = table.to_pylist()
    assert {r["_key"] for r in rows if r["_op"] == "changed"} == edits.changed
    assert int(answer.headers["x-hub-rows"]) == len(rows)
    with db.session(settings.db_url) as s:
        last = [r for r in audit.records(s) if r.action == "changes"][0]
    assert last.rows == len(rows) and last.client == "clear-app"


def test_an_append_dataset_reports_the_new_rows_as_added(tmp_path: Path) -> None:
    from contracts import model
    from generator.export import write_csv
    from ingest import steps

    settings = Settings(home=tmp_path / "hub")
    settings.ensure_dirs()
    dataset = indicators.DATASET
    contract = model.find(settings.contracts_dir, dataset)
    rows, _ = indicators.make(faults.stream(5, "indicators"), months=4)
    last = max(r["month"] for r in rows)
    for name, part in (
        ("earlier.csv", [r for r in rows if r["month"] != last]),
        ("last.csv", [r for r in rows if r["month"] == last]),
    ):
        write_csv(steps.inbox_folder(settings, contract) / name, dataset, part, "utf-8")
        for file in steps.discover(dataset, settings):
            steps.check(dataset, file, settings, today=dt.date(2026, 11, 1))
        steps.register(dataset, steps.publish(dataset, settings), settings)
    key = new_key(settings, "stats-bureau", granted=None)
    with LiveServer(settings) as server:
        _, by_op, every = feed(server.url, key, "/api/v1/datasets/economy-street_indicators/changes", since="1")
    newest = {r["street_code"] + "|" + r["month"] + "|" + r["indicator"] for r in rows if r["month"] == last}
    assert by_op == {"added": newest, "changed": set(), "removed": set()}, "the key is in clear: street|month|indicator"
    assert {c["record"]["month"] for c in every} == {last}
