"""`hub contracts list | lint | export`: real datacontract-cli exporters, output read back by real tools."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator
from typer.testing import CliRunner

from contracts import model
from generator import pois
from hub import contracts_cli
from hub.cli import app
from hub.settings import get_settings
from warehouse import duck

runner = CliRunner()
FOLDER = get_settings().contracts_dir


def _ok(*args: str) -> str:
    result = runner.invoke(app, ["contracts", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_list_names_every_contract_with_its_odcs_version() -> None:
    lines = _ok("list").splitlines()
    assert len(lines) == 12
    assert all(" v3.1.0 " in line for line in lines)
    assert next(line for line in lines if line.startswith("spatial.pois ")).count("1 geometry") == 1


def test_lint_passes_every_contract() -> None:
    lines = _ok("lint").splitlines()
    assert len(lines) == 12 and all(line.startswith("ok ") for line in lines), lines


def test_lint_reports_what_is_wrong_and_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = yaml.safe_load((FOLDER / "spatial.pois.yaml").read_text(encoding="utf-8"))
    doc["apiVersion"] = "v3.0.2"
    doc["schema"][0]["properties"][4]["logicalType"] = "geometry"
    (tmp_path / "spatial.pois.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("HUB_CONTRACTS_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["contracts", "lint"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "FAIL spatial.pois" in result.output
    assert "schema team:" in result.output  # v3.0.2 has no team object
    assert "schema schema[0].properties[4].logicalType: 'geometry' is not one of" in result.output
    assert "datacontract Check that data contract is valid against ODCS v3.0.2" in result.output


def test_jsonschema_export_validates_a_generated_record(tmp_path: Path) -> None:
    out = tmp_path / "pois.schema.json"
    assert "wrote" in _ok("export", "spatial.pois", "--format", "jsonschema", "--out", str(out))
    schema = json.loads(out.read_text(encoding="utf-8"))
    contract = model.find(FOLDER, "spatial.pois")
    assert list(schema["properties"]) == [f.name for f in contract.fields]
    record = pois.record(pois.make(3, random.Random(7))[0])
    Draft7Validator(schema).validate(record)  # the GeoJSON point is an object, as the API returns it
    assert not Draft7Validator(schema).is_valid({**record, "geometry": "POINT (116.4 39.9)"})
    assert not Draft7Validator(schema).is_valid({k: v for k, v in record.items() if k != "poi_id"})


def test_sql_export_creates_a_table_duckdb_accepts() -> None:
    con = duck.connect(extensions=("spatial",))
    ddl = _ok("export", "spatial.pois", "--format", "sql")
    con.execute(ddl)
    con.execute("INSERT INTO pois VALUES ('P1', '东城区政务服务中心', '政务服务中心', 'G1', ST_Point(116.41, 39.93))")
    assert con.execute("SELECT ST_X(geometry) FROM pois").fetchone() == (116.41,)
    residents = _ok("export", "population.residents", "--format", "sql")
    con.execute(residents)
    columns = [r[0] for r in con.execute("DESCRIBE residents").fetchall()]
    assert columns == [f.name for f in model.find(FOLDER, "population.residents").fields]


def test_odcs_export_is_the_contract_itself() -> None:
    assert _ok("export", "population.residents", "--format", "odcs") == (
        FOLDER / "population.residents.yaml"
    ).read_text(encoding="utf-8")


def test_great_expectations_and_avro_exports_name_the_fields() -> None:
    fields = [f.name for f in model.find(FOLDER, "population.residents").fields]
    suite = json.loads(_ok("export", "population.residents", "--format", "great-expectations"))
    column_set = next(e for e in suite["expectations"] if e["type"] == "expect_table_columns_to_match_set")
    assert column_set["kwargs"]["column_set"] == fields
    avro = json.loads(_ok("export", "population.residents", "--format", "avro"))
    assert [f["name"] for f in avro["fields"]] == fields


@pytest.mark.parametrize("fmt", list(contracts_cli.FORMATS))
def test_every_format_exports_offline_or_refuses_a_geometry_clearly(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: socket.socket, address: object) -> None:
        raise OSError(f"network is off in this test (tried {address})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    for dataset in ("population.residents", "spatial.pois"):
        contract = model.find(FOLDER, dataset)
        if contract.id == "spatial.pois" and not contracts_cli.FORMATS[fmt].geometry:
            with pytest.raises(Exception, match="cannot express the geometry field 'geometry'"):
                contracts_cli.export(contract, fmt)
            continue
        text = contracts_cli.export(contract, fmt)
        assert contract.primary_key[0] in text, (fmt, dataset)


def test_bad_dataset_or_format_is_one_error_line_and_exit_1() -> None:
    exe = str(Path(sys.executable).with_name("hub"))
    cases = [
        (["contracts", "export", "spatial.nope", "--format", "jsonschema"], "no contract for dataset 'spatial.nope'"),
        (["contracts", "export", "spatial.pois", "--format", "yaml"], "unknown format 'yaml'; formats: odcs, json"),
        (["contracts", "export", "spatial.pois", "--format", "avro"], "cannot express the geometry field"),
    ]
    for args, message in cases:
        done = subprocess.run([exe, *args], capture_output=True, text=True, env=dict(os.environ), timeout=120)
        assert done.returncode == 1, done
        assert done.stderr.startswith("error: ") and message in done.stderr, done.stderr
        assert len(done.stderr.splitlines()) == 1 and done.stdout == ""
