"""One dataset from a department's file to an exchange API call, through real Airflow.

Generates an export with known bad rows, runs the generated DAG with ``dag.test()``, and checks
the warehouse, the quarantine report, the archive, idempotency, time travel, the catalogue
(through ``ckanapi``) and the exchange API (over HTTP).
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import ckanapi
import httpx
import pytest

from catalog import db
from contracts import model
from generator.residents import Manifest, generate
from hub import airflow_env
from hub.settings import Settings
from ingest.dag_factory import dag_id
from ingest.steps import inbox_folder
from tests.conftest import LiveServer
from tests.published import new_key
from warehouse import duck, tables

pytestmark = pytest.mark.airflow
DATASET = "population.residents"
EXPECTED_RULE = {
    "bad_check_digit": ("id_number", "standard:gb11643"),
    "unknown_street": ("street_code", "code_table:dongcheng_streets"),
    "duplicate_id": ("id_number", "unique"),
    "missing_name": ("name", "required"),
    "future_birth_date": ("birth_date", "not_after_today"),
}


class Run:
    def __init__(self, settings: Settings, manifest: Manifest, original: bytes, state: str, events_before: int):
        self.settings, self.manifest, self.original, self.state = settings, manifest, original, state
        self.events_before = events_before
        """Asset events of the dataset before this module's first run (Airflow's database is one per
        test process, shared with other modules that ran DAGs earlier)."""
        self.contract = model.find(settings.contracts_dir, DATASET)

    def rows_now(self) -> int:
        return tables.read(tables.catalog(self.settings.warehouse_dir), self.contract).num_rows


def _drop(settings: Settings, name: str, **kwargs: object) -> Manifest:
    contract = model.find(settings.contracts_dir, DATASET)
    return generate(inbox_folder(settings, contract) / name, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def first_run(session_settings: Settings) -> Run:
    manifest = _drop(session_settings, "常住人口_202610.csv", rows=400, bad_share=0.1, seed=7, encoding="gb18030")
    original = manifest.path.read_bytes()
    before = asset_events()
    state = airflow_env.run_dag(session_settings, dag_id(DATASET))
    return Run(session_settings, manifest, original, state, before)


def test_dag_run_succeeds(first_run: Run) -> None:
    assert first_run.state.endswith("success")
    assert not first_run.manifest.path.exists(), "processed files leave the inbox"


def test_accepted_rows_equal_generated_good_rows(first_run: Run) -> None:
    assert first_run.manifest.good_rows == 400 - 40
    assert first_run.rows_now() == first_run.manifest.good_rows


def test_duckdb_reads_the_iceberg_table(first_run: Run) -> None:
    sql, params = tables.duckdb_source(tables.catalog(first_run.settings.warehouse_dir), first_run.contract)
    count = duck.connect().execute(f"SELECT count(*) FROM {sql}", params).fetchone()
    assert count == (first_run.manifest.good_rows,)


def asset_events() -> int:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import func, select
    from sqlalchemy.exc import OperationalError

    try:
        with create_session() as session:
            query = select(func.count()).select_from(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            return int(session.scalar(query.where(AssetModel.name == DATASET)) or 0)
    except OperationalError:  # Airflow's database is created by the first DAG run
        return 0


def test_the_run_emitted_an_asset_event(first_run: Run) -> None:
    assert asset_events() - first_run.events_before == 1


def _rejects(run: Run) -> list[dict[str, str]]:
    reports = list((run.settings.quarantine_dir / DATASET).glob("常住人口_202610-*/rejects.csv"))
    assert len(reports) == 1
    with reports[0].open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_bad_row_is_in_the_report_with_its_reason(first_run: Run) -> None:
    rejects = _rejects(first_run)
    by_row: dict[int, set[tuple[str, str]]] = {}
    for r in rejects:
        by_row.setdefault(int(r["row"]), set()).add((r["column"], r["rule"]))
        assert r["message"], r
    assert set(by_row) == set(first_run.manifest.bad_rows)
    for row, kind in first_run.manifest.bad_rows.items():
        assert EXPECTED_RULE[kind] in by_row[row], (row, kind, by_row[row])
    assert Counter(first_run.manifest.bad_rows.values()) == Counter({k: 8 for k in EXPECTED_RULE})


def test_report_explains_check_digit_and_duplicates(first_run: Run) -> None:
    rejects = _rejects(first_run)
    digit = next(r for r in rejects if r["rule"] == "standard:gb11643")
    assert "check" in digit["message"].lower()
    dup = next(r for r in rejects if r["rule"] == "unique")
    kept = int(dup["message"].split("row ")[1].split(":")[0])
    assert kept < int(dup["row"]) and kept not in first_run.manifest.bad_rows


def test_original_file_kept_byte_for_byte(first_run: Run) -> None:
    sha = sha256_of_bytes(first_run.original)
    archived = first_run.settings.archive_dir / DATASET / sha[:16] / "常住人口_202610.csv"
    assert archived.read_bytes() == first_run.original
    quarantined = next((first_run.settings.quarantine_dir / DATASET).glob("常住人口_202610-*/常住人口_202610.csv"))
    assert quarantined.read_bytes() == first_run.original


def sha256_of_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_catalogue_lists_the_version(first_run: Run) -> None:
    with LiveServer(first_run.settings) as server:
        ckan = ckanapi.RemoteCKAN(server.url, apikey=_key(first_run.settings, "catalogue-reader"))
        pkg = ckan.action.package_show(id="population-residents")
        assert ckan.action.package_list() == ["population-residents"]
        assert ckan.action.status_show()["site_url"] == server.url
        orgs = ckan.action.organization_list(all_fields=True)
    assert [v["row_count"] for v in pkg["versions"]] == [first_run.manifest.good_rows]
    assert pkg["versions"][0]["rows_rejected"] == 40
    assert pkg["sharing_type"] == "有条件共享"
    assert pkg["organization"]["title"] == "东城区公安分局"
    assert [o["package_count"] for o in orgs] == [1]
    assert {f["name"]: f["classification"] for f in pkg["fields"]}["id_number"] == "sensitive"


def _key_without_grant(settings: Settings, client: str) -> str:
    return new_key(settings, client, granted=None)


def _key(settings: Settings, client: str) -> str:
    """A consumer key with a grant on the residents (有条件共享: read under a grant)."""
    db.migrate(settings.db_url)
    return new_key(settings, client)


def test_api_returns_masked_records_with_a_key_and_401_without(first_run: Run) -> None:
    key = _key(first_run.settings, "records-reader")
    with LiveServer(first_run.settings) as server, httpx.Client(base_url=server.url) as http:
        url = "/api/v1/datasets/population-residents/records"
        assert http.get(url).status_code == 401
        assert http.get(url, headers={"X-API-Key": "hub_wrong"}).status_code == 401
        ungranted = _key_without_grant(first_run.settings, "no-grant-app")
        refused = http.get(url, headers={"X-API-Key": ungranted})
        assert refused.status_code == 403 and "/api/v1/access-requests" in refused.json()["error"]["message"]
        page = http.get(url, params={"limit": 5}, headers={"X-API-Key": key})
        assert page.status_code == 200, page.text
        records = page.json()["records"]
    assert len(records) == 5
    for r in records:
        assert "*" in r["id_number"] and len(r["id_number"]) == 18
        assert r["id_number"][:6].isdigit() and r["id_number"][6:14] == "********"
        assert r["name"][1:] == "*" * (len(r["name"]) - 1)
        assert r["phone"] is None or "****" in r["phone"]
        assert r["street_code"].startswith("110101")


def test_second_run_of_the_same_file_adds_nothing(first_run: Run) -> None:
    contract = first_run.contract
    again = inbox_folder(first_run.settings, contract) / "常住人口_202610_resent.csv"
    again.write_bytes(first_run.original)
    state = airflow_env.run_dag(first_run.settings, dag_id(DATASET))
    assert state.endswith("success")
    cat = tables.catalog(first_run.settings.warehouse_dir)
    assert len(tables.versions(tables.load_table(cat, contract))) == 1
    assert first_run.rows_now() == first_run.manifest.good_rows
    assert not again.exists()
    assert asset_events() - first_run.events_before == 1, "nothing new published, so no Asset event"


def test_new_export_is_a_new_version_and_old_one_stays_readable(first_run: Run, tmp_path: Path) -> None:
    newer = _drop(first_run.settings, "常住人口_202611.csv", rows=300, bad_share=0.0, seed=8, encoding="utf-8-sig")
    assert airflow_env.run_dag(first_run.settings, dag_id(DATASET)).endswith("success")
    cat = tables.catalog(first_run.settings.warehouse_dir)
    snaps = tables.versions(tables.load_table(cat, first_run.contract))
    assert len(snaps) == 2
    assert asset_events() - first_run.events_before == 2
    assert first_run.rows_now() == newer.good_rows == 300
    assert tables.read(cat, first_run.contract, snaps[0].snapshot_id).num_rows == first_run.manifest.good_rows
    sql, params = tables.duckdb_source(cat, first_run.contract, snaps[0].snapshot_id)
    assert duck.connect().execute(f"SELECT count(*) FROM {sql}", params).fetchone() == (first_run.manifest.good_rows,)
    with db.session(first_run.settings.db_url) as s:
        from catalog import service

        assert [v.row_count for v in service.dataset(s, DATASET).versions] == [first_run.manifest.good_rows, 300]
    shutil.rmtree(tmp_path, ignore_errors=True)
