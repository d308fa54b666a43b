"""The Lucene/Solr query syntax of CKAN's ``fq`` (and ``q`` with a ``field:``), as a predicate.

``luqum`` parses the text (its thread-safe entry point: the API answers from a thread pool); this
module turns the tree into a function of one record, over the fields a caller names:

- ``field:value`` and ``field:"a phrase"``; ``field:(a OR b)``; a bare word searches the text;
- ``AND`` / ``OR`` / ``NOT`` / ``&&`` / ``||``, ``+`` and ``-`` prefixes, parentheses; terms side by
  side must all hold (CKAN's Solr runs with ``q.op=AND``);
- ranges ``[X TO Y]``, ``{X TO Y}`` (exclusive), ``[X TO *]``, ``[* TO Y]`` on dates (ISO 8601 with
  ``Z`` or an offset, a bare date, Solr's ``NOW`` with date math such as ``NOW-1DAY`` or
  ``NOW/DAY``) and on numbers;
- ``*`` and ``?`` wildcards in values; ``field:*`` is "has a value"; ``*:*`` matches everything.

Whatever cannot be parsed, an unknown field, a range on a text field, a date or a number that is not
one, fuzzy (``~``), regular expressions (``/.../``) and boosts on non-terms are refused with
:class:`catalog.errors.SearchError` naming the problem (CKAN: 409 Search Error). Size is bounded
before parsing (:mod:`hub.limits`): characters, terms, nesting.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from fnmatch import fnmatchcase
from typing import Generic, TypeVar

from luqum import tree
from luqum.exceptions import ParseError
from luqum.thread import parse

from catalog.errors import SearchError, SearchQueryError
from hub import limits

T = TypeVar("T")
Predicate = Callable[[T], bool]


class Kind(Enum):
    string = "string"
    """Exact values (Solr ``string``): tags, organization, res_format, license_id, …"""
    text = "text"
    """Words in text (Solr ``text``): matched as the free-text search matches."""
    date = "date"
    number = "number"


@dataclass(frozen=True)
class Field(Generic[T]):
    kind: Kind
    values: Callable[[T], Iterable[object]]
    """String and text fields: the strings; date fields: aware datetimes; number fields: ints."""


@dataclass
class Compiled(Generic[T]):
    predicate: Callable[[T], bool]
    words: list[str] = field(default_factory=list)
    """Free-text words that count towards the score (not under NOT)."""
    terms: int = 0


TextMatch = Callable[[T, str, str | None], bool]
"""Does this record's text in a field (None: its whole search text) hold the word?"""

_OPS = re.compile(r"(?<=\s)(&&|\|\|)(?=\s)")
_DATE = re.compile(
    r"(?P<anchor>NOW|\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?)"
    r"(?P<math>(?:[+-]\d{1,6}[A-Z]+|/[A-Z]+)*)"
)
_MATH = re.compile(r"([+-]\d{1,6}|/)([A-Z]+)")
_UNITS = {
    "YEAR": "years",
    "YEARS": "years",
    "MONTH": "months",
    "MONTHS": "months",
    "DAY": "days",
    "DAYS": "days",
    "DATE": "days",
    "HOUR": "hours",
    "HOURS": "hours",
    "MINUTE": "minutes",
    "MINUTES": "minutes",
    "SECOND": "seconds",
    "SECONDS": "seconds",
    "MILLI": "milliseconds",
    "MILLIS": "milliseconds",
    "MILLISECOND": "milliseconds",
    "MILLISECONDS": "milliseconds",
}
MAX_DEPTH = 8
"""Deepest nesting of parentheses and NOTs accepted."""


def invalid(where: str, text: str, why: str) -> SearchError:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return SearchError(f"Search Query is invalid: {where} {shown!r}: {why}")


def _depth(text: str) -> int:
    """The deepest parenthesis nesting, counted outside quoted phrases."""
    depth = deepest = 0
    quoted = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif not quoted and ch == ")":
            depth -= 1
    return deepest


