"""The ``hub`` command line: generate, ingest, serve, demo, keys, versions."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from catalog.clients import Role
from hub.errors import HubError
from hub.settings import Settings, get_settings, private_files
from standards.errors import UnknownStandard


class HubCommands(TyperGroup):
    """The root of the ``hub`` command: the one place where user errors become one line.

    A :class:`~hub.errors.HubError` (or an unknown standard or code table) raised by any command
    below is printed as ``error: ...`` on standard error with exit code 1; so is an operating
    system error naming a file (a path given that does not exist, a folder not writable). Click's
    own usage errors (a missing argument, a malformed value) keep their ``Error: ...`` line and
    exit code 2. Anything else is a bug and surfaces with its traceback.
    """

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (HubError, UnknownStandard) as exc:
            message = str(exc)
        except OSError as exc:
            if exc.filename is None:
                raise
            message = f"{exc.strerror or exc}: {exc.filename}"
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1)


app = typer.Typer(
    cls=HubCommands,
    help="东城区公共基础数据共享交换平台 — the Dongcheng base-data hub.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="API clients and their keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

DEMO_DATASET = "population.residents"
DEMO_CLIENT = "demo-app"


def _settings() -> Settings:
    settings = get_settings()
    settings.ensure_dirs()
    return settings


@app.callback()
def _main() -> None:
    """Point Airflow at HUB_HOME before anything imports it (commands that run DAGs check again)."""
    import sys

    from hub import airflow_env

    if "airflow" not in sys.modules:
        airflow_env.configure(get_settings())


def _mount_standards() -> None:
    try:
        from standards.cli import app as standards_app
    except ImportError:  # pragma: no cover - standards CLI is part of the package
        return
    app.add_typer(standards_app, name="standards", help="National code tables and validators.")


_mount_standards()


def _mount_catalog() -> None:
    from hub.catalog_cli import app as catalog_app

    app.add_typer(catalog_app, name="catalog", help="Catalogue: push to an external CKAN.")


_mount_catalog()


def _mount_access() -> None:
    from hub.access_cli import audit_app, grants_app, requests_app

    app.add_typer(requests_app, name="requests")
    app.add_typer(grants_app, name="grants")
    app.add_typer(audit_app, name="audit")


_mount_access()


def _mount_exchange() -> None:
    from hub.exchange_cli import changes_command, export_command

    app.command("export")(export_command)
    app.command("changes")(changes_command)


_mount_exchange()


def _mount_sql() -> None:
    from hub.sql_cli import sql_command

    app.command("sql")(sql_command)


_mount_sql()


def _mount_subscriptions() -> None:
    from hub.subscriptions_cli import app as subscriptions_app

    app.add_typer(subscriptions_app, name="subscriptions")


_mount_subscriptions()


def _mount_contracts() -> None:
    from hub.contracts_cli import app as contracts_app

    app.add_typer(contracts_app, name="contracts")


_mount_contracts()


def _mount_quality() -> None:
    from hub.quality_cli import app as quality_app

    app.add_typer(quality_app, name="quality")


_mount_quality()


def _mount_report() -> None:
    from hub.report_cli import app as report_app

    app.add_typer(report_app, name="report")


_mount_report()


def _mount_disputes() -> None:
    from hub.disputes_cli import app as disputes_app

    app.add_typer(disputes_app, name="disputes")


_mount_disputes()


def _mount_airflow() -> None:
    from hub.airflow_cli import airflow_config

    app.command("airflow-config")(airflow_config)


_mount_airflow()


RESIDENTS_AT_SCALE_1 = 700_000


@app.command()
def generate(
    dataset: Annotated[str, typer.Argument(help="A dataset id, or 'all' for every department's files.")] = "all",
    rows: Annotated[int, typer.Option(help="Records (for 'all': residents; the rest scale along).", min=1)] = 7000,
    bad_share: Annotated[float, typer.Option(help="Share of rows with a realistic fault.", min=0, max=0.9)] = 0.03,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 20261031,
    months: Annotated[int, typer.Option(help="For 'all': months of tax files.", min=1)] = 3,
    encoding: Annotated[str, typer.Option(help="For CSV: gb18030, utf-8-sig or utf-8.")] = "gb18030",
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write: a file name, or a folder (default: the inbox; for 'all', one folder each)."),
    ] = None,
) -> None:
    """Generate departments' exports (their formats, Chinese headers, realistic faults) into the inbox."""
    from contracts import model
    from generator import progress, registry
    from generator.export import ENCODINGS

    settings = _settings()
    if encoding not in ENCODINGS:
        raise typer.BadParameter(f"{encoding!r} is not one of {', '.join(ENCODINGS)}", param_hint="--encoding")
    if dataset == "all":
        scale = rows / RESIDENTS_AT_SCALE_1
        folders = (lambda d: out / d) if out is not None else None  # noqa: E731 - dataset id → its folder
        manifests = registry.generate_all(
            folders, settings=settings, scale=scale, seed=seed, bad_share=bad_share, months=months
        )
        for line in registry.summary(manifests):
            typer.echo(f"wrote {line}")
        return
    if dataset not in registry.GENERATORS:
        raise typer.BadParameter(f"no generator for {dataset}; available: all, {', '.join(registry.GENERATORS)}")
    name = registry.file_name(dataset, rows, seed)
    if out is None:
        from ingest.steps import inbox_folder  # only here: the pipeline's imports cost 130 MB a big file can use

        out = inbox_folder(settings, model.find(settings.active_contracts_dir, dataset)) / name
    elif out.is_dir() or str(out).endswith(os.sep):
        out = out / name
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{out.suffix}")
    extra: dict[str, object] = {"encoding": encoding} if out.suffix.lower() == ".csv" else {}
    try:
        with contextlib.ExitStack() as stack:
            if dataset in registry.STREAMING and rows > progress.SHOWN_FROM:
                extra["progress"] = stack.enter_context(progress.GenerationProgress(out.name, rows)).update
            manifest = registry.generate(dataset, tmp, rows=rows, bad_share=bad_share, seed=seed, **extra)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    typer.echo(f"wrote {out} ({manifest.rows} rows, {len(manifest.bad_rows)} with faults)")


