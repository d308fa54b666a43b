"""Masked columns in predicates: refused unless the grant has the field in clear.

In a policy view a masked field holds only its masked text (``110101************``), so no
expression can reach the clear value. Comparing the masked text would still mislead: a caller who
writes ``WHERE id_number = '110101199003074477'`` would read "no such person" in an empty answer.
So, like the records API (which refuses filters and sorts on masked fields), the guard refuses a
masked column — or anything computed from one — wherever it would be compared:

- in ``WHERE``, ``HAVING``, ``QUALIFY``, ``JOIN ... ON`` / ``USING``, aggregate ``FILTER``;
- in a ``CASE WHEN`` / ``IF`` condition and the operand of a simple ``CASE x WHEN``;
- in any comparison, anywhere (``= <> < > BETWEEN IN LIKE ILIKE GLOB SIMILAR TO``, ``IS DISTINCT
  FROM``, ``starts_with``, ``contains``, ``regexp_matches``, ``levenshtein`` ...);
- in ``ORDER BY`` (the query's, a window's, an aggregate's, ``WITHIN GROUP``), ordinals and
  ``ORDER BY ALL`` included;
- on either side of ``INTERSECT`` / ``EXCEPT`` (they compare whole rows), and in a ``NATURAL``
  join with a dataset that has masked fields.

Still allowed on masked columns: selecting them, any function of them in the select list,
``GROUP BY`` / ``PARTITION BY`` / ``DISTINCT`` / ``UNION`` (grouping by the masked text says no
more than the rows themselves), ``count(...)``, and ``IS [NOT] NULL`` (masks keep NULLs).

"Computed from one" is followed by name, conservatively: an alias of an expression over a masked
column, the columns of a CTE or subquery that selects one, a struct that holds one, and a table
alias used as a whole row are all treated as masked. A clear column that shares a masked column's
name is treated as masked too; rename it to compare it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from access.sql import functions
from access.sql.guard import Parsed, Rule, SqlRefused

COMPARISONS: tuple[type[exp.Expr], ...] = (
    exp.EQ,
    exp.NEQ,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Like,
    exp.ILike,
    exp.SimilarTo,
    exp.Glob,
    exp.In,
    exp.Between,
)
CONDITIONS: dict[type[exp.Expr], str] = {
    exp.Where: "a WHERE condition",
    exp.Having: "a HAVING condition",
    exp.Qualify: "a QUALIFY condition",
}


@dataclass
class Taint:
    """Names that carry masked values: columns (and what is computed from them) and whole rows."""

    names: set[str] = field(default_factory=set)
    relations: set[str] = field(default_factory=set)

    def column(self, col: exp.Column) -> bool:
        parts = [p.name.lower() for p in col.parts if isinstance(p, exp.Identifier)]
        if not parts:
            return False
        *qualifiers, name = parts
        if name in self.names or any(q in self.names for q in qualifiers):
            return True
        return not qualifiers and name in self.relations

    def find(self, node: exp.Expr) -> exp.Column | None:
        """The first masked column ``node`` computes from (a count or an ``IS NULL`` test does not)."""
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, exp.Count) or _null_test(current):
                continue
            if isinstance(current, exp.Column) and self.column(current):
                return current
            stack.extend(current.iter_expressions())
        return None

    def selects(self, query: exp.Expr) -> exp.Expr | None:
        """What in ``query``'s select list carries masked values (``*`` does when any relation does)."""
        for select in _selects(query):
            for item in select.expressions:
                if _star(item) and self.relations:
                    return item
                if (found := self.find(item)) is not None:
                    return found
        return None


def _star(node: exp.Expr) -> bool:
    """Whether ``node`` holds a ``*`` of columns (``count(*)`` holds none)."""
    return any(not isinstance(star.parent, exp.Count) for star in node.find_all(exp.Star))


def _null_test(node: exp.Expr) -> bool:
    return isinstance(node, exp.Is) and isinstance(node.expression, exp.Null)


def _selects(query: exp.Expr) -> Iterator[exp.Select]:
    if isinstance(query, exp.Select):
        yield query
    elif isinstance(query, exp.SetOperation):
        yield from _selects(query.this)
        yield from _selects(query.expression)
    elif isinstance(query, exp.Subquery | exp.Paren):
        yield from _selects(query.this)


def taint_of(parsed: Parsed, masked: Mapping[str, frozenset[str]]) -> Taint:
    """The masked names of the datasets read, and everything the query derives from them."""
    taint = Taint({name for dataset in parsed.datasets for name in masked.get(dataset, ())})
    taint.relations = {node.alias_or_name.lower() for node, dataset in parsed.tables if masked.get(dataset)}
    if not (parsed.star or parsed.names & taint.names or parsed.bare & taint.relations or _joins_by_name(parsed)):
        return Taint()  # no masked column, whole row or * is named: nothing can carry a masked value
    if not taint.names:
        return taint
    aliases = list(parsed.tree.find_all(exp.Alias))
    table_aliases = [a for a in parsed.tree.find_all(exp.TableAlias) if not _is_dataset(a, parsed)]
    changed = True
    while changed:
        size = len(taint.names) + len(taint.relations)
        for alias in aliases:
            if alias.alias and alias.alias.lower() not in taint.names and taint.find(alias.this) is not None:
                taint.names.add(alias.alias.lower())
        for table_alias in table_aliases:
            source = table_alias.parent
            body = source.this if isinstance(source, exp.CTE | exp.Subquery | exp.Lateral) else source
            if body is not None and (taint.selects(body) is not None or taint.find(body) is not None):
                taint.relations.add(table_alias.name.lower())
                taint.names.update(c.name.lower() for c in table_alias.columns)
        changed = len(taint.names) + len(taint.relations) != size
    return taint


