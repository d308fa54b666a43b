"""``hub export`` and ``hub changes``: the exchange API's bulk reads for operators, on the same path.

They read as a client (``--as``, default ``hub-operator``, a data steward created on first use), so
the client's policy applies and every run is written to the audit log like an API call.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.access_cli import OPERATOR, _settings
from hub.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from exchange.reads import Reader

As = Annotated[str, typer.Option("--as", help="Read as this client (its grants and masks apply).")]
Fmt = Annotated[str, typer.Option("--format", "-f", help="parquet, csv, jsonl or arrow.")]
Out = Annotated[Path, typer.Option("--out", "-o", help="File to write ('-' for standard output).")]
Fields = Annotated[str | None, typer.Option(help="Comma-separated field names (default: every field released).")]
Encoding = Annotated[str | None, typer.Option(help="CSV only: utf-8 (with BOM, default) or gb18030.")]


def _write(chunks: Iterator[bytes], out: Path, rows: int) -> None:
    """Write the streamed bytes to ``out`` (atomically: a ``.part`` file renamed at the end)."""
    if str(out) == "-":
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f".{out.name}.part")
    written, step = 0, 64 << 20
    try:
        with part.open("wb") as f:
            for chunk in chunks:
                f.write(chunk)
                if (written + len(chunk)) // step > written // step:
                    typer.echo(f"  … {(written + len(chunk)) >> 20} MB", err=True)
                written += len(chunk)
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    typer.echo(f"wrote {out} ({rows} rows, {written:,} bytes)")


def _reader(s: Session, settings: Settings, dataset: str, client: str, fields: str | None) -> Reader:
    from catalog import clients, service
    from contracts import model
    from exchange.reads import Reader

    ds = service.dataset(s, dataset)
    caller = clients.ensure_client(s, client, role="steward") if client == OPERATOR else clients.client(s, client)
    names = [n.strip() for n in (fields or "").split(",") if n.strip()]
    contract = model.find(settings.active_contracts_dir, ds.key)
    return Reader.of(s, caller, ds, contract, names, query=" ".join(["hub", *sys.argv[1:]]))


def export_command(
    dataset: Annotated[str, typer.Argument(help="Dataset id, e.g. population.residents.")],
    out: Out,
    fmt: Fmt = "parquet",
    as_of: Annotated[str | None, typer.Option("--as-of", help="Version number, snapshot id or ISO time.")] = None,
    client: As = OPERATOR,
    fields: Fields = None,
    encoding: Encoding = None,
) -> None:
    """Export a dataset version to a file, as a client's policy releases it (audited)."""
    from catalog import db
    from exchange import versions
    from exchange.export import parse_encoding, parse_format
    from exchange.reads import Export
    from warehouse.serving import Store

    settings = _settings()
    store = Store(settings.serving_dir)
    try:
        with db.session(settings.db_url) as s:
            reader = _reader(s, settings, dataset, client, fields)
            plan = Export(reader, versions.resolve(reader.ds, as_of), parse_format(fmt), parse_encoding(encoding))
            answer = plan.run(s, settings, store)
        typer.echo(f"{reader.contract.id} version {answer.at.version} as {client}: {answer.rows} rows", err=True)
        _write(answer.chunks, out, answer.rows)
    finally:
        store.close()


def changes_command(
    dataset: Annotated[str, typer.Argument(help="Dataset id, e.g. population.residents.")],
    since: Annotated[str, typer.Option(help="The version you hold: number, snapshot id or ISO time.")],
    out: Out,
    until: Annotated[str | None, typer.Option(help="Compare with this version (default: the newest).")] = None,
    fmt: Fmt = "parquet",
    client: As = OPERATOR,
    fields: Fields = None,
    encoding: Encoding = None,
) -> None:
    """Write the rows added, changed and removed between two versions (``_op`` and ``_key`` columns)."""
    from catalog import db
    from exchange import versions
    from exchange.export import parse_encoding, parse_format
    from exchange.reads import Changes

    settings = _settings()
    with db.session(settings.db_url) as s:
        reader = _reader(s, settings, dataset, client, fields)
        plan = Changes(reader, *versions.between(reader.ds, since, until))
        answer = plan.run(s, settings, parse_format(fmt), parse_encoding(encoding))
    counts = ", ".join(f"{n} {op}" for op, n in (answer.counts.describe() if answer.counts else {}).items())
    typer.echo(f"{reader.contract.id} v{plan.since.version} → v{plan.until.version} as {client}: {counts}", err=True)
    _write(answer.chunks, out, answer.rows)
