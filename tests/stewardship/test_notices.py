"""Who a contract change reaches, computed from real grants and a real subscription; the gate's
refusals; the notices written on approval and read back over HTTP from ``GET /api/v1/notices``."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from access import grants
from catalog import clients, db, service
from exchange import subscriptions
from hub.errors import ContractError
from hub.settings import Settings
from stewardship import diff, notices
from stewardship.diff import ChangeKind, GateRefused, Impact
from tests.conftest import LiveServer
from tests.published import DATASET, grant, new_key, publish_export

CASES = Path(__file__).with_name("diff_cases")
TODAY = dt.date(2026, 12, 1)


def case(name: str) -> tuple[diff.Side, diff.Side]:
    return diff.read_file(CASES / name / "old.yaml"), diff.read_file(CASES / name / "new.yaml")


@dataclass(frozen=True)
class Hub:
    settings: Settings
    keys: dict[str, str]
    grants: dict[str, str]
    subscription: str


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The residents published once; clients reading them under grants of a few fields, under a
    grant and a webhook subscription, under a revoked grant, and a client reading another dataset."""
    root = Path(tmp_path_factory.mktemp("notices"))
    settings = Settings(home=root / "hub", webhook_allowed_networks=[ipaddress.ip_network("127.0.0.0/8")])
    settings.ensure_dirs()
    publish_export(settings, "v1.csv", rows=20, bad_share=0.0, seed=3)
    keys = {name: new_key(settings, name, granted=None) for name in ("grid-centre", "tax-office", "sync-app", "gone")}
    made = {
        "grid-centre": grant(settings, "grid-centre", fields=("street_code", "grid_code")),
        "tax-office": grant(settings, "tax-office", fields=("name", "phone"), clear=("phone",)),
        "sync-app": grant(settings, "sync-app", fields=("street_code",)),
        "gone": grant(settings, "gone", fields=("phone",)),
        "other": grant(settings, "grid-centre", "population.households", fields=("household_no",)),
    }
    with db.session(settings.db_url) as s:
        grants.revoke(s, grants.grant(s, made["gone"]))
        caller = clients.client(s, "sync-app")
        sub, _ = subscriptions.subscribe(
            s, settings, caller, caller.keys[0], service.dataset(s, DATASET), url="http://127.0.0.1:9/hook"
        )
    yield Hub(settings, keys, made, sub.id)


def test_a_field_change_reaches_the_grants_that_read_it_and_the_subscribers(hub: Hub) -> None:
    changes = diff.diff_sides(*case("title_changed"))  # the phone's column header
    with db.session(hub.settings.db_url) as s:
        reached = notices.affected_consumers(s, DATASET, changes)
    assert [c.client for c in reached] == ["sync-app", "tax-office"]  # not grid-centre, not the revoked grant
    sync, tax = reached
    assert tax.grants == [hub.grants["tax-office"]] and tax.subscriptions == [] and tax.fields == ["name", "phone"]
    assert sync.subscriptions == [hub.subscription] and sync.fields is None  # a subscription reads everything
    assert [c.kind for c in tax.changes] == [ChangeKind.title_changed]


def test_a_dataset_change_reaches_every_reader_and_an_added_field_only_whole_dataset_readers(hub: Hub) -> None:
    with db.session(hub.settings.db_url) as s:
        everyone = notices.affected_consumers(s, DATASET, diff.diff_sides(*case("sharing_type_tightened")))
        added = notices.affected_consumers(s, DATASET, diff.diff_sides(*case("field_added_optional")))
        elsewhere = notices.affected_consumers(s, "spatial.grids", diff.diff_sides(*case("sharing_type_tightened")))
    assert [c.client for c in everyone] == ["grid-centre", "sync-app", "tax-office"]
    assert [c.client for c in added] == ["sync-app"]
    assert elsewhere == []


def test_the_gate_refuses_a_breaking_change_without_a_major_version() -> None:
    old, new = case("field_removed")
    minor = new.contract.model_copy(update={"version": "1.1.0"})
    with pytest.raises(
        GateRefused, match=r"needs a major version \(at least 2\.0\.0.*field_removed on field registered_on"
    ):
        diff.gate(old.contract, minor, approved_migration_date=TODAY, today=TODAY)


