"""Turn every active contract into an ingestion DAG.

Imported by the thin files in ``dags/`` at parse time, so it imports nothing heavy: contracts
are read as plain YAML here, and every task imports the pipeline inside its body.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pendulum
import yaml
from airflow.sdk import DAG, Asset, AssetAny, CronTriggerTimetable, dag, task

from hub.settings import get_settings, private_files

if TYPE_CHECKING:
    from ingest.outcome import FileOutcome

TIMEZONE = "Asia/Shanghai"
CRON_BY_FREQUENCY = {
    "hourly": "0 * * * *",
    "daily": "0 2 * * *",
    "weekly": "0 2 * * 1",
    "monthly": "0 2 1 * *",
    "quarterly": "0 2 1 1,4,7,10 *",
    "yearly": "0 2 1 1 *",
    "annually": "0 2 1 1 *",
}
"""When an ingest DAG looks in its inbox, by the contract's ``updateFrequency``: at 02:00 Beijing
time on the first day of the period (files that arrive in between wait for it, or for ``hub ingest``
or the DAG's trigger button)."""


def asset_for(dataset: str) -> Asset:
    domain, _, table = dataset.partition(".")
    return Asset(name=dataset, uri=f"hub://warehouse/{domain}/{table}", group="hub-dataset")


def active_contracts(folder: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(folder.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if doc.get("status") == "active" and doc.get("id"):
            out.append(doc)
    return out


def dag_id(dataset: str) -> str:
    return "ingest__" + dataset.replace(".", "__")


def dataset_of(dag: str) -> str | None:
    """The dataset a hub DAG id stands for (``None`` for any other DAG)."""
    prefix, _, rest = dag.partition("__")
    return rest.replace("__", ".") if prefix == "ingest" and rest else None


def custom_property(doc: dict[str, Any], name: str) -> Any:
    for prop in doc.get("customProperties") or []:
        if prop.get("property") == name:
            return prop.get("value")
    return None


def ingest_schedule(doc: dict[str, Any]) -> CronTriggerTimetable | None:
    """The contract's update frequency as a timetable; ``None`` (manual runs only) for one the hub does not know."""
    cron = CRON_BY_FREQUENCY.get(str(custom_property(doc, "updateFrequency") or "").strip().lower())
    return CronTriggerTimetable(cron, timezone=TIMEZONE) if cron else None


def build_ingest_dag(doc: dict[str, Any]) -> DAG:
    dataset: str = doc["id"]

    @dag(
        dag_id=dag_id(dataset),
        description=f"Ingest {doc.get('name', dataset)}: inbox → contract checks → Iceberg → catalogue",
        schedule=ingest_schedule(doc),
        start_date=pendulum.datetime(2024, 1, 1, tz=TIMEZONE),
        catchup=False,
        max_active_runs=1,
        tags=["ingest", doc.get("domain", "")],
        doc_md=f"Generated from contract `{dataset}` version {doc.get('version')}.",
    )
    def ingest() -> None:
        @task
        def discover() -> list[str]:
            from ingest import steps

            return steps.discover(dataset)

        @task(max_active_tis_per_dagrun=1)
        def check(file: str) -> dict[str, Any]:
            from ingest import steps

            return steps.check(dataset, file).dump()

        @task(trigger_rule="none_failed")
        def publish(outcomes: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
            from ingest import steps

            return [o.dump() for o in steps.publish(dataset)]

        @task(outlets=[asset_for(dataset)])
        def register(published: list[dict[str, Any]]) -> list[dict[str, Any]]:
            from airflow.sdk.exceptions import AirflowSkipException

            from ingest import steps

            if not published:
                raise AirflowSkipException("nothing new to publish")
            return [o.dump() for o in steps.register(dataset, published)]

        outcomes = check.expand(file=discover())
        register(publish(outcomes))  # type: ignore[arg-type]  # task-flow: XComArgs stand in for values

    return ingest()


def derived_from(doc: dict[str, Any]) -> list[str]:
    return [str(d) for d in custom_property(doc, "derivedFrom") or []]


def build_derived_dag(doc: dict[str, Any]) -> DAG:
    """A derived dataset: rebuilt when any input publishes, once per set of input versions."""
    dataset: str = doc["id"]
    inputs = derived_from(doc)

    @dag(
        dag_id=dag_id(dataset),
        description=f"Build {doc.get('name', dataset)} from {', '.join(inputs)}",
        schedule=AssetAny(*(asset_for(i) for i in inputs)),
        start_date=pendulum.datetime(2024, 1, 1, tz=TIMEZONE),
        catchup=False,
        max_active_runs=1,
        tags=["derived", doc.get("domain", "")],
        doc_md=f"Generated from contract `{dataset}`; inputs: {', '.join(f'`{i}`' for i in inputs)}.",
    )
    def derive() -> None:
        @task
        def build() -> dict[str, Any]:
            from airflow.sdk.exceptions import AirflowSkipException

            from ingest import derive as steps

            try:
                return steps.build(dataset).dump()
            except steps.InputsNotReady as exc:
                raise AirflowSkipException(str(exc)) from None

        @task
        def publish(built: dict[str, Any]) -> list[dict[str, Any]]:
            from ingest import steps

            return [o.dump() for o in steps.publish(dataset)]

        @task(outlets=[asset_for(dataset)])
        def register(published: list[dict[str, Any]]) -> list[dict[str, Any]]:
            from airflow.sdk.exceptions import AirflowSkipException

            from ingest import steps

            if not published:
                raise AirflowSkipException("inputs unchanged since the last build")
            return [o.dump() for o in steps.register(dataset, published)]

        register(publish(build()))  # type: ignore[arg-type]  # task-flow: XComArgs stand in for values

    return derive()


def build_dag(doc: dict[str, Any]) -> DAG:
    return build_derived_dag(doc) if derived_from(doc) else build_ingest_dag(doc)


def file_outcomes(returned: dict[str, list[Any]]) -> list[FileOutcome]:
    """What became of each file (or build) in one run of a DAG, from its tasks' return values: the
    check's (or build's) outcome, replaced by the register's once the file became a version.
    Files checked in an earlier run and published in this one come last."""
    from ingest.outcome import FileOutcome

    registered = {o["sha256"]: o for values in returned.get("register", []) for o in values or []}
    found = [registered.pop(o["sha256"], o) for o in [*returned.get("check", []), *returned.get("build", [])] if o]
    return [FileOutcome.model_validate(o) for o in [*found, *registered.values()]]


def referenced(doc: dict[str, Any]) -> list[str]:
    """Datasets the contract's fields reference (``relationships`` ``to: DATASET.yaml#/...``)."""
    from contracts.model import REFERENCE_TO

    found = []
    for schema in doc.get("schema") or []:
        for prop in schema.get("properties") or []:
            for rel in prop.get("relationships") or []:
                match = REFERENCE_TO.match(str(rel.get("to", "")))
                if match and match["dataset"] != doc.get("id"):
                    found.append(match["dataset"])
    return found


def run_order(docs: list[dict[str, Any]]) -> list[str]:
    """Dataset ids with every derived dataset after its inputs and every dataset after the datasets
    its fields reference, so their checks see a current version (for running without a scheduler).

    Departments' datasets come first, then derived ones round by round; a dataset that references
    another moves just behind it."""
    ids = {d["id"]: derived_from(d) for d in docs}
    rounds: list[str] = []
    while len(rounds) < len(ids):
        ready = [
            i for i, deps in sorted(ids.items()) if i not in rounds and all(d in rounds or d not in ids for d in deps)
        ]
        if not ready:
            raise ValueError(f"derived datasets form a cycle: {sorted(set(ids) - set(rounds))}")
        rounds += ready
    needs = {d["id"]: ids[d["id"]] + referenced(d) for d in docs}
    done: list[str] = []
    while rounds:
        first = next((i for i in rounds if all(d in done or d not in needs for d in needs[i])), None)
        if first is None:
            raise ValueError(f"references form a cycle: {sorted(rounds)}")
        done.append(first)
        rounds.remove(first)
    return done


def hub_env_from_airflow() -> None:
    """Take the hub's environment from the ``[hub]`` section of ``airflow.cfg`` (written by ``hub
    airflow-config``) where the process does not set it, so a plain ``airflow`` runs the hub's
    tasks against the right HUB_HOME."""
    from airflow.sdk.configuration import conf

    if not conf.has_section("hub"):
        return
    changed = False
    for name, value in conf.getsection("hub").items():  # type: ignore[union-attr]  # has_section above
        if name.upper() not in os.environ:
            os.environ[name.upper()] = str(value)
            changed = True
    if changed:
        get_settings.cache_clear()


def build_all() -> dict[str, DAG]:
    private_files()  # DAG files are an entry point too: what their tasks write is owner-only
    hub_env_from_airflow()
    return {dag_id(doc["id"]): build_dag(doc) for doc in active_contracts(get_settings().active_contracts_dir)}
