"""``hub sql``: analysts' SQL from the command line, on the same path as ``POST /api/v1/sql``.

``hub sql "SELECT ..." --as CLIENT`` runs one query as that client (its role, grants and masks
apply; the run is audited like an API call) and prints a table, CSV or JSON. Without a query it
reads queries from a prompt, each ending with ``;``, until ``\\q`` or end of input.
"""

from __future__ import annotations

import csv
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hub.access_cli import OPERATOR, _settings
from hub.errors import HubError

if TYPE_CHECKING:
    from access.sql.engine import Answer, Engine
    from hub.settings import Settings

WIDEST = 40
"""Widest cell of the table format, in characters (longer values are cut with …)."""
QUIT = {"\\q", "quit", "exit"}


class Output(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


As = Annotated[str, typer.Option("--as", help="Run as this client (an analyst or a data steward).")]


def sql_command(
    query: Annotated[str | None, typer.Argument(help="One read query; without it, an interactive prompt.")] = None,
    client: As = OPERATOR,
    fmt: Annotated[Output, typer.Option("--format", "-f", help="table, csv or json.")] = Output.table,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Version number, snapshot id or ISO time.")] = None,
    dialect: Annotated[str | None, typer.Option(help="Dialect of the query (postgres, mysql, ...).")] = None,
    limit: Annotated[int | None, typer.Option(help="Most rows to print.", min=1)] = None,
) -> None:
    """Run read-only SQL over the datasets a client may read (tables are dataset ids)."""
    from access.sql.engine import Engine
    from contracts import model
    from warehouse.serving import Store

    settings = _settings()
    store = Store(settings.serving_dir)
    engine = Engine(settings, store, lambda key: model.find(settings.active_contracts_dir, key))
    try:
        if query is not None:
            _print(_run(settings, engine, client, query, as_of, dialect, limit), fmt)
            return
        _prompt(settings, engine, client, fmt, as_of, dialect, limit)
    finally:
        engine.close()
        store.close()


def _run(
    settings: Settings,
    engine: Engine,
    client: str,
    text: str,
    as_of: str | None,
    dialect: str | None,
    limit: int | None,
) -> Answer:
    from access.sql.engine import Query
    from catalog import clients, db

    with db.session(settings.db_url) as s:
        caller = clients.ensure_client(s, client, role="steward") if client == OPERATOR else clients.client(s, client)
        return engine.run(s, caller, Query(text, as_of, dialect, limit), max_rows=settings.sql_max_rows)


def _prompt(
    settings: Settings,
    engine: Engine,
    client: str,
    fmt: Output,
    as_of: str | None,
    dialect: str | None,
    limit: int | None,
) -> None:
    interactive = sys.stdin.isatty()
    if interactive:
        typer.echo(f"hub sql as {client}: end each query with ';', \\q to quit", err=True)
    lines: list[str] = []
    while True:
        try:
            line = input(("...> " if lines else "sql> ") if interactive else "")
        except EOFError:
            break
        if not lines and line.strip().lower() in QUIT:
            break
        lines.append(line)
        if not line.rstrip().endswith(";"):
            continue
        text, lines = "\n".join(lines), []
        try:
            _print(_run(settings, engine, client, text, as_of, dialect, limit), fmt)
        except HubError as exc:
            typer.echo(f"error: {exc}", err=True)


def _print(answer: Answer, fmt: Output) -> None:
    from access.sql.engine import dumps

    if fmt is Output.json:
        sys.stdout.buffer.write(dumps(answer.body()) + b"\n")
        sys.stdout.buffer.flush()
        return
    names = [c["name"] for c in answer.columns]
    rows = answer.rows()
    if fmt is Output.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    else:
        typer.echo(table(names, rows))
    more = ", truncated" if answer.result.truncated else ""
    sys.stdout.flush()
    typer.echo(f"({len(rows)} rows{more}; {answer.elapsed_ms:.0f} ms)", err=True)


def _cell(value: Any) -> str:
    text = "NULL" if value is None else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= WIDEST else text[: WIDEST - 1] + "…"


def table(names: list[str], rows: list[list[Any]]) -> str:
    """Rows as an aligned text table (wide characters counted as two columns)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([_width(n), *(_width(r[i]) for r in cells)]) for i, n in enumerate(names)]

    def line(values: list[str]) -> str:
        return " | ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True)).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(names), rule, *(line(r) for r in cells)])


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
