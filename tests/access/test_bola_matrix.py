"""The BOLA matrix: clients of three organizations and every role × datasets of every sharing type ×
every data path → exactly the expected allow / deny and masked / clear fields.

It also walks the OpenAPI routes and the CKAN action list: a new route that returns a dataset's
data, or a new datastore action, fails here until it is added to the matrix (so no path can
forget the policy unnoticed).
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ckanapi
import httpx
import orjson
import pytest

from catalog import clients, db
from contracts import model
from exchange_api.app import create_app
from exchange_api.ckan_actions import ACTIONS
from generator import grids, households, population, residents
from hub.settings import Settings
from ingest import steps
from tests.conftest import LiveServer
from tests.published import grant

POLICE, CIVIL, GRID_CENTRE = "11010100001", "11010100003", "区网格中心"
DATASETS = {  # dataset id: sharing type in this hub (households made 不予共享 for the matrix)
    residents.DATASET: "有条件共享",
    households.DATASET: "不予共享",
    grids.DATASET: "无条件共享",
}


@dataclass(frozen=True)
class Caller:
    role: str
    organization: str | None
    grants: tuple[str, ...] = ()


CALLERS = {
    "steward": Caller("steward", None),
    "police-publisher": Caller("publisher", POLICE),
    "civil-publisher": Caller("publisher", CIVIL),
    "granted-analyst": Caller("analyst", GRID_CENTRE, (residents.DATASET, households.DATASET)),
    "granted-consumer": Caller("consumer", GRID_CENTRE, (residents.DATASET,)),
    "plain-consumer": Caller("consumer", GRID_CENTRE),
}


def allowed(name: str, dataset: str) -> bool:
    caller, sharing = CALLERS[name], DATASETS[dataset]
    owner = {residents.DATASET: POLICE, households.DATASET: CIVIL, grids.DATASET: "11010100007"}[dataset]
    privileged = caller.role == "steward" or caller.organization == owner
    if sharing == "不予共享":
        return privileged
    if sharing == "有条件共享":
        return privileged or dataset in caller.grants
    return True


GRANTED = {
    residents.DATASET: ("street_code", "grid_code", "id_number"),
    households.DATASET: ("household_no", "grid_code", "id_number"),
}
DATA_ROUTES = {
    ("GET", "/api/v1/datasets/{ref}/records"),
    ("GET", "/api/v1/datasets/{ref}"),
    ("POST", "/api/v1/datasets/{ref}/verify"),
    ("GET", "/api/v1/datasets/{ref}/export"),
    ("GET", "/api/v1/datasets/{ref}/changes"),
}
QUALITY_ROUTES = {
    ("GET", "/api/v1/datasets/{ref}/versions/{number}/validation"),
    ("GET", "/api/v1/datasets/{ref}/quality/docs/{page}"),
}
"""GX's validation results and Data Docs: no records; stewards and the publishing department only,
whatever the sharing type (test_quality_routes_serve_stewards_and_the_department_only)."""
METADATA_ROUTES = {
    ("GET", "/dataset/{ref}.{fmt}"),
    ("GET", "/catalog.{fmt}"),
    ("GET", "/api/v1/datasets"),
    ("GET", "/catalog"),
    ("GET", "/dataset/{ref}"),
    ("GET", "/dataset/{ref}/resource/{resource_id}"),
    ("GET", "/organization/{ref}"),
    ("GET", "/group/{name}"),
    ("GET", "/licence/{licence_id}"),
    ("GET", "/ns/catalogue"),
    ("GET", "/api/v1/datasets/{ref}/quality"),
}
"""Catalogue metadata (DCAT and the hub URIs it mints, the dataset list, the quality history's counts):
no records; private datasets follow the catalogue's visibility (tests/exchange_api/test_dcat_ap.py,
tests/stewardship/test_quality_history.py)."""
FILE_ROUTES = {("GET", "/dataset/{dataset_id}/resource/{resource_id}/download/{filename}")}
"""Files of catalogue-only datasets: sharing rule and audit shown in tests/security/test_uploads.py and
tests/access/test_exchange_flow.py."""
ACCESS_ROUTES = {
    ("GET", "/api/v1/access-requests"),
    ("POST", "/api/v1/access-requests"),
    ("GET", "/api/v1/access-requests/{request_id}"),
    ("POST", "/api/v1/access-requests/{request_id}/approve"),
    ("POST", "/api/v1/access-requests/{request_id}/deny"),
    ("GET", "/api/v1/grants"),
    ("DELETE", "/api/v1/grants/{grant_id}"),
    ("GET", "/api/v1/audit"),
    ("POST", "/oauth/token"),
    ("GET", "/api/v1/subscriptions"),
    ("POST", "/api/v1/subscriptions"),
    ("GET", "/api/v1/subscriptions/{subscription_id}/deliveries"),
    ("DELETE", "/api/v1/subscriptions/{subscription_id}"),
    ("GET", "/api/v1/notices"),
}
"""The access machinery itself (requests, grants, the audit log, tokens, webhook subscriptions, whose
notices carry counts only; tests/exchange/test_subscriptions.py; the caller's own contract-change
notices, tests/stewardship/test_notices.py): no dataset's records."""
DISPUTE_ROUTES = {
    ("POST", "/api/v1/datasets/{ref}/disputes"),
    ("GET", "/api/v1/disputes"),
    ("GET", "/api/v1/disputes/{dispute_id}"),
    ("POST", "/api/v1/disputes/{dispute_id}/answer"),
    ("POST", "/api/v1/disputes/{dispute_id}/withdraw"),
}
"""校核 disputes: filing one reads a record under policy_for (test_disputes_are_filed_on_what_each_caller_may_read);
a dispute is its filer's, the providing department's and the stewards' (tests/stewardship/test_disputes.py)."""
CKAN_ROUTES = {("GET", "/api/3/action/{name}"), ("POST", "/api/3/action/{name}")}
"""CKAN actions: the ones that read records are DATA_ACTIONS."""
DATA_ACTIONS = {"datastore_search"}
"""Every path that returns a dataset's data; the matrix below calls each of them."""
SQL_ROUTES = {("GET", "/api/v1/sql"), ("POST", "/api/v1/sql")}
OPS_ROUTES = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
"""Probes name no dataset; metrics (counts by dataset id) are stewards' (tests/exchange_api/test_ops.py)."""
REPORT_ROUTES = {("GET", "/api/v1/reports/ratios")}
"""The platform ratios: counts per department, for stewards (tests/stewardship/test_ratios.py)."""
"""Analysts' SQL: each dataset a query names passes policy_for (test_sql_reads_what_each_caller_may_read)."""
CONTRACT_ROUTES = {
    ("POST", "/api/v1/contracts"),
    ("GET", "/api/v1/contracts"),
    ("GET", "/api/v1/contracts/{dataset}/versions"),
    ("GET", "/api/v1/contracts/{dataset}/versions/{version}"),
} | {
    ("POST", f"/api/v1/contracts/{{dataset}}/versions/{{version}}/{action}")
    for action in ("submit", "withdraw", "approve", "reject", "activate", "deprecate", "retire")
}
"""The contract registry: contracts are metadata, no records; who may take each step is the lifecycle's
role table (tests/stewardship/test_lifecycle.py, test_contracts_api.py)."""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], dict[str, str]]]:
    root = Path(tmp_path_factory.mktemp("bola"))
    folder = root / "contracts"
    shutil.copytree(Settings().contracts_dir, folder)
    path = folder / f"{households.DATASET}.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("value: 有条件共享}", "value: 不予共享}"), encoding="utf-8"
    )
    settings = Settings(home=root / "hub", contracts_dir=folder)
    settings.ensure_dirs()
    pop = population.make(120, random.Random(3))
    writers = {
        residents.DATASET: ("r.csv", lambda p: residents.export(p, pop, bad_share=0.0, rng=random.Random(1))),
        households.DATASET: ("h.csv", lambda p: households.export(p, pop, bad_share=0.0, rng=random.Random(2))),
        grids.DATASET: ("g.geojson", grids.export),
    }
    for dataset, (name, write) in writers.items():
        write(steps.inbox_folder(settings, model.find(folder, dataset)) / name)
        for file in steps.discover(dataset, settings):
            steps.check(dataset, file, settings, today=dt.date(2026, 11, 1))
        steps.register(dataset, steps.publish(dataset, settings), settings)
    keys = {}
    with db.session(settings.db_url) as s:
        for name, c in CALLERS.items():
            keys[name] = clients.issue_key(s, clients.ensure_client(s, name, role=c.role, organization=c.organization))
    for name, c in CALLERS.items():
        for dataset in c.grants:
            grant(settings, name, dataset, fields=GRANTED[dataset])
    with LiveServer(settings) as server:
        with httpx.Client(base_url=server.url) as http:
            resources = {}
            for dataset in DATASETS:
                pkg = http.get(
                    "/api/3/action/package_show",
                    params={"id": dataset.replace(".", "-")},
                    headers={"X-API-Key": keys["steward"]},
                ).json()["result"]
                resources[dataset] = next(r["id"] for r in pkg["resources"] if r.get("datastore_active"))
        yield server.url, keys, resources


