"""package_search without a search engine: substring, bigram and pinyin matching, Solr-syntax filters.

Chinese has no spaces, so words are not tokenized: a term matches when it is a substring of the
dataset's search text (人口 finds 常住人口), and a Chinese term of three or more characters also
matches when at least two thirds of its two-character pieces occur (东城区常住人口 finds a dataset
whose text has 东城区 and 常住人口 apart; 火星人口 does not find it, one piece in three). The search
text carries the pinyin of titles, descriptions and tags (:mod:`catalog.pinyin`), so ``renkou``
and ``rk`` find 人口. ``fq`` (and a ``q`` with a ``field:``, as in CKAN, where such a ``q`` goes to
Solr's standard parser) is Lucene/Solr syntax, compiled by :mod:`catalog.solr` over the fields
below. The search text (``Dataset.search_text``) is rebuilt whenever a dataset changes; SQL narrows
the candidates with LIKE, and scoring, filters and facets run in Python (catalogues hold thousands
of datasets, not millions).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from catalog import licences, solr
from catalog.errors import SearchQueryError
from catalog.models import Dataset
from catalog.pinyin import romanize
from catalog.solr import Kind
from hub import limits

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
ROWS_DEFAULT, ROWS_MAX = 10, 1000


def search_text(ds: Dataset) -> str:
    """Everything a search may hit, lower-cased: titles, notes, tags, fields, department, groups."""
    words = [ds.name, ds.key, ds.title, ds.title_en or "", ds.notes, *ds.tags]
    words += [f"{f.get('name', '')} {f.get('title', '')}" for f in ds.fields]
    words += [ds.organization.title, ds.organization.title_en or "", ds.resource_code or ""]
    words += [f"{g.name} {g.title} {g.title_en or ''}" for g in ds.groups]
    # pinyin of the title and tags with initials; of the description in full only (its initials
    # would match nearly any two letters)
    words += [romanize(ds.title), romanize(" ".join(ds.tags)), romanize(ds.notes, initials=False)]
    return " ".join(w for w in words if w).lower()


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _string(get: Callable[[Dataset], Iterable[str | None]]) -> solr.Field[Dataset]:
    return solr.Field(Kind.string, get)


STRING_FIELDS: dict[str, solr.Field[Dataset]] = {
    "id": _string(lambda d: [d.id]),
    "name": _string(lambda d: [d.name]),
    "title": solr.Field(Kind.text, lambda d: [d.title]),
    "organization": _string(lambda d: [d.organization.name]),
    "owner_org": _string(lambda d: [d.organization_id]),
    "tags": _string(lambda d: d.tags),
    "groups": _string(lambda d: [g.name for g in d.groups]),
    "res_format": _string(lambda d: [r.format for r in d.resources]),
    "res_name": solr.Field(Kind.text, lambda d: [r.name for r in d.resources]),
    "license_id": _string(lambda d: [lic.id if (lic := licences.of_dataset(d)) else d.meta.get("license_id")]),
    "sharing_type": _string(lambda d: [d.sharing_type]),
    "open_type": _string(lambda d: [d.open_type]),
    "update_frequency": _string(lambda d: [d.update_frequency]),
    "domain": _string(lambda d: [d.domain]),
    "resource_code": _string(lambda d: [d.resource_code]),
    "provider_code": _string(lambda d: [d.organization.code]),
    "capacity": _string(lambda d: ["private" if d.private else "public"]),
    "origin": _string(lambda d: [d.origin]),
    "state": _string(lambda d: [d.state]),
    "dataset_type": _string(lambda d: ["dataset"]),
}
"""Fields with values to filter and facet on (``title`` and ``res_name`` match words, as in CKAN)."""
SEARCH_FIELDS: dict[str, solr.Field[Dataset]] = {
    **STRING_FIELDS,
    "text": solr.Field(Kind.text, lambda d: [d.search_text]),
    "notes": solr.Field(Kind.text, lambda d: [d.notes]),
    "res_description": solr.Field(Kind.text, lambda d: [r.description or "" for r in d.resources]),
    "metadata_modified": solr.Field(Kind.date, lambda d: [_utc(d.modified)]),
    "metadata_created": solr.Field(Kind.date, lambda d: [_utc(d.created)]),
    "num_resources": solr.Field(Kind.number, lambda d: [len(d.resources)]),
    "num_tags": solr.Field(Kind.number, lambda d: [len(d.tags)]),
}
"""Every field ``fq`` (and a ``q`` with ``field:``) may name."""
FIELDS = frozenset(STRING_FIELDS)
"""Fields to facet on."""


def _values(ds: Dataset, name: str) -> list[str]:
    return [str(v) for v in STRING_FIELDS[name].values(ds) if v is not None]


SortKey = Callable[[Dataset, float], Any]
SORTS: dict[str, SortKey] = {
    "score": lambda d, score: score,
    "id": lambda d, score: d.id,
    "name": lambda d, score: d.name,
    "title": lambda d, score: d.title,
    "title_string": lambda d, score: d.title,
    "metadata_modified": lambda d, score: _utc(d.modified).isoformat(),
    "metadata_created": lambda d, score: _utc(d.created).isoformat(),
    "resource_code": lambda d, score: d.resource_code or "",
}


Filter = Callable[[Dataset], bool]


@dataclass
class Query:
    words: list[str] = field(default_factory=list)
    """Free-text words, for the score (and, with ``required``, each must match)."""
    required: bool = True
    """``q`` without a field: every word must match (CKAN's dismax). With a field, ``filters`` decide."""
    filters: list[Filter] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=lambda: [("score", True), ("metadata_modified", True)])
    rows: int = ROWS_DEFAULT
    start: int = 0
    facet_fields: list[str] = field(default_factory=list)
    facet_limit: int = 50
    facet_mincount: int = 1


