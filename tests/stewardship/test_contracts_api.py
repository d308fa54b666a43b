"""The contract lifecycle over HTTP (real app under uvicorn) and on the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import yaml
from typer.testing import CliRunner

from catalog import clients, db
from hub.cli import app
from hub.settings import get_settings
from tests.catalog.sites import Site, site
from tests.stewardship.test_lifecycle import DATASET, changed

BASE = f"/api/v1/contracts/{DATASET}/versions"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(tmp_path_factory.mktemp("contracts-api")) as s:
        yield s


def _as(hub: Site, role: str) -> httpx.Client:
    return httpx.Client(base_url=hub.url, headers={"X-API-Key": hub.keys[role]})


def test_propose_decide_and_read_versions_over_http(hub: Site) -> None:
    with _as(hub, "publisher") as police, _as(hub, "steward") as steward, _as(hub, "consumer") as consumer:
        sent = police.post(
            "/api/v1/contracts", content=changed("1.1.0", ratio="0.3"), headers={"Content-Type": "application/yaml"}
        )
        assert sent.status_code == 201, sent.text
        assert (sent.json()["version"], sent.json()["status"], sent.json()["proposed_by"]) == (
            "1.1.0",
            "proposed",
            "police-uploader",
        )
        as_json = yaml.safe_load(changed("1.2.0"))
        assert (
            police.post(
                "/api/v1/contracts", content=orjson.dumps(as_json), headers={"Content-Type": "application/json"}
            ).status_code
            == 201
        )
        refused = consumer.post(
            "/api/v1/contracts", content=changed("1.3.0"), headers={"Content-Type": "application/yaml"}
        )
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        own = police.post(f"{BASE}/1.1.0/approve")
        assert own.status_code == 403 and "only a data steward" in own.json()["error"]["message"]
        bad = police.post(
            "/api/v1/contracts", content=changed("1.4.0").replace("logicalType: date", "logicalType: day", 1)
        )
        assert bad.status_code == 400 and "the request body" in bad.json()["error"]["message"]
        approved = steward.post(f"{BASE}/1.1.0/approve", json={"reason": "a looser limit for the census month"})
        assert approved.status_code == 200 and approved.json()["status"] == "active", approved.text
        again = steward.post(f"{BASE}/1.1.0/approve")
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
        assert steward.post(f"{BASE}/1.2.0/reject").status_code == 400, "a rejection needs a reason"
        listed = {c["dataset"]: c for c in consumer.get("/api/v1/contracts").json()["contracts"]}
        assert listed[DATASET]["active"] == "1.1.0" and listed[DATASET]["pending"] == ["1.2.0 proposed"]
        versions = consumer.get(BASE).json()["versions"]
        assert [(v["version"], v["status"]) for v in versions] == [
            ("1.0.0", "deprecated"),
            ("1.1.0", "active"),
            ("1.2.0", "proposed"),
        ]
        old = consumer.get(f"{BASE}/1.0.0", params={"format": "yaml"})
        assert old.status_code == 200 and yaml.safe_load(old.text)["version"] == "1.0.0"
        shown = consumer.get(f"{BASE}/1.1.0").json()
        assert [s["action"] for s in shown["steps"]] == ["draft", "submit", "approve", "activate"]
        assert consumer.get("/api/v1/contracts/no.such/versions").status_code == 404
        assert httpx.get(f"{hub.url}/api/v1/contracts").status_code == 401


def test_the_command_line_proposes_approves_and_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "hub"))
    get_settings.cache_clear()
    try:
        settings = get_settings()
        settings.ensure_dirs()
        with db.session(settings.db_url) as s:
            clients.ensure_client(s, "police-uploader", role="publisher", organization="11010100001")
        proposal = tmp_path / "residents-1.1.0.yaml"
        proposal.write_text(changed("1.1.0", ratio="0.3"), encoding="utf-8")
        run = CliRunner()
        out = run.invoke(app, ["contracts", "propose", str(proposal), "--as", "police-uploader"])
        assert out.exit_code == 0 and "1.1.0 is proposed" in out.output, out.output
        mine = run.invoke(app, ["contracts", "approve", DATASET, "1.1.0", "--as", "police-uploader"])
        assert mine.exit_code == 1 and mine.output.startswith("error: ") and "only a data steward" in mine.output
        done = run.invoke(app, ["contracts", "approve", DATASET, "1.1.0"])
        assert done.exit_code == 0 and "1.1.0 is active" in done.output, done.output
        listed = run.invoke(app, ["contracts", "versions", DATASET]).output.splitlines()
        assert [line.split()[:2] for line in listed] == [["1.0.0", "deprecated"], ["1.1.0", "active"]]
        shown = run.invoke(app, ["contracts", "show", DATASET, "1.0.0"]).output
        assert "version: 1.0.0" in shown and "# " in shown
        assert "1.1.0" in run.invoke(app, ["contracts", "list"]).output
    finally:
        get_settings.cache_clear()
