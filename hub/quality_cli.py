"""``hub quality``: the GX validation results kept for each checked file and their Data Docs.

The pipeline adds each result's page as it checks a file; ``hub quality docs`` rebuilds whole
sites from the kept results (after an upgrade of GX, or when a site folder was removed).
"""

from __future__ import annotations

from typing import Annotated

import typer

from hub.settings import get_settings

app = typer.Typer(help="GX validation results and Data Docs.", no_args_is_help=True)


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