def compile_query(where: str, text: str, fields: Mapping[str, Field[T]], text_match: TextMatch[T]) -> Compiled[T]:
    """The predicate of ``text`` (``where``: ``q`` or ``fq``, for messages)."""
    if len(text) > limits.MAX_QUERY_CHARS:
        raise SearchQueryError(f"the query is {len(text):,} characters; at most {limits.MAX_QUERY_CHARS} are accepted")
    if _depth(text) > MAX_DEPTH:
        raise SearchQueryError(f"{where} nests parentheses deeper than {MAX_DEPTH} levels")
    if not text.strip():
        return Compiled(lambda _: True)
    try:
        parsed = parse(_OPS.sub(lambda m: "AND" if m.group(1) == "&&" else "OR", f" {text} ").strip())
    except ParseError as exc:
        raise invalid(where, text, str(exc).replace("  ", " ")) from None
    except (RecursionError, ValueError, TypeError) as exc:  # luqum's own checks of odd trees
        raise invalid(where, text, type(exc).__name__) from None
    builder = _Builder(where, text, fields, text_match)
    predicate = builder.node(parsed, None, 0, negated=False)
    return Compiled(predicate, builder.words, builder.terms)


class _Builder(Generic[T]):
    def __init__(self, where: str, text: str, fields: Mapping[str, Field[T]], text_match: TextMatch[T]):
        self.where, self.source, self.fields, self.text_match = where, text, fields, text_match
        self.words: list[str] = []
        self.terms = 0

    def fail(self, why: str) -> SearchError:
        return invalid(self.where, self.source, why)

    def leaf(self) -> None:
        self.terms += 1
        if self.terms > limits.MAX_QUERY_TERMS:
            raise SearchQueryError(f"the query has more than {limits.MAX_QUERY_TERMS} terms")

    def node(self, node: tree.Item, name: str | None, depth: int, *, negated: bool) -> Callable[[T], bool]:
        if depth > 4 * MAX_DEPTH:
            raise SearchQueryError(f"{self.where} nests deeper than {MAX_DEPTH} levels")
        down = depth + 1
        if isinstance(node, tree.AndOperation | tree.UnknownOperation):
            parts = [self.node(c, name, down, negated=negated) for c in node.children]
            return lambda r: all(p(r) for p in parts)
        if isinstance(node, tree.OrOperation):
            parts = [self.node(c, name, down, negated=negated) for c in node.children]
            return lambda r: any(p(r) for p in parts)
        if isinstance(node, tree.Not | tree.Prohibit):
            inner = self.node(node.a, name, down, negated=not negated)
            return lambda r: not inner(r)
        if isinstance(node, tree.Plus):
            return self.node(node.a, name, down, negated=negated)
        if isinstance(node, tree.Group | tree.FieldGroup):
            return self.node(node.expr, name, down, negated=negated)
        if isinstance(node, tree.Boost):
            return self.node(node.expr, name, down, negated=negated)
        if isinstance(node, tree.SearchField):
            if name is not None:
                raise self.fail(f"field {node.name!r} inside field {name!r}")
            if node.name == "*":
                if not (isinstance(node.expr, tree.Word) and node.expr.value == "*"):
                    raise self.fail("'*' stands for a field only in *:*")
                self.leaf()
                return lambda r: True
            if node.name not in self.fields:
                known = ", ".join(sorted(self.fields))
                raise self.fail(f"unknown field {node.name!r}; search on one of: {known}")
            return self.node(node.expr, node.name, down, negated=negated)
        if isinstance(node, tree.Range):
            self.leaf()
            return self.range(name, node.low.value, node.high.value, node.include_low, node.include_high)
        if isinstance(node, tree.From | tree.To):
            self.leaf()
            value = node.a.value
            if isinstance(node, tree.From):
                return self.range(name, value, "*", node.include, True)
            return self.range(name, "*", value, True, node.include)
        if isinstance(node, tree.Fuzzy | tree.Proximity):
            raise self.fail("fuzzy and proximity searches (~) are not supported")
        if isinstance(node, tree.Regex):
            raise self.fail("regular expressions (/.../) are not supported")
        if isinstance(node, tree.Phrase):
            self.leaf()
            return self.value(name, _unescape(node.value[1:-1]), phrase=True, negated=negated)
        if isinstance(node, tree.Word):
            self.leaf()
            return self.value(name, _unescape(node.value), phrase=False, negated=negated)
        raise self.fail(f"{type(node).__name__} is not supported")

    def value(self, name: str | None, value: str, *, phrase: bool, negated: bool) -> Callable[[T], bool]:
        if len(value) > limits.MAX_WORD_CHARS:
            most = limits.MAX_WORD_CHARS
            raise SearchQueryError(f"search words are at most {most} characters, got {value[:20]!r}...")
        if name is None:
            if value == "*":
                return lambda r: True
            word = value.lower()
            if not negated:
                self.words.append(word.replace("*", "").replace("?", ""))
            return self.words_in(None, word, wild=not phrase)
        spec = self.fields[name]
        if value == "*" and not phrase:
            return lambda r: any(v not in (None, "") for v in spec.values(r))
        if spec.kind is Kind.text:
            return self.words_in(name, value.lower(), wild=not phrase)
        if spec.kind is Kind.string:
            if not phrase and ("*" in value or "?" in value):
                return lambda r: any(fnmatchcase(str(v), value) for v in spec.values(r))
            return lambda r: value in spec.values(r)
        return self.range(name, value, value, True, True)

    def words_in(self, name: str | None, word: str, *, wild: bool) -> Callable[[T], bool]:
        pieces = [p for p in re.split(r"[*?]+", word) if p] if wild else [word]
        match = self.text_match
        return lambda r: all(match(r, p, name) for p in pieces)

    def range(self, name: str | None, low: str, high: str, inc_low: bool, inc_high: bool) -> Callable[[T], bool]:
        if name is None:
            raise self.fail("a range needs a field: metadata_modified:[2024-01-01T00:00:00Z TO *]")
        spec = self.fields[name]
        if spec.kind is Kind.text:
            raise self.fail(f"{name} is a text field; ranges are for dates, numbers and names")
        convert: Callable[[str], object] = {
            Kind.date: lambda v: parse_date(v, self.fail),
            Kind.number: lambda v: _number(v, self.fail),
            Kind.string: lambda v: v,
        }[spec.kind]
        lo = None if low == "*" else convert(_unescape(low).strip('"'))
        hi = None if high == "*" else convert(_unescape(high).strip('"'))

        def within(v: object) -> bool:
            if lo is not None and (v < lo if inc_low else v <= lo):  # type: ignore[operator]
                return False
            return not (hi is not None and (v > hi if inc_high else v >= hi))  # type: ignore[operator]

        return lambda r: any(within(v) for v in spec.values(r) if v is not None)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _number(value: str, fail: Callable[[str], SearchError]) -> float:
    try:
        return float(int(value)) if re.fullmatch(r"[+-]?\d{1,18}", value) else float(value)
    except ValueError:
        raise fail(f"{value!r} is not a number") from None


