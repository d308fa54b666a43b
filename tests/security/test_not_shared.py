"""Finding 3: a 不予共享 (not shared) dataset is served to its own department and stewards only."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import ckanapi
import httpx
import pytest

from catalog import clients, db
from hub.settings import Settings
from tests.conftest import LiveServer
from tests.published import DATASET, publish_export

REF = DATASET.replace(".", "-")
OWN_DEPARTMENT = "11010100001"  # 东城区公安分局, the provider of population.residents
CALLERS = {  # name: (role, organization, may read)
    "other-department-app": ("consumer", "11010100003", False),
    "other-department-publisher": ("publisher", "11010100003", False),
    "analyst": ("analyst", None, False),
    "own-department-app": ("consumer", OWN_DEPARTMENT, True),
    "own-department-publisher": ("publisher", OWN_DEPARTMENT, True),
    "steward": ("steward", None, True),
}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    root = Path(tmp_path_factory.mktemp("not-shared"))
    folder = root / "contracts"
    shutil.copytree(Settings().contracts_dir, folder)
    path = folder / f"{DATASET}.yaml"
    text = path.read_text(encoding="utf-8")
    assert "{property: sharingType, value: 有条件共享}" in text
    path.write_text(text.replace("value: 有条件共享}", "value: 不予共享}", 1), encoding="utf-8")
    settings = Settings(home=root / "hub", contracts_dir=folder)
    settings.ensure_dirs()
    publish_export(settings, "v1.csv", rows=50, bad_share=0.0, seed=3)
    keys = {}
    with db.session(settings.db_url) as s:
        for name, (role, org, _) in CALLERS.items():
            keys[name] = clients.issue_key(s, clients.ensure_client(s, name, role=role, organization=org))
    with LiveServer(settings) as server:
        yield server.url, keys


def _resource(url: str, key: str) -> str:
    pkg = ckanapi.RemoteCKAN(url, apikey=key).action.package_show(id=REF)
    return next(r["id"] for r in pkg["resources"] if r.get("datastore_active"))


@pytest.mark.parametrize("name", list(CALLERS))
def test_every_data_route_serves_only_the_department_and_stewards(hub: tuple, name: str) -> None:
    url, keys = hub
    allowed = CALLERS[name][2]
    with httpx.Client(base_url=url, headers={"X-API-Key": keys[name]}) as http:
        # the catalogue entry stays visible, with its sharing type, so a caller knows it exists
        listed = {d["name"]: d for d in http.get("/api/v1/datasets").json()["datasets"]}
        assert listed[REF]["sharing_type"] == "不予共享"
        for path in (f"/api/v1/datasets/{REF}/records", f"/api/v1/datasets/{REF}"):
            response = http.get(path)
            assert response.status_code == (200 if allowed else 403), (path, response.text)
            if not allowed:
                assert "不予共享" in response.json()["error"]["message"]
                assert "records" not in response.json()
        filtered = http.get(f"/api/v1/datasets/{REF}/records", params={"street_code": "110101001"})
        assert filtered.status_code == (200 if allowed else 403)
    ckan = ckanapi.RemoteCKAN(url, apikey=keys[name])
    rid = _resource(url, keys["steward"])
    if allowed:
        assert ckan.action.datastore_search(resource_id=rid, limit=5)["records"]
    else:
        with pytest.raises(ckanapi.NotAuthorized, match="不予共享"):
            ckan.action.datastore_search(resource_id=rid, limit=5)


def test_anonymous_callers_get_nothing(hub: tuple) -> None:
    url, keys = hub
    assert httpx.get(f"{url}/api/v1/datasets/{REF}/records").status_code == 401
    with pytest.raises(ckanapi.NotAuthorized):
        ckanapi.RemoteCKAN(url).action.datastore_search(resource_id=_resource(url, keys["steward"]))
