"""``hub requests``, ``hub grants`` and ``hub audit``: the steward's queue, grants and the audit log.

Whoever runs these commands holds the hub's files, so they act as a data steward. Decisions are
credited to ``--by`` (default ``hub-operator``, created as a steward client on first use).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from hub.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from catalog.models import ApiClient

requests_app = typer.Typer(help="Access requests: the steward's queue.", no_args_is_help=True)
grants_app = typer.Typer(help="Grants: client × dataset × fields × rows × purpose × expiry.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log of every data-returning call.", no_args_is_help=True)

OPERATOR = "hub-operator"
By = Annotated[str, typer.Option("--by", help="Steward credited with the decision.")]
Names = Annotated[str | None, typer.Option(help="Comma-separated field names.")]
DateOpt = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day (YYYY-MM-DD).")]


def _settings() -> Settings:
    from catalog import db

    settings = get_settings()
    settings.ensure_dirs()
    db.migrate(settings.db_url)
    return settings


def _names(value: str | None) -> list[str] | None:
    return None if value is None else [n.strip() for n in value.split(",") if n.strip()]


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value else None


def _steward(s: Session, name: str) -> ApiClient:
    from catalog import clients

    return clients.ensure_client(s, name, role="steward")


@requests_app.command("list")
def requests_list(
    status: Annotated[str | None, typer.Option(help="pending, approved or denied (default: all).")] = None,
) -> None:
    """Requests, pending ones first and oldest first, with the working days left to answer."""
    from access import grants
    from catalog import db
    from catalog.models import ApiClient

    settings = _settings()
    known = ", ".join(grants.RequestStatus)
    if status is not None and status not in known.split(", "):
        raise typer.BadParameter(f"{status!r} is not one of {known}", param_hint="--status")
    with db.session(settings.db_url) as s:
        wanted = grants.RequestStatus(status) if status else None
        rows = grants.requests(s, status=wanted)
        if not rows:
            typer.echo("no access requests")
        for r in rows:
            client = s.get(ApiClient, r.client_id)
            days = ""
            if r.status == grants.RequestStatus.pending:
                left = grants.working_days_left(r.due)
                days = f"{left} working day(s) left" if left >= 0 else f"OVERDUE by {-left} working day(s)"
            typer.echo(
                f"{r.id}  {r.status:<8} {r.created:%Y-%m-%d}  {client.name if client else '?':<20} "
                f"{r.dataset:<24} {days}"
            )


@requests_app.command("show")
def requests_show(request_id: str) -> None:
    """Everything about one request."""
    from access import grants
    from catalog import db
    from exchange_api.access_api import request_dict

    settings = _settings()
    with db.session(settings.db_url) as s:
        for key, value in request_dict(s, grants.request(s, request_id)).items():
            typer.echo(f"{key:>18}: {value}")


@requests_app.command("approve")
def requests_approve(
    request_id: str,
    fields: Names = None,
    clear: Names = None,
    rows: Annotated[str | None, typer.Option(help="Row filter, e.g. \"street_code = '110101001'\".")] = None,
    expires: DateOpt = None,
    by: By = OPERATOR,
) -> None:
    """Approve, possibly narrower than asked (fewer fields or clear fields, a row filter, a shorter expiry)."""
    from access import grants
    from catalog import db
    from contracts import model

    settings = _settings()
    with db.session(settings.db_url) as s:
        req = grants.request(s, request_id)
        made = grants.approve(
            s,
            req,
            _steward(s, by),
            model.find(settings.active_contracts_dir, req.dataset),
            fields=_names(fields),
            clear_fields=_names(clear),
            row_filter=rows,
            expires=_day(expires),
        )
        typer.echo(f"approved: grant {made.id} on {made.dataset} until {made.expires:%Y-%m-%d}")


@requests_app.command("deny")
def requests_deny(
    request_id: str, reason: Annotated[str, typer.Option(help="Why (told to the client).")], by: By = OPERATOR
) -> None:
    """Refuse a request with the reason; no grant is made."""
    from access import grants
    from catalog import db

    settings = _settings()
    with db.session(settings.db_url) as s:
        grants.deny(s, grants.request(s, request_id), _steward(s, by), reason)
        typer.echo(f"denied: {request_id}")


@grants_app.command("list")
def grants_list(
    client: Annotated[str | None, typer.Option(help="Only this client's grants.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Only grants on this dataset id.")] = None,
    live: Annotated[bool, typer.Option("--live", help="Only grants neither expired nor revoked.")] = False,
) -> None:
    """Grants, newest first."""
    from access import grants
    from catalog import clients, db
    from catalog.models import ApiClient
    from contracts import model

    settings = _settings()
    if dataset:
        model.find(settings.active_contracts_dir, dataset)  # an unknown dataset is an error, not "no grants"
    with db.session(settings.db_url) as s:
        who = clients.client(s, client) if client else None
        rows = grants.listing(s, client=who, dataset=dataset, live_only=live)
        if not rows:
            typer.echo("no grants")
        for g in rows:
            state = "live" if grants.is_live(g) else ("revoked" if g.revoked else "expired")
            owner = s.get(ApiClient, g.client_id)
            typer.echo(
                f"{g.id}  {state:<7} {owner.name if owner else '?':<20} {g.dataset:<24} until {g.expires:%Y-%m-%d}  "
                f"fields={','.join(g.fields)} clear={','.join(g.clear_fields) or '-'} rows={g.row_filter or 'all'}"
            )


@grants_app.command("create")
def grants_create(
    client: Annotated[str, typer.Option(help="The client granted.")],
    dataset: Annotated[str, typer.Option(help="Dataset id, e.g. population.residents.")],
    purpose: Annotated[str, typer.Option(help="What the data is used for.")],
    fields: Names = None,
    clear: Names = None,
    rows: Annotated[str | None, typer.Option(help="Row filter, e.g. \"street_code IN ('110101001')\".")] = None,
    expires: DateOpt = None,
    by: By = OPERATOR,
) -> None:
    """Grant directly, without a request."""
    from access import grants
    from catalog import clients, db
    from contracts import model

    settings = _settings()
    with db.session(settings.db_url) as s:
        made = grants.create(
            s,
            clients.client(s, client),
            model.find(settings.active_contracts_dir, dataset),
            _steward(s, by),
            fields=_names(fields) or [],
            clear_fields=_names(clear) or [],
            row_filter=rows,
            purpose=purpose,
            expires=_day(expires),
        )
        typer.echo(made.id)


@grants_app.command("revoke")
def grants_revoke(grant_id: str) -> None:
    """Revoke a grant; it stops working on the next request."""
    from access import grants
    from catalog import db

    settings = _settings()
    with db.session(settings.db_url) as s:
        grants.revoke(s, grants.grant(s, grant_id))
        typer.echo(f"revoked: {grant_id}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the whole chain: exit 0 when intact, 1 naming the first broken record."""
    from access import audit
    from catalog import db

    settings = _settings()
    with db.session(settings.db_url) as s:
        verdict = audit.verify(s, settings.audit_key_path)
    typer.echo(str(verdict), err=not verdict.ok)
    if not verdict.ok:
        raise typer.Exit(1)


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Sign the chain's head now with the key kept outside the database."""
    from access import audit
    from catalog import db

    settings = _settings()
    with db.session(settings.db_url) as s:
        made = audit.anchor(s, settings.audit_key_path)
    typer.echo(f"anchored record {made.seq}" if made else "nothing new to anchor")


@audit_app.command("show")
def audit_show(
    client: Annotated[str | None, typer.Option(help="Only this client.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset id.")] = None,
    since: DateOpt = None,
    until: DateOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
) -> None:
    """Audit records, newest first."""
    from access import audit
    from catalog import clients, db
    from contracts import model

    settings = _settings()
    if dataset:
        model.find(settings.active_contracts_dir, dataset)  # an unknown name is an error, not "no audit records"
    utc = dt.UTC
    with db.session(settings.db_url) as s:
        if client:
            clients.client(s, client)
        rows = audit.records(
            s,
            client=client,
            dataset=dataset,
            since=since.replace(tzinfo=utc) if since else None,
            until=until.replace(tzinfo=utc) if until else None,
            limit=limit,
        )
        if not rows:
            typer.echo("no audit records")
        for r in rows:
            clear = ",".join(r.clear_fields) or "-"
            typer.echo(
                f"{r.seq:>8} {r.at:%Y-%m-%d %H:%M:%S} {r.client or '-':<20} {r.action:<16} {r.dataset or '-':<24} "
                f"rows={r.rows} fields={','.join(r.fields)} clear={clear} request={r.request_id or '-'}"
            )