@app.command()
def ingest(
    datasets: Annotated[list[str] | None, typer.Argument(help="Dataset ids; default: every active contract.")] = None,
) -> None:
    """Run the ingestion DAGs (real Airflow, dag.test) over the files waiting in the inbox, then
    rebuild the derived datasets downstream of what they published; print each file's outcome."""
    from hub import ingest_cli

    if any(r.failed for r in ingest_cli.run(_settings(), datasets or [])):
        raise typer.Exit(1)


def _print_files(settings: Settings, dataset: str | None = None) -> None:
    from catalog import db, service

    db.migrate(settings.db_url)
    with db.session(settings.db_url) as s:
        for f in service.files(s, dataset):
            line = f"  {f.filename}: {f.status}, {f.rows_accepted} accepted, {f.rows_rejected} rejected"
            typer.echo(line + (f" → report {f.report_dir}" if f.report_dir else ""))


@app.command()
def files(dataset: Annotated[str | None, typer.Argument(help="Dataset id.")] = None) -> None:
    """List received files and what became of them."""
    from contracts import model

    settings = _settings()
    if dataset:
        model.find(settings.active_contracts_dir, dataset)  # an unknown dataset is an error, not an empty list
    _print_files(settings, dataset)


@app.command()
def versions(dataset: Annotated[str, typer.Argument(help="Dataset id, e.g. population.residents.")]) -> None:
    """List a dataset's published versions (Iceberg snapshots)."""
    from catalog import db, service

    settings = _settings()
    db.migrate(settings.db_url)
    with db.session(settings.db_url) as s:
        ds = service.dataset(s, dataset)
        for v in ds.versions:
            typer.echo(
                f"v{v.number}  snapshot {v.snapshot_id}  {v.published_at:%Y-%m-%d %H:%M}  "
                f"{v.row_count} rows  ({v.rows_rejected} rejected)  from {v.source_file}"
            )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default HUB_API_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default HUB_API_PORT, 8000).", min=1, max=65535)] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Processes sharing the port (uvicorn's supervisor restarts one that dies). With more than one, "
            "set HUB_REDIS_URL so that they share the rate-limit counters.",
        ),
    ] = 1,
    loop: Annotated[str, typer.Option(help="Event loop: auto (uvloop when installed), asyncio or uvloop.")] = "auto",
) -> None:
    """Serve the CKAN and exchange APIs with uvicorn (TCP_NODELAY on every connection: see hub/serve.py)."""
    from exchange_api.app import create_app
    from hub import serve as serving

    if loop not in ("auto", "asyncio", "uvloop"):
        raise typer.BadParameter("auto, asyncio or uvloop", param_hint="--loop")
    settings = _settings()
    if host or port:
        settings = settings.model_copy(update={k: v for k, v in {"api_host": host, "api_port": port}.items() if v})
    if workers > 1:
        serving.serve_workers(settings, workers, loop)  # type: ignore[arg-type]
    else:
        run_api(create_app(settings), settings, loop)


