"""Operations endpoints: liveness, readiness and Prometheus metrics (docs/operations.md).

- ``GET /healthz``: the process answers (no database, no disk): for a liveness probe.
- ``GET /readyz``: the database answers, the warehouse's Iceberg catalogue opens, and every dataset
  with a published version has the serving copy of its newest version; ``503`` naming what fails
  otherwise. It names no dataset (an anonymous caller learns counts only).
- ``GET /metrics``: Prometheus text. HTTP requests and latency by route template and status
  (prometheus-fastapi-instrumentator), rows served by dataset and path, and the catalogue's state
  (files by outcome, newest versions, webhook deliveries; :mod:`hub.metrics`). A steward's key
  (``Authorization: Bearer …``, which Prometheus sends) unless ``HUB_METRICS_PUBLIC=true``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_fastapi_instrumentator import Instrumentator
from sqlalchemy import select, text

from catalog import db, permissions
from catalog.models import ApiClient, Dataset, Version
from exchange_api.deps import get_settings, optional_client
from exchange_api.responses import JSONResponse
from hub import metrics
from hub.errors import Forbidden, NotAuthorized
from hub.settings import Settings
from warehouse import serving, tables

router = APIRouter(tags=["operations"])
UNWATCHED = ["/healthz", "/readyz", "/metrics"]
"""Probes and scrapes are not counted as requests."""


def instrument(app: FastAPI) -> None:
    """Count and time every request in the app's own registry (read at ``/metrics``)."""
    registry = CollectorRegistry(auto_describe=True)
    Instrumentator(
        excluded_handlers=UNWATCHED,
        should_group_status_codes=False,
        registry=registry,
    ).instrument(app, metric_namespace="hub")
    app.state.metrics_registry = registry


@router.get("/healthz", summary="Liveness: the process answers", include_in_schema=True)
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


def _check(name: str, probe: Callable[[], str], found: dict[str, dict[str, Any]]) -> None:
    started = time.perf_counter()
    try:
        detail, ok = probe(), True
    except Exception as exc:  # noqa: BLE001 - a failed probe is the answer, not an error of the route
        detail, ok = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", False
    found[name] = {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database(settings: Settings) -> str:
    with db.session(settings.db_url) as s:
        s.execute(text("SELECT 1"))
    return "answers"


def _warehouse(settings: Settings) -> str:
    namespaces = tables.catalog(settings.warehouse_dir).list_namespaces()
    return f"Iceberg catalogue opens ({len(namespaces)} namespaces)"


def _serving(settings: Settings) -> str:
    with db.session(settings.db_url) as s:
        newest = s.execute(
            select(Dataset.key, Version.snapshot_id)
            .join(Version, Version.dataset_id == Dataset.id)
            .where(Dataset.state == "active")
            .order_by(Dataset.key, Version.number)
        ).all()
    current = dict(newest)  # the last (newest) version of each dataset wins
    missing = sum(
        1 for key, snapshot in current.items() if serving.copy_path(settings.serving_dir, key, snapshot) is None
    )
    if missing:
        raise LookupError(
            f"{missing} of {len(current)} published datasets lack the serving copy of their newest version"
        )
    return f"{len(current)} published datasets have their serving copy"


@router.get("/readyz", summary="Readiness: database, warehouse and serving copies", include_in_schema=True)
def readyz(settings: Settings = Depends(get_settings)) -> JSONResponse:
    checks: dict[str, dict[str, Any]] = {}
    _check("database", lambda: _database(settings), checks)
    _check("warehouse", lambda: _warehouse(settings), checks)
    if checks["database"]["ok"]:
        _check("serving", lambda: _serving(settings), checks)
    else:
        checks["serving"] = {"ok": False, "detail": "not checked: the database does not answer", "ms": 0.0}
    ready = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )


class _Scrape:
    """What one scrape reads: the app's HTTP metrics, the process's own, and the catalogue's."""

    def __init__(self, request: Request, settings: Settings):
        self.sources = [
            request.app.state.metrics_registry,
            metrics.REGISTRY,
            metrics.CatalogueCollector(settings.db_url),
        ]

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source.collect()


@router.get(
    "/metrics", summary="Prometheus metrics (stewards' keys, unless HUB_METRICS_PUBLIC)", include_in_schema=True
)
def prometheus_metrics(
    request: Request,
    caller: ApiClient | None = Depends(optional_client),
    settings: Settings = Depends(get_settings),
) -> Response:
    if not settings.metrics_public:
        if caller is None:
            raise NotAuthorized(
                "metrics need a data steward's key (Authorization: Bearer <key>), or HUB_METRICS_PUBLIC=true"
            )
        if not permissions.is_steward(caller):
            raise Forbidden(f"metrics are for data stewards; {caller.name} is a {caller.role}")
    body = generate_latest(_Scrape(request, settings))  # type: ignore[arg-type]
    return Response(body, media_type=CONTENT_TYPE_LATEST)
