"""校核 disputes over HTTP against the real app: filing under the caller's policy, the state table by
role, deadlines with frozen time, corrections against published versions, counts and events."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import orjson
import pytest
from sqlalchemy import select

from access.grants import working_days_after
from catalog import clients, db
from catalog.models import Dataset
from contracts import model
from exchange_api import disputes_api
from generator import population, residents
from hub.errors import ContractError
from hub.settings import Settings
from quality import history
from stewardship import disputes
from stewardship.disputes import TRANSITIONS, Action, DisputeStatus, Party
from tests.conftest import LiveServer
from tests.published import DATASET, grant, publish_records

REF = "population-residents"
POLICE, CIVIL = "11010100001", "11010100003"
FRIDAY = dt.datetime(2026, 11, 6, 10, 0, tzinfo=dt.UTC)
CLIENTS = {  # name: (role, organization)
    "steward": ("steward", None),
    "police": ("publisher", POLICE),
    "civil": ("publisher", CIVIL),
    "consumer": ("consumer", "区网格中心"),
    "other-consumer": ("consumer", "区网格中心"),
    "narrow-consumer": ("consumer", "区网格中心"),
}


@dataclass
class Clock:
    now: dt.datetime = FRIDAY

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Hub:
    url: str
    settings: Settings
    keys: dict[str, str]
    ids: dict[str, str]
    people: list[dict[str, str]]
    clock: Clock = field(default_factory=Clock)

    def http(self, who: str | None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-API-Key": self.keys[who]} if who else {})

    def key_of(self, who: str, id_number: str) -> str:
        """The record's ``_key`` as ``who`` sees it (the ID number is masked: a pseudonym)."""
        from access import pseudonym

        secret = pseudonym.secret(self.settings, self.ids[who], DATASET)
        return hashlib.sha256(f"{secret}|{id_number}".encode()).hexdigest()[:32]

    def file(self, who: str, person: int, field: str = "name", **extra: str) -> httpx.Response:
        body = {
            "key": self.key_of(who, self.people[person]["id_number"]),
            "field": field,
            "claimed_value": "李四",
            "evidence": "户籍窗口核对：姓名登记有误",
        } | extra
        with self.http(who) as http:
            return http.post(f"/api/v1/datasets/{REF}/disputes", json=body)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    root = tmp_path_factory.mktemp("disputes")
    settings = Settings(home=root / "hub")
    settings.ensure_dirs()
    people = residents.records(population.make(40, random.Random(11)))
    publish_records(settings, "v1.csv", people)
    keys, ids = {}, {}
    with db.session(settings.db_url) as s:
        for name, (role, org) in CLIENTS.items():
            client = clients.ensure_client(s, name, role=role, organization=org)
            keys[name], ids[name] = clients.issue_key(s, client), client.id
    grant(settings, "consumer")  # every grantable field, the sensitive ones masked
    grant(settings, "other-consumer")
    outside = next(p["street_code"] for p in people if p["street_code"] != people[0]["street_code"])
    grant(settings, "narrow-consumer", rows=f"street_code = '{outside}'")
    server = LiveServer(settings)
    found = Hub(server.url, server.settings, keys, ids, people)
    server.server.config.app.dependency_overrides[disputes_api.clock] = found.clock
    with server:
        yield found


def _export(hub: Hub, who: str) -> dict[str, dict]:
    with hub.http(who) as http:
        answer = http.get(f"/api/v1/datasets/{REF}/export", params={"format": "jsonl"})
    return {row["_key"]: row for row in map(orjson.loads, answer.content.splitlines())}


def test_filing_answers_the_current_value_masked_as_the_filers_policy_says(hub: Hub) -> None:
    hub.clock.now = FRIDAY
    answer = hub.file("consumer", 0)
    assert answer.status_code == 201, answer.text
    made = answer.json()
    exported = _export(hub, "consumer")[made["key"]]
    assert made["masked"] is True and made["current_value"] == exported["name"] != hub.people[0]["name"]
    assert set(made["current_value"][1:]) == {"*"}
    again = hub.file("consumer", 0)
    assert again.status_code == 409 and made["id"] in again.json()["error"]["message"], "one open dispute per field"
    assert made["status"] == "open" and made["version"] == 1 and made["overdue"] is False
    assert made["due"] == working_days_after(FRIDAY, 10).isoformat() == "2026-11-20T10:00:00+00:00"
    with hub.http("consumer") as http:
        shown = http.get(f"/api/v1/disputes/{made['id']}").json()
    assert shown["current"]["value"] == exported["name"] and shown["current"]["key"] == made["key"]
    with hub.http("steward") as http:
        trail = http.get("/api/v1/audit", params={"dataset": DATASET, "client": "consumer"}).json()["records"]
    filed = [r for r in trail if r["action"] == "dispute"]
    assert filed and filed[-1]["fields"] == ["name"] and filed[-1]["clear_fields"] == [] and filed[-1]["rows"] == 1


