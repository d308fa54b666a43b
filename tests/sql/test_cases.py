"""The golden cases of tests/sql/cases.sql, each sent over HTTP to the live hub: it runs with the
columns named, or is refused naming the rule, or is stopped by DuckDB with the code named."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.sql.conftest import Hub

CASES = Path(__file__).with_name("cases.sql")
HEADER = re.compile(r"^-- (case|expect|as|dialect|rows): (.*?)\s*$")


@dataclass(frozen=True)
class Case:
    name: str
    expect: str
    sql: str
    caller: str = "analyst"
    options: dict[str, str] = field(default_factory=dict)
    rows: int | None = None


def load(path: Path = CASES) -> list[Case]:
    cases = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        header: dict[str, str] = {}
        body: list[str] = []
        for line in block.strip("\n").splitlines():
            match = HEADER.match(line)
            if match and not body:
                header[match.group(1)] = match.group(2)
            elif header or not line.startswith("--"):
                body.append(line)
        if "case" not in header:
            continue
        options = {"dialect": header["dialect"]} if "dialect" in header else {}
        rows = int(header["rows"]) if "rows" in header else None
        sql = "\n".join(body)
        cases.append(Case(header["case"], header["expect"], sql, header.get("as", "analyst"), options, rows))
    return cases


ALL = load()


def test_there_are_enough_cases() -> None:
    assert len(ALL) >= 80
    assert len({c.name for c in ALL}) == len(ALL), "case names are unique"


@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
def test_case(hub: Hub, case: Case) -> None:
    answer = hub.sql(case.caller, case.sql, **case.options)
    kind, _, detail = case.expect.partition(" ")
    body = answer.json()
    if kind == "columns":
        assert answer.status_code == 200, answer.text[:500]
        assert [c["name"] for c in body["columns"]] == [c.strip() for c in detail.split(",")]
        if case.rows is not None:
            assert len(body["rows"]) == case.rows
    elif kind == "refused":
        assert answer.status_code == 400, answer.text[:500]
        assert body["error"]["code"] == "sql_refused", body
        assert body["error"]["message"].endswith(f"(rule: {detail})"), body
    elif kind == "error":
        assert answer.status_code == 400, answer.text[:500]
        assert body["error"]["code"] == detail, body
    else:
        assert kind == "status", case.expect
        assert answer.status_code == int(detail), answer.text[:500]
