"""package_search without a search engine: substring and bigram matching, filters, facets, sort.

Chinese has no spaces, so words are not tokenized: a term matches when it is a substring of the
dataset's search text (人口 finds 常住人口), and a Chinese term of three or more characters also
matches when at least two thirds of its two-character pieces occur (东城区常住人口 finds a dataset
whose text has 东城区 and 常住人口 apart; 火星人口 does not find it, one piece in three). There is no
pinyin package, so pinyin and English are found through the contract's tags and English title.
The search text (``Dataset.search_text``) is rebuilt whenever a dataset changes; SQL narrows the
candidates with LIKE, and scoring, filters and facets run in Python (catalogues hold thousands of
datasets, not millions).
"""

from __future__ import annotations

import json
import re
import shlex
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from catalog import licences
from catalog.errors import SearchQueryError
from catalog.models import Dataset
from hub import limits

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
ROWS_DEFAULT, ROWS_MAX = 10, 1000


def search_text(ds: Dataset) -> str:
    """Everything a search may hit, lower-cased: titles, notes, tags, fields, department, groups."""
    words = [ds.name, ds.key, ds.title, ds.title_en or "", ds.notes, *ds.tags]
    words += [f"{f.get('name', '')} {f.get('title', '')}" for f in ds.fields]
    words += [ds.organization.title, ds.organization.title_en or "", ds.resource_code or ""]
    words += [f"{g.name} {g.title} {g.title_en or ''}" for g in ds.groups]
    return " ".join(w for w in words if w).lower()


def _values(ds: Dataset, name: str) -> list[str]:
    getters: dict[str, Callable[[Dataset], Iterable[str | None]]] = {
        "id": lambda d: [d.id],
        "name": lambda d: [d.name],
        "title": lambda d: [d.title],
        "organization": lambda d: [d.organization.name],
        "owner_org": lambda d: [d.organization_id],
        "tags": lambda d: d.tags,
        "groups": lambda d: [g.name for g in d.groups],
        "res_format": lambda d: [r.format for r in d.resources],
        "res_name": lambda d: [r.name for r in d.resources],
        "license_id": lambda d: [lic.id if (lic := licences.of_dataset(d)) else d.meta.get("license_id")],
        "sharing_type": lambda d: [d.sharing_type],
        "open_type": lambda d: [d.open_type],
        "update_frequency": lambda d: [d.update_frequency],
        "domain": lambda d: [d.domain],
        "resource_code": lambda d: [d.resource_code],
        "provider_code": lambda d: [d.organization.code],
        "capacity": lambda d: ["private" if d.private else "public"],
        "origin": lambda d: [d.origin],
    }
    return [v for v in getters[name](ds) if v is not None]


FIELDS = frozenset(
    "id name title organization owner_org tags groups res_format res_name license_id sharing_type open_type "
    "update_frequency domain resource_code provider_code capacity origin".split()
)
SortKey = Callable[[Dataset, float], Any]
SORTS: dict[str, SortKey] = {
    "score": lambda d, score: score,
    "name": lambda d, score: d.name,
    "title": lambda d, score: d.title,
    "title_string": lambda d, score: d.title,
    "metadata_modified": lambda d, score: d.modified.isoformat(),
    "metadata_created": lambda d, score: d.created.isoformat(),
    "resource_code": lambda d, score: d.resource_code or "",
}


@dataclass(frozen=True)
class Term:
    field: str
    value: str
    negate: bool = False


@dataclass
class Query:
    words: list[str] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=lambda: [("score", True), ("metadata_modified", True)])
    rows: int = ROWS_DEFAULT
    start: int = 0
    facet_fields: list[str] = field(default_factory=list)
    facet_limit: int = 50
    facet_mincount: int = 1


