"""The SQL route fuzzed: schemathesis from the OpenAPI document with an analyst's key, then Hypothesis
assembling queries from hostile fragments. No 5xx, only documented statuses, one error shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.sql.conftest import Hub

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
CODES = {"sql_refused", "sql_error", "sql_timeout", "sql_too_large", "bad_request", "not_found", "rate_limited"}


def bounded(examples: int) -> settings:
    return settings(
        max_examples=examples, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
    )


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_the_sql_operations_answer_documented_statuses(hub: Hub, mode: GenerationMode) -> None:
    api = schemathesis.openapi.from_url(hub.url + "/openapi.json")
    operations = [r.ok() for r in api.get_all_operations() if r.ok().path == "/api/v1/sql"]
    assert {op.method.upper() for op in operations} == {"GET", "POST"}
    key = {"X-API-Key": hub.keys["analyst"]}
    for operation in operations:

        @bounded(40)
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            case.call_and_validate(headers=key, checks=CHECKS, timeout=30)

        run()


FRAGMENTS = [
    "SELECT",
    "*",
    "count(*)",
    "street_code",
    "id_number",
    "name",
    "FROM",
    "population.residents",
    "spatial.grids",
    "population.households",
    "'/etc/passwd'",
    "read_csv('/etc/passwd')",
    "range(10)",
    "WHERE",
    "GROUP BY 1",
    "ORDER BY 1",
    "UNION",
    "JOIN",
    "ON",
    "=",
    "LIKE",
    "'%'",
    "(",
    ")",
    ",",
    ";",
    "--",
    "/*",
    "*/",
    "$$",
    "'",
    '"',
    "`",
    "::",
    "CAST(",
    "AS INT)",
    "WITH x AS (SELECT 1)",
    "COPY",
    "ATTACH",
    "PRAGMA",
    "SET",
    "LIMIT 5",
    "街道",
    "\x00",
    "\\",
    "1e309",
    "-9223372036854775809",
    "NULL",
    "TRUE",
    "[1,2][3]",
    "{'a': 1}",
    "INTERVAL 1 DAY",
    "QUALIFY",
    "OVER ()",
]


def test_hostile_fragments_never_make_a_server_error(hub: Hub) -> None:
    seen: dict[int, int] = {}

    @bounded(300)
    @given(
        parts=st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), min_size=1, max_size=12),
        dialect=st.sampled_from([None, "postgres", "mysql", "hive", "duckdb", "tsql"]),
    )
    def run(parts: list[str], dialect: str | None) -> None:
        body = {"sql": " ".join(parts), **({"dialect": dialect} if dialect else {})}
        answer = httpx.post(f"{hub.url}/api/v1/sql", json=body, headers={"X-API-Key": hub.keys["analyst"]}, timeout=30)
        seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
        assert answer.status_code in (200, 400, 404, 429), (body, answer.status_code, answer.text[:300])
        if answer.status_code != 200:
            error = answer.json()["error"]
            assert error["code"] in CODES and error["message"], (body, error)

    run()
    assert seen.get(400, 0) > 100, seen