def test_the_matrix_covers_every_data_route_and_action() -> None:
    spec = create_app(Settings()).openapi()
    dataset_routes = {
        (method.upper(), path) for path, ops in spec["paths"].items() if "{ref}" in path for method in ops
    }
    metadata = {route for route in METADATA_ROUTES if "{ref}" in route[1]}
    filing = {route for route in DISPUTE_ROUTES if "{ref}" in route[1]}
    assert dataset_routes == DATA_ROUTES | QUALITY_ROUTES | metadata | filing, "a new route reads a dataset"
    every = {(m.upper(), path) for path, ops in spec["paths"].items() for m in ops}
    known = DATA_ROUTES | METADATA_ROUTES | FILE_ROUTES | ACCESS_ROUTES | CKAN_ROUTES | SQL_ROUTES | OPS_ROUTES
    known |= QUALITY_ROUTES | REPORT_ROUTES | DISPUTE_ROUTES | CONTRACT_ROUTES
    assert every == known, f"classify the new route(s) and cover them here: {sorted(every - known)}"
    assert {a for a in ACTIONS if a.startswith("datastore")} == DATA_ACTIONS


def _verify_body(dataset: str) -> dict:
    key = {residents.DATASET: "id_number", households.DATASET: "household_no", grids.DATASET: "grid_code"}[dataset]
    return {"match": {key: "0"}}