def test_a_record_outside_the_callers_grant_is_404_like_a_missing_one(hub: Hub) -> None:
    outside = hub.file("narrow-consumer", 0, field="street_code")
    missing = hub.file("narrow-consumer", 0, field="street_code", key="0" * 32)
    assert outside.status_code == missing.status_code == 404
    key = hub.key_of("narrow-consumer", hub.people[0]["id_number"])
    said = [a.json()["error"]["message"] for a in (outside, missing)]
    assert said[0].replace(key, "K") == said[1].replace("0" * 32, "K")
    assert hub.file("consumer", 0, field="no_such_field").status_code == 400
    with hub.http(None) as http:
        assert http.post(f"/api/v1/datasets/{REF}/disputes", json={}).status_code == 401


def test_the_state_table_by_role(hub: Hub) -> None:
    made = hub.file("consumer", 1).json()
    path = f"/api/v1/disputes/{made['id']}"
    reject = {"outcome": "rejected", "reason": "登记与户籍系统一致"}
    for stranger in ("civil", "other-consumer"):  # another department, another client: it does not exist
        with hub.http(stranger) as http:
            assert http.get(path).status_code == 404
            assert http.post(f"{path}/answer", json=reject).status_code == 404
            assert http.post(f"{path}/withdraw").status_code == 404
    with hub.http("consumer") as http:
        assert http.post(f"{path}/answer", json=reject).status_code == 403, "the filer does not answer"
    with hub.http("police") as http:
        assert http.post(f"{path}/withdraw").status_code == 403, "only the filer withdraws"
        assert http.post(f"{path}/answer", json={"outcome": "rejected"}).status_code == 400, "a reason is needed"
        done = http.post(f"{path}/answer", json=reject)
        assert done.status_code == 200 and done.json()["status"] == "rejected"
        assert done.json()["key"] is None, "the filer's pseudonym is the filer's"
        assert http.post(f"{path}/answer", json=reject).status_code == 409
    with hub.http("consumer") as http:
        assert http.post(f"{path}/withdraw").status_code == 409
    second = hub.file("consumer", 2).json()
    with hub.http("consumer") as http:
        gone = http.post(f"/api/v1/disputes/{second['id']}/withdraw")
        assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    with hub.http("steward") as http:
        assert http.post(f"/api/v1/disputes/{second['id']}/answer", json=reject).status_code == 409
        third = hub.file("consumer", 3).json()
        assert http.post(f"/api/v1/disputes/{third['id']}/answer", json=reject).json()["status"] == "rejected"


def test_every_transition_not_in_the_table_is_refused() -> None:
    for status in DisputeStatus:
        for action in (Action.correct, Action.reject, Action.withdraw):
            rule = TRANSITIONS.get((status, action))
            assert (rule is not None) == (status is DisputeStatus.open), (status, action)
    assert TRANSITIONS[(DisputeStatus.open, Action.withdraw)][1] == {Party.filer}
    assert Party.filer not in TRANSITIONS[(DisputeStatus.open, Action.correct)][1]


def test_queues_by_caller(hub: Hub) -> None:
    made = hub.file("consumer", 4).json()

    def ids(who: str, **params: str) -> set[str]:
        with hub.http(who) as http:
            answer = http.get("/api/v1/disputes", params=params)
        assert answer.status_code == 200, answer.text
        return {d["id"] for d in answer.json()["disputes"]}

    assert made["id"] in ids("consumer") and made["id"] not in ids("other-consumer")
    assert made["id"] in ids("police", queue="provider") and made["id"] not in ids("civil", queue="provider")
    assert made["id"] in ids("steward", queue="all")
    assert made["id"] in ids("police", queue="provider", status="open", dataset=DATASET)
    assert made["id"] not in ids("police", queue="provider", status="rejected")
    with hub.http("consumer") as http:
        assert http.get("/api/v1/disputes", params={"queue": "all"}).status_code == 403


