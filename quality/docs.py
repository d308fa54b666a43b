"""GX Data Docs: one static site per dataset under ``HUB_HOME/data_docs/<dataset>/``.

Built by GX's own ``SiteBuilder`` (``context.build_data_docs``) from the kept results of
:mod:`quality.results`: an ephemeral context is given the dataset's results in its validation
results store and a site whose filesystem ``store_backend`` is the dataset's folder. A new
result renders only its own page (``resource_identifiers``) and the index; the other pages stay.
One site per dataset, so the index a department opens lists its own datasets' validations only.

Served read-only by :mod:`exchange_api.quality_api`; :func:`resolve` is the only way from a
requested path to a file of the site.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hub import paths
from hub.errors import NotFound
from hub.settings import Settings
from quality import results

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
log = logging.getLogger(__name__)
SITE = "hub"
INDEX = "index.html"


def site_root(settings: Settings, dataset: str) -> Path:
    return paths.inside(settings.data_docs_dir, dataset, what="dataset")


def identifier(result: dict[str, Any]) -> Any:
    """The GX key of a kept result: suite, run (the file's SHA-256 prefix, checked at), batch (file name)."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    hub = result["meta"]["hub"]
    run = RunIdentifier(run_name=hub["sha256"][:16], run_time=dt.datetime.fromisoformat(hub["checked_at"]))
    return ValidationResultIdentifier(
        ExpectationSuiteIdentifier(name=result["suite_name"]), run, paths.safe_name(hub["file"])
    )


def page(result: dict[str, Any]) -> str:
    """The page of a result, relative to its site's root (GX's HtmlSiteStore layout)."""
    return "/".join(["validations", *identifier(result).to_tuple()]) + ".html"


def _site_config(root: Path) -> dict[str, Any]:
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(root)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "site_section_builders": {"expectations": "None", "profiling": "None"},
    }


@contextmanager
def _locked(settings: Settings, dataset: str) -> Iterator[None]:
    """One build per dataset at a time (files of one dataset may be checked in parallel)."""
    settings.data_docs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = paths.inside(settings.data_docs_dir, f".{dataset}.lock")
    with os.fdopen(os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)) as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build(settings: Settings, dataset: str, sha256: str | None = None) -> float:
    """(Re)build the dataset's site: the page of ``sha256``'s result and the index, or every page
    when ``sha256`` is None. Returns the seconds it took."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults

    import standards.expectations  # noqa: F401  (registers the hub's own expectations, which the pages render)

    started = time.perf_counter()
    root = site_root(settings, dataset)
    with _locked(settings, dataset):
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            data_docs_sites={SITE: _site_config(root)},
        )
        context = gx.get_context(project_config=config, mode="ephemeral")
        store = context.validation_results_store
        chosen = []
        for path in results.all_results(settings, dataset):
            text = path.read_text(encoding="utf-8")
            data = json.loads(text)
            key = identifier(data)
            # the kept file is the store's serialized form already: no round trip through GX's schema
            # (that dump costs ~0.1 s a result, which the index would pay for every kept result)
            store.store_backend.set(store.key_to_tuple(key), text)
            if data["meta"]["hub"]["sha256"] == sha256:
                chosen.append(key)
        if sha256 is not None and not chosen:
            raise NotFound(f"no validation result of {dataset} for file {sha256[:16]}")
        context.build_data_docs(site_names=[SITE], resource_identifiers=chosen or None)
    seconds = time.perf_counter() - started
    log.info("Data Docs of %s built in %.2f s", dataset, seconds)
    return seconds


def resolve(settings: Settings, dataset: str, requested: str) -> Path:
    """The file of the dataset's site a request names (``""`` or a folder: its index.html).

    Every part is checked (:func:`hub.paths.inside`: no ``..``, separators, control characters,
    symlinks leading out); anything else, or a file that is not there, is refused."""
    parts = requested.split("/")
    if parts[-1] == "":
        parts[-1] = INDEX
    if "" in parts:
        raise paths.UnsafePath(f"page {requested!r} is refused: it holds an empty part")
    path = paths.inside(site_root(settings, dataset), *parts, what="Data Docs page")
    if not path.is_file():
        raise NotFound(f"no Data Docs page {requested!r} for {dataset}")
    return path
