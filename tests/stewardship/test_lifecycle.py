"""The contract lifecycle: who may move a version where, what an approval changes (ingestion, the
DAGs, the contract the API reads), that every version stays readable, and that seeding is idempotent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog import clients, db
from catalog.models import ApiClient
from contracts import model
from generator.residents import generate
from hub.settings import Settings, get_settings
from ingest import steps
from ingest.outcome import FileStatus
from stewardship import lifecycle, registry
from stewardship.lifecycle import ContractStatus

DATASET = "population.residents"
POLICE, CIVIL = "11010100001", "11010100003"  # residents are the police branch's
CALLERS = {  # name: (role, organization)
    "steward": ("steward", None),
    "police-steward": ("steward", POLICE),
    "police-publisher": ("publisher", POLICE),
    "civil-publisher": ("publisher", CIVIL),
    "consumer": ("consumer", "区网格中心"),
}


def changed(version: str, *, ratio: str = "0.2", settings: Settings | None = None) -> str:
    """The residents' contract at ``version`` with its reject limit set to ``ratio``."""
    text = (Settings().contracts_dir / f"{DATASET}.yaml").read_text(encoding="utf-8")
    text = text.replace("version: 1.0.0", f"version: {version}", 1)
    return text.replace("{property: maxRejectRatio, value: 0.2}", f"{{property: maxRejectRatio, value: {ratio}}}")


def who(s: object, name: str) -> ApiClient:
    role, org = CALLERS[name]
    return clients.ensure_client(s, name, role=role, organization=org)  # type: ignore[arg-type]


def propose(settings: Settings, text: str, by: str = "police-publisher", *, draft: bool = False) -> str:
    with db.session(settings.db_url) as s:
        return registry.propose(s, settings, who(s, by), text, draft=draft).version


def act(settings: Settings, number: str, action: str, by: str = "steward", **kw: object) -> str:
    with db.session(settings.db_url) as s:
        return registry.act(s, settings, who(s, by), DATASET, number, action, **kw).status  # type: ignore[arg-type]


def status(settings: Settings, number: str) -> str:
    with db.session(settings.db_url) as s:
        return registry.version(s, DATASET, number).status


# --- the role table -------------------------------------------------------------------------

SETUP = {  # action: what brings version 1.1.0 to the status the action starts from
    "submit": [],
    "withdraw": ["submit"],
    "approve": ["submit"],
    "reject": ["submit"],
    "activate": ["submit", "approve-later"],
    "deprecate": ["submit", "approve"],
    "retire": ["submit", "approve", "deprecate"],
}
ALLOWED = {  # action: the callers that may make it
    "submit": {"steward", "police-steward", "police-publisher"},
    "withdraw": {"steward", "police-steward", "police-publisher"},
    "approve": {"steward"},
    "reject": {"steward"},
    "activate": {"steward"},
    "deprecate": {"steward"},
    "retire": {"steward"},
}


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("action", list(SETUP))
def test_transitions_allowed_and_refused_by_role(settings: Settings, action: str, caller: str) -> None:
    propose(settings, changed("1.1.0"), draft=True)
    for step in SETUP[action]:
        if step == "approve-later":
            act(settings, "1.1.0", "approve", migration_date=dt.date.today() + dt.timedelta(days=30))
        else:
            act(settings, "1.1.0", step, by="police-publisher" if step == "submit" else "steward")
    before = status(settings, "1.1.0")
    reason = {"reason": "not needed"} if action == "reject" else {}
    if caller in ALLOWED[action]:
        after = act(settings, "1.1.0", action, by=caller, **reason)
        assert after != before
        return
    with pytest.raises(lifecycle.NotYourChange):
        act(settings, "1.1.0", action, by=caller, **reason)
    assert status(settings, "1.1.0") == before, "a refused step changes nothing"


def test_the_proposer_cannot_approve_and_departments_propose_their_own_contracts_only(settings: Settings) -> None:
    propose(settings, changed("1.1.0"), by="steward")
    with pytest.raises(lifecycle.NotYourChange, match="own department's change"):
        act(settings, "1.1.0", "approve", by="steward")
    with pytest.raises(lifecycle.NotYourChange, match="own department"):
        propose(settings, changed("1.2.0"), by="civil-publisher")
    with pytest.raises(lifecycle.NotYourChange):
        propose(settings, changed("1.2.0"), by="consumer")


def test_states_refuse_steps_they_do_not_have(settings: Settings) -> None:
    with pytest.raises(lifecycle.TransitionNotAllowed, match="cannot approve a active"):
        act(settings, "1.0.0", "approve")
    with pytest.raises(lifecycle.TransitionNotAllowed):
        act(settings, "1.0.0", "retire")  # active: deprecated first
    propose(settings, changed("1.1.0"))
    with pytest.raises(lifecycle.BadParameter, match="reason"):
        act(settings, "1.1.0", "reject")
    assert act(settings, "1.1.0", "reject", reason="the limit is the district's") == ContractStatus.rejected


