"""docs/sql.md cannot drift: its function table is the allow-list, both ways; every rule and every
SQL setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from access.sql import functions, guard
from hub.settings import Settings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "sql.md").read_text(encoding="utf-8")
TABLE = DOC.split("<!-- functions -->", 1)[1].split("\n\n", 1)[0]
DOCUMENTED = {
    kind.strip(): re.findall(r"`([a-z_0-9]+)`", names)
    for kind, names in re.findall(r"^\| ([^|]+?) \| (.+) \|$", TABLE, re.M)
    if kind.strip() != "kind"
}
ARGUMENTS = [
    "(x)",
    "(x, 2)",
    "(x, y, z)",
    "('day', x, y)",
    "()",
    "(x, 0.5)",
    "(a := 1)",
    "(x, 'a', 'b')",
    "(1, 2, 3, 4, 5, 6)",
]
FORMS = {exp.Case, exp.If, exp.Cast, exp.TryCast, exp.Exists, exp.Array, exp.Struct, exp.Extract}
"""Allowed nodes written as syntax (CASE, CAST, EXISTS, [..], {..}), documented in prose."""


def call(name: str) -> exp.Expr:
    """The node ``name(...)`` parses to, with the first argument list it accepts."""
    return calls(name)[0]


def calls(name: str) -> list[exp.Expr]:
    """The nodes ``name(...)`` parses to, one per argument list it accepts."""
    found = []
    for arguments in ARGUMENTS:
        text = f"SELECT {name}" if name in ("current_date", "current_timestamp") else f"SELECT {name}{arguments}"
        try:
            node = sqlglot.parse_one(text, read="duckdb").expressions[0]
        except SqlglotError:
            continue
        if isinstance(node, exp.IgnoreNulls):  # any_value(x) is ANY_VALUE(x) IGNORE NULLS
            node = node.this
        if isinstance(node, exp.Func | exp.Mod):  # mod(x, 2) is x % 2
            found.append(node)
    assert found, f"{name} does not parse as a call"
    return found


def in_from(name: str) -> exp.Expr:
    found = sqlglot.parse_one(f"SELECT * FROM {name}(3)", read="duckdb").find(exp.Func)
    assert found is not None
    return found


SCALAR = [name for kind, names in DOCUMENTED.items() if kind != "in `FROM` only" for name in names]


@pytest.mark.parametrize("name", SCALAR)
def test_every_documented_function_is_allowed(name: str) -> None:
    node = call(name)
    if isinstance(node, exp.GenerateSeries):
        pytest.fail(f"{name} is documented as a value but runs in FROM only")
    allowed = functions.allowed(node) if isinstance(node, exp.Func) else type(node) in guard.NODE_TYPES
    assert allowed, f"{name} parses to {type(node).__name__}, which is not allowed"


def test_every_allowed_function_is_documented() -> None:
    typed = {type(node) for name in SCALAR for node in calls(name)}
    typed |= {type(in_from(name)) for name in DOCUMENTED["in `FROM` only"]}
    assert functions.TYPED - FORMS - typed == set(), "document these (docs/sql.md, <!-- functions -->)"
    assert functions.NAMED - set(SCALAR) == set()


def test_what_runs_in_from_is_documented() -> None:
    for name in DOCUMENTED["in `FROM` only"]:
        guard.parse(f"SELECT * FROM {name}(3)")


@pytest.mark.parametrize("rule", [r.value for r in guard.Rule])
def test_every_rule_is_documented(rule: str) -> None:
    assert f"`{rule}`" in DOC


@pytest.mark.parametrize("name", [n for n in Settings.model_fields if n.startswith("sql_")])
def test_every_sql_setting_is_documented(name: str) -> None:
    assert f"`HUB_{name.upper()}`" in DOC