def _joins_by_name(parsed: Parsed) -> bool:
    """Whether a join compares columns it does not name as columns (``USING``, ``NATURAL``)."""
    return any(
        j.args.get("using") or str(j.args.get("method") or "").upper() == "NATURAL"
        for j in parsed.tree.find_all(exp.Join)
    )


def _is_dataset(table_alias: exp.TableAlias, parsed: Parsed) -> bool:
    return any(node is table_alias.parent for node, _ in parsed.tables)


def check(parsed: Parsed, masked: Mapping[str, frozenset[str]]) -> None:
    """Refuse a masked column (see the module's doc) where a predicate would compare it."""
    taint = taint_of(parsed, masked)
    if not taint.names:
        return
    for node in parsed.tree.walk():
        for what, operand in _compared(node):
            found: exp.Expr | None = taint.find(operand)
            if found is None and isinstance(operand, exp.Subquery | exp.Select | exp.SetOperation):
                found = taint.selects(operand)
            if found is not None:
                raise _refusal(found, what, masked)
        if isinstance(node, exp.Order):
            _order(node, taint, masked)
        elif isinstance(node, exp.Intersect | exp.Except):
            row = taint.selects(node)
            if row is not None:
                raise _refusal(row, f"{node.key.upper()} (it compares whole rows)", masked)
        elif isinstance(node, exp.Join):
            _join(node, taint, masked)


def _compared(node: exp.Expr) -> Iterator[tuple[str, exp.Expr]]:
    """The operands ``node`` compares, with a description of where."""
    if type(node) in CONDITIONS:
        yield CONDITIONS[type(node)], node.this
    elif isinstance(node, COMPARISONS) or functions.comparing(node):
        for operand in node.iter_expressions():
            yield "a comparison", operand
    elif isinstance(node, exp.Is) and not isinstance(node.expression, exp.Null):
        yield "a comparison", node.this
    elif isinstance(node, exp.If):
        yield "a CASE WHEN / IF condition", node.this
    elif isinstance(node, exp.Case) and node.this is not None:
        yield "a CASE operand", node.this
    elif isinstance(node, exp.Join) and node.args.get("on") is not None:
        yield "a JOIN condition", node.args["on"]


def _join(node: exp.Join, taint: Taint, masked: Mapping[str, frozenset[str]]) -> None:
    for ident in node.args.get("using") or []:
        name = ident.name if isinstance(ident, exp.Identifier | exp.Column) else str(ident)
        if name.lower() in taint.names:
            raise _refusal(exp.column(name), "JOIN ... USING", masked)
    if str(node.args.get("method") or "").upper() == "NATURAL" and taint.relations:
        raise SqlRefused(
            "a NATURAL join with a dataset that has masked fields would compare them; join ON clear fields",
            Rule.masked_predicate,
        )


def _order(node: exp.Order, taint: Taint, masked: Mapping[str, frozenset[str]]) -> None:
    for ordered in node.expressions:
        key = ordered.this if isinstance(ordered, exp.Ordered) else ordered
        for item in _order_items(node, key):
            found: exp.Expr | None = taint.find(item)
            if found is None and _star(item) and taint.relations:
                found = item
            if found is not None:
                raise _refusal(found, "ORDER BY", masked)


def _order_items(order: exp.Order, key: exp.Expr) -> list[exp.Expr]:
    """What an ORDER BY key sorts by: itself, or the select items an ordinal or ALL points at."""
    query = order.parent
    selects = list(_selects(query)) if isinstance(query, exp.Select | exp.SetOperation) else []
    items = selects[0].expressions if selects else []
    if isinstance(key, exp.Var) and key.name.upper() == "ALL":
        return list(items)
    if isinstance(key, exp.Literal) and key.is_int and any(_star(item) for item in items):
        return list(items)  # an ordinal into ``*`` may point at any column
    if isinstance(key, exp.Literal) and key.is_int and items:
        position = int(key.name)
        return [items[position - 1]] if 1 <= position <= len(items) else []
    return [key]


def _refusal(found: exp.Expr, what: str, masked: Mapping[str, frozenset[str]]) -> SqlRefused:
    name = found.name if isinstance(found, exp.Column) else found.sql(dialect="duckdb")
    direct = any(name.lower() in names for names in masked.values())
    origin = "is released masked" if direct else "is computed from a masked field"
    return SqlRefused(
        f"{name} {origin}: {what} on it would compare the masked text, not the value; only fields "
        "granted in clear may be compared, filtered on or sorted by",
        Rule.masked_predicate,
    )
