"""Hub instances for catalogue tests: a live server with a published dataset and keys per role."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog import clients, db
from hub.settings import Settings
from tests.conftest import LiveServer
from tests.published import DATASET, grant, publish_export

POLICE = "11010100001"  # the department of population.residents


@dataclass(frozen=True)
class Site:
    url: str
    settings: Settings
    keys: dict[str, str]


def issue_keys(settings: Settings) -> dict[str, str]:
    """steward, publisher (of the police branch), analyst, consumer."""
    spec = {
        "steward": ("steward-wang", "steward", None),
        "publisher": ("police-uploader", "publisher", POLICE),
        "analyst": ("analyst-li", "analyst", None),
        "consumer": ("grid-app", "consumer", "区网格中心"),
    }
    with db.session(settings.db_url) as s:
        keys = {
            role: clients.issue_key(s, clients.ensure_client(s, name, role=r, organization=org))
            for role, (name, r, org) in spec.items()
        }
    if (settings.contracts_dir / f"{DATASET}.yaml").exists():
        for role in ("analyst", "consumer"):  # the residents are 有条件共享: read under a grant
            grant(settings, spec[role][0])
    return keys


@contextmanager
def site(folder: Path, *, rows: int = 0, contracts_dir: Path | None = None, **overrides: Any) -> Iterator[Site]:
    """A hub under ``folder`` (``overrides``: settings); ``rows`` > 0 publishes that many residents first."""
    settings = Settings(home=folder / "hub", **overrides)
    if contracts_dir is not None:
        settings = settings.model_copy(update={"contracts_dir": contracts_dir})
    settings.ensure_dirs()
    if rows:
        publish_export(settings, "v1.csv", rows=rows, bad_share=0.0, seed=7)
    db.migrate(settings.db_url)
    keys = issue_keys(settings)
    with LiveServer(settings) as server:
        yield Site(server.url, server.settings, keys)
