"""``hub contracts``: list the data contracts, lint them, export them for other tools, and move
them through their lifecycle (propose, approve, reject, activate, deprecate, retire; see
docs/stewardship.md). Lifecycle commands act as a client (``--as``, default ``hub-operator``, a
data steward created on first use): whoever runs them holds the hub's files.

Linting checks each contract three ways: the ODCS JSON schemas (the package's, and the one of the
version the contract declares), the hub's own loader (standards, code tables, masks), and
``datacontract lint``. Exports other than ``odcs`` are datacontract-cli's exporters. Nothing is
downloaded: every schema and template comes from the installed packages.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hub.errors import BadParameter, ContractError, HubError, NotFound
from hub.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from catalog.models import ApiClient
    from contracts.model import Contract
    from stewardship.registry import ContractVersion

app = typer.Typer(
    help="Data contracts (ODCS v3.1.0): list, lint, export; propose, approve and retire versions.",
    no_args_is_help=True,
)


@dataclass(frozen=True)
class Format:
    name: str
    what: str
    geometry: bool = True
    """False when datacontract-cli's exporter cannot express a geometry field (it would be empty)."""
    sql_dialect: bool = False


FORMATS = {
    f.name: f
    for f in (
        Format("odcs", "the contract itself (ODCS v3.1.0 YAML)"),
        Format("jsonschema", "JSON Schema of one record as the API returns it (geometry: GeoJSON object)"),
        Format("sql", "CREATE TABLE statement (--dialect, default duckdb)", sql_dialect=True),
        Format("sqlalchemy", "SQLAlchemy model classes (--dialect)", geometry=False, sql_dialect=True),
        Format("avro", "Avro schema", geometry=False),
        Format("iceberg", "Iceberg table schema (JSON)", geometry=False),
        Format("great-expectations", "Great Expectations suite (JSON), the contract's generic checks"),
        Format("dbt-models", "dbt model schema YAML"),
        Format("dbt-sources", "dbt sources YAML"),
        Format("sodacl", "Soda checks (SodaCL YAML)"),
        Format("pydantic-model", "Pydantic model classes", geometry=False),
        Format("protobuf", "Protocol Buffers message", geometry=False),
        Format("xsd", "XML Schema"),
        Format("dbml", "DBML table"),
        Format("mermaid", "Mermaid entity diagram"),
        Format("markdown", "Markdown documentation"),
        Format("html", "HTML page"),
    )
}
SQL_DIALECTS = ("duckdb", "postgres", "mysql", "sqlserver", "oracle", "snowflake", "databricks", "trino")


def _contract(dataset: str) -> Contract:
    from contracts import model

    return model.find(get_settings().active_contracts_dir, dataset)


def _contract_paths(datasets: list[str] | None) -> list[Path]:
    folder = get_settings().active_contracts_dir
    if not datasets:
        return sorted(folder.glob("*.yaml"))
    paths = [folder / f"{d}.yaml" for d in datasets]
    for dataset, path in zip(datasets, paths, strict=True):
        if not path.exists():
            _contract(dataset)  # raises the error that lists the known datasets
    return paths


