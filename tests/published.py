"""A published dataset for API tests: the pipeline's own steps run without the scheduler."""

from __future__ import annotations

import datetime as dt

from access import grants
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


def new_key(settings: Settings, client: str, role: str = "consumer", *, granted: str | None = DATASET) -> str:
    """A key for a new client; ``granted`` (the residents by default) gets a grant of every field."""
    with db.session(settings.db_url) as s:
        key = clients.issue_key(s, clients.ensure_client(s, client, role=role))
    if granted:
        grant(settings, client, granted)
    return key


def grant(
    settings: Settings,
    client: str,
    dataset: str = DATASET,
    *,
    fields: tuple[str, ...] = (),
    clear: tuple[str, ...] = (),
    rows: str | None = None,
    days: int = 30,
) -> str:
    """A steward's grant to ``client`` on ``dataset`` (all grantable fields unless ``fields``); its id."""
    with db.session(settings.db_url) as s:
        steward = clients.ensure_client(s, "steward-of-grants", role="steward")
        contract = model.find(settings.contracts_dir, dataset)
        made = grants.create(
            s,
            clients.client(s, client),
            contract,
            steward,
            fields=fields,
            clear_fields=clear,
            row_filter=rows,
            purpose="tests of the exchange API",
            expires=dt.date.today() + dt.timedelta(days=days),
        )
        return made.id


def publish_records(settings: Settings, name: str, records: list[dict[str, str]], dataset: str = DATASET) -> None:
    """Publish exactly ``records`` (rows of :func:`generator.residents.records`) as a new version."""
    from generator.export import write_csv

    contract = model.find(settings.contracts_dir, dataset)
    write_csv(steps.inbox_folder(settings, contract) / name, dataset, records, "gb18030")
    for file in steps.discover(dataset, settings):
        steps.check(dataset, file, settings, today=dt.date(2026, 11, 1))
    steps.register(dataset, steps.publish(dataset, settings), settings)
