"""Versioned code tables: CSV files under ``standards/data/<name>/<version>.csv``.

Each table directory also holds ``meta.toml`` recording the standard, the
source of every version and its year. Every column is read as a string (codes
keep their leading zeros); empty cells are nulls.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
from pydantic import BaseModel

from standards.errors import UnknownStandard

DATA_DIR = Path(__file__).parent / "data"


class TableVersion(BaseModel):
    """Where one version of a table comes from."""

    year: int
    source: str
    notes: str = ""


class TableMeta(BaseModel):
    """The ``meta.toml`` of a code table."""

    title: str
    standard: str
    key: str = "code"
    notes: str = ""
    versions: dict[str, TableVersion]


@cache
def _names() -> tuple[str, ...]:
    return tuple(sorted(p.parent.name for p in DATA_DIR.glob("*/meta.toml")))


def names() -> list[str]:
    """The names of all code tables, sorted (the folder is part of the package: read once, as
    every row-level message that names a code looks a table up)."""
    return list(_names())


def _table_dir(name: str) -> Path:
    if name not in _names():
        raise UnknownStandard("code table", name, names())
    return DATA_DIR / name


@cache
def _versions(name: str) -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in _table_dir(name).glob("*.csv")))


def versions(name: str) -> list[str]:
    """The versions of a table, oldest first."""
    return list(_versions(name))


def resolve_version(name: str, version: str | None = None) -> str:
    """``version`` itself if the table has it, the latest one when ``None``."""
    known = _versions(name)
    if version is None:
        return known[-1]
    if version not in known:
        raise UnknownStandard(f"version of {name}", version, list(known))
    return version


@cache
def metadata(name: str) -> TableMeta:
    """Title, standard and per-version source of a table."""
    raw: dict[str, Any] = tomllib.loads((_table_dir(name) / "meta.toml").read_text("utf-8"))
    return TableMeta.model_validate(raw)


@cache
def _read(name: str, version: str) -> pa.Table:
    path = _table_dir(name) / f"{version}.csv"
    header = path.open(encoding="utf-8").readline().strip().split(",")
    convert = pa_csv.ConvertOptions(
        column_types={column: pa.string() for column in header},
        strings_can_be_null=True,
    )
    return pa_csv.read_csv(path, convert_options=convert)


def load(name: str, version: str | None = None) -> pa.Table:
    """A code table as an Arrow table (latest version when ``version`` is None).

    Columns include ``code`` and ``name`` (Chinese); some tables have more,
    e.g. ``parent_code``, ``valid_from``, ``valid_to``.
    """
    return _read(name, resolve_version(name, version))


@cache
def _codes(name: str, version: str) -> frozenset[str]:
    return frozenset(_read(name, version).column("code").to_pylist())


def codes(name: str, version: str | None = None) -> frozenset[str]:
    """The set of codes in a table."""
    return _codes(name, resolve_version(name, version))


@cache
def _names_by_code(name: str, version: str) -> dict[str, str]:
    table = _read(name, version)
    pairs = zip(table.column("code").to_pylist(), table.column("name").to_pylist(), strict=True)
    return dict(pairs)


def name_of(table: str, code: str, version: str | None = None) -> str | None:
    """The (latest listed) name of ``code`` in ``table``, or None."""
    return _names_by_code(table, resolve_version(table, version)).get(code)


def register_duckdb(con: Any, name: str, version: str | None = None, *, table_name: str | None = None) -> str:
    """Create (or replace) a DuckDB table holding the code table; returns its name.

    The DuckDB table is called ``table_name``, by default the code table's name.
    """
    data = load(name, version)
    target = table_name or name
    view = f"__standards_{target}"
    con.register(view, data)
    try:
        con.execute(f'CREATE OR REPLACE TABLE "{target}" AS SELECT * FROM "{view}"')
    finally:
        con.unregister(view)
    return target