def export(contract: Contract, fmt: str, dialect: str = "duckdb") -> str:
    """The contract in ``fmt`` (see :data:`FORMATS`)."""
    chosen = FORMATS.get(fmt)
    if chosen is None:
        raise BadParameter(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    if dialect not in SQL_DIALECTS:  # refused whatever the format: a typo is a mistake even where unused
        raise BadParameter(f"unknown SQL dialect {dialect!r}; dialects: {', '.join(SQL_DIALECTS)}")
    if contract.path is None:
        raise ContractError(f"contract {contract.id} was not loaded from a file; nothing to export")
    if fmt == "odcs":
        return Path(contract.path).read_text(encoding="utf-8")
    geometries = [f.name for f in contract.fields if f.type == "geometry"]
    if geometries and not chosen.geometry:
        able = ", ".join(f.name for f in FORMATS.values() if f.geometry)
        raise BadParameter(
            f"format {fmt} cannot express the geometry field {geometries[0]!r} of {contract.id} "
            f"(its exporter leaves it empty); formats that can: {able}"
        )
    from datacontract.data_contract import DataContract
    from datacontract.export.exporter import ExportFormat
    from datacontract.model.exceptions import DataContractException

    quiet = logging.getLogger("datacontract")  # e.g. a warning for every geometry column in `sql`
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        out = DataContract(data_contract_file=contract.path, inline_references=False).export(
            ExportFormat(fmt), schema_name="all", sql_server_type=dialect
        )
    except (DataContractException, RuntimeError, ValueError) as exc:
        raise HubError(f"datacontract-cli could not export {contract.id} as {fmt}: {exc}") from None
    finally:
        quiet.setLevel(level)
    text = out if isinstance(out, str) else out.decode("utf-8")
    return text if text.endswith("\n") else text + "\n"


@app.command("list")
def list_command() -> None:
    """Every contract: dataset id, ODCS version, contract version, status, fields, title."""
    import yaml

    from contracts import model

    for path in sorted(get_settings().active_contracts_dir.glob("*.yaml")):
        declared = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("apiVersion", "?")
        c = model.load(path)
        spatial = sum(f.type == "geometry" for f in c.fields)
        shapes = f", {spatial} geometry" if spatial else ""
        typer.echo(
            f"{c.id:<30} {declared:<7} {c.version:<6} {c.status:<8} {len(c.fields):>2} fields{shapes:<12} {c.title}"
        )


@app.command("formats")
def formats_command() -> None:
    """The formats `hub contracts export` writes."""
    for f in FORMATS.values():
        note = "" if f.geometry else "  (not for contracts with a geometry field)"
        typer.echo(f"{f.name:<20} {f.what}{note}")


@app.command("lint")
def lint_command(
    datasets: Annotated[list[str] | None, typer.Argument(help="Dataset ids (default: every contract).")] = None,
) -> None:
    """Check contracts: the ODCS JSON schemas, the hub's loader, `datacontract lint`. Exit 1 on any problem."""
    import yaml
    from datacontract.data_contract import DataContract

    from contracts import model, odcs

    bad = 0
    for path in _contract_paths(datasets):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        lines = [f"schema {p.describe()}" for p in odcs.problems(doc if isinstance(doc, dict) else {})]
        if not lines:
            try:
                model.load(path)
            except HubError as exc:
                lines.append(f"hub {exc}")
        run = DataContract(data_contract_file=str(path), inline_references=False).lint()
        lines += [f"datacontract {c.name}: {c.reason}" for c in run.checks or [] if c.result != "passed"]
        if lines:
            bad += 1
            typer.echo(f"FAIL {path.stem}")
            for line in lines:
                typer.echo(f"  {line}")
        else:
            typer.echo(f"ok   {path.stem}  ({doc.get('apiVersion')}: JSON schemas, hub loader, datacontract lint)")
    if bad:
        typer.echo(f"{bad} contract(s) with problems", err=True)
        raise typer.Exit(1)


@app.command("export")
def export_command(
    dataset: Annotated[str, typer.Argument(help="Dataset id, e.g. spatial.pois.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="One of: " + ", ".join(FORMATS) + ".")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write (default: standard output).")] = None,
    dialect: Annotated[str, typer.Option(help="sql, sqlalchemy: " + ", ".join(SQL_DIALECTS) + ".")] = "duckdb",
) -> None:
    """Write a contract in a format other tools read (datacontract-cli's exporters; `odcs` is the contract)."""
    if fmt not in FORMATS:
        raise BadParameter(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    text = export(_contract(dataset), fmt, dialect)
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f".{out.name}.part")
    part.write_text(text, encoding="utf-8")
    os.replace(part, out)
    typer.echo(f"wrote {out} ({fmt}, {len(text.encode('utf-8')):,} bytes)")


@app.command("diff")
def diff_command(
    old: Annotated[str, typer.Argument(help="The contract as it is: a contract YAML file.")],
    new: Annotated[str, typer.Argument(help="The contract as proposed: a contract YAML file.")],
    consumers: Annotated[
        bool,
        typer.Option("--consumers", help="Also list the clients the changes reach (the hub's grants, subscriptions)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document instead of the table.")] = False,
) -> None:
    """Classify each change from OLD to NEW and name the version it needs.

    Exit code: 0 no change or compatible changes only, 3 a breaking change, 4 policy-relevant
    changes (nothing breaking), 1 an error (see docs/stewardship.md)."""
    from catalog import db
    from stewardship import diff, report
    from stewardship.notices import affected_consumers

    before, after = report.side(old), report.side(new)
    changes = diff.diff_sides(before, after)
    found = diff.verdict(before.contract, after.contract, changes)
    reached = None
    if consumers:
        with db.session(get_settings().db_url) as s:
            reached = affected_consumers(s, found.dataset, changes)
    for line in report.as_json(found, reached) if as_json else report.lines(found, reached):
        typer.echo(line)
    raise typer.Exit(report.EXIT_CODES.get(found.impact, 0))


# --- the lifecycle (docs/stewardship.md, "Contract lifecycle") ---------------------------------

As = Annotated[str, typer.Option("--as", help="Act as this client (default: hub-operator, a data steward).")]
Version = Annotated[str, typer.Argument(help="Contract version, e.g. 1.1.0.")]
Dataset = Annotated[str, typer.Argument(help="Dataset id, e.g. population.residents.")]
Reason = Annotated[str | None, typer.Option(help="Why (kept with the step, told to the department).")]


def _caller(s: Session, name: str) -> ApiClient:
    from catalog import clients
    from hub.access_cli import OPERATOR

    return clients.ensure_client(s, name, role="steward") if name == OPERATOR else clients.client(s, name)


def _line(v: ContractVersion) -> str:
    decided = f", decided by {v.decided_by}" if v.decided_by else ""
    when = f", from {v.migration_date}" if v.migration_date else ""
    return f"{v.version:<10} {v.status:<10} proposed by {v.proposed_by}{decided}{when}"


@app.command("propose")
def propose_command(
    file: Annotated[Path, typer.Argument(help="The contract (ODCS v3.1.0 YAML) or a new version of one.")],
    client: As = "hub-operator",
    draft: Annotated[bool, typer.Option("--draft", help="Keep it as a draft (submit it later).")] = False,
) -> None:
    """Propose a contract or a new version of one: checked like a contract the hub loads, then kept
    as proposed until a data steward decides (a department proposes for its own datasets only)."""
    from catalog import db
    from hub.access_cli import _settings
    from stewardship import registry

    settings = _settings()
    with db.session(settings.db_url) as s:
        caller = _caller(s, client)
        v = registry.propose(s, settings, caller, file.read_text(encoding="utf-8"), where=str(file), draft=draft)
        typer.echo(f"{v.dataset} {v.version} is {v.status} (by {caller.name}; sha256 {v.sha256[:16]})")


def _decide(action: str, dataset: str, number: str, client: str, **kw: Any) -> None:
    from catalog import db
    from hub.access_cli import _settings
    from stewardship import registry

    settings = _settings()
    with db.session(settings.db_url) as s:
        caller = _caller(s, client)
        v = registry.act(s, settings, caller, dataset, number, action, **kw)
        typer.echo(f"{v.dataset} {v.version} is {v.status} ({action} by {caller.name})")


@app.command("submit")
def submit_command(dataset: Dataset, version: Version, client: As = "hub-operator") -> None:
    """Submit a draft for a steward's decision."""
    _decide("submit", dataset, version, client)


@app.command("approve")
def approve_command(
    dataset: Dataset,
    version: Version,
    client: As = "hub-operator",
    migration_date: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Day the version becomes active (default: at once)."),
    ] = None,
    reason: Reason = None,
) -> None:
    """Approve a proposed version (a steward that neither proposed it nor belongs to its department);
    it becomes active at once, or on --migration-date with `activate`."""
    _decide(
        "approve",
        dataset,
        version,
        client,
        migration_date=migration_date.date() if migration_date else None,
        reason=reason,
    )


