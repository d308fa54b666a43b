"""Masks: what a masked field shows, as SQL, and what each mask keeps of a structured value.

A mask is a pure function from a quoted column to a SQL expression, so clear values never
leave DuckDB. Masks of GB 11643 ID numbers also say which *parts* of the number they keep, and
generalizations of the fields that repeat those parts (birth date, sex) say how much of the part
they show: :mod:`contracts.disclosure` adds these up to prove a masked ID number cannot be
rebuilt from everything else the hub releases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class IdPart(StrEnum):
    """The parts of a GB 11643 ID number: 6-digit area, 8-digit birth date, 3-digit sequence, check."""

    area = "area"
    birth_date = "birth_date"
    sequence = "sequence"
    sex = "sex"  # the parity of the sequence: one bit of it
    check = "check"


class Precision(StrEnum):
    """How much of a birth date a release shows."""

    day = "day"
    month = "month"
    year = "year"
    none = "none"


def _keep(col: str, head: int, tail: int) -> str:
    return (
        f"CASE WHEN {col} IS NULL THEN NULL WHEN length({col}) <= {head + tail} THEN repeat('*', length({col})) "
        f"ELSE left({col}, {head}) || repeat('*', length({col}) - {head + tail}) || right({col}, {tail}) END"
    )


@dataclass(frozen=True)
class Mask:
    """One way of releasing a value that is not released in clear."""

    name: str
    sql: Callable[[str], str]
    shows: str
    """What a caller sees, in a sentence (for the API's field descriptions and docs)."""
    types: tuple[str, ...] = ("string",)
    """Logical types the mask applies to."""
    keeps: frozenset[IdPart] = frozenset()
    """For ID numbers: the parts left visible."""
    precision: Precision = Precision.none
    """For birth dates: what is left of the date."""
    output_type: str | None = None
    """The logical type of the released value when it differs from the field's."""


MASKS: dict[str, Mask] = {
    m.name: m
    for m in (
        Mask(
            "id_number",
            lambda c: _keep(c, 6, 0),
            "the 6-digit area code only (110101************); birth date, sequence and check digit hidden",
            keeps=frozenset({IdPart.area}),
        ),
        Mask(
            "id_number_tail",
            lambda c: _keep(c, 6, 4),
            "the area code and the last four characters (110101********4477): only where nothing in the hub "
            "releases the birth date, which the disclosure rule never allows for a person's ID number",
            keeps=frozenset({IdPart.area, IdPart.sequence, IdPart.sex, IdPart.check}),
        ),
        Mask(
            "name",
            lambda c: (
                f"CASE WHEN {c} IS NULL THEN NULL ELSE left({c}, 1) || repeat('*', greatest(length({c}) - 1, 1)) END"
            ),
            "the family name only (王**)",
        ),
        Mask("phone", lambda c: _keep(c, 3, 4), "the first three and last four digits (138****5678)"),
        Mask(
            "address",
            lambda c: f"CASE WHEN {c} IS NULL THEN NULL ELSE left({c}, 6) || '****' END",
            "down to the district only (北京市东城区****)",
        ),
        Mask("credit_code", lambda c: _keep(c, 8, 2), "the authority, type and area, and the last two characters"),
        Mask(
            "year_month",
            lambda c: f"strftime({c}, '%Y-%m')",
            "the year and month only (1990-03)",
            types=("date", "timestamp"),
            precision=Precision.month,
            output_type="string",
        ),
        Mask(
            "year",
            lambda c: f"CAST(year({c}) AS VARCHAR)",
            "the year only (1990)",
            types=("date", "timestamp"),
            precision=Precision.year,
            output_type="string",
        ),
        Mask(
            "full",
            lambda c: f"CASE WHEN {c} IS NULL THEN NULL ELSE '****' END",
            "nothing: every value is ****",
            types=("string", "integer", "number", "date", "timestamp", "boolean"),
            output_type="string",
        ),
    )
}
