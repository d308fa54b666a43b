"""A hub for the SQL tests: residents, households and grids published, callers with every kind of
grant, and a live server with small limits so exhaustion ends quickly."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog import clients, db
from contracts import model
from generator import grids, households, population, residents
from hub.settings import Settings
from ingest import steps
from tests.conftest import LiveServer
from tests.published import grant

STREET = "110101001"
CALLERS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "analyst": ("analyst", {}),  # every field of the residents, masked ones masked
    "clear": ("analyst", {"clear": ("id_number", "name")}),
    "street": ("analyst", {"rows": f"street_code = '{STREET}'"}),
    "narrow": ("analyst", {"fields": ("street_code", "grid_code", "id_number")}),
    "ungranted": ("analyst", None),
    "steward": ("steward", None),
    "consumer": ("consumer", {}),
}
"""Client name: role and its grant on the residents (None: no grant)."""


@dataclass(frozen=True)
class Hub:
    url: str
    settings: Settings
    keys: dict[str, str]

    def sql(self, caller: str, sql: str, **options: Any) -> httpx.Response:
        body = {"sql": sql, **{k: v for k, v in options.items() if k != "format"}}
        params = {"format": options["format"]} if "format" in options else None
        return httpx.post(
            f"{self.url}/api/v1/sql", json=body, params=params, headers={"X-API-Key": self.keys[caller]}, timeout=60
        )

    def rows(self, caller: str, sql: str, **options: Any) -> list[list[Any]]:
        answer = self.sql(caller, sql, **options)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["rows"])


def publish(settings: Settings, seed: int = 3, people: int = 200) -> None:
    pop = population.make(people, random.Random(seed))
    writers = {
        residents.DATASET: ("r.csv", lambda p: residents.export(p, pop, bad_share=0.0, rng=random.Random(seed + 1))),
        households.DATASET: ("h.csv", lambda p: households.export(p, pop, bad_share=0.0, rng=random.Random(seed + 2))),
        grids.DATASET: ("g.geojson", grids.export),
    }
    for dataset, (name, write) in writers.items():
        write(steps.inbox_folder(settings, model.find(settings.contracts_dir, dataset)) / name)
        for file in steps.discover(dataset, settings):
            steps.check(dataset, file, settings, today=dt.date(2026, 11, 1))
        steps.register(dataset, steps.publish(dataset, settings), settings)


def make_hub(folder: Path) -> Settings:
    settings = Settings(
        home=folder / "hub",
        sql_timeout_seconds=2,
        sql_max_rows=1000,
        sql_memory_limit="256MB",
        sql_max_result_bytes=16 << 20,
        sql_threads=1,
        rate_requests_per_minute=1_000_000,  # the golden cases alone send hundreds a minute per caller
    )
    settings.ensure_dirs()
    publish(settings)
    db.migrate(settings.db_url)
    return settings


def issue(settings: Settings) -> dict[str, str]:
    keys = {}
    with db.session(settings.db_url) as s:
        for name, (role, _) in CALLERS.items():
            keys[name] = clients.issue_key(s, clients.ensure_client(s, name, role=role))
    for name, (_, terms) in CALLERS.items():
        if terms is not None:
            grant(settings, name, residents.DATASET, **terms)
    return keys


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    settings = make_hub(Path(tmp_path_factory.mktemp("sql")))
    keys = issue(settings)
    with LiveServer(settings) as server:
        yield Hub(server.url, server.settings, keys)
