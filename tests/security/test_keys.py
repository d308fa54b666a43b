"""Finding 6: keys expire, a leaked key's offspring die with it, roles never change by accident."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import ckanapi
import httpx
import pytest
from sqlalchemy import update

from catalog import clients, db
from catalog.models import ApiKey
from hub import airflow_env, cli
from hub.errors import HubError, NotAuthorized
from hub.settings import Settings, get_settings
from tests.catalog.sites import Site, site

RECORDS = "/api/v1/datasets"  # any route that needs a key


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(Path(tmp_path_factory.mktemp("keys"))) as s:
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


def test_a_key_revoked_while_its_holder_mints_cannot_leave_a_child(database_url: str) -> None:
    """The race: the holder authenticated before the revocation committed, and mints after it."""
    with db.session(database_url) as s:
        leaked = clients.issue_key(s, clients.ensure_client(s, "racing-app"))
    with db.session(database_url) as minting:
        row = clients.authenticate_key(minting, leaked)  # the request authenticated: the key was live
        with db.session(database_url) as revoking:  # meanwhile a steward revokes it, and commits
            clients.revoke(revoking, clients.authenticate_key(revoking, leaked))
        with pytest.raises(NotAuthorized, match="unknown or revoked"):
            clients.issue_key(minting, row.client, "child", minted_by=row)
        minting.rollback()
    with db.session(database_url) as s:
        assert [k.minted_by for k in clients.all_keys(s, "racing-app")] == [None]


def _hub(home: Path, *args: str) -> subprocess.Popen[str]:
    """The installed ``hub`` command, in its own process."""
    env = {**os.environ, "HUB_HOME": str(home)}
    exe = str(Path(sys.executable).with_name("hub"))
    return subprocess.Popen([exe, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def run_hub(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Callable[..., Run]:
    """``hub ARGS`` through the command's own entry point (``hub.cli.main``) in this process, with
    HUB_HOME (and the Airflow variables the command sets) pointing at a temporary folder. Any
    exception other than the exit the command chooses fails the test, as a traceback would."""
    home = tmp_path / "cli-hub"
    for name, value in airflow_env.airflow_env(Settings(home=home)).items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> Run:
        monkeypatch.setattr(sys, "argv", ["hub", *args])
        get_settings.cache_clear()
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        finally:
            get_settings.cache_clear()
        out, err = capsys.readouterr()
        return Run(code, out, err, Settings(home=home).db_url)

    return run


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    db_url: str


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("create", "grid-app", "--role", "steward"), 1, "client grid-app is a consumer; to make it a steward"),
        (("create", "grid-app", "--organization", "别的单位"), 1, "belongs to 区网格中心; to move it"),
        (("create", "grid-app", "--role", "admin"), 2, "'admin' is not one of 'publisher', 'steward', 'analyst'"),
        (("create", "grid-app", "--role", ""), 2, "is not one of"),
        (("create", "grid-app", "--expires-in", "0"), 2, "--expires-in"),
        (("create", "grid-app", "--expires-in", "-5"), 2, "--expires-in"),
        (("create", "grid-app", "--expires-in", "ten"), 2, "--expires-in"),
        (("create", "x", "--expires", "2001-01-01"), 2, "is in the past"),
        (("create", "x", "--expires", "31/01/2031"), 2, "--expires"),
        (("create", "x", "--expires", "2031-01-01", "--expires-in", "3"), 2, "not both"),
        (("revoke", "nobody"), 1, "client 'nobody' not found"),
        (("revoke", "grid-app", "--label", "no-such-label"), 0, ""),
        (("list", "nobody"), 1, "client 'nobody' not found"),
    ],
)
def test_the_keys_commands_refuse_clearly(
    run_hub: Callable[..., Run], args: tuple[str, ...], code: int, message: str
) -> None:
    made = run_hub("keys", "create", "grid-app", "--organization", "区网格中心")
    assert made.code == 0 and made.out.startswith("hub_"), made.err
    done = run_hub("keys", *args)
    assert done.code == code, done
    assert message in done.err and "Traceback" not in done.err, done.err
    with db.session(made.db_url) as s:  # a refusal changes nothing
        client = clients.client(s, "grid-app")
        assert (client.role, client.organization) == ("consumer", "区网格中心")
        assert [clients.state(k) for k in client.keys] == ["live"]
        assert clients.all_keys(s) == client.keys


def test_the_keys_commands_create_list_change_and_revoke(run_hub: Callable[..., Run]) -> None:
    made = run_hub("keys", "create", "grid-app", "--organization", "区网格中心", "--expires-in", "10")
    assert made.code == 0, made.err
    key = made.out.strip()
    with db.session(made.db_url) as s:  # a key minted by the first one, then revoked, for the listing
        parent = clients.authenticate_key(s, key)
        child = clients.issue_key(s, parent.client, "minted", minted_by=parent)
        clients.revoke(s, clients.authenticate_key(s, child))
    listed = run_hub("keys", "list", "--revoked")
    assert listed.code == 0, listed.err
    lines = listed.out.splitlines()
    assert lines[0].split() == [
        "client", "role", "prefix", "label", "created", "expires", "revoked", "minted", "by", "state"
    ]  # fmt: skip
    today = dt.datetime.now(dt.UTC).date()
    day = [d.isoformat() for d in (today, today + dt.timedelta(days=10), today + dt.timedelta(days=365))]
    assert lines[1].split() == ["grid-app", "consumer", key[:10], day[0], day[1], "-", "-", "live"]
    assert lines[2].split() == [
        "grid-app", "consumer", child[:10], "minted", day[0], day[2], day[0], key[:10], "revoked"
    ]  # fmt: skip
    for secret in (key, child, clients.hash_key(key), clients.hash_key(child)):
        assert secret not in listed.out
    assert len(run_hub("keys", "list").out.splitlines()) == 2  # revoked keys only with --revoked

    changed = run_hub("keys", "create", "grid-app", "--role", "steward", "--change-role")
    assert changed.code == 0, changed.err
    revoked = run_hub("keys", "revoke", "grid-app")
    assert revoked.code == 0 and "revoked 2 key(s)" in revoked.out  # the first key and the one made just now
    assert "no keys" in run_hub("keys", "list", "grid-app").out
    with db.session(made.db_url) as s:
        assert clients.client(s, "grid-app").role == "steward"
        assert {clients.state(k) for k in clients.all_keys(s, "grid-app")} == {"revoked"}


def test_the_installed_command_prints_one_line_not_a_traceback(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    cases = [(("keys", "create", "app", "--role", "admin"), 2, "is not one of"), (("keys", "revoke", "nobody"), 1, "")]
    running = [(_hub(home, *args), code, message) for args, code, message in cases]
    for proc, code, message in running:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == code, (out, err)
        assert message in err and "Traceback" not in err, err
    assert err == "error: client 'nobody' not found\n"