def _split(text: str) -> list[str]:
    """The words of a ``q`` without fields; bounded so one request's work is bounded (see hub.limits)."""
    if len(text) > limits.MAX_QUERY_CHARS:
        raise SearchQueryError(f"the query is {len(text):,} characters; at most {limits.MAX_QUERY_CHARS} are accepted")
    try:
        tokens = shlex.split(text)
    except ValueError:
        tokens = text.replace('"', " ").split()  # dismax forgives an unbalanced quote
    if len(tokens) > limits.MAX_QUERY_TERMS:
        raise SearchQueryError(f"the query has {len(tokens)} terms; at most {limits.MAX_QUERY_TERMS} are accepted")
    long = next((t for t in tokens if len(t) > limits.MAX_WORD_CHARS), None)
    if long is not None:
        raise SearchQueryError(f"search words are at most {limits.MAX_WORD_CHARS} characters, got {long[:20]!r}...")
    return tokens


def free_words(text: str) -> list[str]:
    """The words of a ``q`` without ``field:`` (CKAN sends it to dismax): AND, *, + and - are dropped."""
    words = []
    for token in _split(text):
        bare = token.lstrip("+-").lower()
        if token not in ("AND", "OR", "&&", "||", "*") and bare:
            words.append(bare)
    return words


def _field_text(ds: Dataset, name: str | None) -> str:
    if name is None or name == "text":
        return ds.search_text
    values = " ".join(str(v) for v in SEARCH_FIELDS[name].values(ds))
    return f"{values} {romanize(values)}".lower()


def text_hit(ds: Dataset, word: str, name: str | None = None) -> bool:
    """Does ``word`` (lower-cased) occur in the dataset's text, or most of its Chinese pieces?"""
    text = _field_text(ds, name)
    return word in text or _bigram_share(word, text) >= BIGRAM_SHARE


def _sort(text: str) -> list[tuple[str, bool]]:
    if len(text) > limits.MAX_SORT_CHARS:
        raise SearchQueryError(f"sort is {len(text):,} characters; at most {limits.MAX_SORT_CHARS} are accepted")
    out = []
    for part in text.split(","):
        bits = part.split()
        if not bits:
            continue
        name, direction = bits[0], (bits[1].lower() if len(bits) > 1 else "asc")
        if name not in SORTS or direction not in ("asc", "desc"):
            raise SearchQueryError(f"cannot sort by {part.strip()!r}; sort on {', '.join(SORTS)} with asc or desc")
        out.append((name, direction == "desc"))
    return out


def _bigrams(word: str) -> list[str]:
    """The distinct two-character pieces of ``word`` (at most MAX_WORD_CHARS - 1 of them)."""
    return list(dict.fromkeys(word[i : i + 2] for i in range(len(word) - 1)))


BIGRAM_SHARE = 2 / 3


def _word_clause(word: str) -> ColumnElement[bool]:
    """SQL prefilter: the word, or (Chinese, 3+ characters) any of its two-character pieces."""
    text = Dataset.search_text
    clause = text.contains(word, autoescape=True)
    if CJK.search(word) and len(word) >= 3:
        clause = or_(clause, *[text.contains(b, autoescape=True) for b in _bigrams(word)])
    return clause


