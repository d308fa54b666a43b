"""Finding 8: headers and docs.

Over HTTP to the real server (uvicorn, SQLite catalogue, DuckDB serving copy): the documentation
pages load nothing from another origin and allow no inline script but their own (by hash); every
answer carries the security headers; ``X-Request-ID`` is kept only when it is a short token;
``user_show`` answers the same for a client name that exists and one that does not; anonymous
DCAT never names a private dataset, not even in a public dataset's lineage; the OpenAPI
document describes how a key is sent, and every way of sending one still works.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from catalog import db, service
from catalog.models import Dataset, Version
from contracts import model
from tests.catalog.sites import Site, site
from tests.published import DATASET

TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
FRESH = re.compile(r"[0-9a-f]{32}")
PUBLIC_INPUT = "spatial.grids"
DERIVED = "derived.grid_statistics"  # 有条件开放: public metadata, built from the private residents
FORMATS = ("ttl", "jsonld", "xml", "rdf", "nt")


@dataclass(frozen=True)
class Hub:
    site: Site
    private: dict[str, str]
    """What an anonymous caller must never read: the residents' id, name, key, code, snapshots."""
    grids_snapshot: str
    derived_name: str
    derived_id: str

    @property
    def url(self) -> str:
        return self.site.url

    def key(self, role: str) -> dict[str, str]:
        return {"X-API-Key": self.site.keys[role]}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with site(tmp_path_factory.mktemp("headers"), rows=20) as s:
        contracts = s.settings.contracts_dir
        with db.session(s.settings.db_url) as session:
            residents = service.dataset(session, DATASET)
            assert residents.private, "the residents are 不予开放: private"
            snapshots = [str(v.snapshot_id) for v in session.query(Version).filter_by(dataset_id=residents.id)]
            private = {"id": residents.id, "name": residents.name, "key": residents.key}
            private |= {"code": residents.resource_code or ""} | {f"snapshot{i}": x for i, x in enumerate(snapshots)}
            common: dict[str, Any] = {"row_count": 3, "rows_rejected": 0, "source_file": "build", "quality": {}}
            service.record_version(
                session, model.find(contracts, PUBLIC_INPUT), snapshot_id=7001, source_sha256="a" * 64, **common
            )
            derived = service.record_version(
                session,
                model.find(contracts, DERIVED),
                snapshot_id=7002,
                source_sha256="b" * 64,
                lineage={"inputs": {DATASET: snapshots[0], PUBLIC_INPUT: "7001"}},
                **common,
            ).dataset
            assert not derived.private
            names = (derived.name, derived.id)
        yield Hub(s, private, "7001", *names)


# -- the documentation pages ---------------------------------------------------------------


def _inline(html: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.S)


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _directive(policy: str, name: str) -> list[str]:
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    raise AssertionError(f"{name} missing from {policy!r}")


