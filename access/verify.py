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

import duckdb

from access.policy import Policy
from access.query import ROW_STORE_TYPES, SQL_TYPES, keyed, keyed_rows
from contracts.model import Contract, Field
from hub.errors import BadParameter
from warehouse import rowstore
from warehouse.duck import quote
from warehouse.serving import TABLE

MAX_FIELDS = 8


@dataclass(frozen=True)
class Question:
    contract: Contract
    policy: Policy
    values: Mapping[str, str]

    def _checked(self) -> list[tuple[Field, str]]:
        """The fields and values asked about, refused unless they name one record."""
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
        out: list[tuple[Field, str]] = []
        for name, value in self.values.items():
            field = by_name[name]
            if field.type == "geometry":
                raise BadParameter(f"{name} is a geometry; it cannot be verified by value", column=name)
            if not isinstance(value, str | int | float | bool) or len(str(value)) > 500:
                raise BadParameter(f"the value for {name} must be a short text or number", column=name)
            out.append((field, str(value)))
        return out

    def sql(self, store: rowstore.RowStore | None = None) -> tuple[str, list[object]]:
        """The question as one DuckDB query over the serving copy (whose row store ``store``, if
        any, finds the key's rows)."""
        checked = self._checked()
        clauses = [f"{quote(f.name)} = TRY_CAST(? AS {SQL_TYPES[f.type]})" for f, _ in checked]
        params: list[object] = [value for _, value in checked]
        if self.policy.row_filter:
            clauses.append(f"({self.policy.row_filter})")
        key_fields = [f for f in self.contract.fields if f.primary_key]
        if key_fields and all(f.name in self.values for f in key_fields):  # through the key index
            values = {k: str(v) for k, v in self.values.items()}
            prefix, pinned = keyed(key_fields, values, keyed_rows(store, key_fields, values))
            return f"{prefix}SELECT EXISTS (SELECT 1 FROM keyed WHERE {' AND '.join(clauses)})", pinned + params
        return f"SELECT EXISTS (SELECT 1 FROM {TABLE} WHERE {' AND '.join(clauses)})", params

    def row_store_sql(self) -> tuple[str, list[object]] | None:
        """The question as one query on the copy's row store (:mod:`warehouse.rowstore`), whose
        stored columns are indexed on the primary key and unique fields; None when it must run on
        DuckDB (a grant's row filter, or a value of a type DuckDB casts by its own rules)."""
        checked = self._checked()
        if self.policy.row_filter or any(f.type not in ROW_STORE_TYPES for f, _ in checked):
            return None
        clauses = " AND ".join(f"{quote(rowstore.column(f.name, rowstore.CLEAR))} = ?" for f, _ in checked)
        return f"SELECT EXISTS (SELECT 1 FROM {rowstore.TABLE} WHERE {clauses})", [value for _, value in checked]

    def ask(
        self, cur: duckdb.DuckDBPyConnection, store: rowstore.RowStore | None, budget: int | None = None
    ) -> tuple[bool, str, list[object]]:
        """The answer, and the query and parameters that gave it (for the audit record): on the
        copy's row store when it has one and the question can be asked there. With a ``budget``
        only there, within it (see :meth:`warehouse.rowstore.RowStore.fetch`)."""
        fast = self.row_store_sql() if store is not None else None
        if store is not None and fast is not None:
            sql, params = fast
            ((found,),) = store.fetch(sql, params, budget=budget)
        elif budget is not None:
            raise rowstore.OverBudget("this question is asked of DuckDB")
        else:
            sql, params = self.sql(store)
            (found,) = cur.execute(sql, params).fetchall()[0]
        return bool(found), sql, params
