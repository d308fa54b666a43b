"""``hub report``: the district's reports; ``hub report ratios`` is the monthly platform ratios."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.settings import get_settings

app = typer.Typer(help="Reports for the district: platform ratios.", no_args_is_help=True)


@app.command("ratios")
def ratios_command(
    month: Annotated[str | None, typer.Option(help="Month YYYY-MM; default: the current one (so far).")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for ratios-YYYY-MM.csv and .png; default HUB_HOME/reports/ratios.")
    ] = None,
) -> None:
    """Collection and sharing ratios per department and overall against the 80 % target; writes the CSV and chart."""
    from catalog import db
    from contracts import model
    from hub.sql_cli import table
    from stewardship import ratios

    settings = get_settings()
    settings.ensure_dirs()
    db.migrate(settings.db_url)
    with db.session(settings.db_url) as s:
        report = ratios.ratios(s, month, contracts=model.load_all(settings.active_contracts_dir))
    rows = [
        [
            d.code,
            d.name,
            d.base_datasets,
            f"{d.collected} ({d.collection_ratio:.0%})" + ("" if d.collection_meets_target else " below"),
            f"{d.shared} ({d.sharing_ratio:.0%})" + ("" if d.sharing_meets_target else " below"),
        ]
        for d in [*report.departments, report.overall]
    ]
    typer.echo(f"platform ratios {report.month} (target {report.target:.0%}), judged at {report.at:%Y-%m-%d %H:%M}")
    typer.echo(table(["code", "department", "base datasets", "collected", "shared"], rows))
    written = ratios.write_report(report, out or settings.path("reports", "ratios"))
    typer.echo("wrote " + ", ".join(str(p) for p in written))
