"""Catalogue rows kept between requests: a lookup that hits runs one query (the count of changes);
every write to the watched tables — through the hub, another connection or plain SQL — is seen by the
next lookup; rows handed out are each session's own; a session that has written sees its own rows."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from sqlalchemy import event, select, text

from access import grants
from catalog import cache, clients, db, service
from catalog.models import ApiKey
from contracts import model
from hub.errors import NotAuthorized
from hub.settings import Settings

DATASET = "population.residents"


@pytest.fixture
def world(database_url: str) -> tuple[str, str]:
    contract = model.find(Settings().contracts_dir, DATASET)
    with db.session(database_url) as s:
        service.register_dataset(s, contract)
        app = clients.ensure_client(s, "app", role="consumer")
        steward = clients.ensure_client(s, "steward", role="steward")
        key = clients.issue_key(s, app)
        grants.create(
            s,
            app,
            contract,
            steward,
            fields=["name"],
            purpose="testing",
            expires=dt.date.today() + dt.timedelta(days=30),
        )
    return database_url, key


def _statements(url: str) -> list[str]:
    seen: list[str] = []
    event.listen(db.engine(url), "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_a_hit_runs_only_the_count_of_changes(world: tuple[str, str]) -> None:
    url, key = world
    with db.session(url) as s:  # loads and keeps
        app = clients.authenticate(s, key)
        grants.active(s, app, DATASET)
        service.dataset(s, DATASET)
    seen = _statements(url)
    with db.session(url) as s:
        app = clients.authenticate(s, key)
        found = grants.active(s, app, DATASET)
        ds = service.dataset(s, DATASET)
        assert app.name == "app" and [g.fields for g in found] == [["name"]]
        assert ds.organization.code and ds.key == DATASET
    assert [q.split("FROM")[1].split()[0] for q in seen if "catalogue_changes" not in q] == [], seen
    assert len(seen) == 1, "the count is read once per transaction"


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP",
        "DELETE FROM api_keys",
        "UPDATE api_keys SET expires_at = '2000-01-01 00:00:00'",
    ],
)
def test_a_key_changed_by_plain_sql_elsewhere_is_refused_at_once(world: tuple[str, str], change: str) -> None:
    url, key = world
    with db.session(url) as s:
        clients.authenticate(s, key)
    with db.engine(url).begin() as conn:  # another writer: the CLI, another worker, an operator's SQL
        conn.execute(text(change))
    with pytest.raises(NotAuthorized), db.session(url) as s:
        clients.authenticate(s, key)


def test_a_grant_revoked_elsewhere_is_gone_at_once(world: tuple[str, str]) -> None:
    url, key = world
    with db.session(url) as s:
        app = clients.authenticate(s, key)
        (grant,) = grants.active(s, app, DATASET)
    with db.session(url) as s:
        grants.revoke(s, grants.grant(s, grant.id))
    with db.session(url) as s:
        assert grants.active(s, clients.authenticate(s, key), DATASET) == []


def test_rows_handed_out_are_each_sessions_own(world: tuple[str, str]) -> None:
    url, _ = world
    with db.session(url) as a, db.session(url) as b:
        first, second = service.dataset(a, DATASET), service.dataset(b, DATASET)
        assert first is not second
        first.title = "changed in a, not committed"
        assert second.title != first.title
        a.rollback()
    with db.session(url) as s:
        assert service.dataset(s, DATASET).title != "changed in a, not committed"


def test_a_session_that_wrote_sees_its_own_rows(world: tuple[str, str]) -> None:
    url, key = world
    contract = model.find(Settings().contracts_dir, DATASET)
    with db.session(url) as s:
        app = clients.authenticate(s, key)
        steward = clients.client(s, "steward")
        assert len(grants.active(s, app, DATASET)) == 1
        grants.create(
            s, app, contract, steward, fields=["sex"], purpose="more", expires=dt.date.today() + dt.timedelta(days=30)
        )
        assert len(grants.active(s, app, DATASET)) == 2, "its own uncommitted grant"
        s.rollback()
    with db.session(url) as s:
        assert len(grants.active(s, clients.authenticate(s, key), DATASET)) == 1, "the rollback kept nothing"


def test_a_database_made_again_at_the_same_url_is_not_confused_with_the_old(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'again.db'}"
    with db.session(url) as s:
        first = cache.changes(s)
    db.engine(url).dispose()
    Path(url.removeprefix("sqlite:///")).unlink()
    db._migrated.discard(url)
    with db.session(url) as s:
        again = cache.changes(s)
    assert first is not None and again is not None and first[0] != again[0]


def test_expired_keys_are_refused_from_the_cache_too(world: tuple[str, str]) -> None:
    url, key = world
    with db.session(url) as s:
        row = s.scalar(select(ApiKey))
        assert row is not None
        row.expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    with db.session(url) as s:
        clients.authenticate(s, key)  # cached, still live
    time.sleep(1.1)  # no write since: the cached row answers, and it has expired
    with pytest.raises(NotAuthorized, match="expired"), db.session(url) as s:
        clients.authenticate(s, key)
