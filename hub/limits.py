"""Bounds on what a caller may ask for: one place for the numbers and the range-checked integer.

Every route reads its integer parameters through :func:`bounded_int`, so an offset of ``2**63``
or ``10**30`` is a 4xx in the route's own error shape, never an overflow deep in SQL.
"""

from __future__ import annotations

import re

from hub.errors import BadParameter

__all__ = ["BadParameter", "bounded_int", "bounded_text"]

_INTEGER = re.compile(r"[+-]?[0-9]+")
MAX_OFFSET = 2**31 - 1
"""Largest offset/start any listing accepts (CKAN's own Solr limit)."""
MAX_INT_TEXT = 20
"""Longest text accepted for an integer parameter."""
MAX_QUERY_CHARS = 500
"""Longest package_search ``q`` / ``fq``."""
MAX_QUERY_TERMS = 20
"""Most words and field:value terms in one search."""
MAX_WORD_CHARS = 64
"""Longest single search word (Chinese words are matched by their two-character pieces)."""
MAX_CURSOR_CHARS = 200
"""Longest pagination cursor."""
MAX_SORT_CHARS = 200
"""Longest ``sort`` (package_search, datastore_search)."""
MAX_TEXT_CHARS = 500
"""Longest free-text filter elsewhere: datastore_search ``q``, tag_list ``query``."""


def bounded_int(value: object, name: str, default: int, *, minimum: int = 0, maximum: int = MAX_OFFSET) -> int:
    """``value`` as an integer in ``[minimum, maximum]``; ``default`` when absent; else :class:`BadParameter`."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise BadParameter(f"{name} must be an integer, got {value!r}", column=name, rule="integer")
    text = str(value).strip()
    if len(text) > MAX_INT_TEXT:
        raise BadParameter(f"{name} must be an integer from {minimum} to {maximum}", column=name, rule="range")
    if not _INTEGER.fullmatch(text):
        raise BadParameter(f"{name} must be an integer, got {text!r}", column=name, rule="integer")
    number = int(text)
    if not minimum <= number <= maximum:
        raise BadParameter(f"{name} must be from {minimum} to {maximum}, got {number}", column=name, rule="range")
    return number


def bounded_text(value: object, name: str, *, maximum: int) -> str:
    text = "" if value is None else str(value)
    if len(text) > maximum:
        raise BadParameter(
            f"{name} is {len(text):,} characters; at most {maximum} are accepted", column=name, rule="length"
        )
    return text