@pytest.mark.parametrize("dataset", list(DATASETS))
@pytest.mark.parametrize("name", list(CALLERS))
def test_every_caller_on_every_dataset_and_path(hub: tuple, name: str, dataset: str) -> None:
    url, keys, resources = hub
    ref = dataset.replace(".", "-")
    expected = 200 if allowed(name, dataset) else 403
    with httpx.Client(base_url=url, headers={"X-API-Key": keys[name]}) as http:
        answers = {
            "records": http.get(f"/api/v1/datasets/{ref}/records", params={"limit": 3}),
            "detail": http.get(f"/api/v1/datasets/{ref}"),
            "verify": http.post(f"/api/v1/datasets/{ref}/verify", json=_verify_body(dataset)),
            "datastore_search": http.get(
                "/api/3/action/datastore_search", params={"resource_id": resources[dataset], "limit": 3}
            ),
            "export": http.get(f"/api/v1/datasets/{ref}/export", params={"format": "jsonl"}),
            "changes": http.get(f"/api/v1/datasets/{ref}/changes", params={"since": "1", "limit": 3}),
        }
    for path, answer in answers.items():
        assert answer.status_code == expected, (name, dataset, path, answer.text[:200])
    if expected == 403:
        return
    records = answers["records"].json()["records"]
    assert records, (name, dataset)
    caller = CALLERS[name]
    granted_only = dataset in caller.grants and not (caller.role == "steward" or caller.role == "publisher")
    if granted_only:
        assert set(records[0]) == set(GRANTED[dataset])
    if "id_number" in records[0]:
        assert all(set(r["id_number"][6:]) == {"*"} for r in records), "masked for every caller without clear"
    if dataset == residents.DATASET and not granted_only:
        assert all(r["name"] and set(r["name"][1:]) <= {"*"} for r in records)
    exported = [orjson.loads(line) for line in answers["export"].content.splitlines()]
    assert exported and {k for k in exported[0] if k != "_key"} == set(records[0]), "export releases what records do"
    if "id_number" in exported[0]:
        assert all(set(r["id_number"][6:]) == {"*"} for r in exported)
    assert answers["changes"].json()["changes"] == []