def test_versions_must_rise(settings: Settings) -> None:
    with pytest.raises(lifecycle.VersionOrder, match="exists already"):
        propose(settings, changed("1.0.0"))
    with pytest.raises(lifecycle.VersionOrder, match="does not raise"):
        propose(settings, changed("0.9.0"))
    with pytest.raises(lifecycle.BadParameter, match="semantic version"):
        propose(settings, changed("1.1.0.1"))
    propose(settings, changed("1.2.0"))
    propose(settings, changed("1.1.0"))  # above the active one: may wait beside 1.2.0
    act(settings, "1.2.0", "approve")
    with pytest.raises(lifecycle.VersionOrder, match="does not raise the active version 1.2.0"):
        act(settings, "1.1.0", "approve")  # the gate: approving it would go backwards


def test_a_proposal_must_pass_the_loaders_checks_and_the_error_names_the_path(settings: Settings) -> None:
    bad = changed("1.1.0").replace("logicalType: string", "logicalType: text", 1)
    with db.session(settings.db_url) as s:
        with pytest.raises(lifecycle.InvalidProposal, match=r"proposal\.yaml.*logicalType"):
            registry.propose(s, settings, who(s, "police-publisher"), bad, where="proposal.yaml")
        assert [v.version for v in registry.versions(s, DATASET)] == ["1.0.0"]


# --- what an approval changes ---------------------------------------------------------------


def _ingest(settings: Settings, name: str, seed: int) -> FileStatus:
    contract = model.find(settings.active_contracts_dir, DATASET)
    generate(steps.inbox_folder(settings, contract) / name, rows=300, bad_share=0.35, seed=seed)
    outcomes = [
        steps.check(DATASET, f, settings, today=dt.date(2026, 11, 1)) for f in steps.discover(DATASET, settings)
    ]
    assert len(outcomes) == 1
    return outcomes[0].status


def test_a_proposal_does_not_affect_ingestion_until_approved(settings: Settings) -> None:
    """A file with a third of its rows at fault: over the 20 % limit of 1.0.0, under 1.1.0's 90 %."""
    propose(settings, changed("1.1.0", ratio="0.9"))
    assert _ingest(settings, "before.csv", seed=1) is FileStatus.rejected, "proposed: the active 1.0.0 still rules"
    assert model.find(settings.active_contracts_dir, DATASET).version == "1.0.0"
    act(settings, "1.1.0", "approve")
    assert model.find(settings.active_contracts_dir, DATASET).version == "1.1.0"
    assert _ingest(settings, "after.csv", seed=2) is FileStatus.validated
    assert status(settings, "1.0.0") == ContractStatus.deprecated, "the replaced version is deprecated"


def test_a_later_migration_date_waits_for_activation(settings: Settings) -> None:
    propose(settings, changed("2.0.0"))
    later = dt.date.today() + dt.timedelta(days=60)
    assert act(settings, "2.0.0", "approve", migration_date=later) == ContractStatus.approved
    assert model.find(settings.active_contracts_dir, DATASET).version == "1.0.0"
    assert act(settings, "2.0.0", "activate") == ContractStatus.active
    assert model.find(settings.active_contracts_dir, DATASET).version == "2.0.0"


