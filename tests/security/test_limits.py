"""Findings 4 and 5: every input is bounded; out-of-range numbers are 4xx in the route's own shape.

Each hostile request goes over HTTP to the real server (real SQLite catalogue, real DuckDB
serving copy) and must answer its documented 4xx quickly, in its route's error shape, never a
5xx; the server keeps answering ordinary requests afterwards.
"""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog import db
from catalog.search import FIELDS
from hub import limits
from hub.settings import Settings
from tests.catalog.sites import Site, issue_keys
from tests.conftest import LiveServer
from tests.published import publish_export

RESOURCE = "population-residents"
PUBLISHER_UPLOAD = 256 << 10
"""HUB_UPLOAD_MAX_BYTES_PUBLISHER of this hub (small, so the per-role limit shows)."""
STEWARD_UPLOAD = 8 << 20
"""HUB_UPLOAD_MAX_BYTES_STEWARD: the largest role limit, which sets the limit before the key is known."""
QUICK = 10.0
"""Seconds any refusal may take: a bound, not a benchmark (unbounded, an 80k-character q took 25 s
and a 4M-character one minutes); generous enough for a loaded two-core CI machine."""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    home = Path(tmp_path_factory.mktemp("limits")) / "hub"
    settings = Settings(home=home).model_copy(
        update={"upload_max_bytes_publisher": PUBLISHER_UPLOAD, "upload_max_bytes_steward": STEWARD_UPLOAD}
    )
    settings.ensure_dirs()
    publish_export(settings, "v1.csv", rows=30, bad_share=0.0, seed=7)
    db.migrate(settings.db_url)
    keys = issue_keys(settings)
    with LiveServer(settings) as server:
        yield Site(server.url, server.settings, keys)


@pytest.fixture(scope="module")
def resource_id(hub: Site) -> str:
    pkg = httpx.get(
        f"{hub.url}/api/3/action/package_show", params={"id": RESOURCE}, headers={"X-API-Key": hub.keys["consumer"]}
    ).json()
    return next(r["id"] for r in pkg["result"]["resources"] if r.get("datastore_active"))


def _cursor(snapshot: int, row: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"s": snapshot, "r": row}).encode()).decode().rstrip("=")


def _raw(hub: Site, head: bytes, body: bytes = b"", *, timeout: float = 5) -> bytes:
    """Send bytes as they are (no client-side checks) and return the start of the answer."""
    host, port = hub.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        try:
            sock.sendall(head + body)
        except OSError:  # the server may answer and close before it has read everything
            pass
        return sock.recv(65536)


def _ckan_body(answer: bytes) -> dict[str, Any]:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])


@dataclass(frozen=True)
class Case:
    name: str
    action: str
    params: dict[str, Any]
    status: int
    kind: str | None  # CKAN error __type; None: a success
    get: bool = False  # as a GET query string instead of a JSON body


