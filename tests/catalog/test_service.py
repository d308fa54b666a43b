"""The catalogue on both SQLite and PostgreSQL: registration, versions, ledger, hashed keys."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from catalog import clients, db, service
from contracts import model
from hub.errors import HubError, NotAuthorized, NotFound
from hub.settings import get_settings

CONTRACT = model.find(get_settings().contracts_dir, "population.residents")


def test_register_is_idempotent_and_derived_from_the_contract(database_url: str) -> None:
    db.migrate(database_url)
    db.migrate(database_url)
    with db.session(database_url) as s:
        first = service.register_dataset(s, CONTRACT)
        again = service.register_dataset(s, CONTRACT)
        assert first.id == again.id == service.stable_id("dataset", "population.residents")
        assert [r.format for r in first.resources] == ["JSON", "Parquet"]
        assert first.organization.title == "东城区公安分局"
        assert first.sharing_type == "有条件共享" and first.private
        assert {f["name"] for f in first.fields} >= {"id_number", "street_code"}
    with db.session(database_url) as s:
        assert service.dataset(s, "population-residents").key == "population.residents"
        with pytest.raises(NotFound):
            service.dataset(s, "nothing")


def test_versions_are_numbered_and_reruns_do_not_duplicate(database_url: str) -> None:
    with db.session(database_url) as s:
        kwargs = {
            "row_count": 10,
            "rows_rejected": 1,
            "source_file": "a.csv",
            "source_sha256": "a" * 64,
            "quality": {"rows_read": 11},
        }
        v1 = service.record_version(s, CONTRACT, snapshot_id=2**62 + 1, **kwargs)
        v1_again = service.record_version(s, CONTRACT, snapshot_id=2**62 + 1, **kwargs)
        v2 = service.record_version(s, CONTRACT, snapshot_id=5, **kwargs)
        assert (v1.number, v1_again.id, v2.number) == (1, v1.id, 2)
    with db.session(database_url) as s:
        assert [v.snapshot_id for v in service.dataset(s, "population.residents").versions] == [2**62 + 1, 5]


def test_file_ledger(database_url: str) -> None:
    with db.session(database_url) as s:
        assert service.file_seen(s, "population.residents", "f" * 64) is None
        service.record_file(s, "population.residents", "f" * 64, filename="x.csv", status="validated")
        service.record_file(s, "population.residents", "f" * 64, status="published")
    with db.session(database_url) as s:
        seen = service.file_seen(s, "population.residents", "f" * 64)
        assert seen is not None and (seen.filename, seen.status) == ("x.csv", "published")


def test_keys_are_stored_hashed_and_revocable(database_url: str) -> None:
    with db.session(database_url) as s:
        client = clients.ensure_client(s, "app", role="consumer", organization="区民政局")
        key = clients.issue_key(s, client, label="k1")
        assert key.startswith("hub_") and len(key) > 40
        assert clients.authenticate(s, key).name == "app"
        stored = s.execute(text("SELECT key_hash, prefix FROM api_keys")).all()
        assert all(key not in row.key_hash and row.key_hash == clients.hash_key(key) for row in stored)
        assert clients.revoke_keys(s, client) == 1
        with pytest.raises(NotAuthorized):
            clients.authenticate(s, key)
        with pytest.raises(HubError, match="not one of"):
            clients.ensure_client(s, "x", role="admin")
