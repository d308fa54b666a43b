"""Masking as SQL: sensitive values are masked inside DuckDB, so clear values never leave it.

Each mask is a pure function from a quoted column name to a SQL expression.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts.model import Classification, Field


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _keep(col: str, head: int, tail: int) -> str:
    return (
        f"CASE WHEN {col} IS NULL THEN NULL WHEN length({col}) <= {head + tail} THEN repeat('*', length({col})) "
        f"ELSE left({col}, {head}) || repeat('*', length({col}) - {head + tail}) || right({col}, {tail}) END"
    )


MASKS: dict[str, Callable[[str], str]] = {
    # 110101********4477: region kept, birth date and sequence hidden
    "id_number": lambda c: _keep(c, 6, 4),
    # 王**: family name kept
    "name": lambda c: (
        f"CASE WHEN {c} IS NULL THEN NULL ELSE left({c}, 1) || repeat('*', greatest(length({c}) - 1, 1)) END"
    ),
    # 138****5678
    "phone": lambda c: _keep(c, 3, 4),
    # 北京市东城区****: down to the district only
    "address": lambda c: f"CASE WHEN {c} IS NULL THEN NULL ELSE left({c}, 6) || '****' END",
    "credit_code": lambda c: _keep(c, 8, 2),
    "full": lambda c: f"CASE WHEN {c} IS NULL THEN NULL ELSE '****' END",
}


def leaves_hub(field: Field) -> bool:
    """Restricted fields never leave: they can only be verified."""
    return field.classification is not Classification.restricted


def select_expression(field: Field, clear: frozenset[str] = frozenset()) -> str:
    """SQL for one output column: masked unless the field is granted in clear."""
    col = quote(field.name)
    if field.type == "geometry":
        return f"ST_AsGeoJSON(ST_GeomFromWKB({col})) AS {col}"
    if field.name in clear or not field.classification.masked_by_default:
        return col
    mask = MASKS[field.mask or "full"]
    return f"{mask(col)} AS {col}"
