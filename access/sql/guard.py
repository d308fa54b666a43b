"""The guard in front of analysts' SQL: parse, check, then rewrite onto policy views.

A query is parsed by sqlglot (a ``dialect`` other than DuckDB's is transpiled first and the DuckDB
text parsed again, so what is checked is what runs) and accepted only when it is

- one statement, a read: ``SELECT`` (with ``WITH``), ``UNION`` / ``INTERSECT`` / ``EXCEPT``,
  ``VALUES``;
- built from the syntax in :data:`NODES` and the functions of :mod:`access.sql.functions` (an
  allow-list: anything else, a file reader or a catalogue function, is refused by default);
- over tables that are datasets named by their id (``population.residents``, quoted or not,
  matched without regard to case like DuckDB's own names) or CTEs in scope; ``range()``,
  ``generate_series()`` and ``unnest()`` are the only table functions.

What is refused raises :class:`SqlRefused`, naming the rule. The checked tree is then rewritten:
each dataset becomes its policy view (:func:`rewrite`), comments are dropped, and the text DuckDB
runs is sqlglot's, never the caller's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialects
from sqlglot.errors import SqlglotError

from access.sql import functions
from hub.errors import BadParameter

MAX_CHARS = 50_000
"""Longest query text accepted."""
MAX_NODES = 20_000
"""Most syntax-tree nodes a query may have."""
DUCKDB = "duckdb"

QUERIES: tuple[type[exp.Expr], ...] = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Values, exp.Subquery)
"""What a whole statement may be."""
NODES: tuple[type[exp.Expr], ...] = (
    *QUERIES,
    exp.With,
    exp.CTE,
    exp.From,
    exp.Join,
    exp.Lateral,
    exp.Where,
    exp.Group,
    exp.Cube,
    exp.Rollup,
    exp.GroupingSets,
    exp.Having,
    exp.Qualify,
    exp.Window,
    exp.Order,
    exp.Ordered,
    exp.Limit,
    exp.Offset,
    exp.Fetch,
    exp.Distinct,
    exp.TableSample,
    exp.Table,
    exp.TableAlias,
    exp.Alias,
    exp.Column,
    exp.Identifier,
    exp.Star,
    exp.Dot,
    exp.Bracket,
    exp.Slice,
    exp.Tuple,
    exp.PropertyEQ,
    exp.Literal,
    exp.RawString,
    exp.Null,
    exp.Boolean,
    exp.Var,
    exp.Interval,
    exp.DataType,
    exp.DataTypeParam,
    exp.ColumnDef,
    exp.Paren,
    exp.Neg,
    exp.Not,
    exp.And,
    exp.Or,
    exp.Xor,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.IntDiv,
    exp.Mod,
    exp.DPipe,
    exp.BitwiseAnd,
    exp.BitwiseOr,
    exp.BitwiseXor,
    exp.BitwiseNot,
    exp.BitwiseLeftShift,
    exp.BitwiseRightShift,
    exp.EQ,
    exp.NEQ,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.SimilarTo,
    exp.Glob,
    exp.Escape,
    exp.Any,
    exp.All,
    exp.Filter,
    exp.WithinGroup,
    exp.IgnoreNulls,
    exp.RespectNulls,
)
"""Syntax a query may use besides function calls (which :mod:`access.sql.functions` decides); node
types are matched exactly, so a subclass sqlglot adds later is refused until it is listed."""
NODE_TYPES = frozenset(NODES)
TABLE_ARGS = frozenset({"this", "db", "catalog", "alias", "joins", "laterals", "sample", "ordinality"})
FILE_LIKE = re.compile(r"[/\\:.*?~]")
"""A one-part table name DuckDB would read as a file (a replacement scan): paths, URLs, globs."""


class Rule(StrEnum):
    """Why a query was refused."""

    size = "size"
    syntax = "syntax"
    dialect = "dialect"
    statement = "statement"
    function = "function"
    file = "file"
    dataset = "dataset"
    masked_predicate = "masked_predicate"


class SqlRefused(BadParameter):
    """A query the guard does not run (HTTP 400, ``sql_refused``); ``rule`` names the check."""

    code = "sql_refused"

    def __init__(self, message: str, rule: Rule):
        super().__init__(f"{message} (rule: {rule.value})", column="sql", rule=rule.value)


def no_dataset(name: str) -> SqlRefused:
    """The one refusal for a dataset that does not exist *or* that the caller may not read."""
    return SqlRefused(
        f"no dataset {name} that you may read: name a dataset you may read by its id (domain.table); "
        "ask for one with POST /api/v1/access-requests",
        Rule.dataset,
    )


@dataclass
class Parsed:
    """A checked query: its syntax tree and the datasets it reads."""

    tree: exp.Expr
    tables: list[tuple[exp.Table, str]] = field(default_factory=list)
    """Every dataset reference: the table node and the dataset id (lower case)."""
    names: frozenset[str] = frozenset()
    """Every column name the query mentions, qualifiers included (lower case)."""
    bare: frozenset[str] = frozenset()
    """The names of unqualified column references (lower case): ``r`` alone may be a whole row."""
    star: bool = False
    """Whether the query selects ``*`` somewhere (every field of a dataset may be read)."""

    @property
    def datasets(self) -> list[str]:
        """The dataset ids read, each once, in order of appearance."""
        return list(dict.fromkeys(dataset for _, dataset in self.tables))


def dialect_of(name: str | None) -> str:
    text = (name or DUCKDB).strip().lower()
    if text not in Dialects._value2member_map_ or text == "":
        known = ", ".join(sorted(d.value for d in Dialects if d.value))
        raise SqlRefused(f"unknown dialect {name!r}; use one of: {known}", Rule.dialect)
    return text


def _parse_one(sql: str, dialect: str) -> exp.Expr:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None and not isinstance(s, exp.Semicolon)]
    except RecursionError:
        raise SqlRefused("the query is nested too deeply", Rule.size) from None
    except Exception as exc:  # noqa: BLE001 - sqlglot's ParseError, or any failure of the parser on hostile text
        first = str(exc).splitlines()[0] if isinstance(exc, SqlglotError) and str(exc) else type(exc).__name__
        raise SqlRefused(f"the query does not parse as {dialect} SQL: {_plain(first)}", Rule.syntax) from None
    if not statements:
        raise SqlRefused("the query is empty", Rule.statement)
    if len(statements) > 1:
        raise SqlRefused(f"one statement per query, not {len(statements)}", Rule.statement)
    return statements[0]


def _plain(text: str) -> str:
    """sqlglot's message without its terminal colour codes."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def parse(sql: str, dialect: str | None = None) -> Parsed:
    """Parse and check ``sql``; refuse what the guard does not run."""
    if len(sql) > MAX_CHARS:
        raise SqlRefused(f"the query is longer than {MAX_CHARS:,} characters", Rule.size)
    read = dialect_of(dialect)
    tree = _parse_one(sql, read)
    if read != DUCKDB:
        _statement(tree)
        try:
            text = tree.sql(dialect=DUCKDB, comments=False)
        except Exception:  # noqa: BLE001 - a construct sqlglot cannot write in DuckDB's SQL
            raise SqlRefused(f"the query cannot be written in DuckDB's SQL from {read}", Rule.dialect) from None
        tree = _parse_one(text, DUCKDB)
    _statement(tree)
    return _check(tree)


