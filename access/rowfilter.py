"""Row filters of grants: parsed and checked, then rendered as SQL the hub itself writes.

A steward writes a filter such as ``street_code IN ('110101001', '110101002')``. It is parsed
with sqlglot and accepted only when it is built from comparisons of the dataset's own clear
columns with literals, joined by AND / OR / NOT: ``= <> < <= > >=``, ``IN (...)``,
``BETWEEN``, ``LIKE`` with a literal pattern, ``IS [NOT] NULL``. Anything else (functions,
subqueries, other tables, columns that are masked or withheld, parameters, comments) is
refused with the reason. The accepted filter is rendered back by sqlglot with every column
quoted, so what runs is the hub's SQL, never the caller's text.
"""

from __future__ import annotations

from collections.abc import Collection

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from hub.errors import BadParameter

MAX_CHARS = 2_000
ALLOWED = (
    exp.And,
    exp.Or,
    exp.Not,
    exp.Paren,
    exp.EQ,
    exp.NEQ,
    exp.LT,
    exp.LTE,
    exp.GT,
    exp.GTE,
    exp.In,
    exp.Between,
    exp.Like,
    exp.Is,
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Null,
    exp.Boolean,
    exp.Neg,
)


COMPARISONS = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.Like, exp.In, exp.Between)
VALUES = (exp.Literal, exp.Neg, exp.Null, exp.Boolean)


class RowFilterError(BadParameter):
    """A row filter that is not a plain condition on the dataset's own clear columns."""

    def __init__(self, message: str):
        super().__init__(
            message if message.startswith("the row filter") else f"row filter: {message}",
            column="rows",
            rule="row_filter",
        )


def _column_and_values(node: exp.Expression) -> None:
    """A comparison has one column on its left and only literal values on its right."""
    if isinstance(node, exp.In):
        values = list(node.expressions)
    elif isinstance(node, exp.Between):
        values = [node.args.get("low"), node.args.get("high")]
    else:
        values = [node.expression]
    if not isinstance(node.this, exp.Column) or not values or not all(isinstance(v, VALUES) for v in values):
        raise RowFilterError(f"compare a column with literal values: {node.sql()} is not allowed")


def parse(text: str, columns: Collection[str]) -> str:
    """The filter as the hub's SQL (DuckDB dialect), or :class:`RowFilterError` saying why not."""
    text = (text or "").strip()
    if not text:
        raise RowFilterError("the row filter is empty")
    if len(text) > MAX_CHARS:
        raise RowFilterError(f"the row filter is longer than {MAX_CHARS} characters")
    if "--" in text or "/*" in text or ";" in text:
        raise RowFilterError("the row filter may not contain comments or ';'")
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except ParseError as exc:
        raise RowFilterError(f"the row filter is not a SQL condition: {str(exc).splitlines()[0]}") from None
    for node in tree.walk():
        if not isinstance(node, ALLOWED):
            raise RowFilterError(
                f"the row filter may only compare columns with values; {node.key.upper()} is not allowed"
            )
        if isinstance(node, exp.Column):
            if node.table:
                raise RowFilterError(f"the row filter names another table: {node.sql()}")
            if node.name not in columns:
                raise RowFilterError(
                    f"the row filter names {node.name!r}, which is not a clear column of this dataset "
                    f"(use one of: {', '.join(sorted(columns))})"
                )
            node.set("this", exp.to_identifier(node.name, quoted=True))
        if isinstance(node, COMPARISONS):
            _column_and_values(node)
        if isinstance(node, exp.Is) and not isinstance(node.expression, exp.Null):
            raise RowFilterError("IS compares with NULL only")
    if isinstance(tree, exp.Column | exp.Literal | exp.Identifier | exp.Null | exp.Boolean | exp.Neg):
        raise RowFilterError("the row filter must be a condition, such as street_code = '110101001'")
    return tree.sql(dialect="duckdb")
