"""The CKAN Action API through the real ckanapi client over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ckanapi
import httpx
import pytest

from hub.settings import Settings
from tests.conftest import LiveServer
from tests.published import new_key, publish_export


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, int]]:
    settings = Settings(home=Path(tmp_path_factory.mktemp("ckan")) / "hub")
    settings.ensure_dirs()
    manifest = publish_export(settings, "v1.csv", rows=80, bad_share=0.1, seed=5)
    key = new_key(settings, "ckan-tests")
    with LiveServer(settings) as server:
        yield server.url, key, manifest.good_rows


@pytest.mark.parametrize("get_only", [False, True], ids=["post", "get"])
def test_package_show_and_list(site: tuple, get_only: bool) -> None:
    url, key, good = site
    ckan = ckanapi.RemoteCKAN(url, apikey=key, get_only=get_only)
    assert ckan.action.package_list() == ["population-residents"]
    pkg = ckan.action.package_show(id="population-residents")
    assert pkg["title"] == "常住人口" and pkg["private"] is True
    assert pkg["versions"][0]["row_count"] == good
    assert pkg["resources"][0]["url"].startswith(url + "/api/v1/datasets/population-residents/records")
    assert ckan.action.package_show(id="population.residents")["id"] == pkg["id"]
    assert ckan.action.package_show(id=pkg["id"])["name"] == "population-residents"


def test_status_and_organizations(site: tuple) -> None:
    url, _, _ = site
    ckan = ckanapi.RemoteCKAN(url)
    status = ckan.action.status_show()
    assert status["ckan_version"].startswith("2.") and status["site_url"] == url
    assert ckan.action.organization_list() == ["dept-11010100001"]
    assert ckan.action.site_read() is True


def test_errors_raise_the_right_ckanapi_exceptions(site: tuple) -> None:
    url, key, _ = site
    ckan = ckanapi.RemoteCKAN(url, apikey=key)
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="no-such-dataset")
    with pytest.raises(ckanapi.ValidationError) as err:
        ckan.action.package_show()
    assert err.value.error_dict["id"] == ["Missing value"]
    with pytest.raises(ckanapi.NotAuthorized):
        ckanapi.RemoteCKAN(url).action.package_show(id="population-residents")
    with pytest.raises(ckanapi.NotAuthorized):
        ckanapi.RemoteCKAN(url, apikey="hub_not_a_key").action.package_list()
    with pytest.raises(ckanapi.CKANAPIError):
        ckan.call_action("no_such_action")


def test_envelope_and_both_paths(site: tuple) -> None:
    url, _, _ = site
    for path in ("/api/3/action/status_show", "/api/action/status_show"):
        body = httpx.get(url + path).json()
        assert body["success"] is True and body["help"].endswith("help_show?name=status_show")
    unknown = httpx.post(url + "/api/3/action/nope", json={})
    assert unknown.status_code == 400 and unknown.json() == "Bad request: Action name not known: nope"
    anonymous = httpx.get(url + "/api/3/action/package_list").json()
    assert anonymous["result"] == [], "private datasets are hidden from anonymous callers"