def test_the_gate_refuses_a_breaking_change_without_a_migration_date_or_with_a_past_one() -> None:
    old, new = case("field_removed")
    with pytest.raises(GateRefused, match="needs a steward's migration date") as refused:
        diff.gate(old.contract, new.contract, approved_migration_date=None, today=TODAY)
    assert [c.kind for c in refused.value.changes] == [ChangeKind.field_removed]
    with pytest.raises(GateRefused, match="is in the past"):
        diff.gate(old.contract, new.contract, approved_migration_date=TODAY - dt.timedelta(days=1), today=TODAY)
    passed = diff.gate(old.contract, new.contract, approved_migration_date=dt.date(2027, 3, 1), today=TODAY)
    assert passed.impact is Impact.breaking and passed.migration_date == dt.date(2027, 3, 1)


def test_the_gate_wants_a_minor_version_for_an_addition_and_a_patch_for_words() -> None:
    old, new = case("field_added_optional")
    patch = new.contract.model_copy(update={"version": "1.0.1"})
    with pytest.raises(GateRefused, match=r"needs a minor version \(at least 1\.1\.0"):
        diff.gate(old.contract, patch, approved_migration_date=None)
    assert diff.gate(old.contract, new.contract, approved_migration_date=None).migration_date is None
    old, new = case("description_only")
    assert diff.gate(old.contract, new.contract, approved_migration_date=None).bump is diff.Bump.patch
    same = new.contract.model_copy(update={"version": "1.0.0"})
    with pytest.raises(GateRefused, match="needs a patch version"):
        diff.gate(old.contract, same, approved_migration_date=None)


def test_the_policy_changes_pass_the_gate_with_a_minor_version_and_no_date() -> None:
    old, new = case("classification_lowered")
    passed = diff.gate(old.contract, new.contract, approved_migration_date=None)
    assert passed.impact is Impact.policy and passed.bump is diff.Bump.minor and passed.to_tell


def test_contracts_of_two_datasets_are_not_compared() -> None:
    residents, _ = case("field_removed")
    grids, _ = case("pattern_changed")
    with pytest.raises(ContractError, match="different datasets"):
        diff.diff(residents.contract, grids.contract)


def test_approval_notifies_each_consumer_once_and_the_api_shows_its_own_notices(hub: Hub) -> None:
    old, new = case("title_changed")
    verdict = diff.gate(old.contract, new.contract, approved_migration_date=dt.date(2027, 1, 31), today=TODAY)
    with db.session(hub.settings.db_url) as s:
        reached = notices.affected_consumers(s, DATASET, verdict.to_tell)
        written = notices.notify(s, DATASET, verdict, reached)
        again = notices.notify(s, DATASET, verdict, reached)
    assert len(written) == 2 and again == []
    with LiveServer(hub.settings) as server:

        def inbox(client: str, **params: str) -> dict:
            answer = httpx.get(
                f"{server.url}/api/v1/notices", params=params, headers={"X-API-Key": hub.keys[client]}, timeout=10
            )
            assert answer.status_code == 200, answer.text
            return answer.json()

        tax = inbox("tax-office")
        assert inbox("grid-centre")["count"] == 0
        assert inbox("sync-app", dataset=DATASET)["count"] == 1
        assert inbox("sync-app", dataset="spatial.grids")["count"] == 0
        assert httpx.get(f"{server.url}/api/v1/notices", timeout=10).status_code == 401
    (notice,) = tax["notices"]
    assert notice["dataset"] == DATASET and (notice["old_version"], notice["new_version"]) == ("1.0.0", "2.0.0")
    assert notice["impact"] == "breaking" and notice["migration_date"] == "2027-01-31"
    assert notice["changes"][0]["kind"] == "title_changed" and notice["changes"][0]["after"] == "手机号码"
    assert notice["reads_through"] == [f"grant {hub.grants['tax-office']}"]


def test_notices_on_both_engines(database_url: str) -> None:
    """The migration's table and the inbox on SQLite and PostgreSQL: a grant made through the
    access layer, a breaking change of a field it reads, one notice, read back."""
    contract = case("field_removed")[0].contract
    with db.session(database_url) as s:
        steward = clients.ensure_client(s, "steward-of-notices", role="steward")
        reader = clients.ensure_client(s, "reader-of-notices", role="consumer")
        grants.create(s, reader, contract, steward, fields=["registered_on"], purpose="tests of notices")
    old, new = case("field_removed")
    verdict = diff.gate(old.contract, new.contract, approved_migration_date=dt.date(2027, 6, 30), today=TODAY)
    with db.session(database_url) as s:
        notices.notify(s, DATASET, verdict, notices.affected_consumers(s, DATASET, verdict.to_tell))
    with db.session(database_url) as s:
        (notice,) = notices.inbox(s, clients.client(s, "reader-of-notices"))
        assert notice.migration_date == dt.date(2027, 6, 30) and notice.changes[0]["kind"] == "field_removed"