def test_overdue_flips_at_the_deadline_and_counts_against_the_dataset(hub: Hub) -> None:
    hub.clock.now = FRIDAY + dt.timedelta(hours=1)  # a deadline of its own
    made = hub.file("consumer", 5).json()
    due = dt.datetime.fromisoformat(made["due"])
    with db.session(hub.settings.db_url) as s:
        opened, late = disputes.open_and_overdue(s, DATASET, due)
        assert disputes.open_and_overdue(s, DATASET, due + dt.timedelta(microseconds=1)) == (opened, late + 1)
        ds = s.scalars(select(Dataset).where(Dataset.key == DATASET)).one()
        now = max(dt.datetime.now(dt.UTC), due) + dt.timedelta(seconds=1)  # the version exists by then
        after = history.dataset_quality(ds, now).score
        clean = history.dataset_quality(ds, now, disputes=(0, 0)).score
        assert after is not None and clean is not None
        counted = disputes.open_and_overdue(s, DATASET, now)
        assert (after.open_disputes, after.overdue_disputes) == counted and counted[1] >= 1, "counted from the hub"
        assert after.value < clean.value, "open and overdue disputes count against the quality score"

    def overdue_ids(at: dt.datetime) -> set[str]:
        hub.clock.now = at
        with hub.http("police") as http:
            listed = http.get("/api/v1/disputes", params={"queue": "provider", "overdue": "true"}).json()
        return {d["id"] for d in listed["disputes"]}

    assert made["id"] not in overdue_ids(due)
    assert made["id"] in overdue_ids(due + dt.timedelta(seconds=1))
    with hub.http("consumer") as http:
        assert http.get(f"/api/v1/disputes/{made['id']}").json()["overdue"] is True
    with hub.http("police") as http:
        http.post(f"/api/v1/disputes/{made['id']}/answer", json={"outcome": "rejected", "reason": "核对无误"})
    with db.session(hub.settings.db_url) as s:
        assert disputes.open_and_overdue(s, DATASET, due + dt.timedelta(days=1)) == (opened - 1, late)
    hub.clock.now = FRIDAY


def test_corrected_requires_an_existing_newer_version_where_the_value_changed(hub: Hub) -> None:
    hub.clock.now = FRIDAY
    made = hub.file("consumer", 6).json()
    path = f"/api/v1/disputes/{made['id']}"
    corrected = {"outcome": "corrected", "version": 1}
    with hub.http("police") as http:
        assert http.post(f"{path}/answer", json=corrected).status_code == 400, "not newer than the disputed one"
        assert "no version 9" in http.post(f"{path}/answer", json=corrected | {"version": 9}).text
        assert http.post(f"{path}/answer", json={"outcome": "corrected"}).status_code == 400
    v2 = [dict(p) for p in hub.people]
    v2[7]["phone"] = "13900000000"  # another record changes; the disputed one does not
    publish_records(hub.settings, "v2.csv", v2)
    with hub.http("police") as http:
        same = http.post(f"{path}/answer", json=corrected | {"version": 2})
        assert same.status_code == 400 and "the same in version 2" in same.text
    v3 = [dict(p) for p in v2]
    v3[6]["name"] = "李四"
    publish_records(hub.settings, "v3.csv", v3)
    hub.clock.now = FRIDAY + dt.timedelta(days=3)
    with hub.http("police") as http:
        done = http.post(f"{path}/answer", json=corrected | {"version": 3})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "corrected" and done.json()["corrected_in"] == 3
    with hub.http("consumer") as http:
        shown = http.get(path).json()
    assert shown["current"]["version"] == 3 and shown["current"]["value"] == "李*" and shown["current"]["masked"]
    steps = [(e["seq"], e["action"], e["party"], e["actor"], e["status"]) for e in shown["events"]]
    assert steps == [(1, "file", "filer", "consumer", "open"), (2, "correct", "provider", "police", "corrected")]
    assert [e["at"] for e in shown["events"]] == [FRIDAY.isoformat(), hub.clock.now.isoformat()]
    assert shown["events"][1]["detail"] == {"version": 3}
    hub.clock.now = FRIDAY


def test_the_contract_sets_the_deadline() -> None:
    text = (Settings().contracts_dir / f"{DATASET}.yaml").read_text(encoding="utf-8")
    assert model.parse(text).dispute_days == 10, "the default"
    line = "  - {property: licence, value: 政务共享数据使用协议}\n"
    assert model.parse(text.replace(line, line + "  - {property: disputeDays, value: 3}\n")).dispute_days == 3
    with pytest.raises(ContractError, match="disputeDays"):
        model.parse(text.replace(line, line + "  - {property: disputeDays, value: soon}\n"))