@pytest.fixture
def dag_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The hub the DAG factory reads (HUB_HOME from the environment), a fresh one for this test."""
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "hub"))
    get_settings.cache_clear()
    settings = get_settings()
    settings.ensure_dirs()
    yield settings
    monkeypatch.undo()
    get_settings.cache_clear()


def test_approval_changes_and_adds_dags_without_a_restart(dag_home: Settings) -> None:
    from ingest.dag_factory import build_all, dag_id

    before = build_all()
    assert "version 1.0.0" in (before[dag_id(DATASET)].doc_md or "")
    propose(dag_home, changed("1.1.0", ratio="0.3"))
    grids = (Settings().contracts_dir / "spatial.grids.yaml").read_text(encoding="utf-8")
    archive = grids.replace("id: spatial.grids", "id: spatial.grids_archive").replace(
        "physicalName: grids", "physicalName: grids_archive"
    )
    with db.session(dag_home.db_url) as s:
        planner = clients.ensure_client(s, "planning-uploader", role="publisher", organization="11010100007")
        registry.propose(s, dag_home, planner, archive)
    assert set(build_all()) == set(before), "proposals make no DAG"
    act(dag_home, "1.1.0", "approve")
    with db.session(dag_home.db_url) as s:
        registry.act(s, dag_home, who(s, "steward"), "spatial.grids_archive", "1.0.0", "approve")
    after = build_all()
    assert "version 1.1.0" in (after[dag_id(DATASET)].doc_md or "")
    assert set(after) - set(before) == {dag_id("spatial.grids_archive")}
    act(dag_home, "1.1.0", "deprecate")
    assert dag_id(DATASET) not in build_all(), "only an active version drives a DAG"
    act(dag_home, "1.1.0", "retire")
    assert not (dag_home.active_contracts_dir / f"{DATASET}.yaml").exists()


def test_old_versions_stay_readable_with_their_history(settings: Settings) -> None:
    propose(settings, changed("1.1.0", ratio="0.3"))
    act(settings, "1.1.0", "approve")
    with db.session(settings.db_url) as s:
        old = registry.version(s, DATASET, "1.0.0")
        assert old.status == ContractStatus.deprecated
        assert model.parse(old.text).version == "1.0.0"
        assert old.text == (settings.contracts_dir / f"{DATASET}.yaml").read_text(encoding="utf-8")
        steps_taken = [(x.action, x.source, x.target, x.by) for x in registry.steps(s, DATASET)]
    assert steps_taken == [
        ("seed", None, "active", "hub"),
        ("draft", None, "draft", "police-publisher"),
        ("submit", "draft", "proposed", "police-publisher"),
        ("approve", "proposed", "approved", "steward"),
        ("activate", "approved", "active", "steward"),
        ("deprecate", "active", "deprecated", "hub"),
    ]


def test_seeding_is_idempotent_and_adds_only_new_datasets(tmp_path: Path, database_url: str) -> None:
    settings = Settings(home=tmp_path / "hub", database_url=database_url)
    settings.ensure_dirs()
    assert not settings.projected_contracts_dir.exists(), "a hub that never used the registry reads the seed"
    assert settings.active_contracts_dir == settings.contracts_dir
    with db.session(settings.db_url) as s:
        first = registry.seed(s, settings)
    assert set(first) == {p.stem for p in settings.contracts_dir.glob("*.yaml")}
    assert settings.active_contracts_dir == settings.projected_contracts_dir
    projected = {p.name: p.read_text(encoding="utf-8") for p in settings.active_contracts_dir.glob("*.yaml")}
    assert projected == {p.name: p.read_text(encoding="utf-8") for p in settings.contracts_dir.glob("*.yaml")}
    with db.session(settings.db_url) as s:
        assert registry.seed(s, settings) == []
        assert len(registry.datasets(s)) == len(first)
    propose(settings, changed("1.1.0"))
    act(settings, "1.1.0", "approve")
    with db.session(settings.db_url) as s:
        assert registry.seed(s, settings) == [], "a dataset the registry knows is never re-seeded"
        assert registry.active(s, DATASET).version == "1.1.0"  # type: ignore[union-attr]


def test_processes_seeding_together_seed_once(tmp_path: Path, database_url: str) -> None:
    """Two API workers starting on a new hub: each seeds under the registry's lock; no duplicate."""
    import threading

    settings = Settings(home=tmp_path / "hub", database_url=database_url)
    settings.ensure_dirs()
    db.migrate(settings.db_url)
    added: list[list[str]] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        with db.session(settings.db_url) as s:
            added.append(registry.seed(s, settings))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(len(a) for a in added) == [0, len(list(settings.contracts_dir.glob("*.yaml")))]


# --- the change gate on approval (docs/stewardship.md, "Contract changes") --------------------------
def _without_phone(version: str) -> str:
    import yaml

    doc = yaml.safe_load(changed(version))
    table = doc["schema"][0]
    table["properties"] = [p for p in table["properties"] if p["name"] != "phone"]
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def test_approval_passes_the_change_gate_and_tells_the_consumers_reading_what_changed(settings: Settings) -> None:
    from stewardship.diff import GateRefused
    from stewardship.notices import ContractNotice
    from tests.published import grant

    with db.session(settings.db_url) as s:
        reader, other = who(s, "consumer"), clients.ensure_client(s, "name-reader", role="consumer", organization="x")
        reader_id, other_id = reader.id, other.id
    grant(settings, "consumer")  # every grantable field: phone among them
    grant(settings, "name-reader", fields=("name", "street_code"))
    propose(settings, _without_phone("1.1.0"))
    with pytest.raises(GateRefused, match="needs a major version.*phone"):
        act(settings, "1.1.0", "approve")
    assert status(settings, "1.1.0") == ContractStatus.proposed, "a refused approval changes nothing"
    propose(settings, _without_phone("2.0.0"))
    with pytest.raises(GateRefused, match="migration date"):
        act(settings, "2.0.0", "approve")
    later = dt.date.today() + dt.timedelta(days=30)
    assert act(settings, "2.0.0", "approve", migration_date=later) == ContractStatus.approved
    with db.session(settings.db_url) as s:
        told = {n.client_id: n for n in s.query(ContractNotice).filter_by(dataset=DATASET)}
    assert set(told) == {reader_id}, "the grant that reads phone is told; the one reading name only is not"
    assert other_id not in told
    notice = told[reader_id]
    assert (notice.old_version, notice.new_version, notice.migration_date) == ("1.0.0", "2.0.0", later)
    assert notice.impact == "breaking" and "phone" in str(notice.changes)
