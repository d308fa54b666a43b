"""OpenLineage datasets of the hub's DAGs: what each run read and which Iceberg table it wrote.

Airflow's OpenLineage provider emits a START and a COMPLETE (or FAIL) event for every task it sees
run; for a ``@task`` it knows no datasets. :class:`HubExtractor` (registered through ``[openlineage]
extractors`` by ``hub.airflow_env.airflow_options``) supplies them for the ``publish`` task of each
hub DAG, the task that commits the Iceberg snapshot:

- output: the dataset's Iceberg table, namespace ``iceberg://<host><HUB_HOME>/warehouse``, name the
  table identifier ``<domain>.<table>``, with the published snapshot id as its version and the
  rows of the new version;
- inputs: for an ingest DAG, the department's files the run published, as ``file://<host>`` paths
  in the dataset's inbox; for a derived DAG, its input tables (with the snapshot ids built from).

Every other task gets no datasets here, so Airflow's own rules (inlets, outlets, hook lineage) apply.
"""

from __future__ import annotations

import socket
from typing import Any

from airflow.providers.openlineage.extractors.base import BaseExtractor, OperatorLineage
from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.generated.dataset_version_dataset import DatasetVersionDatasetFacet
from openlineage.client.generated.output_statistics_output_dataset import OutputStatisticsOutputDatasetFacet

from hub.settings import Settings, get_settings

LINEAGE_TASK = "publish"


def table_namespace(settings: Settings) -> str:
    return f"iceberg://{socket.gethostname()}{settings.warehouse_dir.as_posix()}"


def table_name(dataset: str) -> str:
    """The Iceberg identifier of a dataset's table (``domain.table``, as in ``warehouse.tables``)."""
    from contracts import model

    contract = model.find(get_settings().active_contracts_dir, dataset)
    return f"{contract.domain}.{contract.table}"


def file_namespace() -> str:
    return f"file://{socket.gethostname()}"


class HubExtractor(BaseExtractor):
    """Datasets of the ``publish`` task of the hub's DAGs (see the module's doc)."""

    @classmethod
    def get_operator_classnames(cls) -> list[str]:
        return ["_PythonDecoratedOperator"]  # what ``@task`` makes

    def _dataset(self) -> str | None:
        from ingest.dag_factory import dataset_of

        if self.operator.task_id != LINEAGE_TASK:
            return None
        return dataset_of(self.operator.dag_id)

    def _execute_extraction(self) -> OperatorLineage:
        dataset = self._dataset()
        return lineage(dataset, None, None) if dataset else OperatorLineage()

    def extract_on_complete(self, task_instance: Any) -> OperatorLineage:
        dataset = self._dataset()
        if not dataset:
            return OperatorLineage()
        published = task_instance.xcom_pull(task_ids=LINEAGE_TASK) or []
        try:
            built = task_instance.xcom_pull(task_ids="build")
        except Exception:  # noqa: BLE001 - an ingest DAG has no build task
            built = None
        return lineage(dataset, published, built)

    def extract_on_failure(self, task_instance: Any) -> OperatorLineage:
        dataset = self._dataset()
        return lineage(dataset, None, None) if dataset else OperatorLineage()


def lineage(dataset: str, published: list[dict[str, Any]] | None, built: dict[str, Any] | None) -> OperatorLineage:
    """Inputs and output of one publish: ``published`` as the task returned it (``None`` before it ran),
    ``built`` the return value of a derived DAG's build task (its pinned input snapshots)."""
    from contracts import model
    from ingest.steps import inbox_folder

    settings = get_settings()
    contract = model.find(settings.active_contracts_dir, dataset)
    tables_at = table_namespace(settings)
    inputs: list[InputDataset] = []
    if contract.derived_from:
        pinned = (built or {}).get("lineage") or {}  # {"inputs": ..., "build": ...} when built, bare when a duplicate
        pinned = pinned.get("inputs", pinned)
        for source in contract.derived_from:
            facets: dict[str, Any] = {}
            if source in pinned:
                facets["version"] = DatasetVersionDatasetFacet(datasetVersion=str(pinned[source]))
            inputs.append(InputDataset(namespace=tables_at, name=table_name(source), facets=facets))
    else:
        folder = inbox_folder(settings, contract)
        inputs += [InputDataset(namespace=file_namespace(), name=str(folder / p["file"])) for p in published or []]
    out_facets: dict[str, Any] = {}
    out_dataset_facets: dict[str, Any] = {}
    if published:
        newest = published[-1]
        out_dataset_facets["version"] = DatasetVersionDatasetFacet(datasetVersion=str(newest["snapshot_id"]))
        out_facets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(rowCount=int(newest["row_count"]))
    output = OutputDataset(
        namespace=tables_at,
        name=f"{contract.domain}.{contract.table}",
        facets=out_dataset_facets,
        outputFacets=out_facets,
    )
    return OperatorLineage(inputs=inputs, outputs=[output])
