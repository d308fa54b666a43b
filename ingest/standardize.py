"""Standardize raw strings into the contract's types.

Trim, normalize (full-width characters, ID-number spelling, date spellings), turn empty strings
into nulls and cast to the contract's logical types. A value that cannot be cast is an
:class:`Issue`; a value that was rewritten is counted as a :class:`Change`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from contracts.model import Contract, Field
from ingest.issues import Change, Issue
from standards import normalize

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "boolean": pa.bool_(),
    "geometry": pa.binary(),
}
PATTERNS = {
    "integer": r"^[+-]?\d+$",
    "number": r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$",
    "boolean": r"^(?i:true|false|1|0)$",
}


@dataclass
class Standardized:
    table: pa.Table
    issues: list[Issue]
    changes: list[Change]


def arrow_schema(contract: Contract) -> pa.Schema:
    return pa.schema([pa.field(f.name, ARROW_TYPES[f.type]) for f in contract.fields])


def _normalize_text(field: Field, col: pa.ChunkedArray) -> tuple[pa.ChunkedArray, list[Change]]:
    changes: list[Change] = []
    steps = [("strip_spaces", normalize.strip_spaces), ("fullwidth", normalize.fullwidth_to_halfwidth)]
    if field.standard == "gb11643":
        steps.append(("id_number", normalize.id_number))
    if field.type == "date":
        steps.append(("iso_date", normalize.iso_date))
    for rule, fn in steps:
        col, changed = fn(col)
        count = pc.sum(changed).as_py() or 0
        if count:
            changes.append(Change(field.name, f"normalize:{rule}", count))
    return col, changes


def _cast(field: Field, col: pa.ChunkedArray) -> tuple[pa.Array, list[Issue]]:
    """Cast strings to the field's type; values that do not cast become nulls plus an issue."""
    target = ARROW_TYPES[field.type]
    if field.type == "string":
        return col, []
    if field.type in ("date", "timestamp"):
        fmt = "%Y-%m-%d" if field.type == "date" else "%Y-%m-%dT%H:%M:%S"
        parsed = pc.strptime(col, format=fmt, unit="us", error_is_null=True)
        # strptime rolls impossible days over (2024-02-30 → 2024-03-01): a round trip catches it.
        # A date goes back to text by Arrow's cast (ISO, ten times faster than strftime).
        if field.type == "date":
            days = pc.cast(parsed, target)
            same = pc.equal(pc.cast(days, pa.string()), col)
            cast = pc.if_else(same, days, None)
        else:
            same = pc.equal(pc.strftime(parsed, format=fmt), col)
            cast = pc.cast(pc.if_else(same, parsed, None), target)
    else:
        ok = pc.match_substring_regex(col, PATTERNS[field.type])
        cleaned = pc.if_else(ok, col, pa.scalar(None, pa.string()))
        if field.type == "boolean":
            cleaned = pc.is_in(pc.utf8_lower(cleaned), pa.array(["true", "1"]))
            cast = pc.if_else(pc.is_null(pc.if_else(ok, col, None)), None, cleaned)
        else:
            cast = pc.cast(cleaned, target)
    bad = pc.and_(pc.is_valid(col), pc.is_null(cast))
    idx = pc.indices_nonzero(pc.fill_null(bad, False)).to_pylist()
    values = col.take(idx).to_pylist() if idx else []
    issues = [
        Issue(i, field.name, f"type:{field.type}", v, f"{v!r} is not a valid {field.type}")
        for i, v in zip(idx, values, strict=True)
    ]
    return cast, issues


def _geometry(field: Field, col: pa.ChunkedArray) -> tuple[pa.Array, list[Issue]]:
    """WKB geometries: invalid or unreadable shapes become nulls plus an issue."""
    from warehouse import duck

    con = duck.connect(extensions=("spatial",))
    try:
        con.register("g", pa.table({"w": col.cast(pa.binary())}))
        sql = (
            "SELECT w IS NOT NULL AND (TRY(ST_GeomFromWKB(w)) IS NULL OR NOT ST_IsValid(ST_GeomFromWKB(w))) AS bad "
            "FROM g"
        )
        bad = con.execute(sql).to_arrow_table().column("bad")
    finally:
        con.close()
    idx = pc.indices_nonzero(pc.fill_null(bad, False)).to_pylist()
    issues = [Issue(i, field.name, "type:geometry", None, "geometry is not a valid shape") for i in idx]
    mask = pc.fill_null(bad, False)
    return pc.if_else(mask, pa.scalar(None, pa.binary()), col.cast(pa.binary())), issues


def standardize(raw: pa.Table, contract: Contract) -> Standardized:
    columns: list[pa.Array | pa.ChunkedArray] = []
    issues: list[Issue] = []
    changes: list[Change] = []
    for field in contract.fields:
        if field.name not in raw.column_names:
            columns.append(pa.nulls(raw.num_rows, ARROW_TYPES[field.type]))
            continue
        if field.type == "geometry":
            typed, field_issues = _geometry(field, raw.column(field.name))
            columns.append(typed)
            issues += field_issues
            continue
        col, field_changes = _normalize_text(field, raw.column(field.name))
        col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        typed, field_issues = _cast(field, col)
        columns.append(typed)
        issues += field_issues
        changes += field_changes
    return Standardized(pa.table(columns, schema=arrow_schema(contract)), issues, changes)
