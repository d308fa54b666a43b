"""Operations endpoints over HTTP: liveness, readiness that fails when a serving copy is missing,
Prometheus metrics for stewards counting requests, rows served and ingest outcomes; and the
server's log lines carrying the request id, as text or JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.settings import Settings
from tests.catalog.sites import Site, site
from tests.conftest import LiveServer, free_port
from tests.published import DATASET
from warehouse import serving

RECORDS = "/api/v1/datasets/population-residents/records"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(tmp_path_factory.mktemp("ops"), rows=30) as s:
        yield s


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus answer, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(hub: Site) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = httpx.get(hub.url + "/metrics", headers={"Authorization": f"Bearer {hub.keys['steward']}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return samples(answer.text)


def test_liveness_answers_without_a_key(hub: Site) -> None:
    answer = httpx.get(hub.url + "/healthz", headers={"X-Request-ID": "probe-1"})
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert answer.headers.get_list("x-request-id") == ["probe-1"], "one request id, the caller's"


def test_readiness_checks_database_warehouse_and_serving_copies(hub: Site) -> None:
    answer = httpx.get(hub.url + "/readyz")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "warehouse": True,
        "serving": True,
    }
    assert "1 published datasets have their serving copy" == body["checks"]["serving"]["detail"]


def test_readiness_fails_when_the_newest_serving_copy_is_gone(tmp_path: Path) -> None:
    with site(tmp_path, rows=10) as hub:
        copy = serving.current(hub.settings.serving_dir, DATASET).path
        moved = copy.with_suffix(".away")
        copy.rename(moved)
        try:
            answer = httpx.get(hub.url + "/readyz")
        finally:
            moved.rename(copy)
        assert answer.status_code == 503, answer.text
        body = answer.json()
        assert body["status"] == "not ready" and body["checks"]["database"]["ok"] is True
        assert body["checks"]["serving"] == {
            "ok": False,
            "detail": "LookupError: 1 of 1 published datasets lack the serving copy of their newest version",
            "ms": body["checks"]["serving"]["ms"],
        }
        assert DATASET not in answer.text, "an anonymous probe learns no dataset's name"
        assert httpx.get(hub.url + "/readyz").status_code == 200, "ready again once the copy is back"


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("consumer", 403), ("analyst", 403), ("publisher", 403)])
def test_metrics_are_for_stewards(hub: Site, role: str | None, status: int) -> None:
    headers = {"X-API-Key": hub.keys[role]} if role else {}
    answer = httpx.get(hub.url + "/metrics", headers=headers)
    assert answer.status_code == status, answer.text
    assert "hub_rows_served" not in answer.text


def test_metrics_count_requests_rows_served_and_ingest_outcomes(hub: Site) -> None:
    before = scrape(hub)
    served = ("hub_rows_served_total", (("action", "records"), ("dataset", DATASET)))
    page = httpx.get(hub.url + RECORDS, params={"limit": 7}, headers={"X-API-Key": hub.keys["consumer"]})
    assert page.status_code == 200 and len(page.json()["records"]) == 7
    refused = httpx.get(hub.url + RECORDS, params={"limit": 7}, headers={"X-API-Key": "hub_not-a-key"})
    assert refused.status_code == 401
    after = scrape(hub)
    assert after[served] - before.get(served, 0.0) == 7, "exactly the rows released"
    requests = "hub_http_requests_total"
    ok = (requests, (("handler", "/api/v1/datasets/{ref}/records"), ("method", "GET"), ("status", "200")))
    denied = (requests, (("handler", "/api/v1/datasets/{ref}/records"), ("method", "GET"), ("status", "401")))
    assert after[ok] - before.get(ok, 0.0) == 1 and after[denied] - before.get(denied, 0.0) == 1
    assert not any(labels and ("handler", "/metrics") in labels for _, labels in after), "scrapes are not counted"
    assert after[("hub_ingest_files", (("dataset", DATASET), ("status", "published")))] == 1
    assert after[("hub_dataset_version", (("dataset", DATASET),))] == 1
    assert after[("hub_dataset_rows", (("dataset", DATASET),))] == 30


def test_metrics_can_be_public_on_a_private_network(tmp_path: Path) -> None:
    from hub.settings import Settings

    settings = Settings(home=tmp_path / "hub", metrics_public=True)
    settings.ensure_dirs()
    with LiveServer(settings) as server:
        answer = httpx.get(server.url + "/metrics")
    assert answer.status_code == 200 and "hub_rows_served" in answer.text


def _serve(home: Path, log_format: str) -> tuple[str, str]:
    """Run ``hub serve``, make one request with a request id, stop it; the id and its stderr."""
    port = free_port()
    env = {**os.environ, "HUB_HOME": str(home), "HUB_API_PORT": str(port), "HUB_LOG_FORMAT": log_format}
    exe = str(Path(sys.executable).with_name("hub"))
    server = subprocess.Popen([exe, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rid = f"trace-{log_format}-42"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": rid})
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "hub serve did not start"
                time.sleep(0.2)
        assert answer.status_code == 200
        httpx.get(f"http://127.0.0.1:{port}/api/v1/nowhere", headers={"X-Request-ID": rid + "-b"})
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    return rid, err


def test_every_log_line_of_a_request_carries_its_id_as_text_or_json(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    rid, err = _serve(home, "text")
    access = [line for line in err.splitlines() if "uvicorn.access" in line]
    assert any(f"[{rid}]" in line and "/healthz" in line for line in access), err
    assert any(f"[{rid}-b]" in line and "404" in line for line in access), err
    assert any("[-]" in line and "Application startup complete" in line for line in err.splitlines()), err

    rid, err = _serve(home, "json")
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert lines and len(lines) == len([x for x in err.splitlines() if x.strip()]), "every line is JSON"
    assert {"time", "level", "logger", "request_id", "message"} <= set(lines[0])
    mine = [x for x in lines if x["request_id"] == rid]
    assert mine and mine[0]["logger"] == "uvicorn.access" and "/healthz" in mine[0]["message"]


def test_the_server_moves_its_start_up_heap_out_of_the_collectors_reach(settings: Settings) -> None:
    """``hub serve`` freezes what start-up allocated once the app has started, so the collector's
    full passes do not scan it on the request path; the setting turns it off."""
    import gc

    from fastapi.testclient import TestClient

    from exchange_api.app import create_app

    gc.unfreeze()
    try:
        with TestClient(create_app(settings.model_copy(update={"api_freeze_heap": False}))):
            assert gc.get_freeze_count() == 0
        with TestClient(create_app(settings.model_copy(update={"api_freeze_heap": True}))):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
