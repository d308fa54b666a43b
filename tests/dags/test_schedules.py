"""Each DAG's trigger: ingest DAGs on the contract's update frequency, derived DAGs on their inputs."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from hub import airflow_env
from hub.settings import get_settings
from ingest.dag_factory import active_contracts, custom_property, dag_id, derived_from

BEIJING = "Asia/Shanghai"


@pytest.fixture(scope="module")
def dags() -> dict[str, object]:
    return airflow_env.load_dags(get_settings())


def next_run(dag: object, after: dt.datetime) -> dt.datetime | None:
    """When the scheduler would next start ``dag`` if its last scheduled run was at ``after``."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import DataInterval, TimeRestriction

    timetable = coerce_to_core_timetable(dag.timetable)  # type: ignore[attr-defined]
    info = timetable.next_dagrun_info(
        last_automated_data_interval=DataInterval(after, after),
        restriction=TimeRestriction(earliest=None, latest=None, catchup=True),
    )
    return None if info is None else info.run_after


@pytest.mark.parametrize(
    ("dataset", "after", "expected"),
    [
        # monthly: 02:00 Beijing time on the first of the next month
        (
            "population.residents",
            pendulum.datetime(2026, 3, 15, 12, tz=BEIJING),
            pendulum.datetime(2026, 4, 1, 2, tz=BEIJING),
        ),
        (
            "economy.tax_monthly",
            pendulum.datetime(2026, 12, 1, 2, tz=BEIJING),
            pendulum.datetime(2027, 1, 1, 2, tz=BEIJING),
        ),
        # quarterly: the first of January, April, July, October
        ("spatial.pois", pendulum.datetime(2026, 4, 1, 3, tz=BEIJING), pendulum.datetime(2026, 7, 1, 2, tz=BEIJING)),
        (
            "buildings.buildings",
            pendulum.datetime(2026, 11, 20, tz=BEIJING),
            pendulum.datetime(2027, 1, 1, 2, tz=BEIJING),
        ),
        # yearly: New Year's day
        ("spatial.grids", pendulum.datetime(2026, 1, 1, 2, tz=BEIJING), pendulum.datetime(2027, 1, 1, 2, tz=BEIJING)),
    ],
)
def test_ingest_dag_runs_on_its_contracts_update_frequency(
    dags: dict[str, object], dataset: str, after: dt.datetime, expected: dt.datetime
) -> None:
    assert next_run(dags[dag_id(dataset)], after) == expected


def test_every_ingest_contracts_frequency_has_a_schedule(dags: dict[str, object]) -> None:
    from airflow.sdk import CronTriggerTimetable

    for doc in active_contracts(get_settings().contracts_dir):
        if derived_from(doc):
            continue
        timetable = dags[dag_id(doc["id"])].timetable  # type: ignore[attr-defined]
        frequency = custom_property(doc, "updateFrequency")
        assert isinstance(timetable, CronTriggerTimetable), f"{doc['id']} ({frequency}) has no schedule"


def test_derived_dags_are_triggered_by_their_inputs_assets(dags: dict[str, object]) -> None:
    for doc in active_contracts(get_settings().contracts_dir):
        inputs = derived_from(doc)
        if not inputs:
            continue
        dag = dags[dag_id(doc["id"])]
        assert type(dag.timetable).__name__ == "AssetTriggeredTimetable"  # type: ignore[attr-defined]
        names = {a.name for a in dag.timetable.asset_condition.objects}  # type: ignore[attr-defined]
        assert names == set(inputs)
        assert next_run(dag, pendulum.datetime(2026, 1, 1, tz=BEIJING)) is None  # no clock, only asset events
