"""The ODCS JSON schemas a contract is checked against, read from installed packages (never downloaded).

Two schemas check every contract:

* the schema of the ``open-data-contract-standard`` package (the one its Pydantic models follow);
  its ``apiVersion`` enum names every version it accepts;
* the schema of exactly the version the contract declares (``apiVersion: v3.1.0`` →
  ``odcs-3.1.0.schema.json``), as bundled with datacontract-cli, which ``datacontract lint`` uses too.

Problems name the place in the contract (``schema[0].properties[4].logicalType``) and what is wrong.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import validators
from jsonschema.protocols import Validator
from pydantic import BaseModel

from hub.errors import ConfigError

API_VERSION = "v3.1.0"
"""The ODCS version the hub's contracts declare and are written in."""


class SchemaProblem(BaseModel):
    """One place where a contract breaks an ODCS JSON schema."""

    where: str
    """Dotted path into the contract, e.g. ``schema[0].properties[4].logicalType``; ``""`` for the top."""
    message: str
    schema_name: str
    """File name of the schema that rejected it."""

    def describe(self) -> str:
        return f"{self.where or '(top)'}: {self.message} [{self.schema_name}]"


def _package_dir(package: str) -> Path:
    """A package's folder without importing it (datacontract's ``__init__`` changes PyYAML's dumper)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"package {package!r} is not installed; run `make setup`")
    return Path(next(iter(spec.submodule_search_locations)))


def standard_schema_path() -> Path:
    """The JSON schema shipped with the open-data-contract-standard package."""
    return _package_dir("open_data_contract_standard") / "schema.json"


def version_schema_path(api_version: str) -> Path:
    """The JSON schema of one ODCS version (``v3.1.0``), as bundled with datacontract-cli."""
    folder = _package_dir("datacontract") / "schemas"
    path = folder / f"odcs-{api_version.removeprefix('v')}.schema.json"
    if not path.is_file():
        known = sorted("v" + p.name.removeprefix("odcs-").removesuffix(".schema.json") for p in folder.glob("odcs-*"))
        raise ConfigError(f"no ODCS JSON schema for apiVersion {api_version!r}; bundled: {', '.join(known)}")
    return path


@cache
def _validator(path: Path) -> Validator:
    schema = json.loads(path.read_text(encoding="utf-8"))
    kind = validators.validator_for(schema)
    kind.check_schema(schema)
    return kind(schema)  # type: ignore[no-any-return]


def accepted_versions() -> list[str]:
    """The apiVersion values the package's schema accepts."""
    schema: dict[str, Any] = json.loads(standard_schema_path().read_text(encoding="utf-8"))
    return list(schema["properties"]["apiVersion"]["enum"])


def _where(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def problems(doc: dict[str, Any]) -> list[SchemaProblem]:
    """Every place ``doc`` breaks the package's schema or the schema of the version it declares."""
    paths = [standard_schema_path()]
    found: list[SchemaProblem] = []
    declared = doc.get("apiVersion")
    try:
        paths.append(version_schema_path(str(declared)))
    except ConfigError as exc:
        found.append(SchemaProblem(where="apiVersion", message=str(exc), schema_name="-"))
    seen: set[tuple[str, str]] = set()
    for path in paths:
        for error in sorted(_validator(path).iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
            where = _where(error.absolute_path)
            if (where, error.message) in seen:
                continue
            seen.add((where, error.message))
            found.append(SchemaProblem(where=where, message=_short(error.message), schema_name=path.name))
    return found


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"