CKAN_CASES = [
    # package_search: q and fq by length and number of terms, paging numbers by range
    Case("q of 1k characters", "package_search", {"q": "人口" * 500}, 400, "Search Query Error"),
    Case("q of 1k characters by GET", "package_search", {"q": "a" * 1000}, 400, "Search Query Error", get=True),
    Case("q of 80k characters", "package_search", {"q": "a" * 80_000}, 400, "Search Query Error"),
    Case("q of 4M characters", "package_search", {"q": "a" * 4_000_000}, 413, "Request Entity Too Large"),
    Case("one CJK word of 200 characters", "package_search", {"q": "东城区人口" * 40}, 400, "Search Query Error"),
    Case("200 terms", "package_search", {"q": " ".join(["人口"] * 200)}, 400, "Search Query Error"),
    Case("50 fq terms", "package_search", {"fq": " ".join(["tags:x"] * 50)}, 400, "Search Query Error"),
    Case("100 fq_list entries", "package_search", {"fq_list": ["tags:x"] * 100}, 400, "Search Query Error"),
    Case("sort of 1k characters", "package_search", {"sort": "name asc," * 125}, 400, "Search Query Error"),
    Case("facet.field repeated 50k times", "package_search", {"facet.field": ["tags"] * 50_000}, 200, None),
    Case("rows 10**9 is capped at 1000", "package_search", {"rows": 10**9}, 200, None),
    Case("start -1", "package_search", {"start": -1}, 409, "Validation Error"),
    Case("start 2**63", "package_search", {"start": 2**63}, 409, "Validation Error"),
    Case("start 2**63 by GET", "package_search", {"start": str(2**63)}, 409, "Validation Error", get=True),
    Case("start 10**5000 by GET", "package_search", {"start": "9" * 5000}, 409, "Validation Error", get=True),
    Case("start not a number", "package_search", {"start": "ten"}, 409, "Validation Error"),
    Case("start 1.5", "package_search", {"start": 1.5}, 409, "Validation Error"),
    Case("rows in exponent form", "package_search", {"rows": "1e3"}, 409, "Validation Error"),
    Case("start in Arabic-Indic digits", "package_search", {"start": "١٢"}, 409, "Validation Error"),
    Case("facet.limit -2", "package_search", {"facet.limit": -2}, 409, "Validation Error"),
    # datastore_search: offset/limit by range, q and sort by length
    Case("datastore offset 2**63", "datastore_search", {"offset": 2**63}, 409, "Validation Error"),
    Case("datastore offset 2**63 by GET", "datastore_search", {"offset": str(2**63)}, 409, "Validation Error", True),
    Case("datastore offset 2**31", "datastore_search", {"offset": 2**31}, 409, "Validation Error"),
    Case("datastore limit -5", "datastore_search", {"limit": -5}, 409, "Validation Error"),
    Case("datastore limit -5 by GET", "datastore_search", {"limit": "-5"}, 409, "Validation Error", get=True),
    Case("datastore limit 10**9 is capped", "datastore_search", {"limit": 10**9}, 200, None),
    Case("datastore q of 100k characters", "datastore_search", {"q": "张" * 100_000}, 409, "Validation Error"),
    Case("datastore sort of 1k characters", "datastore_search", {"sort": "_id," * 250}, 409, "Validation Error"),
    # activity and listings
    Case(
        "activity offset 10**30", "package_activity_list", {"id": RESOURCE, "offset": 10**30}, 409, "Validation Error"
    ),
    Case(
        "activity offset 10**30 by GET",
        "package_activity_list",
        {"id": RESOURCE, "offset": str(10**30)},
        409,
        "Validation Error",
        get=True,
    ),
    Case("activity limit 2**64", "package_activity_list", {"id": RESOURCE, "limit": 2**64}, 409, "Validation Error"),
    Case("package_list offset 2**63", "package_list", {"offset": 2**63}, 409, "Validation Error"),
    Case("package_list limit -1 by GET", "package_list", {"limit": "-1"}, 409, "Validation Error", get=True),
    Case(
        "current_package_list offset 2**63",
        "current_package_list_with_resources",
        {"offset": 2**63},
        409,
        "Validation Error",
    ),
    Case("group_list offset 2**63", "group_list", {"offset": 2**63}, 409, "Validation Error"),
    Case("organization_list limit 2**63", "organization_list", {"limit": 2**63}, 409, "Validation Error"),
    Case("tag_list query of 100k characters", "tag_list", {"query": "x" * 100_000}, 409, "Validation Error"),
    # bodies
    Case("JSON body of 5 MiB", "package_search", {"q": "x", "pad": "x" * (5 << 20)}, 413, "Request Entity Too Large"),
]


@pytest.mark.parametrize("case", CKAN_CASES, ids=[c.name for c in CKAN_CASES])
def test_ckan_actions_bound_their_inputs(hub: Site, resource_id: str, case: Case) -> None:
    params = {"resource_id": resource_id, **case.params} if case.action == "datastore_search" else case.params
    url = f"{hub.url}/api/3/action/{case.action}"
    key = {"X-API-Key": hub.keys["consumer"]}
    started = time.monotonic()
    if case.get:
        got = httpx.get(url, params=params, headers=key, timeout=30)
    else:
        body = json.dumps(params, ensure_ascii=False).encode()
        got = httpx.post(url, content=body, headers={**key, "Content-Type": "application/json"}, timeout=30)
    elapsed = time.monotonic() - started
    assert got.status_code == case.status, got.text[:300]
    answer = got.json()
    assert answer["help"].endswith(f"/api/3/action/help_show?name={case.action}")
    if case.kind is None:
        assert answer["success"] is True
    else:
        assert answer["success"] is False and answer["error"]["__type"] == case.kind, answer
    if case.kind == "Validation Error":  # CKAN names the parameter
        named = set(answer["error"]) - {"__type"}
        assert named & set(case.params), answer
    assert elapsed < QUICK, f"took {elapsed:.2f} s"


