"""Request → approve → read over HTTP with real keys; deny, revoke, expiry, row filters, verify, audit."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest
from sqlalchemy import func, select, update

from access import audit, grants
from catalog import clients, db
from tests.catalog.sites import Site, site

RECORDS = "/api/v1/datasets/population-residents/records"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(Path(tmp_path_factory.mktemp("flow")), rows=80) as s:
        yield s


def _client(hub: Site, name: str, role: str = "consumer", org: str | None = "街道服务中心") -> httpx.Client:
    with db.session(hub.settings.db_url) as s:
        key = clients.issue_key(s, clients.ensure_client(s, name, role=role, organization=org))
    return httpx.Client(base_url=hub.url, headers={"X-API-Key": key})


def _steward(hub: Site) -> httpx.Client:
    return httpx.Client(base_url=hub.url, headers={"X-API-Key": hub.keys["steward"]})


def _stored(hub: Site) -> list[tuple[str, str, str]]:
    """(id_number, name, street_code) of the published residents, read from the serving copy."""
    serving = hub.settings.serving_dir / "population.residents"
    newest = max(serving.glob("*.duckdb"), key=lambda p: p.stat().st_mtime)
    copy = hub.settings.resolved_home.parent / "residents-copy.duckdb"
    shutil.copyfile(newest, copy)  # the server holds the file open with its own configuration
    with duckdb.connect(str(copy), read_only=True) as con:
        return con.execute("SELECT id_number, name, street_code FROM records ORDER BY _row").fetchall()


def _audit_count(hub: Site) -> int:
    with db.session(hub.settings.db_url) as s:
        return int(s.scalar(select(func.count()).select_from(audit.AuditRecord)) or 0)


def _ask(app: httpx.Client, **body: object) -> dict:
    payload = {
        "dataset": "population.residents",
        "fields": ["id_number", "name", "street_code", "registered_on"],
        "clear_fields": ["name"],
        "purpose": "街道民生服务：核对辖区居民",
        "legal_basis": "《北京市公共数据管理办法》第二十条",
    } | body
    answer = app.post("/api/v1/access-requests", json=payload)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_request_approve_read_end_to_end(hub: Site) -> None:
    app, steward = _client(hub, "street-app"), _steward(hub)
    refused = app.get(RECORDS)
    assert refused.status_code == 403 and "/api/v1/access-requests" in refused.json()["error"]["message"]

    street = _stored(hub)[0][2]
    asked = _ask(app, rows=f"street_code = '{street}'")
    assert asked["status"] == "pending" and asked["working_days_left"] == 10 and not asked["overdue"]
    assert app.post(f"/api/v1/access-requests/{asked['id']}/approve", json={}).status_code == 403
    queue = steward.get("/api/v1/access-requests", params={"status": "pending"}).json()["requests"]
    assert asked["id"] in [r["id"] for r in queue]
    assert [r["created"] for r in queue] == sorted(r["created"] for r in queue), "oldest first"

    wider = steward.post(f"/api/v1/access-requests/{asked['id']}/approve", json={"fields": ["phone"]})
    assert wider.status_code == 400 and "narrow" in wider.json()["error"]["message"]
    approved = steward.post(
        f"/api/v1/access-requests/{asked['id']}/approve",
        json={"fields": ["id_number", "name", "street_code"], "expires": str(dt.date.today() + dt.timedelta(days=9))},
    )
    assert approved.status_code == 200, approved.text
    grant = approved.json()["grant"]
    assert grant["fields"] == ["id_number", "name", "street_code"] and grant["clear_fields"] == ["name"]
    again = steward.post(f"/api/v1/access-requests/{asked['id']}/approve", json={})
    assert again.status_code == 409

    page = app.get(RECORDS, params={"limit": 1000})
    assert page.status_code == 200, page.text
    rows = page.json()["records"]
    stored = {i: (n, st) for i, n, st in _stored(hub)}
    expected = [s for s in stored.values() if s[1] == street]
    assert len(rows) == len(expected) and all(r["street_code"] == street for r in rows)
    assert set(rows[0]) == {"id_number", "name", "street_code"}
    assert sorted(r["name"] for r in rows) == sorted(n for n, _ in expected), "name is granted in clear"
    assert all(set(r["id_number"][6:]) == {"*"} for r in rows), "the ID number stays masked"
    other = next(st for _, st in stored.values() if st != street)
    assert app.get(RECORDS, params={"street_code": other}).json()["records"] == [], "the row filter holds"
    denied_field = app.get(RECORDS, params={"registered_on": "2020-01-01"})
    assert denied_field.status_code == 403 and "not in your grant" in denied_field.json()["error"]["message"]
    assert app.get(RECORDS, params={"fields": "phone"}).status_code == 403
    assert app.get(RECORDS, params={"id_number": "110101199003074477"}).status_code == 400
    cursor = app.get(RECORDS, params={"limit": 1}).json()["next_cursor"]
    if cursor:
        nxt = app.get(RECORDS, params={"limit": 1000, "cursor": cursor}).json()["records"]
        assert all(r["street_code"] == street for r in nxt)

    mine = app.get("/api/v1/grants").json()["grants"]
    assert [g["id"] for g in mine] == [grant["id"]]
    assert app.delete(f"/api/v1/grants/{grant['id']}").status_code == 200  # giving it up takes effect at once
    assert app.get(RECORDS).status_code == 403


def test_a_denied_request_leaves_no_grant(hub: Site) -> None:
    app, steward = _client(hub, "denied-app"), _steward(hub)
    asked = _ask(app)
    assert steward.post(f"/api/v1/access-requests/{asked['id']}/deny", json={"reason": ""}).status_code == 400
    denied = steward.post(f"/api/v1/access-requests/{asked['id']}/deny", json={"reason": "目的与数据无关"})
    assert denied.status_code == 200 and denied.json()["status"] == "denied"
    assert app.get("/api/v1/grants").json()["grants"] == []
    assert app.get(f"/api/v1/access-requests/{asked['id']}").json()["reason"] == "目的与数据无关"
    assert app.get(RECORDS).status_code == 403
    other = _client(hub, "nosy-app")
    assert other.get(f"/api/v1/access-requests/{asked['id']}").status_code == 404


def test_grants_expire_and_revocation_takes_effect_on_the_next_request(hub: Site) -> None:
    app, steward = _client(hub, "expiring-app"), _steward(hub)
    asked = _ask(app, fields=["street_code"], clear_fields=[])
    grant = steward.post(f"/api/v1/access-requests/{asked['id']}/approve", json={}).json()["grant"]
    assert app.get(RECORDS).status_code == 200
    with db.session(hub.settings.db_url) as s:
        s.execute(update(grants.Grant).where(grants.Grant.id == grant["id"]).values(expires=dt.datetime.now(dt.UTC)))
    assert app.get(RECORDS).status_code == 403
    with db.session(hub.settings.db_url) as s:
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        s.execute(update(grants.Grant).where(grants.Grant.id == grant["id"]).values(expires=later))
    assert app.get(RECORDS).status_code == 200
    assert steward.delete(f"/api/v1/grants/{grant['id']}").status_code == 200
    assert app.get(RECORDS).status_code == 403


@pytest.mark.parametrize(
    "rows",
    [
        "1=1 OR (SELECT 1) = 1",
        "id_number LIKE '110%'",
        "lower(street_code) = 'x'",
        "street_code = '1'; DROP TABLE grants",
        "street_code IN (SELECT street_code FROM records)",
        "street_code = name",
    ],
)
def test_row_filters_other_than_plain_comparisons_are_refused(hub: Site, rows: str) -> None:
    answer = _client(hub, f"filter-app-{abs(hash(rows)) % 10_000}").post(
        "/api/v1/access-requests",
        json={"dataset": "population.residents", "rows": rows, "purpose": "p", "legal_basis": "b"},
    )
    assert answer.status_code == 400 and "row filter" in answer.json()["error"]["message"]


def test_verify_answers_yes_or_no_and_never_the_value(hub: Site) -> None:
    id_number, name, street = _stored(hub)[3]
    app = _client(hub, "verify-app")
    url = "/api/v1/datasets/population-residents/verify"
    assert app.post(url, json={"match": {"id_number": id_number}}).status_code == 403  # conditional: no grant yet
    with db.session(hub.settings.db_url) as s:
        steward = clients.client(s, "steward-wang")
        from contracts import model

        contract = model.find(hub.settings.contracts_dir, "population.residents")
        grants.create(
            s,
            clients.client(s, "verify-app"),
            contract,
            steward,
            fields=["street_code"],
            row_filter=f"street_code = '{street}'",
            purpose="核验",
        )
    before = _audit_count(hub)
    yes = app.post(url, json={"match": {"id_number": id_number, "name": name}})
    assert yes.status_code == 200 and yes.json()["match"] is True
    assert id_number not in yes.text and name not in yes.text
    assert app.post(url, json={"match": {"id_number": id_number, "name": name + "x"}}).json()["match"] is False
    assert app.post(url, json={"match": {"name": name}}).status_code == 400, "an identifying field is needed"
    outside = next(i for i, _, st in _stored(hub) if st != street)
    assert app.post(url, json={"match": {"id_number": outside}}).json()["match"] is False, "rows outside the grant"
    assert _audit_count(hub) == before + 3


def test_every_data_returning_call_leaves_exactly_one_audit_record(hub: Site) -> None:
    consumer = httpx.Client(base_url=hub.url, headers={"X-API-Key": hub.keys["consumer"]})
    before = _audit_count(hub)
    assert consumer.get(RECORDS, params={"limit": 5}).status_code == 200
    # the copy is open now: this page is read on the event loop, and audited all the same
    assert consumer.get(RECORDS, params={"limit": 4}).status_code == 200
    rid = consumer.get("/api/3/action/package_show", params={"id": "population-residents"}).json()["result"]
    resource = next(r["id"] for r in rid["resources"] if r.get("datastore_active"))
    assert consumer.get("/api/3/action/datastore_search", params={"resource_id": resource, "limit": 3}).json()[
        "success"
    ]
    assert consumer.get(RECORDS, params={"fields": "nope"}).status_code == 400  # refused: nothing returned
    assert consumer.get("/api/v1/datasets").status_code == 200  # metadata: not audited
    assert _audit_count(hub) == before + 3
    with db.session(hub.settings.db_url) as s:
        last = audit.records(s, client="grid-app", limit=3)
        assert [r.action for r in last] == ["datastore_search", "records", "records"]
        assert [r.rows for r in last[1:]] == [4, 5]
        assert last[1].rows == 4 and "id_number" in last[1].fields and "id_number" not in last[1].clear_fields
        assert last[0].request_id and last[0].query_hash
        assert audit.verify(s, hub.settings.audit_key_path).ok


def test_the_audit_log_is_read_by_stewards_and_by_departments_for_their_own_data(hub: Site) -> None:
    steward = _steward(hub)
    consumer = httpx.Client(base_url=hub.url, headers={"X-API-Key": hub.keys["consumer"]})
    assert consumer.get(RECORDS, params={"limit": 2}).status_code == 200  # one read to audit, whatever ran before
    assert steward.get("/api/v1/audit").json()["count"] >= 1
    police = httpx.Client(base_url=hub.url, headers={"X-API-Key": hub.keys["publisher"]})
    own = police.get("/api/v1/audit").json()["records"]
    assert own and {r["dataset"] for r in own} == {"population.residents"}
    other = _client(hub, "civil-publisher", role="publisher", org="11010100003")
    assert other.get("/api/v1/audit").json()["records"] == []
    assert httpx.get(hub.url + "/api/v1/audit", headers={"X-API-Key": hub.keys["consumer"]}).status_code == 403


def test_a_file_download_is_audited(hub: Site) -> None:
    import io

    import ckanapi

    publisher = ckanapi.RemoteCKAN(hub.url, apikey=hub.keys["publisher"])
    steward = ckanapi.RemoteCKAN(hub.url, apikey=hub.keys["steward"])
    steward.action.package_create(name="audited-files", title="文件", owner_org="dept-11010100001")
    res = publisher.action.resource_create(package_id="audited-files", upload=("站点.csv", io.BytesIO(b"id\n1\n")))
    before = _audit_count(hub)
    got = httpx.get(res["url"], headers={"X-API-Key": hub.keys["consumer"], "X-Request-ID": "dl-1"})
    assert got.status_code == 200 and got.content == b"id\n1\n"
    assert _audit_count(hub) == before + 1
    with db.session(hub.settings.db_url) as s:
        last = audit.records(s, limit=1)[0]
        assert last.action == "download" and last.client == "grid-app" and last.request_id == "dl-1"
        assert last.fields == ["file:站点.csv"]
