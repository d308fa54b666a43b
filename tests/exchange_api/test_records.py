"""The exchange API over HTTP: auth, masking, filters, keyset pagination, version swaps, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.settings import Settings
from tests.conftest import LiveServer
from tests.published import new_key, publish_export

URL = "/api/v1/datasets/population-residents/records"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, httpx.Client, str, int]]:
    settings = Settings(home=Path(tmp_path_factory.mktemp("api")) / "hub")
    settings.ensure_dirs()
    manifest = publish_export(settings, "v1.csv", rows=260, bad_share=0.0, seed=21)
    key = new_key(settings, "api-tests")
    with LiveServer(settings) as server, httpx.Client(base_url=server.url, headers={"X-API-Key": key}) as http:
        yield settings, http, key, manifest.good_rows


def test_keys_are_accepted_in_every_documented_header(env: tuple) -> None:
    settings, http, key, _ = env
    for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}, {"Authorization": key}):
        assert httpx.get(str(http.base_url) + URL, headers=headers).status_code == 200


def test_without_or_with_a_bad_key_is_401_in_the_error_shape(env: tuple) -> None:
    _, http, _, _ = env
    response = httpx.get(str(http.base_url) + URL, headers={"X-Request-ID": "req-1"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json() == {
        "error": {"code": "not_authorized", "message": response.json()["error"]["message"], "request_id": "req-1"}
    }


def test_keyset_pagination_walks_every_record_once(env: tuple) -> None:
    _, http, _, total = env
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        body = http.get(URL, params=params).json()
        seen += [r["id_number"] for r in body["records"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == total == 260
    assert seen == [r["id_number"] for r in http.get(URL, params={"limit": 1000}).json()["records"]]


def test_masking_hides_ids_names_phones_addresses_and_the_birth_day(env: tuple) -> None:
    _, http, _, _ = env
    body = http.get(URL, params={"limit": 50}).json()
    masked = {f["name"]: f["release"] for f in body["fields"] if f["masked"]}
    assert masked == {
        "id_number": "id_number",
        "name": "name",
        "phone": "phone",
        "address": "address",
        "birth_date": "year_month",
    }
    for r in body["records"]:
        assert r["id_number"][6:] == "*" * 12 and r["id_number"][:6].isdigit()
        assert len(r["birth_date"]) == 7 and r["birth_date"][4] == "-"
        assert set(r["name"][1:]) == {"*"}
        assert r["address"].endswith("****") and r["address"].startswith("北京市东城区")
        assert r["phone"] is None or r["phone"][3:7] == "****"


def test_filter_and_fields(env: tuple) -> None:
    _, http, _, _ = env
    body = http.get(URL, params={"street_code": "110101003", "fields": "street_code,birth_date", "limit": 1000}).json()
    assert body["records"] and all(
        r == {"street_code": "110101003", "birth_date": r["birth_date"]} for r in body["records"]
    )
    all_rows = http.get(URL, params={"fields": "street_code", "limit": 1000}).json()["records"]
    assert len(body["records"]) == sum(r["street_code"] == "110101003" for r in all_rows)


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"id_number": "110101199003074477"}, "verify API"),
        ({"no_such_field": "1"}, "unknown parameter"),
        ({"fields": "id_number,nope"}, "unknown fields"),
        ({"cursor": "!!!"}, "cursor is not valid"),
        ({"limit": "5000"}, "limit"),
    ],
    ids=["filter-on-sensitive", "unknown-filter", "unknown-field", "bad-cursor", "limit-too-big"],
)
def test_bad_requests_are_400_with_a_reason(env: tuple, params: dict[str, str], needle: str) -> None:
    _, http, _, _ = env
    response = http.get(URL, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_request"
    assert needle in response.json()["error"]["message"]


def test_unknown_dataset_is_404(env: tuple) -> None:
    _, http, _, _ = env
    response = http.get("/api/v1/datasets/population-nobody/records")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_dataset_list_and_detail(env: tuple) -> None:
    _, http, _, total = env
    listing = http.get("/api/v1/datasets").json()
    assert [d["name"] for d in listing["datasets"]] == ["population-residents"]
    detail = http.get("/api/v1/datasets/population.residents").json()
    assert detail["latest_version"]["row_count"] == total
    assert {f["name"] for f in detail["fields"]} >= {"id_number", "street_code"}


def test_openapi_docs_are_served(env: tuple) -> None:
    _, http, _, _ = env
    assert http.get("/docs").status_code == 200
    paths = http.get("/openapi.json").json()["paths"]
    assert {"/api/v1/datasets", "/api/v1/datasets/{ref}/records", "/api/3/action/{name}"} <= set(paths)


def test_new_version_is_served_without_restart_and_pinned_cursor_survives(env: tuple) -> None:
    settings, http, _, total = env
    first = http.get(URL, params={"limit": 100}).json()
    publish_export(settings, "v2.csv", rows=120, bad_share=0.0, seed=22)
    fresh = http.get(URL, params={"limit": 1000}).json()
    assert fresh["snapshot_id"] != first["snapshot_id"] and len(fresh["records"]) == 120
    rest = http.get(URL, params={"limit": 1000, "cursor": first["next_cursor"]}).json()
    assert rest["snapshot_id"] == first["snapshot_id"] and len(rest["records"]) == total - 100


def test_row_store_pages_are_read_on_the_event_loop_and_the_rest_in_a_worker_thread(
    env: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page the row store answers, of a copy already open, is read on the loop (a hop to a worker
    thread costs more than the read); one that overruns its budget of SQLite steps, or a past
    version, is read in a worker thread. The answers are the same either way."""
    import anyio.to_thread

    from exchange_api import deps
    from warehouse import rowstore

    _, http, _, _ = env
    handed: list[str] = []
    real = anyio.to_thread.run_sync

    async def recording(func: object, *args: object, **kwargs: object) -> object:
        handed.append(getattr(func, "__name__", ""))
        return await real(func, *args, **kwargs)  # type: ignore[arg-type]

    first = http.get(URL, params={"limit": 7})
    assert first.status_code == 200  # the copy is open from here on
    monkeypatch.setattr(anyio.to_thread, "run_sync", recording)
    quick = http.get(URL, params={"limit": 7})
    assert quick.json()["records"] == first.json()["records"]
    assert "read" not in handed and handed, f"only the audit batch went to a thread: {handed}"

    handed.clear()
    monkeypatch.setattr(rowstore, "STEPS_PER_CHECK", 1)
    monkeypatch.setattr(deps, "QUICK_STEPS", 1)  # every read overruns
    slow = http.get(URL, params={"limit": 7})
    assert "read" in handed, handed
    assert slow.json()["records"] == first.json()["records"]

    monkeypatch.undo()
    monkeypatch.setattr(anyio.to_thread, "run_sync", recording)
    handed.clear()
    past = http.get(URL, params={"limit": 7, "as_of": "1"})
    assert past.status_code == 200 and "read" in handed, handed
