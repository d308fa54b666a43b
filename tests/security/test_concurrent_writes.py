"""Finding 9: concurrent writers (the CLI beside the running server) never lose a committed write."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ckanapi
import pytest

from catalog import clients, db
from hub.errors import NotAuthorized
from tests.catalog.sites import site

THREADS, PER_THREAD, CLI_RUNS = 4, 8, 4


def _cli(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "HUB_HOME": str(home)}
    exe = str(Path(sys.executable).with_name("hub"))
    return subprocess.Popen([exe, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_server_and_cli_writing_at_once_keep_every_write(tmp_path: Path) -> None:
    with site(tmp_path) as hub:
        home = hub.settings.resolved_home
        with db.session(hub.settings.db_url) as s:
            doomed = [clients.issue_key(s, clients.ensure_client(s, "doomed-app")) for _ in range(3)]

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

        procs = [_cli(home, "keys", "create", f"cli-app-{i}") for i in range(CLI_RUNS)]
        procs.append(_cli(home, "keys", "revoke", "doomed-app"))
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(api_writer, range(THREADS)))
        outputs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), outputs
        cli_keys = [out.strip() for out, _ in outputs[:CLI_RUNS]]
        assert "revoked 3 key(s)" in outputs[-1][0]

        kept = [t for k, _ in results for t in k] + cli_keys
        revoked = [t for _, r in results for t in r] + doomed
        assert len(kept) == THREADS * (PER_THREAD - 3) + CLI_RUNS
        with db.session(hub.settings.db_url) as s:
            for token in kept:
                clients.authenticate(s, token)  # every created key is there
            for token in revoked:
                with pytest.raises(NotAuthorized):
                    clients.authenticate(s, token)  # every revocation held