def _statement(tree: exp.Expr) -> None:
    if type(tree) in QUERIES:
        return
    kind = str(tree.this).split()[0].upper() if isinstance(tree, exp.Command) else tree.key.upper()
    raise SqlRefused(
        f"{kind} statements are not run here: only one read query (SELECT, WITH, UNION, INTERSECT, EXCEPT, VALUES)",
        Rule.statement,
    )


def _check(tree: exp.Expr) -> Parsed:
    parsed = Parsed(tree)
    names: set[str] = set()
    bare: set[str] = set()
    for count, node in enumerate(tree.walk(), start=1):
        if count > MAX_NODES:
            raise SqlRefused(f"the query has more than {MAX_NODES:,} parts", Rule.size)
        if type(node) in NODE_TYPES:
            pass
        elif isinstance(node, exp.Func):
            _function(node)
        else:
            raise SqlRefused(f"{node.key.upper()} is not allowed in a read query", Rule.syntax)
        if isinstance(node, exp.Table):
            _table(node, parsed)
        elif isinstance(node, exp.Column):
            parts = [part.name.lower() for part in node.parts if isinstance(part, exp.Identifier)]
            names.update(parts)
            if len(parts) == 1:
                bare.add(parts[0])
        elif isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count):
            parsed.star = True  # every field of a dataset may be read (count(*) reads none)
        elif isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
            raise SqlRefused(f"qualified function {node.sql(dialect=DUCKDB)} is not allowed", Rule.function)
    parsed.names, parsed.bare = frozenset(names), frozenset(bare)
    return parsed


