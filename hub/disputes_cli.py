"""``hub disputes``: the 校核 queues, one dispute with its steps, answers and withdrawals.

The commands act as a client (``--as``, default ``hub-operator``, a data steward created on first
use), with the same rights as through the API: a department's member answers its own datasets'
disputes, the filer withdraws its own, a steward sees and answers all. Clients file disputes
through the API (``POST /api/v1/datasets/{id}/disputes``), where the record is read under their policy.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from hub.access_cli import OPERATOR, _settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from catalog.models import ApiClient

app = typer.Typer(help="校核 disputes: values consumers believe wrong, answered by departments.", no_args_is_help=True)

As = Annotated[str, typer.Option("--as", help="Act as this client (default: hub-operator, a data steward).")]
DisputeId = Annotated[str, typer.Argument(help="The dispute's id.")]


class Queue(StrEnum):
    mine = "mine"
    provider = "provider"
    all = "all"


def _caller(s: Session, client: str) -> ApiClient:
    from catalog import clients

    return clients.ensure_client(s, client, role="steward") if client == OPERATOR else clients.client(s, client)


@app.command("list")
def list_command(
    queue: Annotated[
        Queue | None, typer.Option(help="mine, provider (your department's) or all (stewards; their default).")
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset id.")] = None,
    status: Annotated[str | None, typer.Option(help="open, corrected, rejected or withdrawn.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open disputes past their deadline.")] = False,
    client: As = OPERATOR,
) -> None:
    """Disputes, oldest deadline first: id, status, deadline, dataset, field, filer."""
    from catalog import db, permissions
    from catalog.models import ApiClient, utcnow
    from contracts import model
    from stewardship import disputes

    settings = _settings()
    known = [s.value for s in disputes.DisputeStatus]
    if status is not None and status not in known:
        raise typer.BadParameter(f"{status!r} is not one of {', '.join(known)}", param_hint="--status")
    if dataset:
        model.find(settings.contracts_dir, dataset)  # an unknown dataset is an error, not "no disputes"
    now = utcnow()
    with db.session(settings.db_url) as s:
        caller = _caller(s, client)
        chosen = queue or (Queue.all if permissions.is_steward(caller) else Queue.mine)
        if chosen is Queue.all:
            permissions.require_steward(caller, "list every dispute")
        rows = disputes.listing(
            s,
            client=caller if chosen is Queue.mine else None,
            datasets=disputes.provided_by(s, caller) if chosen is Queue.provider else None,
            dataset=dataset,
            status=disputes.DisputeStatus(status) if status else None,
            overdue_at=now if overdue else None,
        )
        if not rows:
            typer.echo("no disputes")
        for d in rows:
            filer = s.get(ApiClient, d.client_id)
            late = "  OVERDUE" if disputes.overdue(d, now) else ""
            typer.echo(
                f"{d.id}  {d.status:<9} due {d.due:%Y-%m-%d %H:%M}  {d.dataset:<24} {d.field:<16} "
                f"{filer.name if filer else '?'}{late}"
            )


@app.command("show")
def show_command(dispute_id: DisputeId, client: As = OPERATOR) -> None:
    """Everything about one dispute and every step taken on it."""
    from catalog import db
    from catalog.models import utcnow
    from exchange_api.disputes_api import dispute_dict, event_dict
    from stewardship import disputes

    settings = _settings()
    now = utcnow()
    with db.session(settings.db_url) as s:
        caller = _caller(s, client)
        found, _ = disputes.visible(s, caller, dispute_id)
        for key, value in dispute_dict(s, found, caller, now).items():
            typer.echo(f"{key:>14}: {value}")
        for e in map(event_dict, found.events):
            detail = " ".join(f"{k}={v}" for k, v in e["detail"].items())
            step = f"{e['action']:<8} by {e['actor']} ({e['party']}) → {e['status']}"
            typer.echo(f"  {e['seq']:>3}. {e['at']}  {step} {detail}")


@app.command("answer")
def answer_command(
    dispute_id: DisputeId,
    version: Annotated[
        int | None, typer.Option(min=1, help="Corrected: the published version that carries the correction.")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Rejected: why the value stands (told to the filer).")] = None,
    client: As = OPERATOR,
) -> None:
    """Answer as the providing department (or a steward): --version N (corrected) or --reason TEXT (rejected)."""
    from catalog import db
    from catalog.models import utcnow
    from contracts import model
    from exchange_api.disputes_api import value_changed
    from hub.errors import BadParameter
    from stewardship import disputes
    from warehouse.serving import Store

    settings = _settings()
    with db.session(settings.db_url) as s:
        caller = _caller(s, client)
        found, ds = disputes.visible(s, caller, dispute_id)
        if (version is None) == (reason is None):
            raise BadParameter("answer with either --version N (corrected) or --reason TEXT (rejected)")
        if reason is not None:
            disputes.reject(s, found, caller, ds, reason, now=utcnow())
        else:
            assert version is not None
            store = Store(settings.serving_dir)
            try:
                changed = value_changed(settings, store, model.find(settings.contracts_dir, ds.key), ds, found)
                disputes.correct(s, found, caller, ds, version, changed=changed, now=utcnow())
            finally:
                store.close()
        typer.echo(f"{found.status}: {found.id}")


@app.command("withdraw")
def withdraw_command(dispute_id: DisputeId, client: As = OPERATOR) -> None:
    """Withdraw an open dispute (its filer only)."""
    from catalog import db
    from catalog.models import utcnow
    from stewardship import disputes

    settings = _settings()
    with db.session(settings.db_url) as s:
        caller = _caller(s, client)
        found, ds = disputes.visible(s, caller, dispute_id)
        disputes.withdraw(s, found, caller, ds, now=utcnow())
        typer.echo(f"withdrawn: {found.id}")
