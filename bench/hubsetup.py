"""What the API benchmarks share: a hub with generated residents published, benchmark clients
with their grants, and `hub serve` started as a subprocess on a free port.

One place, so that the analyst-SQL, API and ingest benchmarks build the same hub the same way.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from catalog import clients, db
from contracts import model
from generator.residents import generate
from hub.errors import NotFound
from hub.settings import Settings
from ingest import steps

DATASET = "population.residents"

GENEROUS_LIMITS = {
    "HUB_RATE_REQUESTS_PER_MINUTE": "1000000000",
    "HUB_RATE_ROWS_PER_DAY": "1000000000000",
}
"""Rate limits no benchmark reaches: a 429 would be counted as an error, not measured as speed."""


def publish(settings: Settings, rows: int) -> None:
    """Generate ``rows`` residents (seed 99, no bad rows), check, publish and register version 1."""
    contract = model.find(settings.contracts_dir, DATASET)
    generate(steps.inbox_folder(settings, contract) / "v1.csv", rows=rows, bad_share=0.0, seed=99)
    for file in steps.discover(DATASET, settings):
        steps.check(DATASET, file, settings, today=dt.date(2026, 11, 1))
    steps.register(DATASET, steps.publish(DATASET, settings), settings)


def residents_hub(home: Path, rows: int) -> Settings:
    """The hub at ``home`` with ``rows`` residents published as version 1, building it unless it
    is already there: benchmarks run one after the other share one build (a million rows take
    one to two minutes to generate, check and publish)."""
    from warehouse import serving

    settings = Settings(home=home)
    settings.ensure_dirs()
    try:
        if serving.current(settings.serving_dir, DATASET).row_count == rows:
            return settings
    except NotFound:
        pass
    db.migrate(settings.db_url)
    publish(settings, rows)
    return settings


def client_with_grant(settings: Settings, name: str, role: str = "analyst", clear_fields: Sequence[str] = ()) -> str:
    """A client holding a live grant on the residents (the contract's fields; ``clear_fields`` in
    clear, other sensitive fields masked); returns its new API key."""
    from access import grants

    with db.session(settings.db_url) as s:
        client = clients.ensure_client(s, name, role=role)
        key = clients.issue_key(s, client)
        steward = clients.ensure_client(s, "bench-steward", role="steward")
        contract = model.find(settings.contracts_dir, DATASET)
        grants.create(
            s,
            client,
            contract,
            steward,
            fields=(),
            clear_fields=tuple(clear_fields),
            row_filter=None,
            purpose="benchmark",
            expires=dt.date.today() + dt.timedelta(days=1),
        )
    return key


def analyst(settings: Settings) -> str:
    """The analyst of the SQL benchmarks: a grant with every sensitive field masked."""
    return client_with_grant(settings, "bench-analyst")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(
    settings: Settings, args: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``hub serve ARGS`` on a free port for the hub at ``settings``; returns it and its base URL."""
    port = free_port()
    environ = {**os.environ, **(env or {}), "HUB_HOME": str(settings.resolved_home), "HUB_API_PORT": str(port)}
    exe = str(Path(sys.executable).with_name("hub"))
    with log_file(settings).open("ab") as log:  # the server's own log, for a run that fails
        server = subprocess.Popen([exe, "serve", *args], env=environ, stdout=subprocess.DEVNULL, stderr=log)
    return server, f"http://127.0.0.1:{port}"


def log_file(settings: Settings) -> Path:
    return settings.resolved_home / "bench-serve.log"


def wait(http: httpx.Client, path: str = "/api/v1/datasets", seconds: float = 90) -> None:
    """Until ``path`` answers 200 (a server starting up refuses connections or is not ready)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            http.get(path).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then wait; kill what does not stop within 30 s."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)
