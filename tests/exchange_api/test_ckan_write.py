"""Write actions through ckanapi: who may do what, catalogue-only datasets, contract-backed limits,
uploads into the contract pipeline, activity, tokens, and datastore_search over the warehouse."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import ckanapi
import httpx
import pytest

from catalog import db, service
from exchange_api import ckan_api  # noqa: F401 - registers the actions
from exchange_api.ckan_actions import ACTIONS
from ingest import steps
from tests.catalog.sites import Site, site


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(tmp_path_factory.mktemp("write"), rows=60) as s:
        yield s


def _as(hub: Site, role: str | None) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(hub.url, apikey=hub.keys[role] if role else None)


def _new(hub: Site, name: str, role: str = "steward", **fields: object) -> dict:
    data = {"name": name, "title": f"目录 {name}", "owner_org": "dept-11010100001"} | fields
    return _as(hub, role).action.package_create(**data)


def _denied_calls(hub: Site) -> dict[str, dict]:
    """One call per write action that only a steward (or the department's publisher) may make."""
    rid = _as(hub, "consumer").action.package_show(id="population-residents")["resources"][0]["id"]
    return {
        "package_create": {"name": "nope-1", "owner_org": "dept-11010100001"},
        "package_update": {"id": "population-residents"},
        "package_patch": {"id": "population-residents", "related_resource_codes": ["101/000009"]},
        "package_delete": {"id": "population-residents"},
        "resource_create": {"package_id": "population-residents", "name": "x", "url": "https://example.org"},
        "resource_update": {"id": rid, "name": "x"},
        "resource_patch": {"id": rid, "name": "x"},
        "resource_delete": {"id": rid},
        "organization_create": {"name": "dept-x", "title": "X"},
        "organization_update": {"id": "dept-11010100001", "description": "x"},
        "group_create": {"name": "theme-x"},
        "group_update": {"id": "population", "description": "x"},
        "api_token_create": {"user": "steward-wang", "name": "stolen"},
        "api_token_revoke": {"token": hub.keys["steward"]},
    }


@pytest.mark.parametrize("role", [None, "consumer", "analyst"])
def test_every_write_action_checks_the_caller(hub: Site, role: str | None) -> None:
    calls = _denied_calls(hub)
    assert set(calls) == {n for n, a in ACTIONS.items() if not a.read_only}, "a new write action needs a case here"
    ckan = _as(hub, role)
    for name, data in calls.items():
        with pytest.raises(ckanapi.NotAuthorized):
            ckan.call_action(name, data)
    with pytest.raises(ckanapi.NotAuthorized):
        ckan.action.resource_create(package_id="population-residents", upload=io.BytesIO(b"a,b\n"))
    assert _as(hub, "steward").action.user_show()["name"] == "steward-wang", "the steward's key still works"


def test_catalogue_only_dataset_lifecycle(hub: Site) -> None:
    steward = _as(hub, "steward")
    pkg = _new(
        hub,
        "police-stations",
        notes="派出所名录",
        tags=[{"name": "派出所"}],
        extras=[{"key": "source", "value": "区公安分局官网"}, {"key": "update_frequency", "value": "yearly"}],
        resources=[{"name": "list", "url": "https://example.org/ps.csv", "format": "CSV"}],
    )
    assert pkg["origin"] == "catalogue" and pkg["contract_id"] is None and pkg["versions"] == []
    assert pkg["update_frequency"] == "yearly" and pkg["open_type"] == "有条件开放" and pkg["private"] is False
    assert pkg["resource_code"] == "300/000001", "no domain: 部门信息资源, item 00"
    assert {"key": "source", "value": "区公安分局官网"} in pkg["extras"]
    patched = steward.action.package_patch(
        id="police-stations", title="派出所名录 (2026)", groups=[{"name": "population"}]
    )
    assert patched["title"] == "派出所名录 (2026)" and patched["notes"] == "派出所名录"
    assert [g["name"] for g in patched["groups"]] == ["population"] and patched["domain"] == "population"
    assert patched["resource_code"] == "300/000001", "codes never change"
    assert len(patched["resources"]) == 1 and patched["tags"][0]["name"] == "派出所"
    updated = steward.action.package_update(**(patched | {"notes": "新的摘要", "resources": []}))
    assert updated["notes"] == "新的摘要" and updated["resources"] == []
    assert "police-stations" in [p["name"] for p in steward.action.package_search(q="派出所")["results"]]
    types = [a["activity_type"] for a in steward.action.package_activity_list(id="police-stations")]
    assert types == ["changed package", "changed package", "new package"]
    unchanged = steward.action.package_patch(id="police-stations")
    assert unchanged["metadata_modified"] == updated["metadata_modified"]
    assert len(steward.action.package_activity_list(id="police-stations")) == 3, "no change, no activity"
    steward.action.package_delete(id="police-stations")
    with pytest.raises(ckanapi.NotFound):
        steward.action.package_show(id="police-stations")
    assert "police-stations" not in steward.action.package_list()


def test_validation_errors(hub: Site) -> None:
    steward = _as(hub, "steward")
    cases = [
        ({"name": "Bad Name!", "owner_org": "dept-11010100001"}, "name"),
        ({"owner_org": "dept-11010100001"}, "name"),
        ({"name": "no-org"}, "owner_org"),
        ({"name": "ghost-org", "owner_org": "no-such-dept"}, "owner_org"),
        ({"name": "population-residents", "owner_org": "dept-11010100001"}, "name"),  # taken
        ({"name": "legal_entity-enterprises", "owner_org": "dept-11010100001"}, "name"),  # kept for a contract
        ({"name": "bad-type", "owner_org": "dept-11010100001", "sharing_type": "随便共享"}, "sharing_type"),
        ({"name": "bad-group", "owner_org": "dept-11010100001", "groups": [{"name": "nope"}]}, "groups"),
        ({"name": "bad-field", "owner_org": "dept-11010100001", "fields": [{"name": "x", "type": "blob"}]}, "fields"),
        (
            {"name": "bad-private", "owner_org": "dept-11010100001", "open_type": "不予开放", "private": False},
            "private",
        ),
    ]
    for data, field in cases:
        with pytest.raises(ckanapi.ValidationError) as err:
            steward.action.package_create(**data)
        assert field in err.value.error_dict, (data, err.value.error_dict)
        assert err.value.error_dict["__type"] == "Validation Error"


def test_contract_backed_metadata_is_not_retyped(hub: Site) -> None:
    steward = _as(hub, "steward")
    with pytest.raises(ckanapi.ValidationError) as err:
        steward.action.package_patch(id="population-residents", title="人口表")
    assert "change the contract" in err.value.error_dict["title"][0]
    with pytest.raises(ckanapi.ValidationError):
        steward.action.package_patch(id="population-residents", open_type="无条件开放")
    pkg = steward.action.package_show(id="population-residents")
    again = steward.action.package_update(**pkg)  # resending everything unchanged is fine (ckanapi load does)
    assert again["metadata_modified"] == pkg["metadata_modified"]
    steward.action.group_create(name="public-services", title="公共服务")
    themed = steward.action.package_patch(
        id="population-residents", groups=[{"name": "public-services"}], related_resource_codes=["102/000001"]
    )
    assert [g["name"] for g in themed["groups"]] == ["population", "public-services"], "the domain group stays"
    assert themed["related_resource_codes"] == ["102/000001"]
    with pytest.raises(ckanapi.ValidationError):
        steward.action.resource_patch(id=pkg["resources"][0]["id"], url="https://elsewhere.example")
    with pytest.raises(ckanapi.ValidationError):
        steward.action.package_delete(id="population-residents")
    extra = steward.action.resource_create(
        package_id="population-residents", name="字段说明", url="https://example.org/spec.pdf", format="PDF"
    )
    assert steward.action.package_show(id="population-residents")["num_resources"] == 3
    steward.action.resource_delete(id=extra["id"])
    assert steward.action.package_show(id="population-residents")["num_resources"] == 2


def test_publishers_edit_their_own_department_only(hub: Site) -> None:
    steward, publisher = _as(hub, "steward"), _as(hub, "publisher")
    steward.action.organization_create(name="dept-civil", title="区民政局", department_code="11010100003")
    own = publisher.action.package_create(name="household-register", owner_org="11010100001", title="户籍")
    assert own["organization"]["name"] == "dept-11010100001"
    with pytest.raises(ckanapi.NotAuthorized):
        publisher.action.package_create(name="civil-orgs", owner_org="dept-civil")
    steward.action.package_create(name="civil-orgs", owner_org="dept-civil", title="社会组织")
    with pytest.raises(ckanapi.NotAuthorized):
        publisher.action.package_patch(id="civil-orgs", title="mine now")
    with pytest.raises(ckanapi.NotAuthorized):
        publisher.action.package_patch(id="household-register", owner_org="dept-civil")
    with pytest.raises(ckanapi.NotAuthorized):
        publisher.action.organization_update(id="dept-civil", description="x")
    updated = steward.action.organization_update(id="dept-civil", description="民政")
    assert updated["description"] == "民政" and updated["department_code"] == "11010100003"
    with pytest.raises(ckanapi.ValidationError):
        steward.action.organization_update(id="dept-11010100001", title="改名")


def test_upload_to_a_contract_backed_dataset_is_queued_for_the_pipeline(hub: Site) -> None:
    publisher = _as(hub, "publisher")
    csv = "公民身份号码,姓名\n".encode("gb18030")
    pkg = publisher.action.package_show(id="population-residents")
    before = pkg["latest_version"]
    answer = publisher.action.resource_create(
        package_id="population-residents", upload=("常住人口_2026-12.csv", io.BytesIO(csv))
    )
    assert answer["upload_status"] == "queued" and "contract pipeline" in answer["note"]
    assert answer["id"] == pkg["resources"][1]["id"], "the answer is the table the data will land in"
    settings = hub.settings
    from contracts import model

    contract = model.find(settings.contracts_dir, "population.residents")
    inbox = steps.inbox_folder(settings, contract)
    assert [p.name for p in inbox.iterdir()] == ["常住人口_2026-12.csv"]
    assert (inbox / "常住人口_2026-12.csv").read_bytes() == csv
    with db.session(settings.db_url) as s:
        ledger = {f.filename: f.status for f in service.files(s, "population.residents")}
    assert ledger["常住人口_2026-12.csv"] == "queued"
    after = publisher.action.package_show(id="population-residents")
    assert after["latest_version"] == before, "nothing reaches the warehouse before the pipeline runs"
    acts = publisher.action.package_activity_list(id="population-residents")
    assert acts[0]["data"]["message"] == "export 常住人口_2026-12.csv uploaded: queued"
    assert acts[0]["user_name"] == "police-uploader"
    again = publisher.action.resource_update(id=pkg["resources"][0]["id"], upload=("again.csv", io.BytesIO(csv)))
    assert again["upload_status"] == "queued"
    (inbox / "常住人口_2026-12.csv").unlink()
    (inbox / "again.csv").unlink()


def test_upload_to_a_catalogue_only_dataset_is_stored_and_downloadable(hub: Site) -> None:
    publisher = _as(hub, "publisher")
    publisher.action.package_create(name="station-map", owner_org="dept-11010100001", title="警务站点图")
    res = publisher.action.resource_create(package_id="station-map", upload=("站点.csv", io.BytesIO(b"id\n1\n")))
    assert res["url_type"] == "upload" and res["size"] == 5 and res["name"] == "站点.csv"
    assert httpx.get(res["url"]).content == b"id\n1\n"
    patched = publisher.action.resource_patch(id=res["id"], upload=("站点.csv", io.BytesIO(b"id\n1\n2\n")))
    assert httpx.get(patched["url"]).content == b"id\n1\n2\n" and patched["name"] == "站点.csv"


def test_datastore_search_reads_the_warehouse_masked(hub: Site) -> None:
    ckan = _as(hub, "consumer")
    pkg = ckan.action.package_show(id="population-residents")
    rid = pkg["resources"][0]["id"]
    assert pkg["resources"][0]["datastore_active"] is True
    page = ckan.action.datastore_search(resource_id=rid, limit=10)
    assert page["total"] == 60 and len(page["records"]) == 10
    assert {f["id"] for f in page["fields"]} >= {"_id", "id_number", "street_code"}
    for record in page["records"]:
        assert record["id_number"][6:14] == "********" and set(record["name"][1:]) == {"*"}
    second = ckan.action.datastore_search(resource_id=rid, limit=10, offset=10)
    assert second["records"][0]["_id"] == 11
    street = page["records"][0]["street_code"]
    filtered = ckan.action.datastore_search(resource_id=rid, filters={"street_code": street}, fields=["street_code"])
    assert filtered["records"] and all(r["street_code"] == street for r in filtered["records"])
    assert set(filtered["records"][0]) == {"_id", "street_code"}
    by_get = ckanapi.RemoteCKAN(hub.url, apikey=hub.keys["consumer"], get_only=True)
    assert (
        by_get.action.datastore_search(resource_id=rid, filters=json.dumps({"street_code": street}))["total"]
        == filtered["total"]
    )
    ordered = ckan.action.datastore_search(resource_id=rid, sort="registered_on desc", limit=60)["records"]
    assert [r["registered_on"] for r in ordered] == sorted((r["registered_on"] for r in ordered), reverse=True)
    with pytest.raises(ckanapi.ValidationError, match="birth_date"):
        ckan.action.datastore_search(resource_id=rid, sort="birth_date desc")
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.datastore_search(resource_id=rid, filters={"id_number": "110101199003074477"})
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.datastore_search(resource_id=rid, sort="name asc")
    with pytest.raises(ckanapi.NotAuthorized):
        ckanapi.RemoteCKAN(hub.url).action.datastore_search(resource_id=rid)
    with pytest.raises(ckanapi.NotFound):
        ckan.action.datastore_search(resource_id="no-such-resource")


def test_api_tokens(hub: Site) -> None:
    consumer = _as(hub, "consumer")
    token = consumer.action.api_token_create(user="grid-app", name="laptop")["token"]
    fresh = ckanapi.RemoteCKAN(hub.url, apikey=token)
    assert fresh.action.user_show()["name"] == "grid-app"
    assert "laptop" in [t["name"] for t in consumer.action.api_token_list()]
    with pytest.raises(ckanapi.NotAuthorized):
        consumer.action.api_token_create(user="steward-wang", name="steal")
    fresh.action.api_token_revoke(token=token)
    with pytest.raises(ckanapi.NotAuthorized):
        fresh.action.user_show()
    steward = _as(hub, "steward")
    for_app = steward.action.api_token_create(user="grid-app", name="issued")["token"]
    jti = next(t["id"] for t in steward.action.api_token_list(user="grid-app") if t["name"] == "issued")
    steward.action.api_token_revoke(jti=jti)
    with pytest.raises(ckanapi.NotAuthorized):
        ckanapi.RemoteCKAN(hub.url, apikey=for_app).action.user_show()


def test_uploads_are_refused_when_empty_or_from_another_department(hub: Site) -> None:
    from catalog import clients

    with db.session(hub.settings.db_url) as s:
        other = clients.issue_key(
            s, clients.ensure_client(s, "market-uploader", role="publisher", organization="11010100002")
        )
    with pytest.raises(ckanapi.NotAuthorized):
        ckanapi.RemoteCKAN(hub.url, apikey=other).action.resource_create(
            package_id="population-residents", upload=("x.csv", io.BytesIO(b"a\n1\n"))
        )
    with pytest.raises(ckanapi.ValidationError) as err:
        _as(hub, "publisher").action.resource_create(
            package_id="population-residents", upload=("e.csv", io.BytesIO(b""))
        )
    assert "upload" in err.value.error_dict


def test_anonymous_callers_read_public_metadata(hub: Site) -> None:
    _as(hub, "steward").action.package_create(name="open-data", owner_org="dept-11010100001", open_type="无条件开放")
    anonymous = _as(hub, None)
    assert anonymous.action.package_show(id="open-data")["private"] is False
    listed = anonymous.action.current_package_list_with_resources()
    assert "open-data" in [p["name"] for p in listed] and "population-residents" not in [p["name"] for p in listed]
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.package_show(id="population-residents")
