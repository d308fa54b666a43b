"""One typed settings object for the whole hub.

Every path lives under ``HUB_HOME`` so a demo is deletable and tests use a temporary one.
Values come from ``HUB_*`` environment variables; nothing else reads the environment.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, IPvAnyNetwork, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=256)
def _resolved(home: Path, cwd: str) -> Path:
    """``home`` made absolute from ``cwd`` (every path of a request starts here: resolved once)."""
    return (Path(cwd) / home.expanduser()).resolve()


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore", populate_by_name=True)

    home: Path = Field(default=Path(".hub"))
    """Folder holding every piece of state: inbox, warehouse, catalogue, Airflow, keys."""

    database_url: str | None = None
    """SQLAlchemy URL of the metadata database; default: SQLite file ``HUB_HOME/hub.db``."""

    contracts_dir: Path = PROJECT_ROOT / "contracts" / "datasets"
    """Folder of ODCS v3 contract YAML files, one per dataset, that seed a fresh hub's contract registry.
    Until the registry is first used the hub reads them directly; after that it reads
    :attr:`active_contracts_dir` (docs/stewardship.md, "Contract lifecycle")."""

    dags_dir: Path = PROJECT_ROOT / "dags"
    """Airflow DAG folder (the thin files that turn contracts into DAGs)."""

    api_host: str = "127.0.0.1"
    """Address the API binds to. Loopback by default: exposing it is a deliberate act."""

    api_port: int = Field(default=8000, ge=1, le=65535)
    """Port of the API."""

    site_url: str | None = None
    """Public base URL used in links and CKAN ``help`` fields; default ``http://host:port``."""

    site_title: str = "东城区公共基础数据共享交换平台 (Dongcheng base-data hub)"
    """Title shown by the catalogue (CKAN ``status_show``)."""

    airflow_home_dir: Path | None = Field(default=None, alias="HUB_AIRFLOW_HOME")
    """Airflow's home (its config and SQLite database); default ``HUB_HOME/airflow``."""

    openlineage_url: str | None = Field(default=None, alias="OPENLINEAGE_URL")
    """OpenLineage (Marquez) base URL; when set, the DAGs' lineage goes there over HTTP instead of
    to ``HUB_HOME/lineage/openlineage.jsonl`` (docs/operations.md, "Airflow")."""

    batch_rows: int = Field(default=200_000, ge=1)
    """Records per batch when checking a file: memory holds one batch, not the whole file."""

    serving_versions_kept: int = Field(default=3, ge=1)
    """How many serving copies per dataset are kept, so pinned cursors survive a publish."""

    # --- limits on what a caller may send (docs/security.md, "Input limits") ---
    upload_max_bytes_publisher: int = Field(default=1 << 30, ge=1)
    """Largest file one upload by a department (publisher key) may carry: 1 GiB."""

    upload_max_bytes_steward: int = Field(default=4 << 30, ge=1)
    """Largest file one upload by a data steward may carry: 4 GiB."""

    upload_quota_bytes: int = Field(default=8 << 30, ge=1)
    """Bytes one client may upload in any 24 hours: 8 GiB."""

    redis_url: str | None = None
    """Redis for shared rate-limit counters (several API workers); default: counters in memory."""

    rate_requests_per_minute: int = Field(default=600, ge=1)
    """Requests per minute per client, unless its grant or its client record says otherwise."""

    rate_anonymous_requests_per_minute: int = Field(default=300, ge=1)
    """Requests per minute per client address without a key (open data, the catalogue): anonymous
    callers have no client to charge, so their address is. Behind a reverse proxy, run uvicorn with
    ``--forwarded-allow-ips`` so the address is the caller's, not the proxy's."""

    rate_rows_per_day: int = Field(default=5_000_000, ge=1)
    """Rows per day per client from the data paths, unless its grant or client record says otherwise."""

    exchange_memory_limit: str = "1GB"
    """DuckDB memory limit of one export or change-feed query (it spills to HUB_HOME/tmp beyond it)."""
    export_batch_rows: int = Field(default=65_536, ge=1_024, le=1_048_576)
    """Rows per streamed batch (and per Parquet row group) of an export."""

    # --- analysts' SQL (docs/sql.md) ---
    sql_timeout_seconds: float = Field(default=10.0, gt=0, le=3600)
    """Wall-clock limit of one SQL query: past it the query is interrupted."""
    sql_max_rows: int = Field(default=10_000, ge=1, le=1_000_000)
    """Most rows a JSON answer of the SQL API carries (``truncated: true`` beyond)."""
    sql_max_stream_rows: int = Field(default=1_000_000, ge=1)
    """Most rows a CSV, Parquet, JSON Lines or Arrow answer of the SQL API carries."""
    sql_max_result_bytes: int = Field(default=256 << 20, ge=1 << 20)
    """Most bytes (as Arrow) one SQL answer may hold."""
    sql_memory_limit: str = "1GB"
    """DuckDB memory limit of one SQL sandbox (nothing spills to disk: past it the query fails)."""
    sql_threads: int = Field(default=2, ge=1, le=64)
    """DuckDB threads of one SQL sandbox."""
    sql_max_concurrent: int = Field(default=4, ge=1, le=256)
    """SQL queries one API process runs at once; a query waits for a place up to its timeout, then 429."""

    audit_key_file: Path | None = None
    """HMAC key signing the audit log's anchors, kept outside the database; default HUB_HOME/audit.key."""

    key_lifetime_days: int = Field(default=365, ge=0)
    """Days a new API key stays valid; 0 issues keys that never expire (not recommended)."""

    max_body_bytes: int = Field(default=1 << 20, ge=1024)
    """Largest request body other than an upload (JSON, forms): 1 MiB."""

    # --- prompt shutdown of `hub serve` (docs/security.md, "Input limits") ---
    shutdown_grace_seconds: int = Field(default=5, ge=0, le=600)
    """On SIGTERM/SIGINT, how long requests in flight may finish before the server exits anyway."""

    keep_alive_seconds: int = Field(default=5, ge=1, le=600)
    """How long an idle keep-alive connection stays open."""

    api_freeze_heap: bool = True
    """Once started, the API moves what start-up allocated (hundreds of thousands of objects of
    DuckDB, Arrow, Great Expectations, SQLAlchemy) out of the garbage collector's reach
    (``gc.freeze``), so its full collections no longer scan them on the request path."""

    # --- operations (docs/operations.md) ---
    log_format: LogFormat = LogFormat.text
    """``text`` (a line per event, with the request id) or ``json`` (one JSON object per line)."""
    metrics_public: bool = False
    """Serve ``/metrics`` without a key (for a scraper on a private network); default: stewards' keys only."""

    # --- webhook subscriptions (docs/subscriptions.md) ---
    webhook_allowed_networks: Annotated[list[IPvAnyNetwork], NoDecode] = Field(default_factory=list)
    """Comma-separated CIDRs; when set, webhooks may only reach addresses inside them (default: any
    address but loopback, link-local, multicast, unspecified and reserved ones)."""
    webhook_max_attempts: int = Field(default=6, ge=1, le=20)
    """Attempts to deliver one notice (backoff 30 s, 2 min, 10 min, 1 h, 6 h) before it is failed."""
    webhook_poll_seconds: float = Field(default=5.0, ge=0, le=3600)
    """How often each API process looks for notices to deliver; 0 turns its dispatcher off."""

    @field_validator("webhook_allowed_networks", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value

    @property
    def audit_key_path(self) -> Path:
        return (self.audit_key_file or self.resolved_home / "audit.key").expanduser()

    @property
    def resolved_home(self) -> Path:
        return _resolved(self.home, os.getcwd())

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.resolved_home / 'hub.db'}"

    @property
    def base_url(self) -> str:
        return (self.site_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    def path(self, *parts: str) -> Path:
        """A path under HUB_HOME (not created)."""
        return self.resolved_home.joinpath(*parts)

    @property
    def projected_contracts_dir(self) -> Path:
        """Where the contract registry writes each dataset's current version (``<dataset>.yaml``)."""
        return self.path("contracts", "active")

    @property
    def active_contracts_dir(self) -> Path:
        """The contracts the hub runs on (DAGs, validation, policy): the registry's projection once
        the registry holds contracts, else the seed folder :attr:`contracts_dir` (the same contracts:
        a registry starts from the seed)."""
        projected = self.projected_contracts_dir
        return projected if projected.is_dir() else self.contracts_dir

    @property
    def inbox_dir(self) -> Path:
        return self.path("inbox")

    @property
    def archive_dir(self) -> Path:
        return self.path("archive")

    @property
    def quarantine_dir(self) -> Path:
        return self.path("quarantine")

    @property
    def staging_dir(self) -> Path:
        return self.path("staging")

    @property
    def warehouse_dir(self) -> Path:
        return self.path("warehouse")

    @property
    def serving_dir(self) -> Path:
        return self.path("serving")

    @property
    def quality_dir(self) -> Path:
        """GX validation results, one ``<dataset>/<file sha256>/validation.json`` per checked file."""
        return self.path("quality")

    @property
    def data_docs_dir(self) -> Path:
        """GX Data Docs, one static site per dataset (``<dataset>/index.html``)."""
        return self.path("data_docs")

    @property
    def lineage_file(self) -> Path:
        """OpenLineage events of the DAG runs, one JSON object per line (the default transport)."""
        return self.path("lineage", "openlineage.jsonl")

    @property
    def airflow_home(self) -> Path:
        return (self.airflow_home_dir or self.path("airflow")).expanduser().resolve()

    def ensure_dirs(self) -> None:
        """Create HUB_HOME and its folders owner-only (0700), tightening folders (and the database) made earlier."""
        private_files()
        home = self.resolved_home
        home.mkdir(parents=True, exist_ok=True)
        home.chmod(0o700)
        for folder in (
            self.inbox_dir,
            self.archive_dir,
            self.quarantine_dir,
            self.staging_dir,
            self.warehouse_dir,
            self.serving_dir,
            self.quality_dir,
            self.data_docs_dir,
        ):
            folder.mkdir(parents=True, exist_ok=True)
            if folder.is_relative_to(home):
                folder.chmod(0o700)
        for db_file in home.glob("hub.db*"):  # key hashes: tightened too if an older hub left them open
            db_file.chmod(0o600)


LINEAGE_NAMESPACE = "dongcheng-hub"
"""OpenLineage namespace of the hub's jobs (the DAGs and their tasks)."""

PRIVATE_UMASK = 0o077


def private_files() -> None:
    """Files and folders this process creates are its owner's only (0600 / 0700).

    HUB_HOME holds personal data (the warehouse, serving copies, archived exports, reject reports
    with the rejected values) and key hashes: no other local user may read any of it. Every entry
    point calls this: the ``hub`` command, the API app factory and the DAG files.
    """
    import os

    os.umask(PRIVATE_UMASK)


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment; a malformed ``HUB_*`` value is a :class:`ConfigError`
    naming the variable."""
    from pydantic import ValidationError

    from hub.errors import ConfigError

    try:
        return Settings()
    except ValidationError as exc:
        wrong = [
            f"{_variable(str(e['loc'][0]) if e['loc'] else '')}={e.get('input')!r}: {e['msg']}" for e in exc.errors()
        ]
        raise ConfigError("; ".join(wrong)) from None


def _variable(field: str) -> str:
    """The environment variable of a settings field."""
    found = Settings.model_fields.get(field)
    alias = found.alias if found is not None else None
    return alias or (field if field.startswith("HUB_") else f"HUB_{field.upper()}")