def _bigram_share(word: str, text: str) -> float:
    if not CJK.search(word) or len(word) < 3:
        return 0.0
    pieces = _bigrams(word)
    return sum(p in text for p in pieces) / len(pieces)


def _score(ds: Dataset, words: list[str], *, required: bool = True) -> float | None:
    """Title hits weigh 3, tags 2, other text 1, most Chinese pieces less; None: a required word
    is missing."""
    if not words:
        return 1.0
    title = f"{ds.name} {ds.title} {ds.title_en or ''} {romanize(ds.title)}".lower()
    tags = " ".join(ds.tags).lower()
    total = 0.0
    for word in words:
        if word in title:
            total += 3
        elif word in tags:
            total += 2
        elif word in ds.search_text:
            total += 1
        elif (share := _bigram_share(word, ds.search_text)) >= BIGRAM_SHARE:
            total += share / 2
        elif required:
            return None
    return total


def _by(sort_key: SortKey) -> Callable[[tuple[Dataset, float]], Any]:
    return lambda pair: sort_key(pair[0], pair[1])


@dataclass
class Result:
    count: int
    datasets: list[Dataset]
    facets: dict[str, Counter[str]]


def run(s: Session, query: Query, visible: Callable[[Dataset], bool]) -> Result:
    prefilter = [_word_clause(w) for w in query.words] if query.required else []
    stmt = select(Dataset).where(Dataset.state == "active", *prefilter)
    scored = []
    for ds in s.scalars(stmt):
        score = _score(ds, query.words, required=query.required)
        if score is not None and visible(ds) and all(f(ds) for f in query.filters):
            scored.append((ds, score))
    for name, desc in reversed(query.sort):
        scored.sort(key=_by(SORTS[name]), reverse=desc)
    facets = {f: Counter(v for ds, _ in scored for v in set(_values(ds, f))) for f in query.facet_fields}
    page = [ds for ds, _ in scored[query.start : query.start + query.rows]]
    return Result(len(scored), page, facets)


def _compile(where: str, text: str) -> solr.Compiled[Dataset]:
    return solr.compile_query(where, text, SEARCH_FIELDS, text_hit)


def build_query(params: dict[str, object]) -> Query:
    """A Query from package_search parameters (strings from GET, or JSON values from POST).

    As in CKAN, a ``q`` with a ``:`` is Solr syntax (``q=tags:人口 OR title:企业``); without one
    it is free words, each of which must match. ``fq`` and every ``fq_list`` entry are Solr syntax.
    """
    q = str(params.get("q") or "")
    query = Query()
    terms = 0
    if ":" in q:
        compiled = _compile("q", q)
        query.words, query.required, terms = compiled.words, False, compiled.terms
        query.filters.append(compiled.predicate)
    else:
        query.words = free_words(q)
        terms = len(query.words)
    fq_list = params.get("fq_list") or []
    fq_list = fq_list if isinstance(fq_list, list) else [fq_list]
    if len(fq_list) + 1 > limits.MAX_QUERY_TERMS:
        raise SearchQueryError(f"at most {limits.MAX_QUERY_TERMS} filter queries are accepted")
    for fq in [str(params.get("fq") or ""), *(str(x) for x in fq_list)]:
        compiled = _compile("fq", fq)
        terms += compiled.terms
        query.filters.append(compiled.predicate)
    if terms > limits.MAX_QUERY_TERMS:
        raise SearchQueryError(f"at most {limits.MAX_QUERY_TERMS} words and filters are accepted in one search")
    if params.get("sort"):
        query.sort = _sort(str(params["sort"]))
    query.rows = min(limits.bounded_int(params.get("rows"), "rows", ROWS_DEFAULT), ROWS_MAX)
    query.start = limits.bounded_int(params.get("start"), "start", 0)
    query.facet_fields = _facet_fields(params.get("facet.field"))
    query.facet_limit = limits.bounded_int(params.get("facet.limit"), "facet.limit", 50, minimum=-1)
    query.facet_mincount = limits.bounded_int(params.get("facet.mincount"), "facet.mincount", 1)
    return query


def _facet_fields(value: object) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = [value]
    names = list(dict.fromkeys(str(v) for v in (value if isinstance(value, list) else [value])))
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        raise SearchQueryError(f"cannot facet on {unknown[:3]}; facet on one of: {', '.join(sorted(FIELDS))}")
    return names
