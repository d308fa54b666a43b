"""Verify: does a record with these values exist? Answered yes or no, never with the stored value.

The caller names values for some fields (for example an ID number and a name) and, optionally,
clear fields that scope the question (``street_code``). At least one identifying field (the
primary key or a unique field) must be among them, so every question is about one record and
cannot sweep the table. Every field may be checked, restricted ones included: the value the
hub holds never leaves it. The grant's row filter applies: a caller learns nothing about rows
outside its grant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from access.policy import Policy
from access.query import SQL_TYPES, keyed
from contracts.model import Contract
from hub.errors import BadParameter
from warehouse.duck import quote
from warehouse.serving import TABLE

MAX_FIELDS = 8


@dataclass(frozen=True)
class Question:
    contract: Contract
    policy: Policy
    values: Mapping[str, str]

    def sql(self) -> tuple[str, list[object]]:
        if not self.values:
            raise BadParameter('name the values to check, e.g. {"match": {"id_number": "..."}}', column="match")
        if len(self.values) > MAX_FIELDS:
            raise BadParameter(f"at most {MAX_FIELDS} fields are checked at once", column="match")
        by_name = {f.name: f for f in self.contract.fields}
        unknown = [n for n in self.values if n not in by_name]
        if unknown:
            raise BadParameter(f"unknown fields {unknown}; fields: {', '.join(by_name)}", column="match")
        identifying = [n for n in self.values if by_name[n].primary_key or by_name[n].unique]
        if not identifying:
            keys = [f.name for f in self.contract.fields if f.primary_key or f.unique]
            raise BadParameter(
                f"a verify question names one record: include an identifying field ({', '.join(keys)})",
                column="match",
            )
        clauses: list[str] = []
        params: list[object] = []
        for name, value in self.values.items():
            field = by_name[name]
            if field.type == "geometry":
                raise BadParameter(f"{name} is a geometry; it cannot be verified by value", column=name)
            if not isinstance(value, str | int | float | bool) or len(str(value)) > 500:
                raise BadParameter(f"the value for {name} must be a short text or number", column=name)
            clauses.append(f"{quote(name)} = TRY_CAST(? AS {SQL_TYPES[field.type]})")
            params.append(str(value))
        if self.policy.row_filter:
            clauses.append(f"({self.policy.row_filter})")
        key_fields = [f for f in self.contract.fields if f.primary_key]
        if key_fields and all(f.name in self.values for f in key_fields):  # through the key index
            prefix, pinned = keyed(key_fields, {k: str(v) for k, v in self.values.items()})
            return f"{prefix}SELECT EXISTS (SELECT 1 FROM keyed WHERE {' AND '.join(clauses)})", pinned + params
        return f"SELECT EXISTS (SELECT 1 FROM {TABLE} WHERE {' AND '.join(clauses)})", params
