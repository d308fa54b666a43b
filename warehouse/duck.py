"""DuckDB connections with extensions loaded from their PyPI packages (nothing downloaded)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import duckdb

from hub.errors import ConfigError

# iceberg needs avro to be loaded first.
DEFAULT_EXTENSIONS = ("avro", "iceberg", "spatial", "excel")
OFFLINE = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


def quote(name: str) -> str:
    """A SQL identifier, quoted for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def extension_path(name: str) -> Path:
    """Where the ``duckdb-extension-<name>`` package keeps the binary for this DuckDB."""
    try:
        module = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError:
        raise ConfigError(f"DuckDB extension {name!r} is not installed: add duckdb-extension-{name}") from None
    path = Path(str(module.__file__)).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.exists():
        raise ConfigError(f"duckdb-extension-{name} has no build for DuckDB {duckdb.__version__} at {path}")
    return path


def load_extensions(con: duckdb.DuckDBPyConnection, names: tuple[str, ...] = DEFAULT_EXTENSIONS) -> None:
    for name in names:
        con.execute(f"LOAD '{extension_path(name)}'")


def connect(
    database: str | Path = ":memory:",
    *,
    read_only: bool = False,
    extensions: tuple[str, ...] = DEFAULT_EXTENSIONS,
    config: dict[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(database), read_only=read_only, config={**OFFLINE, **(config or {})})
    load_extensions(con, extensions)
    return con