@pytest.mark.parametrize("dataset", list(DATASETS))
@pytest.mark.parametrize("name", list(CALLERS))
def test_disputes_are_filed_on_what_each_caller_may_read(hub: tuple, name: str, dataset: str) -> None:
    """A caller who may read the dataset is told the key names no record (404, as for a record
    outside its grant); one who may not is refused as on every data path."""
    url, keys, _ = hub
    ref = dataset.replace(".", "-")
    field = {residents.DATASET: "street_code", households.DATASET: "grid_code", grids.DATASET: "grid_code"}[dataset]
    body = {"key": "no-such-record", "field": field, "claimed_value": "x", "evidence": "matrix"}
    answer = httpx.post(f"{url}/api/v1/datasets/{ref}/disputes", json=body, headers={"X-API-Key": keys[name]})
    assert answer.status_code == (404 if allowed(name, dataset) else 403), (name, dataset, answer.text[:200])
    assert httpx.post(f"{url}/api/v1/datasets/{ref}/disputes", json=body).status_code == 401


OWNERS = {residents.DATASET: POLICE, households.DATASET: CIVIL, grids.DATASET: "11010100007"}


@pytest.mark.parametrize("dataset", list(DATASETS))
@pytest.mark.parametrize("name", list(CALLERS))
def test_quality_routes_serve_stewards_and_the_department_only(hub: tuple, name: str, dataset: str) -> None:
    url, keys, _ = hub
    ref = dataset.replace(".", "-")
    caller = CALLERS[name]
    expected = 200 if caller.role == "steward" or caller.organization == OWNERS[dataset] else 403
    with httpx.Client(base_url=url, headers={"X-API-Key": keys[name]}) as http:
        answers = {
            "validation": http.get(f"/api/v1/datasets/{ref}/versions/1/validation"),
            "data_docs": http.get(f"/api/v1/datasets/{ref}/quality/docs/index.html"),
        }
    for path, answer in answers.items():
        assert answer.status_code == expected, (name, dataset, path, answer.text[:200])
    assert httpx.get(f"{url}/api/v1/datasets/{ref}/versions/1/validation").status_code == 401
    assert httpx.get(f"{url}/api/v1/datasets/{ref}/quality/docs/").status_code == 401


