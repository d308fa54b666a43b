"""``hub subscriptions``: webhook subscriptions, their deliveries, and one delivery pass by hand.

Whoever runs these commands holds the hub's files, so they see every client's subscriptions (as a
data steward does). Clients register and cancel their own subscriptions through the API.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hub.access_cli import _settings

app = typer.Typer(help="Webhook subscriptions: signed notices of new dataset versions.", no_args_is_help=True)


@app.command("list")
def list_command(
    dataset: Annotated[str | None, typer.Option(help="Only subscriptions to this dataset id.")] = None,
    active: Annotated[bool, typer.Option("--active", help="Only subscriptions not cancelled.")] = False,
) -> None:
    """Every subscription, newest first: id, state, client, dataset, URL."""
    from catalog import db
    from catalog.models import ApiClient
    from contracts import model
    from exchange import subscriptions

    settings = _settings()
    if dataset:
        model.find(settings.active_contracts_dir, dataset)  # an unknown dataset is an error, not "no subscriptions"
    with db.session(settings.db_url) as s:
        rows = subscriptions.listing(s, dataset=dataset, active_only=active)
        if not rows:
            typer.echo("no subscriptions")
        for sub in rows:
            client = s.get(ApiClient, sub.client_id)
            state = "active" if sub.active else "cancelled"
            typer.echo(
                f"{sub.id}  {state:<9} {sub.created:%Y-%m-%d}  {client.name if client else '?':<20} "
                f"{sub.dataset:<24} {sub.url}"
            )


@app.command("deliver")
def deliver_command(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each receiver.")] = 5.0,
) -> None:
    """Send every notice that is due now (one pass), and say what happened to each."""
    from exchange import subscriptions

    attempts = subscriptions.deliver_due(_settings(), timeout=timeout)
    if not attempts:
        typer.echo("nothing to deliver")
    for attempt in attempts:
        typer.echo(f"{attempt.delivery_id}  {attempt.describe()}")


@app.command("deliveries")
def deliveries_command(
    subscription_id: Annotated[str, typer.Argument(help="The subscription's id.")],
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """A subscription's deliveries, newest version first, with attempts and the last error."""
    from catalog import db
    from catalog.models import aware
    from exchange import subscriptions

    settings = _settings()
    with db.session(settings.db_url) as s:
        sub = subscriptions.subscription(s, subscription_id)
        rows = subscriptions.deliveries(s, sub, limit=limit)
        typer.echo(f"{sub.dataset} → {sub.url} ({'active' if sub.active else 'cancelled'})")
        if not rows:
            typer.echo("no deliveries yet")
        for d in rows:
            when = d.delivered_at or (d.next_attempt_at if d.status == subscriptions.DeliveryStatus.pending else None)
            stamp = f"{aware(when):%Y-%m-%d %H:%M:%S}" if when else "-"
            code = f" HTTP {d.last_status_code}" if d.last_status_code is not None else ""
            error = f"  {d.last_error}" if d.last_error else ""
            typer.echo(f"{d.id}  v{d.version:<4} {d.status:<9} attempts {d.attempts}  {stamp}{code}{error}")
