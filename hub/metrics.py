"""Prometheus metrics of the hub that are not about HTTP (those come from the instrumentator in
:mod:`exchange_api.ops`).

- ``hub_rows_served_total{dataset, action}``: rows released to callers, counted where every data
  path releases them (:func:`access.gate.release`), so records, exports, change feeds, SQL and
  the CKAN datastore all count, and nothing else does.
- The catalogue's state, read from the metadata database at each scrape (so every API process
  and the Airflow workers that ingest agree): files received by dataset and outcome, the newest
  version and its rows, webhook deliveries by status, and ``hub_dataset_late{dataset}`` (1 when
  the dataset is late against its update frequency: :func:`quality.history.freshness`).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from catalog import db
from catalog.models import Dataset, IngestedFile, Version

REGISTRY = CollectorRegistry(auto_describe=True)
"""The process's own metrics (one registry per process, not prometheus_client's global one)."""

ROWS_SERVED = Counter(
    "hub_rows_served",
    "Rows released to callers, by dataset and path (records, export, changes, sql, datastore_search, …).",
    ["dataset", "action"],
    registry=REGISTRY,
)


def rows_served(dataset: str, action: str, rows: int) -> None:
    if rows > 0:
        ROWS_SERVED.labels(dataset=dataset, action=action).inc(rows)


class CatalogueCollector(Collector):
    """Gauges read from the metadata database at ``db_url`` when scraped."""

    def __init__(self, db_url: str):
        self.db_url = db_url

    def collect(self) -> Iterator[Metric]:
        files = GaugeMetricFamily(
            "hub_ingest_files",
            "Files received, by dataset and outcome (published, rejected, …).",
            labels=["dataset", "status"],
        )
        version = GaugeMetricFamily(
            "hub_dataset_version", "Newest published version of each dataset.", labels=["dataset"]
        )
        rows = GaugeMetricFamily("hub_dataset_rows", "Rows of each dataset's newest version.", labels=["dataset"])
        deliveries = GaugeMetricFamily("hub_webhook_deliveries", "Webhook deliveries by status.", labels=["status"])
        late = GaugeMetricFamily(
            "hub_dataset_late",
            "1 when the dataset is late against its contract's update frequency.",
            labels=["dataset"],
        )
        from exchange.subscriptions import Delivery
        from quality import history

        with db.session(self.db_url) as s:
            counted = select(IngestedFile.dataset_key, IngestedFile.status, func.count()).group_by(
                IngestedFile.dataset_key, IngestedFile.status
            )
            for dataset, status, n in s.execute(counted):
                files.add_metric([dataset, status], n)
            newest = (
                select(Version.dataset_id, func.max(Version.number).label("number"))
                .group_by(Version.dataset_id)
                .subquery()
            )
            current = (
                select(Dataset.key, Version.number, Version.row_count)
                .join(newest, newest.c.dataset_id == Dataset.id)
                .join(Version, (Version.dataset_id == Dataset.id) & (Version.number == newest.c.number))
                .where(Dataset.state == "active")
            )
            for dataset, number, count in s.execute(current):
                version.add_metric([dataset], number)
                rows.add_metric([dataset], count)
            for status, n in s.execute(select(Delivery.status, func.count()).group_by(Delivery.status)):
                deliveries.add_metric([status], n)
            for ds in s.scalars(select(Dataset).where(Dataset.state == "active")):
                late.add_metric([ds.key], 1 if history.freshness(ds).late else 0)
        yield from (files, version, rows, deliveries, late)
