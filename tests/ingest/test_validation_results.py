"""GX's own output is kept: each checked file's validation result (GX's JSON) under
HUB_HOME/quality, the dataset's Data Docs site built by GX under HUB_HOME/data_docs, both served
to stewards and the publishing department only, and linked from the catalogue's version entry."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog import clients, db
from contracts import model
from exchange_api.quality_api import DOCS_CSP
from generator.residents import generate
from hub.settings import Settings
from ingest import steps
from quality import docs, results
from tests.conftest import LiveServer

DATASET, REF = "population.residents", "population-residents"
POLICE, CIVIL = "11010100001", "11010100003"
SUITE = "population.residents@1.0.0"


def _ingest(settings: Settings, name: str, **kwargs: Any) -> dict[str, Any]:
    contract = model.find(settings.contracts_dir, DATASET)
    generate(steps.inbox_folder(settings, contract) / name, **kwargs)
    (file,) = steps.discover(DATASET, settings)
    outcome = steps.check(DATASET, file, settings, today=dt.date(2026, 11, 1)).dump()  # the XCom's JSON
    steps.register(DATASET, steps.publish(DATASET, settings), settings)
    return outcome


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings, dict[str, str], dict[str, Any]]]:
    root = Path(tmp_path_factory.mktemp("gxdocs"))
    settings = Settings(home=root / "hub")
    settings.ensure_dirs()
    outcomes = {
        "accepted": _ingest(settings, "v1.csv", rows=200, bad_share=0.05, seed=11),
        "rejected": _ingest(settings, "v2.csv", rows=60, bad_share=0.9, seed=12),
    }
    spec = {
        "steward": ("steward", None),
        "police": ("publisher", POLICE),
        "police-analyst": ("analyst", POLICE),
        "civil": ("publisher", CIVIL),
        "consumer": ("consumer", "区网格中心"),
    }
    with db.session(settings.db_url) as s:
        made = {n: clients.ensure_client(s, n, role=r, organization=o) for n, (r, o) in spec.items()}
        keys = {n: clients.issue_key(s, c) for n, c in made.items()}
    with LiveServer(settings) as server:
        yield server.url, server.settings, keys, outcomes


def _result(settings: Settings, outcome: dict[str, Any]) -> dict[str, Any]:
    return json.loads(results.result_path(settings, DATASET, outcome["sha256"]).read_text(encoding="utf-8"))


def _by_type(result: dict[str, Any], kind: str, column: str) -> dict[str, Any]:
    return next(
        r
        for r in result["results"]
        if r["expectation_config"]["type"] == kind and r["expectation_config"]["kwargs"].get("column") == column
    )


def test_each_checked_file_keeps_gx_s_result(hub: tuple) -> None:
    _, settings, _, outcomes = hub
    accepted, rejected = outcomes["accepted"], outcomes["rejected"]
    assert (accepted["status"], rejected["status"]) == ("validated", "rejected")
    path = results.result_path(settings, DATASET, accepted["sha256"])
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    result = _result(settings, accepted)
    assert set(result) >= {"success", "results", "suite_name", "statistics", "meta"}, "GX's structure"
    assert result["suite_name"] == SUITE and result["success"] is False
    assert result["meta"]["great_expectations_version"]
    assert result["meta"]["hub"] | {"checked_at": None} == {
        "dataset": DATASET,
        "contract_version": "1.0.0",
        "file": "v1.csv",
        "sha256": accepted["sha256"],
        "checked_at": None,
        "status": "validated",
        "batches": 1,
    }
    stats = result["statistics"]
    assert stats["evaluated_expectations"] == len(result["results"])
    assert stats["unsuccessful_expectations"] == sum(not r["success"] for r in result["results"]) > 0
    streets = _by_type(result, "expect_column_values_to_be_in_code_table", "street_code")
    assert streets["success"] is False, "the generated unknown street codes fail GX's expectation"
    assert streets["result"]["element_count"] == accepted["rows_read"] == 200
    assert streets["result"]["unexpected_count"] == accepted["issues_by_rule"]["code_table:dongcheng_streets"]
    assert streets["result"]["partial_unexpected_list"] and "unexpected_list" not in streets["result"]
    ids = _by_type(result, "expect_column_values_to_be_valid_gb11643", "id_number")
    assert ids["success"] is False and set(ids["result"]["partial_unexpected_list"]) == {results.MASKED}
    assert _result(settings, rejected)["meta"]["hub"]["status"] == "rejected", "a rejected file keeps its result too"


def test_gx_builds_the_dataset_s_data_docs(hub: tuple) -> None:
    _, settings, _, outcomes = hub
    root = docs.site_root(settings, DATASET)
    index = (root / "index.html").read_text(encoding="utf-8")
    assert SUITE in index and "Data Docs created by Great Expectations" in index
    for outcome in outcomes.values():
        page = root / docs.page(_result(settings, outcome))
        assert page.is_file(), "one page per checked file, accepted or rejected"
        assert outcome["validation"]["data_docs_page"] == docs.page(_result(settings, outcome))
        assert outcome["sha256"][:16] in index
    html = (root / docs.page(_result(settings, outcomes["accepted"]))).read_text(encoding="utf-8")
    assert "expect_column_values_to_be_in_code_table" in html and SUITE in html
    assert (root / "static" / "styles" / "data_docs_default_styles.css").is_file()


def test_a_full_rebuild_renders_every_page(hub: tuple) -> None:
    _, settings, _, outcomes = hub
    root = docs.site_root(settings, DATASET)
    for outcome in outcomes.values():
        (root / docs.page(_result(settings, outcome))).unlink()
    assert docs.build(settings, DATASET) >= 0
    assert all((root / docs.page(_result(settings, o))).is_file() for o in outcomes.values())


def _get(url: str, key: str | None, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, headers={"X-API-Key": key} if key else {}, **kwargs)


def test_the_version_entry_links_the_result_and_its_page(hub: tuple) -> None:
    url, settings, keys, outcomes = hub
    (version,) = _get(f"{url}/api/v1/datasets/{REF}", keys["steward"]).json()["versions"]
    links = version["validation"]
    assert links["result"] == f"{settings.base_url}/api/v1/datasets/{REF}/versions/1/validation"
    assert links["data_docs"].startswith(f"{settings.base_url}/api/v1/datasets/{REF}/quality/docs/validations/")
    assert version["quality"]["validation"]["suite"] == SUITE
    pkg = _get(f"{url}/api/3/action/package_show", keys["consumer"], params={"id": REF}).json()["result"]
    assert pkg["versions"][0]["validation"] == links, "the CKAN package lists the same links"
    for name in ("steward", "police", "police-analyst"):
        answer = _get(links["result"], keys[name])
        assert answer.status_code == 200, (name, answer.text[:200])
        assert answer.json() == _result(settings, outcomes["accepted"])
        page = _get(links["data_docs"], keys[name])
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == DOCS_CSP
        assert SUITE in page.text and "expect_column_values_to_be_in_code_table" in page.text


@pytest.mark.parametrize("page", ["", "index.html", "static/styles/data_docs_default_styles.css"])
def test_stewards_and_the_department_read_the_site_others_do_not(hub: tuple, page: str) -> None:
    url, _, keys, _ = hub
    target = f"{url}/api/v1/datasets/{REF}/quality/docs/{page}"
    for name in ("steward", "police", "police-analyst"):
        answer = _get(target, keys[name])
        assert answer.status_code == 200, (name, answer.text[:200])
        if page != "static/styles/data_docs_default_styles.css":
            assert SUITE in answer.text
    for name in ("civil", "consumer"):
        refused = _get(target, keys[name])
        assert refused.status_code == 403 and SUITE not in refused.text
        assert refused.json()["error"]["code"] == "forbidden"
    assert _get(target, None).status_code == 401
    result = f"{url}/api/v1/datasets/{REF}/versions/1/validation"
    assert [_get(result, keys[n]).status_code for n in ("civil", "consumer")] == [403, 403]
    assert _get(result, None).status_code == 401


def _trail(url: str, steward_key: str, client: str) -> list[dict[str, Any]]:
    answer = _get(f"{url}/api/v1/audit", steward_key, params={"dataset": DATASET, "client": client})
    return [r for r in answer.json()["records"] if r["action"] in ("validation", "data_docs")]


def test_each_result_and_page_read_is_audited_styles_are_not(hub: tuple) -> None:
    url, _, keys, _ = hub
    before = len(_trail(url, keys["steward"], "police-analyst"))
    assert _get(f"{url}/api/v1/datasets/{REF}/versions/1/validation", keys["police-analyst"]).status_code == 200
    assert _get(f"{url}/api/v1/datasets/{REF}/quality/docs/index.html", keys["police-analyst"]).status_code == 200
    css = f"{url}/api/v1/datasets/{REF}/quality/docs/static/styles/data_docs_default_styles.css"
    assert _get(css, keys["police-analyst"]).status_code == 200
    trail = _trail(url, keys["steward"], "police-analyst")  # newest first
    added = trail[: len(trail) - before]
    seen = sorted((r["action"], r["version"] or 0, r["rows"]) for r in added)
    assert seen == [("data_docs", 0, 0), ("validation", 1, 0)], "one record each; the stylesheet none"
    refused = len(_trail(url, keys["steward"], "civil"))
    assert _get(f"{url}/api/v1/datasets/{REF}/versions/1/validation", keys["civil"]).status_code == 403
    assert len(_trail(url, keys["steward"], "civil")) == refused, "a refused read leaves nothing to audit"


def test_missing_pages_and_versions_are_404(hub: tuple) -> None:
    url, _, keys, _ = hub
    steward = keys["steward"]
    assert _get(f"{url}/api/v1/datasets/{REF}/quality/docs/nothing.html", steward).status_code == 404
    assert _get(f"{url}/api/v1/datasets/{REF}/versions/9/validation", steward).status_code == 404
    assert _get(f"{url}/api/v1/datasets/nobody/quality/docs/", steward).status_code == 404


def test_a_file_checked_in_batches_gets_one_result(tmp_path: Path) -> None:
    """GX's results of two halves, merged, count what GX's result of the whole counts."""
    from ingest.read import read_file
    from ingest.standardize import standardize
    from ingest.validate import validate_with_result

    contract = model.find(Settings().contracts_dir, DATASET)
    generate(tmp_path / "r.csv", rows=300, bad_share=0.1, seed=5)
    table = standardize(read_file(tmp_path / "r.csv", contract).table, contract).table
    today = dt.date(2026, 11, 1)
    whole = validate_with_result(table, contract, today)[1].to_json_dict()
    halves = [validate_with_result(table.slice(o, 150), contract, today)[1].to_json_dict() for o in (0, 150)]
    merged = results.merge(halves, [0, 150])
    assert [r["expectation_config"]["type"] for r in merged["results"]] == [
        r["expectation_config"]["type"] for r in whole["results"]
    ]
    for got, want in zip(merged["results"], whole["results"], strict=True):
        if "unique" in want["expectation_config"]["type"]:
            continue  # a key repeated across batches is the pipeline's finding, not one batch's GX result
        assert got["success"] == want["success"], want["expectation_config"]
        for key in ("element_count", "unexpected_count", "missing_count"):
            assert got["result"].get(key) == want["result"].get(key), (key, want["expectation_config"])
        assert got["result"].get("unexpected_percent") == pytest.approx(want["result"].get("unexpected_percent"))
        assert (
            got["result"].get("partial_unexpected_index_list", [])[:5]
            == want["result"].get("partial_unexpected_index_list", [])[:5]
        )
    assert merged["statistics"]["evaluated_expectations"] == whole["statistics"]["evaluated_expectations"]


def test_hub_quality_docs_rebuilds_in_a_fresh_process(hub: tuple) -> None:
    """``hub quality docs`` rebuilds the site from the kept results in a process that never
    validated anything: the pages of the hub's own expectations (GB 11643 ...) render there too."""
    import os
    import subprocess
    import sys

    _, settings, _, outcomes = hub
    page = docs.site_root(settings, DATASET) / docs.page(_result(settings, outcomes["accepted"]))
    page.unlink()
    env = os.environ | {"HUB_HOME": str(settings.resolved_home)}
    command = [str(Path(sys.executable).parent / "hub"), "quality", "docs", DATASET]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{DATASET}: 2 result(s), Data Docs built in "), done.stdout
    assert "expect_column_values_to_be_valid_gb11643" in page.read_text(encoding="utf-8")
    unknown = subprocess.run([*command[:-1], "economy.nothing"], env=env, capture_output=True, text=True, timeout=300)
    assert unknown.returncode == 1 and unknown.stderr.startswith("error: no contract for dataset 'economy.nothing'")
