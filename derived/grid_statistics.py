"""Grid statistics: residents by age band and sex, households, enterprises by industry section
and buildings by use, per work grid, community and street (codes nest: 9/12/15 digits).

Ages are taken at the contract's ``referenceDate``. Enterprises count where entity_location
placed them in a grid; unlocated ones are reported.
"""

from __future__ import annotations

import duckdb

from contracts.model import Contract
from derived import Built
from standards import tables

AGE_BANDS = "CASE WHEN age < 15 THEN '0-14' WHEN age < 60 THEN '15-59' ELSE '60+' END"

PER_GRID = f"""
WITH people AS (
    SELECT grid_code, sex, date_diff('year', birth_date, DATE '{{ref}}')
         - CASE WHEN strftime(birth_date, '%m-%d') > strftime(DATE '{{ref}}', '%m-%d') THEN 1 ELSE 0 END AS age
    FROM population__residents
)
SELECT grid_code, 'residents' AS measure, {AGE_BANDS} || '|' || sex AS category, count(*) AS value
FROM people GROUP BY ALL
UNION ALL
SELECT grid_code, 'households', 'all', count(DISTINCT household_no) FROM population__households GROUP BY ALL
UNION ALL
SELECT l.grid_code, 'enterprises', d.parent_code, count(*)
FROM derived__entity_location l
JOIN legal_entity__enterprises e USING (credit_code)
JOIN gbt4754_divisions d ON d.code = substr(regexp_replace(e.industry_code, '^[A-Z]', ''), 1, 2)
WHERE l.grid_code IS NOT NULL GROUP BY ALL
UNION ALL
SELECT grid_code, 'buildings', use, count(*) FROM buildings__buildings GROUP BY ALL
"""

ROLL_UP = """
WITH g AS ({per_grid})
SELECT 'grid' AS level, grid_code AS area_code, measure, category, sum(value) AS value FROM g GROUP BY ALL
UNION ALL
SELECT 'community', left(grid_code, 12), measure, category, sum(value) FROM g GROUP BY ALL
UNION ALL
SELECT 'street', left(grid_code, 9), measure, category, sum(value) FROM g GROUP BY ALL
ORDER BY level, area_code, measure, category
"""


def build(con: duckdb.DuckDBPyConnection, contract: Contract) -> Built:
    tables.register_duckdb(con, "gbt4754_divisions")
    ref = str(contract.custom.get("referenceDate", "2026-10-31"))
    sql = ROLL_UP.format(per_grid=PER_GRID.format(ref=ref))
    cols = "level, area_code, measure, category, CAST(value AS BIGINT) AS value"
    table = con.execute(f"SELECT {cols} FROM ({sql})").to_arrow_table()
    unlocated = con.execute(
        "SELECT credit_code, method FROM derived__entity_location WHERE grid_code IS NULL ORDER BY credit_code"
    ).to_arrow_table()
    return Built(table, {"enterprises_without_grid": unlocated})