def test_the_command_line_works_the_queue_as_a_client(hub: Hub) -> None:
    from typer.testing import CliRunner

    from hub.cli import app
    from hub.settings import get_settings

    hub.clock.now = FRIDAY
    made = hub.file("consumer", 8).json()
    second = hub.file("consumer", 9).json()
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUB_HOME", str(hub.settings.resolved_home))
        mp.delenv("HUB_DATABASE_URL", raising=False)
        get_settings.cache_clear()
        try:
            provider = ["--queue", "provider", "--status", "open", "--as", "police"]
            queue = runner.invoke(app, ["disputes", "list", *provider])
            assert queue.exit_code == 0 and made["id"] in queue.output, queue.output
            civil = runner.invoke(app, ["disputes", "list", "--queue", "provider", "--as", "civil"])
            assert made["id"] not in civil.output
            hidden = runner.invoke(app, ["disputes", "show", made["id"], "--as", "civil"])
            assert hidden.exit_code == 1 and f"error: dispute {made['id']} not found" in hidden.output
            both = runner.invoke(app, ["disputes", "answer", made["id"], "--as", "police"])
            assert both.exit_code == 1 and "--version N (corrected) or --reason TEXT" in both.output
            done = runner.invoke(app, ["disputes", "answer", made["id"], "--reason", "核对无误", "--as", "police"])
            assert done.exit_code == 0 and done.output.strip() == f"rejected: {made['id']}", done.output
            gone = runner.invoke(app, ["disputes", "withdraw", second["id"], "--as", "consumer"])
            assert gone.exit_code == 0, gone.output
            shown = runner.invoke(app, ["disputes", "show", made["id"]])
            assert "reject   by police (provider) → rejected reason=核对无误" in shown.output, shown.output
            again = runner.invoke(app, ["disputes", "withdraw", made["id"], "--as", "consumer"])
            assert again.exit_code == 1 and "is rejected" in again.output
        finally:
            get_settings.cache_clear()


def test_the_docs_name_every_state_route_and_command() -> None:
    from pathlib import Path

    from hub.disputes_cli import app as disputes_cli

    doc = (Path(__file__).parents[2] / "docs" / "stewardship.md").read_text(encoding="utf-8")
    assert "## 校核 disputes" in doc and "disputeDays" in doc and "open_and_overdue(session, dataset, now)" in doc
    for status in DisputeStatus:
        assert f"| {status.value} |" in doc, status
    for route in disputes_api.router.routes:
        shown = route.path.replace("{ref}", "population-residents").replace("{dispute_id}", "DISPUTE_ID")  # type: ignore[attr-defined]
        assert shown in doc, shown
    for command in disputes_cli.registered_commands:
        assert f"hub disputes {command.name}" in doc, command.name


def test_counts_and_events_on_both_database_engines(database_url: str) -> None:
    """The migration, the deadline arithmetic and the counts on SQLite and PostgreSQL alike."""
    contract = model.find(Settings().contracts_dir, DATASET)
    with db.session(database_url) as s:
        client = clients.ensure_client(s, "engine-app", role="consumer")
        filed = [
            disputes.file(
                s,
                client,
                contract,
                key=f"k{i}",
                locator=f"{i:032d}",
                field="name",
                claimed_value="v",
                evidence="e",
                version=1,
                now=FRIDAY + dt.timedelta(hours=i),
            )  # fmt: skip
            for i in range(3)
        ]
        ids = [d.id for d in filed]
    due = working_days_after(FRIDAY, contract.dispute_days)
    with db.session(database_url) as s:
        assert disputes.open_and_overdue(s, DATASET, due) == (3, 0)
        assert disputes.open_and_overdue(s, DATASET, due + dt.timedelta(microseconds=1)) == (3, 1)
        assert disputes.open_and_overdue(s, DATASET, due + dt.timedelta(hours=1, seconds=1)) == (3, 2)
        assert disputes.open_and_overdue(s, "spatial.grids", due + dt.timedelta(days=30)) == (0, 0)
        listed = disputes.listing(s, overdue_at=due + dt.timedelta(microseconds=1))
        assert [d.id for d in listed] == ids[:1]
    with db.session(database_url) as s:
        found = s.get(disputes.Dispute, ids[0])
        assert found is not None
        found.status = DisputeStatus.withdrawn.value  # a final state no longer counts
        assert disputes.open_and_overdue(s, DATASET, due + dt.timedelta(days=30)) == (2, 2)
        events = s.get(disputes.Dispute, ids[1]).events  # type: ignore[union-attr]
        assert [(e.seq, e.action, e.party, e.actor) for e in events] == [(1, "file", "filer", "engine-app")]