@pytest.mark.parametrize(
    ("page", "kinds"),
    [
        ("/docs", {"swagger-ui-bundle.js": "javascript", "swagger-ui.css": "text/css", "favicon.png": "image/png"}),
        ("/redoc", {"redoc.standalone.js": "javascript", "favicon.png": "image/png"}),
    ],
)
def test_docs_pages_load_only_the_hubs_own_files(hub: Hub, page: str, kinds: dict[str, str]) -> None:
    answer = httpx.get(hub.url + page)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    html = answer.text
    refs = re.findall(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']""", html)
    assert refs and not [r for r in refs if re.match(r"(?i)(https?:)?//", r)], refs
    assert "cdn" not in html.lower() and "googleapis" not in html
    assets = {r.rsplit("/", 1)[-1]: r for r in refs if r.startswith("/assets/docs/")}
    assert set(assets) == set(kinds)
    for name, kind in kinds.items():
        got = httpx.get(hub.url + assets[name])
        assert got.status_code == 200 and kind in got.headers["content-type"], (name, got.headers)
        assert len(got.content) > 4000 and b"://cdn" not in got.content[:2000]
    assert httpx.get(hub.url + "/openapi.json").status_code == 200

    policy = answer.headers["content-security-policy"]
    scripts = _directive(policy, "script-src")
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts and "*" not in " ".join(scripts)
    assert set(scripts) == {"'self'", *(_sha(s) for s in _inline(html, "script"))}
    assert _directive(policy, "default-src") == ["'none'"] and _directive(policy, "frame-ancestors") == ["'none'"]
    assert not [w for w in policy.split() if "http" in w or w in ("*", "data:*")]
    styles = _directive(policy, "style-src")
    if page == "/docs":  # Swagger UI needs no inline style; ReDoc inserts <style> elements at run time
        assert styles == ["'self'"]
    else:
        assert styles == ["'self'", "'unsafe-inline'"]


# -- security headers on every answer ------------------------------------------------------

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
STRICT = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

REQUESTS: list[tuple[str, str, str | None, int]] = [
    # (method, path, role, status)
    ("GET", "/api/3/action/site_read", None, 200),
    ("GET", "/api/3/action/package_list", "consumer", 200),
    ("GET", "/api/3/action/package_show?id=nothing", None, 404),
    ("POST", "/api/3/action/package_create", None, 403),
    ("GET", "/api/action/status_show", None, 200),
    ("GET", "/api/v1/datasets", "consumer", 200),
    ("GET", "/api/v1/datasets", None, 401),
    ("GET", f"/api/v1/datasets/{DATASET}/records?limit=2", "consumer", 200),
    ("GET", "/api/v1/datasets/nothing/records", "consumer", 404),
    ("GET", "/api/v1/datasets/x/records?limit=0", "consumer", 400),
    ("GET", "/catalog.ttl", None, 200),
    ("GET", "/catalog.ttl", "consumer", 200),
    ("GET", f"/dataset/{DATASET}.jsonld", "consumer", 200),
    ("GET", "/openapi.json", None, 200),
    ("GET", "/docs", None, 200),
    ("GET", "/assets/docs/swagger-ui.css", None, 200),
    ("GET", "/no/such/page", None, 404),
]


@pytest.mark.parametrize(("method", "path", "role", "status"), REQUESTS)
def test_every_answer_carries_the_security_headers(
    hub: Hub, method: str, path: str, role: str | None, status: int
) -> None:
    answer = httpx.request(method, hub.url + path, headers=hub.key(role) if role else {})
    assert answer.status_code == status, answer.text[:300]
    for name, value in COMMON.items():
        assert answer.headers.get(name) == value, name
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    if path not in ("/docs",):
        assert policy == STRICT
    if path.startswith("/api/") or role:
        assert answer.headers["cache-control"] == "no-store"
    else:  # public, anonymous: the catalogue, the documentation
        assert "no-store" not in answer.headers.get("cache-control", "")
    assert "strict-transport-security" not in answer.headers, "plain HTTP never sets HSTS"
    assert TOKEN.fullmatch(answer.headers["x-request-id"])


def test_413_from_the_body_limit_carries_them_too(hub: Hub) -> None:
    extra = b"Content-Type: application/json\r\nContent-Length: 99999999999\r\n"
    status, headers, _ = _raw(hub, "/api/3/action/package_search", extra, method="POST")
    assert status == 413
    got = dict(headers)
    for name, value in COMMON.items():
        assert got.get(name) == value, name
    assert got["cache-control"] == "no-store" and got["content-security-policy"] == STRICT


@pytest.mark.parametrize(("forwarded", "hsts"), [("https", True), ("http", False), (None, False)])
def test_hsts_only_over_https(hub: Hub, forwarded: str | None, hsts: bool) -> None:
    """uvicorn trusts X-Forwarded-Proto from the TLS proxy on the same host (127.0.0.1)."""
    headers = {"X-Forwarded-Proto": forwarded} if forwarded else {}
    answer = httpx.get(hub.url + "/api/3/action/site_read", headers=headers)
    assert ("strict-transport-security" in answer.headers) is hsts
    if hsts:
        assert answer.headers["strict-transport-security"].startswith("max-age=31536000")


# -- X-Request-ID --------------------------------------------------------------------------


def _raw(hub: Hub, path: str, extra: bytes, method: str = "GET") -> tuple[int, list[tuple[str, str]], bytes]:
    """One request written byte for byte (no client library cleans the header up first)."""
    port = int(hub.url.rsplit(":", 1)[1])
    start = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".encode()
    request = start + extra + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = [(k.strip().lower(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    return int(lines[0].split()[1]), headers, body


KEPT = ["req-1", "a" * 64, "2026-11-22T10:00:00.123Z", "trace:abc.DEF_9-0", "0"]
REPLACED: list[bytes] = [
    b"",
    b"a" * 65,
    b"a" * 10_000,
    b"abc%0d%0aSet-Cookie: injected=1",
    b"abc def",
    b"abc\tdef",
    b"<script>alert(1)</script>",
    b"../../etc/passwd",
    b"${jndi:ldap://127.0.0.1/a}",
    b"id;rm -rf /",
    "请求-1".encode(),
    "ид-запроса".encode(),
    b"\xff\xfe\xfd",
    b'"quoted"',
]


@pytest.mark.parametrize("offered", KEPT)
def test_a_short_token_is_kept(hub: Hub, offered: str) -> None:
    answer = httpx.get(hub.url + "/api/v1/datasets", headers={"X-Request-ID": offered})
    assert answer.status_code == 401
    assert answer.headers["x-request-id"] == offered == answer.json()["error"]["request_id"]


@pytest.mark.parametrize("offered", REPLACED, ids=lambda b: repr(b[:30]))
def test_anything_else_is_replaced_by_a_fresh_id(hub: Hub, offered: bytes) -> None:
    status, headers, body = _raw(hub, "/api/v1/datasets", b"X-Request-ID: " + offered + b"\r\n")
    ids = [v for k, v in headers if k == "x-request-id"]
    assert status == 401 and len(ids) == 1 and FRESH.fullmatch(ids[0]), (status, headers)
    assert not [k for k, _ in headers if k == "set-cookie"]
    assert json.loads(body)["error"]["request_id"] == ids[0]


def test_a_header_split_over_two_lines_never_comes_back(hub: Hub) -> None:
    """A folded header line (obsolete line folding) is refused or replaced, never echoed."""
    status, headers, body = _raw(hub, "/api/v1/datasets", b"X-Request-ID: a\r\n Set-Cookie: injected=1\r\n")
    assert status in (400, 401)
    assert not [k for k, _ in headers if k == "set-cookie"] and b"injected" not in body
    for name, value in headers:
        assert "injected" not in value, name
        if name == "x-request-id":
            assert FRESH.fullmatch(value)


def test_two_request_ids_yield_one_answer_id(hub: Hub) -> None:
    status, headers, _ = _raw(hub, "/api/v1/datasets", b"X-Request-ID: one\r\nX-Request-ID: two\r\n")
    assert status == 401 and len([v for k, v in headers if k == "x-request-id"]) == 1


# -- user_show -----------------------------------------------------------------------------


def _user_show(hub: Hub, ref: str, role: str | None, method: str) -> httpx.Response:
    url = hub.url + "/api/3/action/user_show"
    headers = hub.key(role) if role else {}
    if method == "GET":
        return httpx.get(url, params={"id": ref}, headers=headers)
    return httpx.post(url, json={"id": ref}, headers=headers)


def _client_id(hub: Hub, name: str) -> str:
    steward = httpx.get(hub.url + "/api/3/action/user_show", params={"id": name}, headers=hub.key("steward"))
    return str(steward.json()["result"]["id"])


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("role", [None, "consumer", "analyst", "publisher"])
def test_user_show_does_not_tell_which_names_exist(hub: Hub, role: str | None, method: str) -> None:
    existing = ["steward-wang", "police-uploader" if role != "publisher" else "grid-app", _client_id(hub, "analyst-li")]
    if role == "analyst":
        existing[2] = _client_id(hub, "grid-app")
    missing = ["no-such-client", "steward-wang2", "00000000-0000-4000-8000-000000000000", "x" * 300, "%", "' OR 1=1"]
    answers = [_user_show(hub, ref, role, method) for ref in existing + missing]
    assert [a.status_code for a in answers] == [403] * len(answers)
    assert len({a.text for a in answers}) == 1, {a.text for a in answers}
    assert not [r for r in existing + missing if len(r) > 3 and r in answers[0].text]
    assert "not found" not in answers[0].text.lower()


@pytest.mark.parametrize("role", ["consumer", "publisher", "analyst"])
def test_user_show_still_shows_the_caller_and_stewards_see_anyone(hub: Hub, role: str) -> None:
    me = httpx.get(hub.url + "/api/3/action/user_show", headers=hub.key(role)).json()["result"]
    for ref in (me["name"], me["id"]):
        assert _user_show(hub, ref, role, "GET").json()["result"]["name"] == me["name"]
    assert _user_show(hub, me["name"], "steward", "GET").json()["result"]["id"] == me["id"]
    assert _user_show(hub, "no-such-client", "steward", "GET").status_code == 404


# -- anonymous DCAT ------------------------------------------------------------------------


def _leaks(text: str, hub: Hub) -> list[str]:
    return [f"{k}={v}" for k, v in hub.private.items() if v and v in text]


def test_the_fixture_derives_a_public_dataset_from_the_private_one(hub: Hub) -> None:
    """Without the rule, the public dataset's lineage would name every private value checked below."""
    with db.session(hub.site.settings.db_url) as s:
        derived = s.get(Dataset, hub.derived_id)
        assert derived is not None
        lineage = derived.versions[-1].lineage["inputs"]
        assert lineage[DATASET] == hub.private["snapshot0"]
        assert hub.private["code"] in (derived.meta.get("input_codes") or [])


@pytest.mark.parametrize("fmt", FORMATS)
def test_anonymous_dcat_never_names_a_private_dataset(hub: Hub, fmt: str) -> None:
    paths = [
        f"/catalog.{fmt}",
        f"/catalog.{fmt}?page=1&modified_since=2000-01-01",
        f"/dataset/{hub.derived_name}.{fmt}",
        f"/dataset/{hub.derived_id}.{fmt}",
        f"/dataset/{DERIVED}.{fmt}",
    ]
    for path in paths:
        answer = httpx.get(hub.url + path)
        assert answer.status_code == 200, (path, answer.text[:200])
        assert hub.derived_name in answer.text or hub.derived_id in answer.text
        assert not _leaks(answer.text, hub), (path, _leaks(answer.text, hub))
        assert PUBLIC_INPUT in answer.text and hub.grids_snapshot in answer.text, "public inputs stay in the lineage"
    for ref in (hub.private["id"], hub.private["name"], hub.private["key"]):
        refused = httpx.get(f"{hub.url}/dataset/{ref}.{fmt}")
        assert refused.status_code == 401
        others = [v for v in hub.private.values() if v and v not in ref]
        assert not [v for v in others if v in refused.text], refused.text  # an id never yields a name


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("package_show", {"id": "DERIVED_NAME"}),
        ("package_search", {"q": "", "rows": 100}),
        ("current_package_list_with_resources", {}),
        ("organization_list", {"all_fields": "true", "include_datasets": "true"}),
    ],
)
def test_anonymous_ckan_actions_never_name_a_private_dataset(hub: Hub, action: str, params: dict) -> None:
    params = {k: (hub.derived_name if v == "DERIVED_NAME" else v) for k, v in params.items()}
    answer = httpx.get(f"{hub.url}/api/3/action/{action}", params=params)
    assert answer.status_code == 200, answer.text[:300]
    assert not _leaks(answer.text, hub), (action, _leaks(answer.text, hub))
    if action == "package_show":
        assert answer.json()["result"]["latest_version"]["lineage"]["inputs_not_shown"] >= 1
    refused = httpx.get(f"{hub.url}/api/3/action/package_show", params={"id": hub.private["id"]})
    assert refused.status_code == 403 and hub.private["name"] not in refused.text


@pytest.mark.parametrize("fmt", ["ttl", "jsonld"])
def test_key_holders_still_see_the_whole_lineage(hub: Hub, fmt: str) -> None:
    answer = httpx.get(f"{hub.url}/dataset/{hub.derived_name}.{fmt}", headers=hub.key("consumer"))
    assert answer.status_code == 200
    assert DATASET in answer.text and hub.private["snapshot0"] in answer.text and hub.private["code"] in answer.text


# -- the key in the OpenAPI document -------------------------------------------------------


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_openapi_describes_the_key(hub: Hub) -> None:
    spec = httpx.get(hub.url + "/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ApiKey"] == schemes["ApiKey"] | {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["Bearer"] == schemes["Bearer"] | {"type": "http", "scheme": "bearer"}
    v1 = [(p, m, op) for p, m, op in _operations(spec) if p.startswith("/api/v1/")]
    assert len(v1) >= 3
    open_data = {"/api/v1/datasets/{ref}", "/api/v1/datasets/{ref}/records", "/api/v1/datasets/{ref}/export"}
    open_data.add("/api/v1/datasets/{ref}/quality")  # counts only: as public as the catalogue entry
    for path, method, op in v1:  # every other /api/v1 route needs a key: the lock, and no anonymous alternative
        if path in open_data:  # datasets open to the public (无条件开放, 无条件共享) are read without one
            assert op.get("security") == [{"ApiKey": []}, {"Bearer": []}, {}], (method, path)
        else:
            assert op.get("security") == [{"ApiKey": []}, {"Bearer": []}], (method, path)
    for path, method, op in _operations(spec):
        if path == "/oauth/token":  # client credentials travel in the form or HTTP Basic, not as a key
            assert "security" not in op and "client_secret" in str(spec["components"]["schemas"])
        elif path in ("/healthz", "/readyz"):  # probes: no key, and nothing a key would change
            assert "security" not in op, (method, path)
        elif not path.startswith("/api/v1/"):  # CKAN actions, DCAT, downloads: a key is optional
            assert op.get("security") == [{"ApiKey": []}, {"Bearer": []}, {}], (method, path)
        assert "422" not in op["responses"], "invalid requests are answered 400"


KEY_FORMS = [
    lambda k: {"X-API-Key": k},
    lambda k: {"X-CKAN-API-Key": k},
    lambda k: {"Authorization": f"Bearer {k}"},
    lambda k: {"Authorization": k},
]


@pytest.mark.parametrize("form", range(len(KEY_FORMS)))
def test_every_way_of_sending_a_key_still_works(hub: Hub, form: int) -> None:
    headers = KEY_FORMS[form](hub.site.keys["consumer"])
    assert httpx.get(hub.url + "/api/v1/datasets", headers=headers).status_code == 200
    me = httpx.get(hub.url + "/api/3/action/user_show", headers=headers).json()
    assert me["result"]["name"] == "grid-app"
    assert httpx.get(f"{hub.url}/dataset/{DATASET}.ttl", headers=headers).status_code == 200
    wrong = KEY_FORMS[form]("hub_" + "x" * 43)
    assert httpx.get(hub.url + "/api/v1/datasets", headers=wrong).status_code == 401