def _split(text: str) -> list[str]:
    """The tokens of ``q``/``fq``; bounded so one request's work is bounded (see hub.limits)."""
    if len(text) > limits.MAX_QUERY_CHARS:
        raise SearchQueryError(f"the query is {len(text):,} characters; at most {limits.MAX_QUERY_CHARS} are accepted")
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise SearchQueryError(f"cannot parse {text!r}: {exc}") from None
    if len(tokens) > limits.MAX_QUERY_TERMS:
        raise SearchQueryError(f"the query has {len(tokens)} terms; at most {limits.MAX_QUERY_TERMS} are accepted")
    long = next((t for t in tokens if len(t) > limits.MAX_WORD_CHARS), None)
    if long is not None:
        raise SearchQueryError(f"search words are at most {limits.MAX_WORD_CHARS} characters, got {long[:20]!r}...")
    return tokens


def parse_terms(text: str, *, allow_words: bool) -> tuple[list[str], list[Term]]:
    """Split ``q`` or ``fq`` into free-text words and ``field:value`` terms (``-field:value`` negates)."""
    words: list[str] = []
    terms: list[Term] = []
    for token in _split(text):
        if token in ("AND", "&&", "*:*", "*"):
            continue
        negate = token.startswith("-")
        bare = token.lstrip("+-")
        name, sep, value = bare.partition(":")
        if sep and name in FIELDS:
            terms.append(Term(name, value.strip('"'), negate))
        elif sep and re.fullmatch(r"[a-z_]+", name) and not allow_words:
            raise SearchQueryError(f"unknown field {name!r}; filter on one of: {', '.join(sorted(FIELDS))}")
        elif not allow_words:
            raise SearchQueryError(f"fq needs field:value terms, got {token!r}")
        elif bare:
            words.append(bare.lower())
    return words, terms


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


def _score(ds: Dataset, words: list[str]) -> float | None:
    if not words:
        return 1.0
    title = f"{ds.name} {ds.title} {ds.title_en or ''}".lower()
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
        else:
            return None
    return total


def _matches(ds: Dataset, terms: list[Term]) -> bool:
    for term in terms:
        hit = term.value == "*" or term.value in _values(ds, term.field)
        if hit == term.negate:
            return False
    return True


def _by(sort_key: SortKey) -> Callable[[tuple[Dataset, float]], Any]:
    return lambda pair: sort_key(pair[0], pair[1])


@dataclass
class Result:
    count: int
    datasets: list[Dataset]
    facets: dict[str, Counter[str]]


def run(s: Session, query: Query, visible: Callable[[Dataset], bool]) -> Result:
    stmt = select(Dataset).where(Dataset.state == "active", *[_word_clause(w) for w in query.words])
    scored = []
    for ds in s.scalars(stmt):
        score = _score(ds, query.words)
        if score is not None and visible(ds) and _matches(ds, query.terms):
            scored.append((ds, score))
    for name, desc in reversed(query.sort):
        scored.sort(key=_by(SORTS[name]), reverse=desc)
    facets = {f: Counter(v for ds, _ in scored for v in set(_values(ds, f))) for f in query.facet_fields}
    page = [ds for ds, _ in scored[query.start : query.start + query.rows]]
    return Result(len(scored), page, facets)


def build_query(params: dict[str, object]) -> Query:
    """A Query from package_search parameters (strings from GET, or JSON values from POST)."""
    words, terms = parse_terms(str(params.get("q") or ""), allow_words=True)
    fq_list = params.get("fq_list") or []
    fq_list = fq_list if isinstance(fq_list, list) else [fq_list]
    if len(fq_list) + 1 > limits.MAX_QUERY_TERMS:
        raise SearchQueryError(f"at most {limits.MAX_QUERY_TERMS} filter queries are accepted")
    fqs = [str(params.get("fq") or ""), *(str(x) for x in fq_list)]
    for fq in fqs:
        terms += parse_terms(fq, allow_words=False)[1]
    if len(words) + len(terms) > limits.MAX_QUERY_TERMS:
        raise SearchQueryError(f"at most {limits.MAX_QUERY_TERMS} words and filters are accepted in one search")
    query = Query(words=words, terms=terms)
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
