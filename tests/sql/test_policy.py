"""What a caller sees through SQL is exactly its policy: masks, grants in clear, row filters, the
refusal of what it may not read, and an audit record for every query."""

from __future__ import annotations

import hashlib
import re

import httpx
from sqlalchemy import select, update

from access.audit import AuditRecord
from catalog import clients, db
from catalog.models import ApiClient
from tests.published import grant
from tests.sql.conftest import STREET, Hub

MASKED_ID = re.compile(r"^[0-9]{6}\*{12}$")
CLEAR_ID = re.compile(r"^[0-9]{17}[0-9X]$")


def test_the_same_query_is_masked_for_a_masked_grant_and_clear_for_a_clear_one(hub: Hub) -> None:
    query = "SELECT id_number, name, birth_date, upper(id_number) AS shout FROM population.residents"
    masked, clear = hub.rows("analyst", query), hub.rows("clear", query)
    assert len(masked) == len(clear) > 50
    assert all(MASKED_ID.match(r[0]) and MASKED_ID.match(r[3]) for r in masked)
    assert all(r[1] and set(r[1][1:]) == {"*"} for r in masked), "names show the family name only"
    assert all(re.fullmatch(r"[0-9]{4}-[0-9]{2}", r[2]) for r in masked), "birth dates as year-month"
    assert all(CLEAR_ID.match(r[0]) and "*" not in r[1] for r in clear)
    assert all(re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", str(r[2])) for r in clear), "clear beside a clear id"
    assert {r[0][:6] for r in clear} == {r[0][:6] for r in masked}


def test_a_masked_field_stays_masked_through_any_expression(hub: Hub) -> None:
    queries = {
        "cte": "WITH x AS (SELECT id_number AS v FROM population.residents) SELECT v FROM x",
        "subquery": "SELECT v FROM (SELECT id_number || '' AS v FROM population.residents)",
        "union": "SELECT id_number AS v FROM population.residents UNION ALL SELECT id_number FROM population.residents",
        "join": "SELECT a.id_number AS v FROM population.residents a JOIN population.residents b "
        "ON a.street_code = b.street_code AND a.grid_code = b.grid_code",
        "window": "SELECT first_value(id_number) OVER (PARTITION BY street_code) AS v FROM population.residents",
        "list": "SELECT unnest(list(id_number)) AS v FROM population.residents",
        "string_agg": "SELECT string_agg(id_number, ',') AS v FROM population.residents",
        "struct": "SELECT s.k AS v FROM (SELECT {'k': id_number} AS s FROM population.residents)",
        "max": "SELECT max(id_number) AS v FROM population.residents GROUP BY street_code",
        "cast": "SELECT CAST(r AS VARCHAR) AS v FROM population.residents r",
    }
    clear_ids = {r[0] for r in hub.rows("clear", "SELECT id_number FROM population.residents")}
    for name, query in queries.items():
        values = [str(r[0]) for r in hub.rows("analyst", query)]
        assert values and all("*" * 12 in v for v in values), name
        assert not any(i in v for v in values for i in clear_ids), name
        assert not any(re.search(r"[0-9]{17}[0-9X]", v) for v in values), name


def test_row_filters_hold_under_or_union_and_subqueries(hub: Hub) -> None:
    everyone = hub.rows("steward", f"SELECT count(*) FROM population.residents WHERE street_code = '{STREET}'")[0][0]
    assert 0 < everyone < hub.rows("steward", "SELECT count(*) FROM population.residents")[0][0]
    streets = {
        "or": "SELECT street_code FROM population.residents WHERE street_code <> '' OR 1 = 1 OR TRUE",
        "union": "SELECT street_code FROM population.residents UNION ALL SELECT street_code FROM population.residents",
        "subquery": "SELECT street_code FROM (SELECT * FROM (SELECT * FROM population.residents))",
        "in": "SELECT street_code FROM population.residents WHERE street_code IN "
        "(SELECT street_code FROM population.residents WHERE street_code <> 'x' OR TRUE)",
        "lateral": "SELECT r.street_code FROM population.residents r, LATERAL (SELECT r.street_code AS s) l",
        "cte": "WITH a AS (SELECT * FROM population.residents), b AS (SELECT * FROM a WHERE TRUE OR FALSE) "
        "SELECT street_code FROM b",
    }
    for name, query in streets.items():
        rows = hub.rows("street", query)
        assert rows and {r[0] for r in rows} == {STREET}, name
    assert hub.rows("street", "SELECT count(*) FROM population.residents")[0][0] == everyone
    assert (
        hub.rows("street", "SELECT count(*) FROM population.residents WHERE NOT (street_code = 'x')")[0][0] == everyone
    )


def test_a_callers_own_errors_cannot_report_rows_outside_its_grant(hub: Hub) -> None:
    """Conditions of the query only see rows inside the grant: an expression that fails on any
    other row never fails (the row filter runs below a LIMIT no condition is pushed through)."""
    oracle = (
        "SELECT count(*) FROM population.residents WHERE "
        f"CASE WHEN street_code <> '{STREET}' THEN CAST(community_code || 'x' AS INTEGER) ELSE 1 END = 1"
    )
    everyone = hub.rows("steward", f"SELECT count(*) FROM population.residents WHERE street_code = '{STREET}'")[0][0]
    assert hub.rows("street", oracle)[0][0] == everyone
    assert hub.sql("analyst", oracle).json()["error"]["code"] == "sql_error", "the same query fails without a filter"


def test_an_ungranted_dataset_reads_like_one_that_does_not_exist(hub: Hub) -> None:
    def message(caller: str, dataset: str) -> str:
        text = hub.sql(caller, f"SELECT * FROM {dataset}").json()["error"]["message"]
        return str(text).replace(dataset, "DATASET")

    missing = message("analyst", "population.nobody")
    assert message("analyst", "population.households") == missing
    assert message("ungranted", "population.residents") == missing


def test_every_query_is_audited_with_its_hash_datasets_fields_and_rows(hub: Hub) -> None:
    query = (
        "SELECT g.grid_code, count(r.name) AS people FROM spatial.grids g "
        "JOIN population.residents r ON r.grid_code = g.grid_code GROUP BY 1"
    )
    rows = hub.rows("analyst", query)
    digest = hashlib.sha256(query.encode()).hexdigest()
    with db.session(hub.settings.db_url) as s:
        records = list(s.scalars(select(AuditRecord).where(AuditRecord.query_hash == digest)))
    assert {r.dataset for r in records} == {"spatial.grids", "population.residents"}
    by_dataset = {r.dataset: r for r in records}
    assert all(r.action == "sql" and r.client == "analyst" and r.rows == len(rows) for r in records)
    assert set(by_dataset["population.residents"].fields) == {"grid_code", "name"}
    assert by_dataset["population.residents"].clear_fields == ["grid_code"]
    assert by_dataset["population.residents"].purpose and by_dataset["population.residents"].version == 1
    refused = "SELECT * FROM read_csv('/etc/passwd')"
    assert hub.sql("analyst", refused).status_code == 400
    with db.session(hub.settings.db_url) as s:
        digest = hashlib.sha256(refused.encode()).hexdigest()
        assert s.scalar(select(AuditRecord).where(AuditRecord.query_hash == digest)) is None


def test_answers_name_their_columns_types_and_versions(hub: Hub) -> None:
    query = "SELECT street_code, count(*) AS n, 1.5::DECIMAL(4,2) AS d FROM population.residents GROUP BY 1 ORDER BY 1"
    answer = hub.sql("analyst", query)
    body = answer.json()
    assert answer.status_code == 200
    assert body["columns"] == [
        {"name": "street_code", "type": "VARCHAR"},
        {"name": "n", "type": "BIGINT"},
        {"name": "d", "type": "DECIMAL(4,2)"},
    ]
    assert body["truncated"] is False and body["elapsed_ms"] >= 0
    assert body["version"]["population.residents"]["version"] == 1
    assert body["rows"][0][2] in ("1.50", 1.5)


def test_results_are_cut_at_the_row_cap_or_the_limit(hub: Hub) -> None:
    capped = hub.sql("analyst", "SELECT i FROM range(5000) t(i)").json()
    assert len(capped["rows"]) == hub.settings.sql_max_rows and capped["truncated"] is True
    limited = hub.sql("analyst", "SELECT i FROM range(5000) t(i)", limit=10).json()
    assert [r[0] for r in limited["rows"]] == list(range(10)) and limited["truncated"] is True
    exact = hub.sql("analyst", "SELECT i FROM range(10) t(i)", limit=10).json()
    assert len(exact["rows"]) == 10 and exact["truncated"] is False


def test_get_runs_the_same_query_for_links(hub: Hub) -> None:
    query = "SELECT street_code, count(*) AS n FROM population.residents GROUP BY 1 ORDER BY 1"
    got = httpx.get(f"{hub.url}/api/v1/sql", params={"sql": query}, headers={"X-API-Key": hub.keys["analyst"]})
    assert got.status_code == 200
    assert got.json()["rows"] == hub.rows("analyst", query)


def test_who_may_run_sql(hub: Hub) -> None:
    assert httpx.post(f"{hub.url}/api/v1/sql", json={"sql": "SELECT 1"}).status_code == 401
    assert hub.sql("consumer", "SELECT 1").status_code == 403
    assert hub.sql("steward", "SELECT count(*) FROM population.households").status_code == 200
    assert hub.sql("analyst", "SELECT 1 AS a").json()["rows"] == [[1]]


def test_errors_tell_nothing_of_the_sandbox(hub: Hub) -> None:
    for query in (
        "SELECT nope FROM population.residents",
        "SELECT * FROM population.residents r JOIN population.residents s ON r.nope = s.street_code",
        "SELECT CAST(street_code || 'x' AS INTEGER) FROM population.residents",
        "WITH a AS (SELECT 1) SELECT * FROM (SELECT * FROM b)",
    ):
        body = hub.sql("analyst", query).json()
        message = body["error"]["message"]
        assert body["error"]["code"] in ("sql_error", "sql_refused"), body
        assert "_hub_copy" not in message and "serving" not in message and "LINE" not in message, message
        assert str(hub.settings.resolved_home) not in message, message


def test_rows_count_against_the_daily_budget(hub: Hub) -> None:
    with db.session(hub.settings.db_url) as s:
        key = clients.issue_key(s, clients.ensure_client(s, "thrifty", role="analyst"))
        s.execute(update(ApiClient).where(ApiClient.name == "thrifty").values(rows_per_day=5))
        s.commit()
    grant(hub.settings, "thrifty")
    hub.keys["thrifty"] = key
    assert len(hub.rows("thrifty", "SELECT street_code FROM population.residents LIMIT 3")) == 3
    over = hub.sql("thrifty", "SELECT street_code FROM population.residents LIMIT 3")
    assert over.status_code == 429 and over.json()["error"]["code"] == "rate_limited" and over.headers["retry-after"]
    assert hub.sql("thrifty", "SELECT 1 AS reads_no_dataset").status_code == 200