def run_api(api: Any, settings: Settings, loop: str = "auto") -> None:
    """Serve ``api`` until SIGTERM or SIGINT, then exit 0 within ``HUB_SHUTDOWN_GRACE_SECONDS``.

    On the signal the server stops taking connections, closes idle ones, and lets requests in
    flight finish for the grace period; then it cancels them. A handler still running in a worker
    thread after that (one busy in CPU or a long query cannot be cancelled) is abandoned: the
    process exits anyway, so no request keeps the server up.
    """
    import logging
    import signal
    import socket
    import sys
    import threading
    import time

    import uvicorn

    from hub import serve
    from hub.errors import ConfigError

    try:
        socket.getaddrinfo(settings.api_host, settings.api_port)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {settings.api_host}:{settings.api_port}: {exc.strerror}") from None

    config = serve.config(settings, api, loop=loop)  # type: ignore[arg-type]
    server = uvicorn.Server(config)

    def stopped(sig: int, frame: object) -> None:
        # uvicorn handles the signals while it runs and re-raises the one it shut down for once it
        # is done: received here, that ends the command normally (exit 0) instead of killing the
        # process or raising KeyboardInterrupt. Before uvicorn has started there is nothing to finish.
        if not server.started:
            raise SystemExit(0)

    previous = {sig: signal.signal(sig, stopped) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    deadline = time.monotonic() + 0.5  # idle worker threads are stopping: give them a moment
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    for thread in others:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    busy = [t for t in others if t.is_alive()]
    if busy:
        logging.getLogger(__name__).warning("exiting with %d request(s) still running", len(busy))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


@keys_app.command("create")
def keys_create(
    client: Annotated[str, typer.Argument(help="Client (application) name.")],
    role: Annotated[Role, typer.Option(help="The client's role (for a new client).")] = Role.consumer,
    organization: Annotated[str | None, typer.Option(help="Department or company of the client.")] = None,
    label: Annotated[str, typer.Option(help="A note to tell keys apart.")] = "",
    expires: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day the key works (YYYY-MM-DD).")
    ] = None,
    expires_in: Annotated[
        int | None, typer.Option(min=1, help="Days the key works (default HUB_KEY_LIFETIME_DAYS, 365).")
    ] = None,
    change_role: Annotated[
        bool, typer.Option("--change-role", help="Allow changing the role or organization of an existing client.")
    ] = False,
) -> None:
    """Create a client if needed and issue it a key (shown once; stored hashed)."""
    from catalog import clients, db

    settings = _settings()
    db.migrate(settings.db_url)
    if expires is not None and expires_in is not None:
        raise typer.BadParameter("give --expires or --expires-in, not both")
    days = settings.key_lifetime_days
    if expires_in is not None:
        days = expires_in
    elif expires is not None:
        days = (expires.date() - dt.date.today()).days + 1
        if days < 1:
            raise typer.BadParameter(f"{expires:%Y-%m-%d} is in the past", param_hint="--expires")
    with db.session(settings.db_url) as s:
        found = clients.ensure_client(s, client, role=role.value, organization=organization, change_role=change_role)
        key = clients.issue_key(s, found, label, lifetime_days=days)
    typer.echo(key)


