"""Finding 9: concurrent writers (the CLI beside the running server) never lose a committed write.

SQLite in WAL mode with a busy timeout, ``BEGIN IMMEDIATE`` write transactions, one engine per
process; migrations serialized so processes starting together on a new database all succeed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ckanapi
import pytest

from catalog import clients, db
from hub.errors import NotAuthorized
from hub.settings import Settings
from tests.catalog.sites import site

THREADS, PER_THREAD, CLI_RUNS = 4, 8, 2


def _cli(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "HUB_HOME": str(home)}
    exe = str(Path(sys.executable).with_name("hub"))
    return subprocess.Popen([exe, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_server_and_cli_writing_at_once_keep_every_write(tmp_path: Path) -> None:
    with site(tmp_path) as hub:
        home = hub.settings.resolved_home
        with db.session(hub.settings.db_url) as s:
            doomed = [clients.issue_key(s, clients.ensure_client(s, "doomed-app")) for _ in range(3)]
            leaky = clients.issue_key(s, clients.ensure_client(s, "leaky-app"))

        def api_writer(n: int) -> tuple[list[str], list[str]]:
            steward = ckanapi.RemoteCKAN(hub.url, apikey=hub.keys["steward"])
            kept, revoked = [], []
            for i in range(PER_THREAD):
                token = steward.action.api_token_create(user="steward-wang", name=f"t{n}-{i}")["token"]
                if i % 3 == 0:
                    steward.action.api_token_revoke(token=token)
                    revoked.append(token)
                else:
                    kept.append(token)
            return kept, revoked

        def chain_minter() -> list[str]:
            """Each key mints the next, until the client's revocation stops it."""
            made: list[str] = []
            token, deadline = leaky, time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    token = ckanapi.RemoteCKAN(hub.url, apikey=token).action.api_token_create(
                        user="leaky-app", name="chain"
                    )["token"]
                except ckanapi.NotAuthorized:
                    return made
                made.append(token)
                time.sleep(0.1)  # leave the server (and the CPU) to the other writers too
            raise AssertionError("revoking leaky-app never stopped its keys")

        with ThreadPoolExecutor(THREADS + 1) as pool:
            chain = pool.submit(chain_minter)
            procs = [_cli(home, "keys", "create", f"cli-app-{i}") for i in range(CLI_RUNS)]
            procs += [_cli(home, "keys", "revoke", "doomed-app"), _cli(home, "keys", "revoke", "leaky-app")]
            results = list(pool.map(api_writer, range(THREADS)))
            outputs = [p.communicate(timeout=120) for p in procs]
            minted = chain.result(timeout=120)
        assert all(p.returncode == 0 for p in procs), outputs
        cli_keys = [out.strip() for out, _ in outputs[:CLI_RUNS]]
        assert "revoked 3 key(s)" in outputs[CLI_RUNS][0]

        kept = [t for k, _ in results for t in k] + cli_keys
        revoked = [t for _, r in results for t in r] + doomed + [leaky, *minted]
        assert len(kept) == THREADS * (PER_THREAD - 3) + CLI_RUNS
        with db.session(hub.settings.db_url) as s:
            for token in kept:
                clients.authenticate(s, token)  # every created key is there
            for token in revoked:
                with pytest.raises(NotAuthorized):
                    clients.authenticate(s, token)  # every revocation held, down the whole chain
            assert {clients.state(k) for k in clients.all_keys(s, "leaky-app")} == {"revoked"}


STARTER = """
import pathlib, sys, time
from catalog import clients, db
import alembic.command, alembic.config
url, ready, go, name = sys.argv[1:]
pathlib.Path(ready).touch()
while not pathlib.Path(go).exists():  # every process is loaded: start together
    time.sleep(0.005)
db.migrate(url)
with db.session(url) as s:
    print(clients.issue_key(s, clients.ensure_client(s, name)))
"""


def test_processes_starting_together_on_a_new_database_all_succeed(tmp_path: Path) -> None:
    url, n = Settings(home=tmp_path / "fresh").db_url, 3
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, url, str(tmp_path / f"ready-{i}"), str(go), f"first-{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{i}").exists() for i in range(n)) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * n, [err[-300:] for _, err in outputs]
    with db.session(url) as s:
        names = sorted(clients.authenticate(s, out.strip()).name for out, _ in outputs)
    assert names == [f"first-{i}" for i in range(n)]
