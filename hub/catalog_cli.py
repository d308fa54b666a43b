"""``hub catalog``: the catalogue from the command line (push to an external CKAN)."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="The catalogue: publish the hub's datasets in another CKAN.", no_args_is_help=True)


@app.callback()
def _catalog() -> None:
    """The CKAN-compatible catalogue of the hub."""


@app.command()
def push(
    to: Annotated[str, typer.Option("--to", help="Base URL of the target CKAN, e.g. https://data.example.gov.cn.")],
    token: Annotated[
        str, typer.Option("--token", envvar="HUB_PUSH_TOKEN", help="API token of a user allowed to write there.")
    ],
    dataset: Annotated[
        list[str] | None, typer.Option("--dataset", "-d", help="Only this dataset (name or contract id); repeatable.")
    ] = None,
    public_only: Annotated[bool, typer.Option("--public-only", help="Leave out private (不予开放) datasets.")] = False,
) -> None:
    """Create or update the hub's datasets in another CKAN through ckanapi (idempotent).

    Resource links point at this hub (HUB_SITE_URL); the national catalogue elements travel as
    extras. Organizations and groups missing on the target are created first.
    """
    import ckanapi
    import requests

    from catalog import db
    from catalog.push import push as run_push
    from hub.settings import get_settings

    settings = get_settings()
    db.migrate(settings.db_url)
    remote = ckanapi.RemoteCKAN(to.rstrip("/"), apikey=token, user_agent="dongcheng-hub (catalog push)")
    try:
        report = run_push(settings, remote, datasets=dataset, public_only=public_only)
    except requests.RequestException as exc:
        typer.echo(f"error: cannot reach {to}: {exc}", err=True)
        raise typer.Exit(2) from None
    for kind, names in (("organization", report.organizations), ("group", report.groups)):
        for name in names:
            typer.echo(f"created {kind} {name}")
    for label, names in (("created", report.created), ("updated", report.updated), ("unchanged", report.unchanged)):
        for name in names:
            typer.echo(f"{label:9} {name}")
    for name, why in report.failed.items():
        typer.echo(f"failed    {name}: {why}", err=True)
    typer.echo(report.summary())
    if report.failed:
        raise typer.Exit(1)