@keys_app.command("revoke")
def keys_revoke(
    client: Annotated[str, typer.Argument(help="Client name.")],
    label: Annotated[str | None, typer.Option(help="Only the keys with this label.")] = None,
) -> None:
    """Revoke every key of a client (or those with --label), and every key they minted."""
    from catalog import clients, db

    settings = _settings()
    with db.session(settings.db_url) as s:
        n = clients.revoke_keys(s, clients.client(s, client), label)
    typer.echo(f"revoked {n} key(s)")


@keys_app.command("list")
def keys_list(
    client: Annotated[str | None, typer.Argument(help="Only this client's keys.")] = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked keys.")] = False,
) -> None:
    """Keys by client: prefix, label, role, dates, the key that minted it. Never a key or its hash."""
    from catalog import clients, db

    settings = _settings()
    db.migrate(settings.db_url)
    with db.session(settings.db_url) as s:
        rows = [k for k in clients.all_keys(s, client) if revoked or k.revoked_at is None]
        parents = clients.prefixes(s, {k.minted_by for k in rows if k.minted_by})
        typer.echo(
            f"{'client':<24} {'role':<10} {'prefix':<12} {'label':<14} {'created':<10} {'expires':<10} "
            f"{'revoked':<10} {'minted by':<12} state"
        )
        for k in rows:
            typer.echo(
                f"{k.client.name:<24} {k.client.role:<10} {k.prefix:<12} {k.label[:14]:<14} "
                f"{_day(k.created):<10} {_day(k.expires_at) or 'never':<10} {_day(k.revoked_at) or '-':<10} "
                f"{parents.get(k.minted_by or '', '-'):<12} {clients.state(k)}"
            )
        if not rows:
            typer.echo("no keys")


def _day(when: dt.datetime | None) -> str:
    return f"{when:%Y-%m-%d}" if when else ""


DEMO_STEWARD = "demo-steward"


def _demo_key(settings: Settings) -> str:
    """The demo application's key, with a steward's grant on the residents (有条件共享): every
    field, sensitive ones masked, for 30 days."""
    from access import grants
    from catalog import clients, db
    from contracts import model

    with db.session(settings.db_url) as s:
        client = clients.ensure_client(s, DEMO_CLIENT, role="consumer", organization="演示应用 demo")
        clients.revoke_keys(s, client, label="demo")
        key = clients.issue_key(s, client, label="demo", lifetime_days=settings.key_lifetime_days)
        if not grants.active(s, client, DEMO_DATASET):
            steward = clients.ensure_client(s, DEMO_STEWARD, role="steward")
            contract = model.find(settings.active_contracts_dir, DEMO_DATASET)
            grants.create(
                s,
                client,
                contract,
                steward,
                fields=(),
                purpose="演示 demo: browsing the residents through the exchange API",
                expires=dt.date.today() + dt.timedelta(days=30),
            )
        return key


@dataclass(frozen=True)
class DemoAccess:
    steward: str
    analyst: str
    request_id: str


DEMO_ANALYST = "demo-analyst"


def _demo_access(settings: Settings) -> DemoAccess:
    """A steward's and an analyst's key (new on every run), and the analyst's pending access request
    to the residents, for the steward to approve."""
    from access import grants
    from catalog import clients, db
    from contracts import model

    with db.session(settings.db_url) as s:
        keys = {}
        for name, role in ((DEMO_STEWARD, "steward"), (DEMO_ANALYST, "analyst")):
            client = clients.ensure_client(s, name, role=role, organization="演示 demo")
            clients.revoke_keys(s, client, label="demo")
            keys[role] = clients.issue_key(s, client, label="demo", lifetime_days=settings.key_lifetime_days)
        analyst = clients.client(s, DEMO_ANALYST)
        waiting = [r for r in grants.requests(s, client=analyst, status=grants.RequestStatus.pending)]
        if not waiting:
            waiting = [
                grants.request_access(
                    s,
                    analyst,
                    model.find(settings.active_contracts_dir, DEMO_DATASET),
                    fields=["street_code", "community_code", "registered_on"],
                    purpose="演示 demo: 各街道常住人口登记趋势分析",
                    legal_basis="《北京市公共数据管理办法》",
                )
            ]
        return DemoAccess(keys["steward"], keys["analyst"], waiting[0].id)