@app.command("reject")
def reject_command(
    dataset: Dataset,
    version: Version,
    reason: Annotated[str, typer.Option(help="Why (told to the department).")],
    client: As = "hub-operator",
) -> None:
    """Reject a proposed (or approved, not yet active) version."""
    _decide("reject", dataset, version, client, reason=reason)


@app.command("activate")
def activate_command(dataset: Dataset, version: Version, client: As = "hub-operator") -> None:
    """Make an approved version the active one (the one it replaces becomes deprecated)."""
    _decide("activate", dataset, version, client)


@app.command("deprecate")
def deprecate_command(dataset: Dataset, version: Version, client: As = "hub-operator", reason: Reason = None) -> None:
    """Deprecate the active version: its DAG stops; its data stays readable until it is retired."""
    _decide("deprecate", dataset, version, client, reason=reason)


@app.command("retire")
def retire_command(dataset: Dataset, version: Version, client: As = "hub-operator", reason: Reason = None) -> None:
    """Retire a deprecated version (a retired dataset leaves the hub's active contracts)."""
    _decide("retire", dataset, version, client, reason=reason)


def _versions(s: Session, dataset: str) -> list[ContractVersion]:
    from stewardship import registry

    found = registry.versions(s, dataset)
    if not found:
        raise NotFound(f"no contract for dataset {dataset!r}; known: {', '.join(registry.datasets(s))}")
    return found


@app.command("versions")
def versions_command(dataset: Dataset) -> None:
    """Every version of a dataset's contract, with its status and who proposed and decided it."""
    from catalog import db
    from hub.access_cli import _settings
    from stewardship import registry

    settings = _settings()
    with db.session(settings.db_url) as s:
        registry.seed(s, settings)
        for v in _versions(s, dataset):
            typer.echo(_line(v))


@app.command("show")
def show_command(
    dataset: Dataset,
    version: Annotated[str | None, typer.Argument(help="Version (default: the current one).")] = None,
) -> None:
    """A version's contract as it was proposed (YAML), then its steps as comments."""
    from catalog import db
    from hub.access_cli import _settings
    from stewardship import registry

    settings = _settings()
    with db.session(settings.db_url) as s:
        registry.seed(s, settings)
        rows = _versions(s, dataset)
        chosen = registry.version(s, dataset, version) if version else (registry.current(s, dataset) or rows[-1])
        typer.echo(chosen.text, nl=not chosen.text.endswith("\n"))
        for step in registry.steps(s, dataset, chosen.version):
            note = f": {step.note}" if step.note else ""
            typer.echo(
                f"# {step.at:%Y-%m-%d %H:%M} {step.action} {step.source or '-'} → {step.target} by {step.by}{note}"
            )