def test_capped_numbers_return_at_most_the_cap(hub: Site, resource_id: str) -> None:
    key = {"X-API-Key": hub.keys["consumer"]}
    search = httpx.get(f"{hub.url}/api/3/action/package_search", params={"rows": 10**9}, headers=key).json()
    assert search["success"] and len(search["result"]["results"]) <= 1000
    page = httpx.post(
        f"{hub.url}/api/3/action/datastore_search", json={"resource_id": resource_id, "limit": 10**9}, headers=key
    ).json()["result"]
    assert page["limit"] == 1000 and len(page["records"]) == 30


def test_the_most_a_search_may_ask_is_answered_quickly(hub: Site) -> None:
    """20 Chinese words of 24 characters (480 characters, every piece a LIKE): the bounded worst case."""
    words = ["东城区常住人口户籍信息统计基础数据共享交换平"] * 20
    started = time.monotonic()
    got = httpx.post(
        f"{hub.url}/api/3/action/package_search",
        json={"q": " ".join(words), "facet.field": sorted(FIELDS)},
        headers={"X-API-Key": hub.keys["steward"]},
    )
    assert got.status_code == 200, got.text[:300]
    assert time.monotonic() - started < QUICK


@pytest.mark.parametrize("size", [80_000, 4_000_000], ids=["80k", "4M"])
def test_a_huge_query_string_is_refused_by_the_server_at_once(hub: Site, size: int) -> None:
    started = time.monotonic()
    answer = _raw(hub, b"GET /api/3/action/package_search?q=" + b"a" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert time.monotonic() - started < QUICK


def test_a_chunked_body_without_length_is_cut_at_the_limit(hub: Site) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"q": "'
        for _ in range(3_000):
            yield b"x" * 1024
        yield b'"}'

    got = httpx.post(
        f"{hub.url}/api/3/action/package_search", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert got.status_code == 413
    assert got.json()["error"]["__type"] == "Request Entity Too Large"


def test_a_content_length_over_the_limit_is_refused_before_the_body_is_read(hub: Site) -> None:
    answer = _raw(
        hub,
        b"POST /api/3/action/package_search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 99999999999\r\n\r\n{",
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert _ckan_body(answer)["error"]["__type"] == "Request Entity Too Large"


def test_a_body_to_the_exchange_api_over_the_limit_is_413_in_the_exchange_shape(hub: Site) -> None:
    got = httpx.post(f"{hub.url}/api/v1/datasets", content=b"x" * (5 << 20), headers={"X-API-Key": hub.keys["steward"]})
    assert got.status_code == 413
    error = got.json()["error"]
    assert error["code"] == "too_large" and error["request_id"] == got.headers["X-Request-ID"]


def test_a_multipart_form_with_10k_fields_is_refused(hub: Site) -> None:
    fields = [(f"f{i}", (None, "x")) for i in range(10_000)]
    started = time.monotonic()
    got = httpx.post(
        f"{hub.url}/api/3/action/package_search", files=fields, headers={"X-API-Key": hub.keys["consumer"]}
    )
    assert got.status_code == 400 and got.json()["error"]["__type"] == "Bad Request", got.text[:300]
    assert time.monotonic() - started < QUICK


def test_a_urlencoded_form_with_many_fields_is_refused(hub: Site) -> None:
    fields = {f"f{i}": "x" for i in range(500)}
    got = httpx.post(f"{hub.url}/api/3/action/package_search", data=fields, headers={"X-API-Key": hub.keys["consumer"]})
    assert got.status_code == 400 and got.json()["error"]["__type"] == "Bad Request"


def test_a_form_with_two_files_is_refused(hub: Site) -> None:
    got = httpx.post(
        f"{hub.url}/api/3/action/resource_create",
        data={"package_id": RESOURCE},
        files=[("upload", ("a.csv", b"a")), ("upload", ("b.csv", b"b"))],
        headers={"X-API-Key": hub.keys["publisher"]},
    )
    assert got.status_code == 400 and got.json()["error"]["__type"] == "Bad Request"


def _upload_head(length: int, key: str | None) -> bytes:
    auth = f"X-API-Key: {key}\r\n".encode() if key else b""
    return (
        b"POST /api/3/action/resource_create HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Type: multipart/form-data; "
        b"boundary=b\r\nContent-Length: " + str(length).encode() + b"\r\n\r\n"
    )


def test_an_anonymous_upload_is_refused_before_its_body_is_read(hub: Site) -> None:
    """No key: 403 at once, although the declared body (5 MiB) is within the upload limit and never sent."""
    answer = _raw(hub, _upload_head(5 << 20, None))
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
    assert _ckan_body(answer)["error"]["__type"] == "Authorization Error"


def test_an_upload_over_the_roles_limit_is_refused_before_its_body_is_read(hub: Site) -> None:
    """A publisher may send 256 KiB (+ 1 MiB of form): 3 MiB is refused before any of it is read,
    although it is under the steward's limit that holds until the key is known."""
    answer = _raw(hub, _upload_head(3 << 20, hub.keys["publisher"]))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert _ckan_body(answer)["error"]["__type"] == "Request Entity Too Large"


def test_a_chunked_upload_is_cut_at_the_roles_limit(hub: Site) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="package_id"\r\n\r\n' + RESOURCE.encode() + b"\r\n"
        yield b'--b\r\nContent-Disposition: form-data; name="upload"; filename="v2.csv"\r\n\r\n'
        for _ in range(3 * 1024):  # 3 MiB of file
            yield b"x" * 1023 + b"\n"
        yield b"\r\n--b--\r\n"

    got = httpx.post(
        f"{hub.url}/api/3/action/resource_create",
        content=chunks(),
        headers={"X-API-Key": hub.keys["publisher"], "Content-Type": "multipart/form-data; boundary=b"},
        timeout=30,
    )
    assert got.status_code == 413, got.text[:300]
    error = got.json()["error"]
    assert error["__type"] == "Request Entity Too Large"
    assert error["message"].startswith("request body passed"), error  # cut while streaming, not after spooling


EXCHANGE_CASES = [
    ("limit 0", {"limit": 0}),
    ("limit -1", {"limit": -1}),
    ("limit not a number", {"limit": "many"}),
    ("limit 10**9", {"limit": 10**9}),
    ("limit 2**64", {"limit": 2**64}),
    ("cursor with a huge row number", {"cursor": _cursor(1, 2**70)}),
    ("cursor with a row just past 2**62", {"cursor": _cursor(1, 2**62 + 1)}),
    ("cursor with a huge snapshot", {"cursor": _cursor(2**70, 1)}),
    ("cursor with a negative row", {"cursor": _cursor(1, -1)}),
    ("cursor of 10k characters", {"cursor": "A" * 10_000}),
    ("cursor that is not base64 JSON", {"cursor": "%%%"}),
]


@pytest.mark.parametrize(("case", "params"), EXCHANGE_CASES, ids=[c[0] for c in EXCHANGE_CASES])
def test_records_bound_their_inputs_in_the_exchange_shape(hub: Site, case: str, params: dict) -> None:
    got = httpx.get(
        f"{hub.url}/api/v1/datasets/{RESOURCE}/records", params=params, headers={"X-API-Key": hub.keys["steward"]}
    )
    assert got.status_code == 400, (case, got.text[:300])
    error = got.json()["error"]
    assert error["code"] == "bad_request" and error["request_id"] == got.headers["X-Request-ID"]


def test_the_server_still_answers_after_the_hostile_requests(hub: Site) -> None:
    got = httpx.get(
        f"{hub.url}/api/3/action/package_search", params={"q": "人口"}, headers={"X-API-Key": hub.keys["consumer"]}
    )
    assert got.status_code == 200 and got.json()["result"]["count"] >= 1
    got = httpx.get(
        f"{hub.url}/api/v1/datasets/{RESOURCE}/records", params={"limit": 5}, headers={"X-API-Key": hub.keys["steward"]}
    )
    assert got.status_code == 200 and len(got.json()["records"]) == 5


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 7),
        ("", 7),
        ("12", 12),
        (12, 12),
        (" 3 ", 3),
        ("+4", 4),
        ("0", 0),
        (str(limits.MAX_OFFSET), limits.MAX_OFFSET),
    ],
)
def test_bounded_int_accepts(value: object, expected: int) -> None:
    assert limits.bounded_int(value, "n", 7) == expected


@pytest.mark.parametrize(
    "value", ["-1", str(limits.MAX_OFFSET + 1), "1e3", "0x10", "1_000", "9" * 30, True, 1.5, "١٢", "12\n3", [1], {}]
)
def test_bounded_int_refuses(value: object) -> None:
    with pytest.raises(limits.BadParameter):
        limits.bounded_int(value, "n", 0)
