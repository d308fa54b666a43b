"""A published dataset for API tests: the pipeline's own steps run without the scheduler."""

from __future__ import annotations

import datetime as dt

from catalog import clients, db
from contracts import model
from generator.residents import Manifest, generate
from hub.settings import Settings
from ingest import steps

DATASET = "population.residents"


def publish_export(settings: Settings, name: str, **kwargs: object) -> Manifest:
    contract = model.find(settings.contracts_dir, DATASET)
    manifest = generate(steps.inbox_folder(settings, contract) / name, **kwargs)  # type: ignore[arg-type]
    for file in steps.discover(DATASET, settings):
        steps.check(DATASET, file, settings, today=dt.date(2026, 11, 1))
    steps.register(DATASET, steps.publish(DATASET, settings), settings)
    return manifest


def new_key(settings: Settings, client: str, role: str = "consumer") -> str:
    with db.session(settings.db_url) as s:
        return clients.issue_key(s, clients.ensure_client(s, client, role=role))
