"""``hub quality``: quality history, freshness and score; GX validation results and their Data Docs.

``hub quality DATASET`` prints a dataset's history per version, its freshness against the
contract's update frequency and its score (``--json``: the API's JSON); ``hub quality`` alone
lists every dataset's standing, ``hub quality --late`` the late ones only. Both are the
``show`` command, which is what ``hub quality`` runs when no subcommand is named.

The pipeline adds each result's page as it checks a file; ``hub quality docs`` rebuilds whole
sites from the kept results (after an upgrade of GX, or when a site folder was removed).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from hub.settings import get_settings


class DefaultShow(TyperGroup):
    """``hub quality X ...`` runs ``hub quality show X ...`` unless X names a subcommand or asks for help."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["show", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(cls=DefaultShow, help="Quality history, freshness and score; GX validation results and Data Docs.")


@app.command("show")
def show_command(
    dataset: Annotated[str | None, typer.Argument(help="Dataset id; default: one line per dataset.")] = None,
    late: Annotated[bool, typer.Option("--late", help="Only the datasets that are late.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the API's shape).")] = False,
) -> None:
    """History per version, freshness and score of DATASET (what `hub quality DATASET` runs)."""
    import orjson
    from sqlalchemy import select

    from catalog import db, service
    from catalog.models import Dataset
    from hub.sql_cli import table
    from quality import history

    settings = get_settings()
    settings.ensure_dirs()
    db.migrate(settings.db_url)
    with db.session(settings.db_url) as s:
        if dataset:
            ds = service.dataset(s, dataset)
            history.fill_completeness(settings, ds)
            found = history.dataset_quality(ds)
            if as_json:
                typer.echo(orjson.dumps(found.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode())
                return
            typer.echo(_describe(found, table))
            return
        rows = s.scalars(select(Dataset).where(Dataset.state == "active").order_by(Dataset.key))
        every = [history.dataset_quality(ds) for ds in rows]
    shown = [q for q in every if q.late or not late]
    if as_json:
        typer.echo(orjson.dumps([_line(q) for q in shown], option=orjson.OPT_INDENT_2).decode())
        return
    if not shown:
        typer.echo("no dataset is late" if late else "no datasets")
        return
    names = ["dataset", "frequency", "standing", "late", "last published", "score"]
    typer.echo(table(names, [list(_line(q).values()) for q in shown]))


def _line(q: Any) -> dict[str, Any]:
    fresh = q.freshness
    return {
        "dataset": q.dataset,
        "frequency": q.frequency,
        "standing": fresh.standing or "",
        "late": "LATE" if q.late else "",
        "last_published": fresh.last_published.isoformat(timespec="minutes") if fresh.last_published else "",
        "score": q.score.value if q.score else "",
    }


def _describe(q: Any, table: Any) -> str:
    fresh = q.freshness
    lines = [f"{q.dataset} ({q.title}, {q.organization}), updated {q.frequency}"]
    if q.score:
        sc = q.score
        lines.append(
            f"score {sc.value}: acceptance {sc.acceptance:.1%}, completeness {sc.completeness:.1%}, "
            f"freshness {sc.freshness:.1%}, disputes {sc.open_disputes} open / {sc.overdue_disputes} overdue"
        )
    else:
        lines.append("score: none yet (no version)")
    state = "LATE" if q.late else ("on schedule" if fresh.on_schedule else "not yet due")
    due = f", next due {fresh.next_due.isoformat(timespec='minutes')}" if fresh.next_due else ""
    lines.append(f"freshness: {state}" + (f" (standing period {fresh.standing})" if fresh.standing else "") + due)
    if fresh.periods:
        counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in fresh.counts.items() if n)
        lines.append(f"periods: {counts}")
        lines.append(
            table(
                ["period", "status", "versions"],
                [[p.label, p.status.value.replace("_", " "), ", ".join(map(str, p.versions))] for p in fresh.periods],
            )
        )
    if q.versions:
        rows = []
        for v in q.versions:
            filled = v.completeness or {}
            least = min(filled.items(), key=lambda kv: kv[1]) if filled else None
            rows.append(
                [
                    v.version,
                    v.published_at.isoformat(timespec="minutes"),
                    v.rows_read,
                    v.rows_accepted,
                    v.rows_rejected,
                    ", ".join(f"{k} {n}" for k, n in sorted(v.issues_by_rule.items(), key=lambda kv: -kv[1])),
                    ", ".join(f"{k} {n}" for k, n in sorted(v.issues_by_column.items(), key=lambda kv: -kv[1])),
                    f"{least[0]} {least[1]:.1%}" if least else "",
                ]
            )
        names = [
            "version",
            "published",
            "read",
            "accepted",
            "rejected",
            "issues by rule",
            "issues by column",
            "least complete",
        ]
        lines.append(table(names, rows))
    return "\n".join(lines)


@app.command("docs")
def docs_command(
    datasets: Annotated[list[str] | None, typer.Argument(help="Dataset ids; default: every one with results.")] = None,
) -> None:
    """Rebuild the Data Docs site of each dataset from its kept validation results."""
    from contracts import model
    from hub.errors import NotFound
    from quality import docs, results

    settings = get_settings()
    settings.ensure_dirs()
    if datasets:
        for dataset in datasets:
            model.find(settings.active_contracts_dir, dataset)  # an unknown id is an error naming the known ones
    else:
        datasets = sorted(p.name for p in settings.quality_dir.iterdir() if p.is_dir())
        if not datasets:
            typer.echo(f"no validation results kept under {settings.quality_dir}")
    for dataset in datasets:
        kept = len(results.all_results(settings, dataset))
        if not kept:
            raise NotFound(f"no validation results kept for {dataset}: check a file of it first (hub ingest)")
        seconds = docs.build(settings, dataset)
        index = docs.site_root(settings, dataset) / docs.INDEX
        typer.echo(f"{dataset}: {kept} result(s), Data Docs built in {seconds:.1f} s: {index}")
