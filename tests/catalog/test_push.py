"""``hub catalog push`` into a second hub playing the external CKAN: create, then nothing, then update."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ckanapi
import pytest
from typer.testing import CliRunner

from catalog.push import push
from hub.catalog_cli import app
from hub.settings import get_settings
from tests.catalog.sites import Site, site


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Site]]:
    no_contracts = tmp_path_factory.mktemp("external-contracts")
    with (
        site(tmp_path_factory.mktemp("push-a"), rows=20) as a,
        site(tmp_path_factory.mktemp("push-b"), contracts_dir=no_contracts) as b,
    ):
        steward = ckanapi.RemoteCKAN(a.url, apikey=a.keys["steward"])
        steward.action.group_create(name="grid-management", title="网格化管理")
        steward.action.package_create(
            name="street-offices",
            title="街道办事处名录",
            owner_org="dept-11010100001",
            open_type="无条件开放",
            groups=[{"name": "grid-management"}],
            tags=[{"name": "街道"}],
            resources=[{"name": "CSV", "url": "https://example.org/streets.csv", "format": "CSV"}],
        )
        yield a, b


def _cli(a: Site, b: Site, monkeypatch: pytest.MonkeyPatch, *extra: str) -> str:
    monkeypatch.setenv("HUB_HOME", str(a.settings.home))
    monkeypatch.setenv("HUB_API_PORT", str(a.settings.api_port))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["push", "--to", b.url, "--token", b.keys["steward"], *extra])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result.output


def _activity(remote: ckanapi.RemoteCKAN) -> dict[str, int]:
    return {n: len(remote.action.package_activity_list(id=n)) for n in remote.action.package_list()}


def test_push_creates_then_changes_nothing_then_updates(
    hubs: tuple[Site, Site], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = hubs
    first = _cli(a, b, monkeypatch)
    assert "created organization dept-11010100001" in first and "created group grid-management" in first
    assert "2 created, 0 updated, 0 unchanged, 0 failed" in first
    remote = ckanapi.RemoteCKAN(b.url, apikey=b.keys["consumer"])
    copy = remote.action.package_show(id="population-residents")
    source = ckanapi.RemoteCKAN(a.url, apikey=a.keys["consumer"]).action.package_show(id="population-residents")
    for key in ("title", "title_en", "private", "resource_code", "resource_classification", "provider_code"):
        assert copy[key] == source[key], key
    for key in ("sharing_type", "open_type", "update_frequency_label", "release_date", "information_items"):
        assert copy[key] == source[key], key
    assert copy["resources"][0]["url"] == f"{a.url}/api/v1/datasets/population-residents/records"
    assert [g["name"] for g in copy["groups"]] == ["population"]
    before = _activity(remote)
    modified = copy["metadata_modified"]

    second = _cli(a, b, monkeypatch)
    assert "0 created, 0 updated, 2 unchanged, 0 failed" in second and "created organization" not in second
    assert _activity(remote) == before, "a second push changes nothing"
    assert remote.action.package_show(id="population-residents")["metadata_modified"] == modified

    ckanapi.RemoteCKAN(a.url, apikey=a.keys["steward"]).action.package_patch(id="street-offices", notes="新的摘要")
    report = push(a.settings, ckanapi.RemoteCKAN(b.url, apikey=b.keys["steward"]))
    assert (report.created, report.updated, report.unchanged) == ([], ["street-offices"], ["population-residents"])
    assert remote.action.package_show(id="street-offices")["notes"] == "新的摘要"


def test_push_options_and_failures(hubs: tuple[Site, Site], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    a, b = hubs
    public = push(a.settings, ckanapi.RemoteCKAN(b.url, apikey=b.keys["steward"]), public_only=True)
    assert public.unchanged + public.updated == ["street-offices"]
    refused = push(a.settings, ckanapi.RemoteCKAN(b.url, apikey=b.keys["consumer"]), datasets=["street-offices"])
    assert refused.failed == {} and refused.unchanged == ["street-offices"], "nothing to write, nothing refused"
    ckanapi.RemoteCKAN(a.url, apikey=a.keys["steward"]).action.package_patch(id="street-offices", title="新标题")
    refused = push(a.settings, ckanapi.RemoteCKAN(b.url, apikey=b.keys["consumer"]), datasets=["street-offices"])
    assert "street-offices" in refused.failed and "token" in refused.failed["street-offices"]
    monkeypatch.setenv("HUB_HOME", str(a.settings.home))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["push", "--to", "http://127.0.0.1:9", "--token", "x"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2 and "cannot reach" in result.output
