"""Indicator alerts: month-over-month and year-over-year change of each street indicator,
flagged when the absolute change is beyond the thresholds in the contract
(``momThreshold``, ``yoyThreshold``, as fractions: 0.2 = 20 %).
"""

from __future__ import annotations

import duckdb

from contracts.model import Contract
from derived import Built

SQL = """
WITH x AS (
    SELECT street_code, month, indicator, value, CAST(month || '-01' AS DATE) AS d
    FROM economy__street_indicators
),
changes AS (
    SELECT x.street_code, x.month, x.indicator, x.value,
           x.value / NULLIF(m.value, 0) - 1 AS mom_change,
           x.value / NULLIF(y.value, 0) - 1 AS yoy_change
    FROM x
    LEFT JOIN x m ON m.street_code = x.street_code AND m.indicator = x.indicator AND m.d = x.d - INTERVAL 1 MONTH
    LEFT JOIN x y ON y.street_code = x.street_code AND y.indicator = x.indicator AND y.d = x.d - INTERVAL 12 MONTH
)
SELECT *,
       coalesce(abs(mom_change) > ?, false) OR coalesce(abs(yoy_change) > ?, false) AS flagged,
       concat_ws('; ',
           CASE WHEN abs(mom_change) > ? THEN printf('环比 %+.1f%%', mom_change * 100) END,
           CASE WHEN abs(yoy_change) > ? THEN printf('同比 %+.1f%%', yoy_change * 100) END) AS reason
FROM changes
ORDER BY street_code, month, indicator
"""


def build(con: duckdb.DuckDBPyConnection, contract: Contract) -> Built:
    mom = float(contract.custom.get("momThreshold", 0.2))
    yoy = float(contract.custom.get("yoyThreshold", 0.3))
    table = con.execute(SQL, [mom, yoy, mom, yoy]).to_arrow_table()
    reason = table.column("reason")
    import pyarrow.compute as pc

    table = table.set_column(
        table.column_names.index("reason"), "reason", pc.if_else(pc.equal(reason, ""), None, reason)
    )
    return Built(table)
