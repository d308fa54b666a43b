"""Finding 2 and 4, uploads: attributed to their client, bounded per role and per day, and the
file store serves and replaces only what the hub itself stored for a resource.

Runs a live hub with the residents published; uploads go through the CKAN actions over HTTP.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import ckanapi
import httpx
import pytest

from catalog import clients, db, service, uploads
from contracts import model
from ingest import steps
from tests.catalog.sites import POLICE, Site, site
from tests.conftest import LiveServer

POLICE_ORG = f"dept-{POLICE}"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(Path(tmp_path_factory.mktemp("uploads")), rows=30) as s:
        steward = ckanapi.RemoteCKAN(s.url, apikey=s.keys["steward"])
        steward.action.package_create(name="station-map", title="站点", owner_org=POLICE_ORG)
        steward.action.package_create(
            name="informants", title="线人名册", owner_org=POLICE_ORG, sharing_type="不予共享"
        )
        yield s


def _as(site: Site, role: str | None) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(site.url, apikey=site.keys[role] if role else None)


def _get(site: Site, url: str, role: str | None) -> httpx.Response:
    return httpx.get(url, headers={"X-API-Key": site.keys[role]} if role else {})


def _inbox(site: Site) -> Path:
    return steps.inbox_folder(site.settings, model.find(site.settings.contracts_dir, "population.residents"))


def test_an_upload_is_credited_to_its_client_in_lineage_and_activity(hub: Site) -> None:
    from generator.residents import generate

    export = hub.settings.resolved_home.parent / "export.csv"
    generate(export, rows=25, bad_share=0.0, seed=99)
    publisher = _as(hub, "publisher")
    table = publisher.action.package_show(id="population-residents")["resources"][0]["id"]
    with export.open("rb") as fh:
        answer = publisher.action.resource_update(id=table, upload=("常住人口_v2.csv", fh))
    assert answer["upload_status"] == "queued"
    with db.session(hub.settings.db_url) as s:
        ledger = service.file_seen(s, "population.residents", answer["upload"]["sha256"])
        assert ledger is not None and ledger.submitted_by == "police-uploader"
    for file in steps.discover("population.residents", hub.settings):
        steps.check("population.residents", file, hub.settings, today=dt.date(2026, 11, 1))
    steps.register("population.residents", steps.publish("population.residents", hub.settings), hub.settings)
    with db.session(hub.settings.db_url) as s:
        versions = sorted(service.dataset(s, "population-residents").versions, key=lambda v: v.number)
        assert versions[-1].lineage["submitted_by"] == "police-uploader"
        assert versions[-1].lineage["source_sha256"] == answer["upload"]["sha256"]
        assert versions[0].lineage["submitted_by"] == "pipeline", "a file dropped into the inbox stays the pipeline's"
    acts = publisher.action.package_activity_list(id="population-residents", limit=5)
    published = next(a for a in acts if "published" in a["data"]["message"])
    assert "submitted by police-uploader" in published["data"]["message"]
    assert published["data"]["submitted_by"] == "police-uploader"


def test_a_deleted_resource_s_id_is_never_bound_to_its_files_again(hub: Site) -> None:
    publisher = _as(hub, "publisher")
    first = publisher.action.resource_create(package_id="station-map", upload=("secret.csv", io.BytesIO(b"secret\n")))
    folder = hub.settings.path("filestore", first["id"])
    publisher.action.resource_delete(id=first["id"])
    forged = f"{hub.url}/dataset/{first['package_id']}/resource/{first['id']}/download/secret.csv"
    again = publisher.action.resource_create(package_id="station-map", id=first["id"], url=forged, url_type="upload")
    with_file = publisher.action.resource_create(
        package_id="station-map", id=first["id"], upload=("secret.csv", io.BytesIO(b"forged\n"))
    )
    listed = publisher.action.package_patch(
        id="station-map", resources=[{"id": first["id"], "url": forged, "url_type": "upload"}]
    )["resources"]
    assert first["id"] not in {again["id"], with_file["id"], *(r["id"] for r in listed)}
    assert _get(hub, forged, "steward").status_code == 404
    assert (folder / "secret.csv").read_bytes() == b"secret\n"


def test_only_files_the_hub_stored_for_a_resource_are_served_or_replaced(hub: Site) -> None:
    publisher = _as(hub, "publisher")
    res = publisher.action.resource_create(package_id="station-map", upload=("v1.csv", io.BytesIO(b"id\n1\n")))
    folder = hub.settings.path("filestore", res["id"])
    (folder / "planted.csv").write_bytes(b"not uploaded\n")
    planted_url = res["url"].rsplit("/", 1)[0] + "/planted.csv"
    pointed = publisher.action.resource_patch(id=res["id"], url=planted_url)
    assert pointed["url_type"] == "upload"
    assert _get(hub, planted_url, "steward").status_code == 404
    second = publisher.action.resource_patch(id=res["id"], upload=("v2.csv", io.BytesIO(b"id\n2\n")))
    assert sorted(p.name for p in folder.iterdir()) == ["planted.csv", "v2.csv"], "v1 replaced, nothing else"
    assert _get(hub, second["url"], "consumer").content == b"id\n2\n"


class Failed(Exception):
    """A request that fails after its file was written."""


def test_a_failed_request_keeps_the_old_file_and_leaves_no_new_one(hub: Site) -> None:
    res = _as(hub, "publisher").action.resource_create(
        package_id="station-map", upload=("kept.csv", io.BytesIO(b"id\n1\n"))
    )
    folder = hub.settings.path("filestore", res["id"])
    contract = model.find(hub.settings.contracts_dir, "population.residents")
    inbox = sorted(_inbox(hub).iterdir())
    with pytest.raises(Failed), db.session(hub.settings.db_url) as s:
        caller = clients.client(s, "police-uploader")
        ds = service.dataset(s, "station-map")
        uploads.store(s, hub.settings, ds, res["id"], uploads.Incoming("new.csv", io.BytesIO(b"id\n2\n")), caller)
        residents = service.dataset(s, "population-residents")
        uploads.submit(s, hub.settings, contract, residents, uploads.Incoming("x.csv", io.BytesIO(b"a\n")), caller)
        assert set(steps.discover("population.residents", hub.settings)) == {str(p) for p in inbox if p.is_file()}
        raise Failed
    assert [p.name for p in folder.iterdir()] == ["kept.csv"]
    assert _get(hub, res["url"], "consumer").content == b"id\n1\n"
    assert sorted(_inbox(hub).iterdir()) == inbox, "no file, not even a .part"


def test_an_upload_reaches_the_inbox_only_with_its_attribution_committed(hub: Site) -> None:
    contract = model.find(hub.settings.contracts_dir, "population.residents")
    body = b"id_number,name\n2,y\n"
    with db.session(hub.settings.db_url) as s:
        caller = clients.client(s, "police-uploader")
        ds = service.dataset(s, "population-residents")
        sub = uploads.submit(s, hub.settings, contract, ds, uploads.Incoming("late.csv", io.BytesIO(body)), caller)
        assert not (_inbox(hub) / sub.file).exists(), "invisible to the pipeline until the ledger entry is committed"
    assert (_inbox(hub) / sub.file).read_bytes() == body
    with db.session(hub.settings.db_url) as s:
        ledger = service.file_seen(s, "population.residents", sub.sha256)
        assert ledger is not None and ledger.submitted_by == "police-uploader"
    (_inbox(hub) / sub.file).unlink()


def test_a_name_collision_never_overwrites_a_file_in_the_inbox(hub: Site) -> None:
    body = b"id_number,name\n1,x\n"
    inbox = _inbox(hub)
    inbox.mkdir(parents=True, exist_ok=True)
    planted = {"dept.csv": b"the department's own\n", f"{hashlib.sha256(body).hexdigest()[:12]}_dept.csv": b"also\n"}
    for name, content in planted.items():
        (inbox / name).write_bytes(content)
    answer = _as(hub, "publisher").action.resource_create(
        package_id="population-residents", upload=("dept.csv", io.BytesIO(body))
    )
    assert answer["upload"]["file"] not in planted
    assert (inbox / answer["upload"]["file"]).read_bytes() == body
    for name, content in planted.items():
        assert (inbox / name).read_bytes() == content
        (inbox / name).unlink()
    (inbox / answer["upload"]["file"]).unlink()


@pytest.mark.parametrize(
    ("role", "status"), [("publisher", 200), ("steward", 200), ("consumer", 403), ("analyst", 403), (None, 403)]
)
def test_files_of_a_not_shared_dataset_reach_only_its_department_and_stewards(
    hub: Site, role: str | None, status: int
) -> None:
    res = _as(hub, "steward").action.resource_create(
        package_id="informants", upload=("名册.csv", io.BytesIO(b"name\nx\n"))
    )
    got = _get(hub, res["url"], role)
    assert got.status_code == status, got.text
    assert (got.content == b"name\nx\n") is (status == 200)


def _post_upload(url: str, key: str, size: int, fill: bytes = b"x") -> httpx.Response:
    return httpx.post(
        url + "/api/3/action/resource_create",
        headers={"X-API-Key": key},
        data={"package_id": "station-map"},
        files={"upload": ("big.csv", fill * size)},
    )


def test_uploads_are_bounded_per_role_and_by_a_daily_quota(hub: Site) -> None:
    with db.session(hub.settings.db_url) as s:  # a client of its own: its quota starts empty
        key = clients.issue_key(s, clients.ensure_client(s, "quota-uploader", role="publisher", organization=POLICE))
    small = hub.settings.model_copy(update={"upload_max_bytes_publisher": 2_000, "upload_quota_bytes": 5_000})
    store = hub.settings.path("filestore")
    with LiveServer(small) as server:
        before = set(store.rglob("*"))
        over = _post_upload(server.url, key, 3_000)
        assert over.status_code == 413 and over.json()["error"]["__type"] == "Request Entity Too Large"
        assert set(store.rglob("*")) == before, "nothing left behind, no .part"
        refused = ckanapi.RemoteCKAN(server.url, apikey=hub.keys["consumer"])
        with pytest.raises(ckanapi.NotAuthorized):  # consumers never upload
            refused.action.resource_create(package_id="station-map", upload=("a.csv", io.BytesIO(b"a")))
        sent = 0
        while (got := _post_upload(server.url, key, 1_500, b"y")).status_code == 200:
            sent += 1_500
        assert got.status_code == 413 and "quota" in got.json()["error"]["message"]
        assert sent == 4_500, "three fit in 5,000 bytes, the fourth would pass it"
        assert not list(store.rglob("*.part"))