def _function(node: exp.Func) -> None:
    if not functions.allowed(node):
        raise SqlRefused(f"function {functions.name_of(node)} is not allowed", Rule.function)
    if isinstance(node, functions.TABLE_ONLY) and not isinstance(node.parent, exp.Table):
        raise SqlRefused(
            f"{functions.name_of(node)}() is a table function here: SELECT * FROM {functions.name_of(node)}(...)",
            Rule.function,
        )


def _table(node: exp.Table, parsed: Parsed) -> None:
    extra = [k for k, v in node.args.items() if v and k not in TABLE_ARGS]
    if extra:
        raise SqlRefused(f"{extra[0].upper()} on a table is not allowed", Rule.syntax)
    if isinstance(node.this, exp.Func):
        if not isinstance(node.this, functions.TABLE_FUNCTIONS):
            raise SqlRefused(f"function {functions.name_of(node.this)} is not allowed", Rule.function)
        return
    name = node.name
    if node.catalog:
        raise no_dataset(".".join(p for p in (node.catalog, node.db, name)))
    if node.db:
        parsed.tables.append((node, f"{node.db}.{name}".lower()))
        return
    if name.lower() in _ctes_in_scope(node) and not FILE_LIKE.search(name):
        return
    if FILE_LIKE.search(name):
        raise SqlRefused(
            f"{name!r} would be read as a file or URL, and queries read datasets only; name a dataset "
            "by its id as two names, such as population.residents",
            Rule.file,
        )
    raise no_dataset(name)


def _ctes_in_scope(node: exp.Expr) -> set[str]:
    """Names of the CTEs visible at ``node``: those of every enclosing ``WITH``."""
    names: set[str] = set()
    for ancestor in _ancestors(node):
        with_ = ancestor.args.get("with_")
        if isinstance(with_, exp.With):
            names.update(cte.alias_or_name.lower() for cte in with_.expressions)
    return names


def _ancestors(node: exp.Expr) -> Iterator[exp.Expr]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def rewrite(parsed: Parsed) -> str:
    """The DuckDB text of the checked query, each dataset replaced by its policy view (a view named
    like the dataset, created by :mod:`access.sql.sandbox`), written by sqlglot without comments."""
    for node, dataset in parsed.tables:
        schema, table = view_name(dataset)
        node.set("db", exp.to_identifier(schema, quoted=True))
        node.set("this", exp.to_identifier(table, quoted=True))
    return parsed.tree.sql(dialect=DUCKDB, comments=False)


def view_name(dataset: str) -> tuple[str, str]:
    """The schema and view of a dataset's policy view: ``population.residents`` → (population, residents)."""
    schema, _, table = dataset.partition(".")
    return schema, table


@dataclass(frozen=True)
class Prepared:
    """A checked query and the text DuckDB runs for it; shared between requests, never changed."""

    parsed: Parsed
    sql: str


@lru_cache(maxsize=512)
def prepare(sql: str, dialect: str | None = None) -> Prepared:
    """:func:`parse` and :func:`rewrite`, remembered for the last queries seen (a dashboard repeats
    its queries; refusals are not remembered). What is left per request is the policy: which
    datasets the caller may read, and :func:`access.sql.taint.check` of its masks."""
    parsed = parse(sql, dialect)
    try:
        return Prepared(parsed, rewrite(parsed))
    except RecursionError:
        raise SqlRefused("the query is nested too deeply", Rule.size) from None
