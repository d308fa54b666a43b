"""The guard alone: what DuckDB is given for a query, and the limits on a query's size."""

from __future__ import annotations

import pytest

from access.sql import guard
from access.sql.guard import Rule, SqlRefused


def refused(sql: str, dialect: str | None = None) -> str:
    with pytest.raises(SqlRefused) as caught:
        guard.prepare(sql, dialect)
    assert caught.value.rule is not None
    return str(caught.value.rule)


def test_duckdb_runs_sqlglots_text_with_datasets_quoted_and_comments_dropped() -> None:
    prepared = guard.prepare(
        'select /* hi */ r.street_code, count(*) from Population."RESIDENTS" r -- ; drop table x\n group by 1'
    )
    assert prepared.sql == 'SELECT r.street_code, COUNT(*) FROM "population"."residents" AS r GROUP BY 1'
    assert prepared.parsed.datasets == ["population.residents"]


def test_a_comment_cannot_smuggle_a_second_statement() -> None:
    prepared = guard.prepare("SELECT 1 AS a /* */ -- */ ; SELECT * FROM read_text('/etc/passwd')")
    assert prepared.sql == "SELECT 1 AS a"


def test_the_same_dataset_twice_is_read_once() -> None:
    prepared = guard.prepare("SELECT * FROM population.residents a JOIN POPULATION.residents b USING (grid_code)")
    assert prepared.parsed.datasets == ["population.residents"] and len(prepared.parsed.tables) == 2


def test_other_dialects_are_checked_as_duckdb_reads_them() -> None:
    prepared = guard.prepare("SELECT TOP 3 street_code FROM population.residents", "tsql")
    assert prepared.sql == 'SELECT street_code FROM "population"."residents" LIMIT 3'
    assert refused("SELECT * FROM OPENROWSET(BULK 'C:/x.csv', SINGLE_CLOB) AS x", "tsql") in ("function", "syntax")


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        ("SELECT " + "(" * 3000 + "1" + ")" * 3000, Rule.size),
        ("SELECT 1 AS a, " + ", ".join(f"'{i}'" for i in range(10_000)), Rule.size),
        ("SELECT '" + "x" * 60_000 + "'", Rule.size),
        ("SELECT 1 FROM", Rule.syntax),
        ("", Rule.statement),
        ("  ;  ;  ", Rule.statement),
        ("-- only a comment", Rule.statement),
    ],
    ids=["nested", "many parts", "long", "broken", "empty", "semicolons", "comment"],
)
def test_limits_on_a_query(sql: str, rule: Rule) -> None:
    assert refused(sql) == rule.value


def test_refusals_are_not_remembered() -> None:
    guard.prepare.cache_clear()
    refused("SELECT * FROM read_csv('x')")
    assert guard.prepare.cache_info().currsize == 0
    guard.prepare("SELECT 1")
    guard.prepare("SELECT 1")
    assert guard.prepare.cache_info().hits == 1
