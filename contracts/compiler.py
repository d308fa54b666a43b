"""Compile a contract into a Great Expectations suite.

Every expectation carries ``meta`` with the field and the contract rule it enforces, so a
failing row can be reported as (row, column, rule, value) rather than as an expectation name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from contracts.model import Contract, Field

if TYPE_CHECKING:
    from ingest.references import ReferenceSet


def _meta(field: Field, rule: str, **extra: Any) -> dict[str, Any]:
    return {"column": field.name, "rule": rule, **extra}


def field_expectations(field: Field, today: dt.date) -> list[Any]:
    """The expectations one field's rules compile to, in the order they are reported."""
    import great_expectations.expectations as gxe

    from standards import expectations as std

    col = field.name
    out: list[Any] = []
    if field.required:
        out.append(gxe.ExpectColumnValuesToNotBeNull(column=col, meta=_meta(field, "required")))
    if field.unique:
        out.append(gxe.ExpectColumnValuesToBeUnique(column=col, meta=_meta(field, "unique")))
    if field.pattern:
        out.append(gxe.ExpectColumnValuesToMatchRegex(column=col, regex=field.pattern, meta=_meta(field, "pattern")))
    if field.standard:
        dated = {"today": today.isoformat()} if field.standard == "gb11643" else {}
        meta = _meta(field, f"standard:{field.standard}", standard=field.standard)
        out.append(std.expectation_for(field.standard, col, meta=meta, **dated))
    if field.code_table:
        out.append(
            std.ExpectColumnValuesToBeInCodeTable(
                column=col,
                table=field.code_table,
                version=field.code_table_version,
                meta=_meta(field, f"code_table:{field.code_table}", table=field.code_table),
            )
        )
    if field.not_after_today:
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=col,
                max_value=dt.datetime.combine(today, dt.time.max),
                meta=_meta(field, "not_after_today", today=today.isoformat()),
            )
        )
    if field.agrees_with_id_number:
        kind = {"date": std.ExpectColumnPairIdNumberToAgreeWithBirthDate}.get(
            field.type, std.ExpectColumnPairIdNumberToAgreeWithSex
        )
        out.append(
            kind(
                column_A=field.agrees_with_id_number,
                column_B=col,
                meta=_meta(field, "agrees_with_id_number", id_column=field.agrees_with_id_number),
            )
        )
    return out


def reference_expectation(field: Field, pinned: ReferenceSet) -> Any:
    """The field's values are keys of the referenced dataset's pinned version; ``meta`` carries the
    version and the strength (hard: rows rejected; soft: reported)."""
    from standards import expectations as std

    ref = pinned.reference
    meta = _meta(
        field,
        ref.rule,
        dataset=ref.dataset,
        referenced_key=ref.field,
        dataset_version=pinned.version,
        strength=ref.strength.value,
    )
    return std.ExpectColumnValuesToExistInDataset(
        column=field.name,
        dataset=ref.dataset,
        key=ref.field,
        dataset_version=pinned.version,
        snapshot_id=pinned.snapshot_id,
        serving_copy=str(pinned.serving_copy),
        meta=meta,
    )


def key_expectations(contract: Contract) -> list[Any]:
    """The primary key is unique: one column (unless already declared unique) or the compound."""
    import great_expectations.expectations as gxe

    keys = contract.primary_key
    if len(keys) == 1:
        field = contract.field(keys[0])
        if field.unique:
            return []
        return [gxe.ExpectColumnValuesToBeUnique(column=keys[0], meta=_meta(field, "unique", key=keys))]
    meta = {"column": keys[0], "rule": "unique", "key": keys}
    return [gxe.ExpectCompoundColumnsToBeUnique(column_list=keys, meta=meta)]


def compile_suite(contract: Contract, today: dt.date | None = None, references: Sequence[ReferenceSet] = ()) -> Any:
    """Return a ``great_expectations.ExpectationSuite`` for the contract; ``references`` are its
    fields' references pinned to the referenced datasets' versions (:mod:`ingest.references`)."""
    import great_expectations as gx

    today = today or dt.date.today()
    expectations = [e for field in contract.fields for e in field_expectations(field, today)]
    expectations += [reference_expectation(contract.field(p.column), p) for p in references]
    expectations += key_expectations(contract)
    return gx.ExpectationSuite(name=f"{contract.id}@{contract.version}", expectations=expectations)
