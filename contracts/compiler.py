"""Compile a contract into a Great Expectations suite.

Every expectation carries ``meta`` with the field and the contract rule it enforces, so a
failing row can be reported as (row, column, rule, value) rather than as an expectation name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from contracts.model import Contract, Field


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


def compile_suite(contract: Contract, today: dt.date | None = None) -> Any:
    """Return a ``great_expectations.ExpectationSuite`` for the contract."""
    import great_expectations as gx

    today = today or dt.date.today()
    expectations = [e for field in contract.fields for e in field_expectations(field, today)]
    expectations += key_expectations(contract)
    return gx.ExpectationSuite(name=f"{contract.id}@{contract.version}", expectations=expectations)