OPEN = {grids.DATASET}
"""Datasets open to the public (无条件开放 and 无条件共享: access.policy.open_to_public): the grids."""


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_anonymous_callers_read_open_datasets_only(hub: tuple, dataset: str) -> None:
    """Without a key: records, export, detail and datastore_search of an open dataset answer the
    anonymous policy (the contract's default release); every other dataset answers 401 (CKAN: 403).
    Change feeds and verify always need a key."""
    url, keys, resources = hub
    ref = dataset.replace(".", "-")
    expected = 200 if dataset in OPEN else 401
    reads = {
        "records": httpx.get(f"{url}/api/v1/datasets/{ref}/records", params={"limit": 3}),
        "detail": httpx.get(f"{url}/api/v1/datasets/{ref}"),
        "export": httpx.get(f"{url}/api/v1/datasets/{ref}/export", params={"format": "jsonl"}),
    }
    for path, answer in reads.items():
        assert answer.status_code == expected, (dataset, path, answer.text[:200])
    assert httpx.get(f"{url}/api/v1/datasets/{ref}/changes", params={"since": "1"}).status_code == 401
    assert httpx.post(f"{url}/api/v1/datasets/{ref}/verify", json=_verify_body(dataset)).status_code == 401
    answer = httpx.get(f"{url}/api/3/action/datastore_search", params={"resource_id": resources[dataset], "limit": 3})
    if dataset not in OPEN:
        assert answer.status_code in (401, 403) and answer.json()["success"] is False
        assert "API key is required" in reads["records"].json()["error"]["message"]
        return
    assert answer.status_code == 200 and len(answer.json()["result"]["records"]) == 3
    consumer = httpx.get(
        f"{url}/api/v1/datasets/{ref}/records", params={"limit": 3}, headers={"X-API-Key": keys["plain-consumer"]}
    )
    assert reads["records"].json()["fields"] == consumer.json()["fields"], "the default release, as for a key holder"
    assert reads["records"].json()["records"] == consumer.json()["records"]
    exported = [orjson.loads(line) for line in reads["export"].content.splitlines()]
    assert exported and {k for k in exported[0] if k != "_key"} == set(reads["records"].json()["records"][0])


@pytest.mark.parametrize("dataset", list(DATASETS))
@pytest.mark.parametrize("name", list(CALLERS))
def test_sql_reads_what_each_caller_may_read(hub: tuple, name: str, dataset: str) -> None:
    url, keys, _ = hub
    with httpx.Client(base_url=url, headers={"X-API-Key": keys[name]}) as http:
        answer = http.post("/api/v1/sql", json={"sql": f"SELECT * FROM {dataset} LIMIT 3"})
        missing = http.post("/api/v1/sql", json={"sql": "SELECT * FROM population.nobody"})
    if CALLERS[name].role not in ("analyst", "steward"):
        assert answer.status_code == 403, answer.text
        return
    if not allowed(name, dataset):
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "sql_refused"
        unknown = missing.json()["error"]["message"].replace("population.nobody", dataset)
        assert answer.json()["error"]["message"] == unknown, "an ungranted dataset reads like a missing one"
        return
    assert answer.status_code == 200, answer.text
    columns = [c["name"] for c in answer.json()["columns"]]
    rows = [dict(zip(columns, r, strict=True)) for r in answer.json()["rows"]]
    if dataset in CALLERS[name].grants and CALLERS[name].role != "steward":
        assert set(columns) == set(GRANTED[dataset])
    if "id_number" in columns:
        assert rows and all(set(r["id_number"][6:]) == {"*"} for r in rows), "masked without a clear grant"


def test_the_resource_url_of_an_open_dataset_downloads_without_a_key_and_is_audited(hub: tuple) -> None:
    url, keys, _ = hub
    anonymous = ckanapi.RemoteCKAN(url)
    pkg = anonymous.action.package_show(id="spatial-grids")
    assert (pkg["open_type"], pkg["sharing_type"], pkg["private"]) == ("无条件开放", "无条件共享", False)
    link = next(r["url"] for r in pkg["resources"] if r["url"].startswith("http"))
    got = httpx.get(link, params={"limit": 2})
    assert got.status_code == 200 and len(got.json()["records"]) == 2, got.text[:200]
    steward = {"X-API-Key": keys["steward"]}
    trail = httpx.get(f"{url}/api/v1/audit", params={"dataset": grids.DATASET, "limit": 1000}, headers=steward).json()
    mine = [r for r in trail["records"] if r["request_id"] == got.headers["x-request-id"]]
    assert len(mine) == 1 and mine[0]["action"] == "records" and mine[0]["rows"] == 2
    assert mine[0]["client"] is None and mine[0]["client_id"] is None, "audited as anonymous"
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.package_show(id="population-residents")  # private: metadata needs a key too
    assert httpx.get(f"{url}/api/v1/datasets/population-residents/records").status_code == 401
