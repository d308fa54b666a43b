"""``hub ingest``: run the ingestion DAGs, then rebuild what is derived from what they published.

Without a scheduler, Asset-triggered DAGs do not start by themselves, so the derived datasets run
here, after their inputs: a derived dataset is rebuilt when one of its inputs published a version
in this run (or, with no dataset named, when it was never built from its inputs' current
versions). Nothing published, nothing rebuilt. Each file's real outcome is printed as its DAG
ends — published as version N, rejected whole, nothing new — and the time of each stage at the end.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

from hub.settings import Settings

if TYPE_CHECKING:
    from hub.airflow_env import Finished
    from ingest.outcome import FileOutcome

TASK_STAGES = ("discover", "check", "build", "publish", "register")
"""The DAGs' tasks, in the order their times are printed."""
CHECK_STAGES = ("read", "standardize", "validate", "stage", "quarantine")
"""The parts of a check, timed inside the task."""


@dataclass
class Ran:
    """One DAG run of ``hub ingest``: why it ran, how it ended, what became of each file."""

    dataset: str
    why: str
    finished: Finished | None = None
    error: str | None = None
    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.error is not None or self.finished is None or not self.finished.ok

    @property
    def published(self) -> bool:
        from ingest.outcome import FileStatus

        return any(o.status is FileStatus.published for o in self.outcomes)


def run(settings: Settings, datasets: Sequence[str]) -> list[Ran]:
    """Run the DAGs of ``datasets`` (every active contract when empty), then the derived datasets
    downstream of what they published. One DAG failing does not stop the others: departments'
    files are independent."""
    from hub import airflow_env

    airflow_env.configure(settings)
    from ingest.dag_factory import active_contracts, dag_id, derived_from, file_outcomes, run_order

    docs = active_contracts(settings.active_contracts_dir)
    inputs = {d["id"]: derived_from(d) for d in docs}
    known = run_order(docs)
    unknown = sorted(set(datasets) - set(known))
    if unknown:
        raise typer.BadParameter(f"no active contract for {', '.join(unknown)}; known: {', '.join(known)}")
    done: list[Ran] = []
    published: set[str] = set()
    for dataset in known:
        why = _why(settings, dataset, datasets, inputs[dataset], published)
        if why is None:
            continue
        typer.echo(f"{dag_id(dataset)} ({why}) …")
        ran = Ran(dataset, why)
        try:
            ran.finished = airflow_env.run(settings, dag_id(dataset))
            ran.outcomes = file_outcomes(ran.finished.returned)
        except Exception as exc:  # noqa: BLE001 - report and go on with the next department
            ran.error = f"{type(exc).__name__}: {exc}"
        for outcome in ran.outcomes:
            typer.echo(f"  {outcome.describe()}")
        if ran.failed:
            typer.echo(f"  {dataset}: failed: {ran.error or ran.finished and ran.finished.state}", err=True)
        elif not ran.outcomes:
            typer.echo("  nothing to do")
        if ran.published:
            published.add(dataset)
        done.append(ran)
    if not done:
        typer.echo("nothing to run")
    else:
        typer.echo(stage_times(done))
    return done


def _why(settings: Settings, dataset: str, asked: Sequence[str], inputs: list[str], published: set[str]) -> str | None:
    """Why the dataset's DAG runs now, or None when it does not."""
    if not inputs:
        if asked and dataset not in asked:
            return None
        from ingest import steps

        if steps.discover(dataset, settings) or steps.pending(dataset, settings):
            return "files waiting" if not asked else "asked for"
        typer.echo(f"{dataset}: nothing waiting in the inbox")
        return None
    from ingest import derive

    if dataset in asked:
        return "asked for"
    fresh = [i for i in inputs if i in published]
    if fresh:
        why = f"{', '.join(fresh)} published"
    elif not asked and derive.stale(dataset, settings):
        why = "never built from its inputs' current versions"
    else:
        return None
    blocked = derive.waiting(dataset, settings)
    if blocked:
        typer.echo(f"{dataset}: not rebuilt: {blocked}")
        return None
    return why


def stage_times(done: list[Ran]) -> str:
    """One line: the time of each stage over the whole run, and Airflow's own share."""
    tasks: dict[str, float] = defaultdict(float)
    parts: dict[str, float] = defaultdict(float)
    wall = 0.0
    for ran in done:
        if ran.finished is None:
            continue
        wall += ran.finished.wall
        for task, seconds in ran.finished.seconds.items():
            tasks[task] += seconds
        for outcome in ran.outcomes:
            for stage, seconds in outcome.seconds.items():
                parts[stage] += seconds
    shown = []
    for task in [*TASK_STAGES, *sorted(set(tasks) - set(TASK_STAGES))]:
        if task not in tasks:
            continue
        inner = [f"{p} {parts[p]:.1f} s" for p in CHECK_STAGES if p in parts] if task == "check" else []
        shown.append(f"{task} {tasks[task]:.1f} s" + (f" ({', '.join(inner)})" if inner else ""))
    airflow = max(0.0, wall - sum(tasks.values()))
    return (
        f"stage times: {', '.join(shown) or 'none'}; Airflow's own work {airflow:.1f} s; "
        f"{len(done)} DAG run(s) in {wall:.1f} s"
    )
