"""Finding 6: keys expire, a leaked key's offspring die with it, roles never change by accident."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import ckanapi
import httpx
import pytest
from sqlalchemy import update

from catalog import clients, db
from catalog.models import ApiKey
from hub.errors import HubError
from hub.settings import Settings
from tests.catalog.sites import Site, site

RECORDS = "/api/v1/datasets"  # any route that needs a key


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(Path(tmp_path_factory.mktemp("keys")), rows=20) as s:
        yield s


def _works(hub: Site, key: str) -> bool:
    return httpx.get(hub.url + RECORDS, headers={"X-API-Key": key}).status_code == 200


def test_new_keys_expire_after_the_configured_lifetime(hub: Site) -> None:
    with db.session(hub.settings.db_url) as s:
        key = clients.issue_key(s, clients.ensure_client(s, "expiring-app"), lifetime_days=30)
        row = s.get(ApiKey, clients.authenticate_key(s, key).id)
        assert row is not None and row.expires_at is not None
        left = row.expires_at.replace(tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)
        assert dt.timedelta(days=29) < left <= dt.timedelta(days=30)
    assert _works(hub, key)
    with db.session(hub.settings.db_url) as s:  # time passes
        s.execute(update(ApiKey).where(ApiKey.id == row.id).values(expires_at=dt.datetime.now(dt.UTC)))
    answer = httpx.get(hub.url + RECORDS, headers={"X-API-Key": key})
    assert answer.status_code == 401 and "expired" in answer.json()["error"]["message"]
    with pytest.raises(ckanapi.NotAuthorized, match="expired"):
        ckanapi.RemoteCKAN(hub.url, apikey=key).action.package_search()


def test_revoking_a_leaked_key_revokes_every_key_minted_from_it(hub: Site) -> None:
    with db.session(hub.settings.db_url) as s:
        leaked = clients.issue_key(s, clients.ensure_client(s, "leaky-app"))
    child = ckanapi.RemoteCKAN(hub.url, apikey=leaked).action.api_token_create(user="leaky-app", name="child")["token"]
    grandchild = ckanapi.RemoteCKAN(hub.url, apikey=child).action.api_token_create(user="leaky-app", name="gc")["token"]
    with db.session(hub.settings.db_url) as s:
        assert clients.authenticate_key(s, grandchild).minted_by == clients.authenticate_key(s, child).id
    assert all(_works(hub, k) for k in (leaked, child, grandchild))
    ckanapi.RemoteCKAN(hub.url, apikey=hub.keys["steward"]).action.api_token_revoke(token=leaked)
    assert not any(_works(hub, k) for k in (leaked, child, grandchild))


def test_revoking_a_client_revokes_its_keys_and_their_offspring(hub: Site) -> None:
    with db.session(hub.settings.db_url) as s:
        owner = clients.issue_key(s, clients.ensure_client(s, "whole-app"))
    child = ckanapi.RemoteCKAN(hub.url, apikey=owner).action.api_token_create(user="whole-app", name="c")["token"]
    with db.session(hub.settings.db_url) as s:
        assert clients.revoke_keys(s, clients.client(s, "whole-app")) == 2
    assert not _works(hub, owner) and not _works(hub, child)


def test_a_steward_key_minting_for_others_takes_them_down_when_revoked(hub: Site) -> None:
    with db.session(hub.settings.db_url) as s:
        steward = clients.issue_key(s, clients.ensure_client(s, "steward-2", role="steward"))
        clients.ensure_client(s, "other-app")
    minted = ckanapi.RemoteCKAN(hub.url, apikey=steward).action.api_token_create(user="other-app", name="x")["token"]
    assert _works(hub, minted)
    with db.session(hub.settings.db_url) as s:
        clients.revoke(s, clients.authenticate_key(s, steward))
    assert not _works(hub, minted)


@pytest.mark.parametrize(
    ("existing", "asked", "change", "error"),
    [
        ("consumer", "consumer", False, None),
        ("consumer", "steward", False, "repeat with --change-role"),
        ("consumer", "steward", True, None),
        ("consumer", "admin", True, "not one of publisher, steward, analyst, consumer"),
    ],
)
def test_roles_change_only_when_asked(
    tmp_path: Path, existing: str, asked: str, change: bool, error: str | None
) -> None:
    url = Settings(home=tmp_path / "hub").db_url
    with db.session(url) as s:
        clients.ensure_client(s, "app", role=existing)
    with db.session(url) as s:
        if error:
            with pytest.raises(HubError, match=error):
                clients.ensure_client(s, "app", role=asked, change_role=change)
        else:
            assert clients.ensure_client(s, "app", role=asked, change_role=change).role == asked


def _hub(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_HOME": str(home)}
    return subprocess.run(
        [str(Path(sys.executable).with_name("hub")), *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_the_keys_commands_answer_clearly_without_tracebacks(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    made = _hub(home, "keys", "create", "grid-app", "--organization", "区网格中心", "--expires-in", "10")
    assert made.returncode == 0 and made.stdout.startswith("hub_"), made.stderr
    key = made.stdout.strip()
    cases = [
        (("keys", "create", "grid-app", "--role", "steward"), 1, "is a consumer; to make it a steward"),
        (("keys", "create", "grid-app", "--role", "admin"), 2, "'admin' is not one of"),
        (("keys", "revoke", "nobody"), 1, "client 'nobody' not found"),
        (("keys", "create", "x", "--expires", "2001-01-01"), 2, "is in the past"),
    ]
    for args, code, message in cases:
        done = _hub(home, *args)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr, done.stderr
    listed = _hub(home, "keys", "list")
    assert listed.returncode == 0 and "grid-app" in listed.stdout and key[:10] in listed.stdout
    assert key not in listed.stdout and clients.hash_key(key) not in listed.stdout
    expiry = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    assert expiry in listed.stdout
    changed = _hub(home, "keys", "create", "grid-app", "--role", "steward", "--change-role")
    assert changed.returncode == 0
    revoked = _hub(home, "keys", "revoke", "grid-app")
    assert revoked.returncode == 0 and "revoked 2 key(s)" in revoked.stdout
    assert "no keys" in _hub(home, "keys", "list", "grid-app").stdout
