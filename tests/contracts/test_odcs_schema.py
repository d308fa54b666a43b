"""Every contract is valid ODCS: the JSON schemas of the version it declares, and `datacontract lint`.

Nothing here reaches the network: the schemas come from the installed packages, and the lint runs
with sockets refused (in-process) or behind a proxy that does not exist (the CLI).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import validators

from contracts import odcs
from hub.settings import get_settings

CONTRACTS = sorted(get_settings().contracts_dir.glob("*.yaml"))
IDS = [p.stem for p in CONTRACTS]


def _doc(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), path
    return doc


def _violations(schema_path: Path, doc: dict[str, Any], name: str) -> list[str]:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator = validators.validator_for(schema)(schema)
    return [f"{name}: {e.json_path}: {e.message[:300]}" for e in validator.iter_errors(doc)]


def test_there_are_twelve_contracts_and_the_package_ships_a_schema() -> None:
    assert len(CONTRACTS) == 12
    assert odcs.standard_schema_path().is_file()
    assert odcs.API_VERSION in odcs.accepted_versions()


@pytest.mark.parametrize("path", CONTRACTS, ids=IDS)
def test_contract_is_valid_against_the_package_schema_of_its_declared_version(path: Path) -> None:
    doc = _doc(path)
    assert doc.get("apiVersion") == odcs.API_VERSION, f"{path.name}: declares {doc.get('apiVersion')!r}"
    assert doc["apiVersion"] in odcs.accepted_versions(), f"{path.name}: the package's schema does not accept it"
    found = _violations(odcs.standard_schema_path(), doc, path.name)
    found += _violations(odcs.version_schema_path(doc["apiVersion"]), doc, path.name)
    assert not found, "\n".join(found)


def test_a_geometry_logical_type_is_rejected_naming_file_and_path() -> None:
    pois = next(p for p in CONTRACTS if p.stem == "spatial.pois")
    doc = _doc(pois)
    doc["schema"][0]["properties"][4]["logicalType"] = "geometry"
    package = _violations(odcs.standard_schema_path(), doc, pois.name)
    assert package and package[0].startswith("spatial.pois.yaml: $.schema[0].properties[4].logicalType:")
    assert [p.where for p in odcs.problems(doc)][:1] == ["schema[0].properties[4].logicalType"]


def test_the_v3_0_2_shape_the_contracts_had_is_what_the_v3_1_0_move_fixed() -> None:
    """A v3.0.2 declaration with v3.1's team object: its own version's schema rejects it."""
    doc = _doc(CONTRACTS[0])
    doc["apiVersion"] = "v3.0.2"
    assert any(p.where == "team" for p in odcs.problems(doc))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(self: socket.socket, address: Any) -> None:
        raise OSError(f"network is off in this test (tried {address})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield


@pytest.mark.parametrize("path", CONTRACTS, ids=IDS)
def test_datacontract_lint_passes_offline(path: Path, no_network: None) -> None:
    from datacontract.data_contract import DataContract

    run = DataContract(data_contract_file=str(path), inline_references=False).lint()
    failed = [f"{c.name}: {c.reason}" for c in run.checks if c.result != "passed"]
    assert run.result == "passed" and not failed, f"{path.name}: " + "\n".join(failed)
    assert [c.name for c in run.checks] == ["Data contract is valid against ODCS v3.1.0"]


def test_the_datacontract_command_lints_a_contract_without_the_network() -> None:
    exe = Path(sys.executable).parent / "datacontract"
    env = {**os.environ, "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
    done = subprocess.run(
        [str(exe), "lint", str(CONTRACTS[-1]), "--output-format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid against ODCS v3.1.0" in done.stdout
