"""Building economy: per building and month, enterprises, tax, employees, tax per m², vacancy.

Tax records whose credit code is not registered, and tax of enterprises that are not located
in a building, are reported as unmatched rather than dropped.
"""

from __future__ import annotations

import duckdb

from contracts.model import Contract
from derived import Built

SQL = """
WITH tax AS (
    -- 从业人数 is the taxpayer's headcount for the month, repeated on each of its tax rows
    SELECT credit_code, month, sum(amount) AS tax, max(employees) AS employees
    FROM economy__tax_monthly GROUP BY credit_code, month
),
months AS (SELECT DISTINCT month FROM tax),
located AS (
    SELECT building_id, count(*) AS enterprises
    FROM derived__entity_location WHERE building_id IS NOT NULL GROUP BY building_id
),
paid AS (
    SELECT l.building_id, t.month, sum(t.tax) AS tax_total, sum(t.employees) AS employees
    FROM tax t JOIN derived__entity_location l USING (credit_code)
    WHERE l.building_id IS NOT NULL GROUP BY l.building_id, t.month
)
SELECT b.building_id, m.month, CAST(l.enterprises AS BIGINT) AS enterprises,
       coalesce(p.tax_total, 0) AS tax_total, CAST(p.employees AS BIGINT) AS employees,
       b.floor_area, coalesce(p.tax_total, 0) / b.floor_area AS tax_per_m2,
       b.vacant_area / b.floor_area AS vacancy_rate
FROM located l
JOIN buildings__buildings b USING (building_id)
CROSS JOIN months m
LEFT JOIN paid p ON p.building_id = l.building_id AND p.month = m.month
ORDER BY b.building_id, m.month
"""

UNREGISTERED = """
SELECT t.* FROM economy__tax_monthly t
WHERE t.credit_code NOT IN (SELECT credit_code FROM derived__entity_location)
ORDER BY t.credit_code, t.month, t.tax_type
"""

NO_BUILDING = """
SELECT t.*, l.method, l.grid_code FROM economy__tax_monthly t JOIN derived__entity_location l USING (credit_code)
WHERE l.building_id IS NULL
ORDER BY t.credit_code, t.month, t.tax_type
"""


def build(con: duckdb.DuckDBPyConnection, contract: Contract) -> Built:
    return Built(
        con.execute(SQL).to_arrow_table(),
        {
            "unregistered_credit_code": con.execute(UNREGISTERED).to_arrow_table(),
            "not_in_a_building": con.execute(NO_BUILDING).to_arrow_table(),
        },
    )