def _ckanapi_command() -> str:
    """The hub's own ckanapi, as a path that works pasted from here (``.venv/bin/ckanapi``)."""
    import sys

    path = Path(sys.executable).parent / "ckanapi"
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _demo_summary(settings: Settings, key: str, access: DemoAccess) -> str:
    from sqlalchemy import select

    from catalog import db
    from catalog.models import Dataset, IngestedFile

    base = settings.base_url
    lines = ["", "Published:"]
    with db.session(settings.db_url) as s:
        for ds in s.scalars(select(Dataset).order_by(Dataset.key)):
            if not ds.versions:
                continue
            v = ds.versions[-1]
            lines.append(
                f"  {ds.key:<28} v{v.number}  {v.row_count:>8} rows  {v.rows_rejected:>5} rejected  {ds.title}"
            )
        reports = s.scalars(select(IngestedFile.report_dir).where(IngestedFile.report_dir.is_not(None))).all()
    lines += [
        "",
        f"Reject and unmatched reports: {settings.quarantine_dir} and {settings.path('reports')} "
        f"({len(reports)} reports; each has rejects.csv: row, column, rule, value, message)",
        "",
        f"API docs        {base}/docs",
        f"CKAN catalogue  {base}/api/3/action/package_search?q=人口",
        f"DCAT            {base}/catalog.ttl",
        f"Demo API key    {key}   (new on every run; earlier demo keys are revoked)",
        "",
        "Try:",
        f"  curl -H 'X-API-Key: {key}' "
        f"'{base}/api/v1/datasets/population-residents/records?limit=3&street_code=110101001'",
        f"  curl -H 'X-API-Key: {key}' '{base}/api/v1/datasets/derived-building_economy/records?limit=3'",
        f"  curl -OJ -H 'X-API-Key: {key}' "
        f"'{base}/api/v1/datasets/population-residents/export?format=csv&encoding=gb18030'",
        f"  {_ckanapi_command()} action package_show id=population-residents -r {base} -a {key}",
        "",
        f"Steward key     {access.steward}",
        f"Analyst key     {access.analyst}   (its access request to the residents is pending)",
        "A steward's queue, then the approval, then the analyst's read:",
        f"  curl -H 'X-API-Key: {access.steward}' '{base}/api/v1/access-requests?status=pending'",
        f"  curl -X POST -H 'X-API-Key: {access.steward}' -H 'Content-Type: application/json' -d '{{}}' "
        f"'{base}/api/v1/access-requests/{access.request_id}/approve'",
        f"  curl -H 'X-API-Key: {access.analyst}' '{base}/api/v1/datasets/population-residents/records?limit=3'",
        "",
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


@app.command()
def demo(
    rows: Annotated[
        int, typer.Option(help="Residents to generate; the other departments scale along.", min=500)
    ] = 7000,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the API at the end.")] = True,
    port: Annotated[int | None, typer.Option(help="API port (default HUB_API_PORT, 8000).", min=1, max=65535)] = None,
) -> None:
    """Generate five departments' exports, ingest them and build the derived datasets through
    Airflow, publish, catalogue, then serve the API."""
    from catalog import db

    settings = _settings()
    if port:
        settings = settings.model_copy(update={"api_port": port})
    db.migrate(settings.db_url)
    typer.echo(f"HUB_HOME is {settings.resolved_home}")
    generate("all", rows=rows, bad_share=0.03, seed=20261031, months=3, encoding="gb18030", out=None)
    from hub import ingest_cli

    if any(r.failed for r in ingest_cli.run(settings, [])):
        typer.echo("ingestion failed: see the Airflow logs above", err=True)
        raise typer.Exit(1)
    key = _demo_key(settings)
    typer.echo(_demo_summary(settings, key, _demo_access(settings)))
    if serve_api:
        serve(host=settings.api_host, port=settings.api_port)


def main() -> None:
    """The ``hub`` command: files it creates are the owner's only, and errors are one clear line
    (see :class:`HubCommands`)."""
    private_files()
    app()
