"""Enterprises located to buildings and work grids.

By building id where the registration gives one that exists; otherwise by the geocoded point
inside a building footprint; otherwise inside a work-grid polygon; otherwise unmatched (kept,
with method ``unmatched``, and reported).
"""

from __future__ import annotations

import duckdb

from contracts.model import Contract
from derived import Built

SQL = """
WITH e AS (
    SELECT credit_code, NULLIF(building_id, '') AS building_id, longitude, latitude
    FROM legal_entity__enterprises
),
by_id AS (
    SELECT e.credit_code, b.building_id, b.grid_code, 'building_id' AS method, 1 AS rank
    FROM e JOIN buildings__buildings b ON e.building_id = b.building_id
),
in_building AS (
    SELECT e.credit_code, b.building_id, b.grid_code, 'point_in_building' AS method, 2 AS rank
    FROM e JOIN buildings__buildings b
      ON e.longitude IS NOT NULL AND ST_Contains(ST_GeomFromWKB(b.footprint), ST_Point(e.longitude, e.latitude))
),
in_grid AS (
    SELECT e.credit_code, NULL AS building_id, g.grid_code, 'point_in_grid' AS method, 3 AS rank
    FROM e JOIN spatial__grids g
      ON g.level = 'grid' AND e.longitude IS NOT NULL
     AND ST_Contains(ST_GeomFromWKB(g.geometry), ST_Point(e.longitude, e.latitude))
),
unmatched AS (
    SELECT credit_code, NULL AS building_id, NULL AS grid_code, 'unmatched' AS method, 4 AS rank FROM e
),
candidates AS (
    SELECT * FROM by_id UNION ALL SELECT * FROM in_building UNION ALL SELECT * FROM in_grid
    UNION ALL SELECT * FROM unmatched
)
SELECT credit_code, building_id, grid_code, method
FROM candidates
QUALIFY row_number() OVER (PARTITION BY credit_code ORDER BY rank, building_id, grid_code) = 1
ORDER BY credit_code
"""

UNKNOWN_BUILDING = """
SELECT e.credit_code, e.name, e.building_id
FROM legal_entity__enterprises e
WHERE NULLIF(e.building_id, '') IS NOT NULL
  AND e.building_id NOT IN (SELECT building_id FROM buildings__buildings)
ORDER BY e.credit_code
"""


def build(con: duckdb.DuckDBPyConnection, contract: Contract) -> Built:
    table = con.execute(SQL).to_arrow_table()
    unmatched = con.execute(
        "SELECT e.credit_code, e.name, e.address, e.longitude, e.latitude FROM legal_entity__enterprises e "
        f"JOIN ({SQL}) l USING (credit_code) WHERE l.method = 'unmatched' ORDER BY e.credit_code"
    ).to_arrow_table()
    return Built(table, {"unlocated": unmatched, "unknown_building_id": con.execute(UNKNOWN_BUILDING).to_arrow_table()})
