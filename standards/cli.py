"""``hub standards``: list code tables and standards, show a table, check values.

The hub CLI mounts :data:`app` as ``hub standards``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from standards import registry, tables
from standards.errors import UnknownStandard

app = typer.Typer(help="National code tables and validators.", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """List the standards (for `check`) and the code tables (for `show`)."""
    typer.echo("standards:")
    for name in registry.known():
        typer.echo(f"  {name:<10} {registry.get(name).title}")
    typer.echo("code tables:")
    for name in tables.names():
        meta = tables.metadata(name)
        typer.echo(f"  {name:<22} {meta.standard:<24} versions: {', '.join(tables.versions(name))}")


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Code table name, e.g. dongcheng_streets.")],
    version: Annotated[str | None, typer.Option("--version", "-v", help="Table version (default: latest).")] = None,
) -> None:
    """Print a code table as tab-separated rows, after its source."""
    try:
        table = tables.load(name, version)
    except UnknownStandard as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    resolved = tables.resolve_version(name, version)
    meta = tables.metadata(name)
    typer.echo(f"# {name} {resolved}: {meta.title} ({meta.standard})")
    typer.echo(f"# source: {' '.join(meta.versions[resolved].source.split())}")
    typer.echo("\t".join(table.column_names))
    for row in table.to_pylist():
        typer.echo("\t".join("" if v is None else str(v) for v in row.values()))


@app.command()
def check(
    name: Annotated[str, typer.Argument(help="Standard: " + ", ".join(registry.known()))],
    values: Annotated[list[str], typer.Argument(help="Values to check.")],
) -> None:
    """Check values against a standard: one line each; exit code 1 if any is invalid."""
    try:
        standard = registry.get(name)
    except UnknownStandard as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    invalid = 0
    for value in values:
        result = standard.check(value)
        invalid += not result.ok
        typer.echo(f"{value}\tvalid" if result.ok else f"{value}\tinvalid\t{result.rule}: {result.reason}")
    if invalid:
        raise typer.Exit(1)