def parse_date(value: str, fail: Callable[[str], SearchError], now: dt.datetime | None = None) -> dt.datetime:
    """A Solr date (ISO 8601, or NOW) with optional date math, as an aware UTC datetime."""
    m = _DATE.fullmatch(value)
    if m is None:
        raise fail(f"{value!r} is not a date: give 2024-01-01T00:00:00Z, NOW, NOW-1DAY or NOW/DAY")
    anchor = m.group("anchor")
    if anchor == "NOW":
        moment = now or dt.datetime.now(dt.UTC)
    else:
        text = re.sub(r"(\.\d{6})\d+", r"\1", anchor).replace("Z", "+00:00")
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise fail(f"{value!r} is not a date") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    for op, unit in _MATH.findall(m.group("math")):
        if unit not in _UNITS:
            raise fail(f"unknown unit {unit!r} in {value!r}; use DAY, MONTH, YEAR, HOUR, MINUTE, SECOND")
        moment = _round(moment, _UNITS[unit]) if op == "/" else _shift(moment, int(op), _UNITS[unit])
    return moment.astimezone(dt.UTC)


def _shift(moment: dt.datetime, n: int, unit: str) -> dt.datetime:
    if unit in ("years", "months"):
        months = moment.month - 1 + n * (12 if unit == "years" else 1)
        year, month = moment.year + months // 12, months % 12 + 1
        if not 1 <= year <= 9999:
            return dt.datetime.max.replace(tzinfo=dt.UTC) if n > 0 else dt.datetime.min.replace(tzinfo=dt.UTC)
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day)
    try:
        return moment + dt.timedelta(**{unit: n})
    except OverflowError:
        return dt.datetime.max.replace(tzinfo=dt.UTC) if n > 0 else dt.datetime.min.replace(tzinfo=dt.UTC)


def _round(moment: dt.datetime, unit: str) -> dt.datetime:
    if unit == "milliseconds":
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    keep = ["years", "months", "days", "hours", "minutes", "seconds"].index(unit)
    month, day, hour, minute, second = [(1, 1, 0, 0, 0)[i] if i >= keep else None for i in range(5)]
    return moment.replace(
        month=month or moment.month,
        day=day or moment.day,
        hour=moment.hour if hour is None else hour,
        minute=moment.minute if minute is None else minute,
        second=moment.second if second is None else second,
        microsecond=0,
    )
