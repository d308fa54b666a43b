"""The ckanapi command line against the hub: action, search, dump --all, and load into a second hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import ckanapi
import pytest

from tests.catalog.sites import Site, site

BIN = Path(sys.executable).parent
CKANAPI = str(BIN / "ckanapi")


def run(*args: str, key: str | None = None) -> str:
    """Run ``ckanapi`` (its dump/load workers are ``ckanapi`` processes too, found on PATH)."""
    cmd = [CKANAPI, *args] + (["-a", key] if key else [])
    env = os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(cmd, capture_output=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    return done.stdout.decode("utf-8")


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Site]]:
    """The hub with data, and a second, empty hub (no contracts) playing an external CKAN."""
    no_contracts = tmp_path_factory.mktemp("no-contracts")
    with (
        site(tmp_path_factory.mktemp("cli-a"), rows=30) as a,
        site(tmp_path_factory.mktemp("cli-b"), contracts_dir=no_contracts) as b,
    ):
        steward = ckanapi.RemoteCKAN(a.url, apikey=a.keys["steward"])
        steward.action.group_create(name="grid", title="网格化管理")
        steward.action.package_create(
            name="street-offices",
            title="街道办事处名录",
            owner_org="dept-11010100001",
            open_type="无条件开放",
            groups=[{"name": "grid"}, {"name": "spatial"}],
            tags=[{"name": "街道"}],
            resources=[{"name": "CSV", "url": "https://example.org/streets.csv", "format": "CSV"}],
        )
        yield a, b


def test_action_post_and_get(hubs: tuple[Site, Site]) -> None:
    a, _ = hubs
    shown = json.loads(run("action", "package_show", "id=population-residents", "-r", a.url, key=a.keys["consumer"]))
    assert shown["title"] == "常住人口" and shown["resource_code"] == "101/000001"
    found = json.loads(run("action", "package_search", "q=人口", "-r", a.url, "-g", key=a.keys["consumer"]))
    assert [p["name"] for p in found["results"]] == ["population-residents"]
    listed = json.loads(run("action", "group_list", "-r", a.url, "-j"))
    assert "grid" in listed and "population" in listed


def test_search_datasets(hubs: tuple[Site, Site]) -> None:
    a, _ = hubs
    found = lines(run("search", "datasets", "q=街道", "-r", a.url, key=a.keys["consumer"]))
    assert sorted(p["name"] for p in found) == ["population-residents", "street-offices"]
    anonymous = lines(run("search", "datasets", "q=街道", "-r", a.url))
    assert [p["name"] for p in anonymous] == ["street-offices"]
    grid = lines(run("search", "datasets", "fq=groups:grid", "-r", a.url))
    assert [p["name"] for p in grid] == ["street-offices"]


def test_dump_all_and_load_into_a_second_hub(hubs: tuple[Site, Site], tmp_path: Path) -> None:
    a, b = hubs
    out = {thing: tmp_path / f"{thing}.jsonl" for thing in ("organizations", "groups", "datasets")}
    run("dump", "organizations", "--all", "-q", "-r", a.url, "-O", str(out["organizations"]), key=a.keys["steward"])
    run("dump", "groups", "--all", "-q", "-r", a.url, "-O", str(out["groups"]), key=a.keys["steward"])
    public = lines(run("dump", "datasets", "--all", "-q", "-r", a.url))
    assert [p["name"] for p in public] == ["street-offices"], "private datasets need --include-private and a key"
    args = ("dump", "datasets", "--all", "--include-private", "-q", "-r", a.url, "-O", str(out["datasets"]))
    run(*args, key=a.keys["steward"])
    dumped = {p["name"]: p for p in lines(out["datasets"].read_text(encoding="utf-8"))}
    assert set(dumped) == {"population-residents", "street-offices"}
    for thing in ("organizations", "groups", "datasets"):
        run("load", thing, "-q", "-I", str(out[thing]), "-r", b.url, key=b.keys["steward"])
    remote = ckanapi.RemoteCKAN(b.url, apikey=b.keys["consumer"])
    assert remote.action.package_list() == ["population-residents", "street-offices"]
    copy, original = remote.action.package_show(id="population-residents"), dumped["population-residents"]
    assert copy["origin"] == "catalogue", "the second hub holds the metadata, not the data"
    for key in ("id", "title", "notes", "private", "resource_code", "resource_classification", "provider_code"):
        assert copy[key] == original[key], key
    for key in ("sharing_type", "sharing_condition", "open_type", "update_frequency", "release_date"):
        assert copy[key] == original[key], key
    assert copy["information_items"] == original["information_items"]
    assert [g["name"] for g in copy["groups"]] == ["population"]
    assert [r["url"] for r in copy["resources"]] == [r["url"] for r in original["resources"]]
    assert {e["key"]: e["value"] for e in copy["extras"]} == {e["key"]: e["value"] for e in original["extras"]}
    streets = remote.action.package_show(id="street-offices")
    assert sorted(g["name"] for g in streets["groups"]) == ["grid", "spatial"]
    assert streets["resource_code"] == dumped["street-offices"]["resource_code"]
    activity_before = len(remote.action.package_activity_list(id="population-residents"))
    run("load", "datasets", "-q", "-I", str(out["datasets"]), "-r", b.url, key=b.keys["steward"])
    acts = remote.action.package_activity_list(id="population-residents")
    assert len(acts) == activity_before, (acts[0]["data"], "a reload changes nothing")
