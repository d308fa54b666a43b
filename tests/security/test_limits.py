"""Findings 4 and 5: every input is bounded; out-of-range numbers are 4xx in the route's own shape.

Each hostile request goes over HTTP to the real server and must answer its documented 4xx
quickly, never a 5xx; the server keeps answering ordinary requests afterwards.
"""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub import limits
from tests.catalog.sites import Site, site

RESOURCE = "population-residents"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(Path(tmp_path_factory.mktemp("limits")), rows=30) as s:
        yield s


def _rid(hub: Site) -> str:
    pkg = httpx.get(f"{hub.url}/api/3/action/package_show", params={"id": RESOURCE}).json()
    if not pkg["success"]:
        pkg = httpx.get(
            f"{hub.url}/api/3/action/package_show", params={"id": RESOURCE}, headers={"X-API-Key": hub.keys["consumer"]}
        ).json()
    return next(r["id"] for r in pkg["result"]["resources"] if r.get("datastore_active"))


def _cursor(snapshot: int, row: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"s": snapshot, "r": row}).encode()).decode().rstrip("=")


# (case, method, path, params or body, expected status, CKAN error type or exchange code)
CKAN_CASES = [
    ("q of 1k characters", "package_search", {"q": "人口" * 500}, 400, "Search Query Error"),
    ("q of 80k characters", "package_search", {"q": "a" * 80_000}, 400, "Search Query Error"),
    ("q of 4M characters", "package_search", {"q": "人" * 4_000_000}, 413, "Request Entity Too Large"),
    ("one long CJK word", "package_search", {"q": "东城区人口" * 40}, 400, "Search Query Error"),
    ("many terms", "package_search", {"q": " ".join(["人口"] * 200)}, 400, "Search Query Error"),
    ("many fq terms", "package_search", {"fq": " ".join(["tags:x"] * 50)}, 400, "Search Query Error"),
    ("rows 10**9 is capped", "package_search", {"rows": 10**9}, 200, None),
    ("start -1", "package_search", {"start": -1}, 409, "Validation Error"),
    ("start 2**63", "package_search", {"start": 2**63}, 409, "Validation Error"),
    ("start not a number", "package_search", {"start": "ten"}, 409, "Validation Error"),
    ("start 10**400", "package_search", {"start": "9" * 5000}, 409, "Validation Error"),
    ("facet.limit -2", "package_search", {"facet.limit": -2}, 409, "Validation Error"),
    ("datastore offset 2**63", "datastore_search", {"offset": 2**63}, 409, "Validation Error"),
    ("datastore offset 2**31", "datastore_search", {"offset": 2**31}, 409, "Validation Error"),
    ("datastore limit -5", "datastore_search", {"limit": -5}, 409, "Validation Error"),
    ("activity offset 10**30", "package_activity_list", {"id": RESOURCE, "offset": 10**30}, 409, "Validation Error"),
    ("activity limit 2**64", "package_activity_list", {"id": RESOURCE, "limit": 2**64}, 409, "Validation Error"),
    ("package_list offset 2**63", "package_list", {"offset": 2**63}, 409, "Validation Error"),
    ("group_list offset 2**63", "group_list", {"offset": 2**63}, 409, "Validation Error"),
    ("JSON body of 5 MiB", "package_search", {"q": "x", "pad": "x" * (5 << 20)}, 413, "Request Entity Too Large"),
]


@pytest.mark.parametrize(("case", "action", "params", "status", "kind"), CKAN_CASES, ids=[c[0] for c in CKAN_CASES])
def test_ckan_actions_bound_their_inputs(
    hub: Site, case: str, action: str, params: dict, status: int, kind: str
) -> None:
    if action == "datastore_search":
        params = {"resource_id": _rid(hub), **params}
    started = time.monotonic()
    got = httpx.post(
        f"{hub.url}/api/3/action/{action}",
        content=json.dumps(params),
        headers={"X-API-Key": hub.keys["consumer"], "Content-Type": "application/json"},
        timeout=30,
    )
    elapsed = time.monotonic() - started
    assert got.status_code == status, (case, got.text[:300])
    body = got.json()
    if kind:
        assert body["success"] is False and body["error"]["__type"] == kind, body
    assert elapsed < 2.5, f"{case} took {elapsed:.1f} s"


@pytest.mark.parametrize(
    ("case", "params"),
    [
        ("q of 80k characters by GET", {"q": "a" * 20_000}),
        ("start 2**63 by GET", {"start": str(2**63)}),
    ],
)
def test_the_same_bounds_hold_for_get(hub: Site, case: str, params: dict) -> None:
    got = httpx.get(f"{hub.url}/api/3/action/package_search", params=params)
    assert got.status_code in (400, 409, 414, 431), (case, got.status_code)
    assert got.status_code >= 400 and got.status_code < 500


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


def test_a_lying_content_length_is_refused_before_the_body_is_read(hub: Site) -> None:
    host, port = hub.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST /api/3/action/package_search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 99999999999\r\n\r\n{}"
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_form_with_too_many_fields_or_files_is_refused(hub: Site) -> None:
    fields = {f"f{i}": "x" for i in range(500)}
    got = httpx.post(f"{hub.url}/api/3/action/package_search", data=fields, headers={"X-API-Key": hub.keys["consumer"]})
    assert got.status_code == 400 and got.json()["error"]["__type"] == "Bad Request"
    two_files = [("upload", ("a.csv", b"a")), ("upload", ("b.csv", b"b"))]
    got = httpx.post(
        f"{hub.url}/api/3/action/resource_create",
        data={"package_id": RESOURCE},
        files=two_files,
        headers={"X-API-Key": hub.keys["publisher"]},
    )
    assert got.status_code == 400


EXCHANGE_CASES = [
    ("limit 0", {"limit": 0}),
    ("limit 10**9", {"limit": 10**9}),
    ("limit 2**64", {"limit": 2**64}),
    ("cursor with a huge row number", {"cursor": _cursor(1, 2**70)}),
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
    assert got.json()["error"]["code"] == "bad_request"


def test_the_server_still_answers_after_the_hostile_requests(hub: Site) -> None:
    got = httpx.get(
        f"{hub.url}/api/3/action/package_search", params={"q": "人口"}, headers={"X-API-Key": hub.keys["consumer"]}
    )
    assert got.status_code == 200 and got.json()["result"]["count"] >= 1


def test_bounded_int_table() -> None:
    assert limits.bounded_int(None, "n", 7) == 7
    assert limits.bounded_int("12", "n", 0) == 12
    for bad in ("-1", str(2**31), "1e3", "0x10", "9" * 30, True, "١٢"):
        with pytest.raises(limits.BadParameter):
            limits.bounded_int(bad, "n", 0)
