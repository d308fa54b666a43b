"""Validate a standardized table with the contract's Great Expectations suite.

GX reports, per expectation, the indices of the failing rows (result format COMPLETE); each is
turned into an :class:`Issue` with the contract rule and a sentence saying what is wrong.
Duplicate keys keep their first occurrence: later rows with the same key are rejected with a
pointer to the row that was kept (see docs/decisions.md).
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import pyarrow as pa

from contracts.compiler import compile_suite
from contracts.model import Contract
from ingest.issues import HEADER_ROWS, Issue
from ingest.references import ReferenceSet
from standards import registry

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

RESULT_FORMAT: dict[str, Any] = {"result_format": "COMPLETE", "return_unexpected_index_query": False}
"""Every failing row's index and value (the reject report), without ``unexpected_index_query``: on
pandas that is the same indices again as a ``df.filter(...)`` string, for which GX filters the
whole batch once more per expectation; the kept result drops it anyway
(:data:`quality.results.TRIMMED`)."""


@lru_cache(maxsize=1)
def _batch_definition() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every in-memory batch below this size by hashing all of its values (a
    # batch marker nothing in the hub reads): a third of the validation time of a batch of
    # 200,000 residents. A threshold of 0 turns the fingerprint off; what is validated, and
    # every expectation's result, stay the same.
    pandas_execution_engine.HASH_THRESHOLD = 0

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("hub")
    asset = source.add_dataframe_asset("batch")
    return asset.add_batch_definition_whole_dataframe("whole")


def _indices(result: dict[str, Any]) -> list[int]:
    out = []
    for item in result.get("unexpected_index_list") or []:
        out.append(int(next(iter(item.values()))) if isinstance(item, dict) else int(item))
    return out


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _message(rule: str, meta: dict[str, Any], value: str | None, kept_row: int | None, id_value: str | None) -> str:
    if rule == "required":
        return "required value is missing"
    if rule == "unique":
        return f"duplicate of row {kept_row}: the first occurrence is kept"
    if rule.startswith("standard:"):
        reason = registry.check(meta["standard"], value or "").reason
        return reason or f"not a valid {meta['standard']} value"
    if rule.startswith("code_table:"):
        return f"{value!r} is not a code of table {meta['table']}"
    if rule == "not_after_today":
        return f"date {value} is after the export date {meta['today']}"
    if rule == "agrees_with_id_number":
        return f"does not agree with {meta['id_column']} {id_value!r}"
    if rule == "pattern":
        return f"{value!r} does not match the required pattern"
    if rule.startswith("reference:"):
        where = f"{meta['dataset']} version {meta['dataset_version']}"
        found = f"{value!r} is not a {meta['referenced_key']} of {where}"
        return found + (" (reported; the row is kept)" if meta.get("strength") == "soft" else "")
    return f"fails rule {rule}"


def row_keys(table: pa.Table, columns: list[str], rows: Sequence[int] | None = None) -> list[Any]:
    """Each row's key (of ``rows`` only, in that order, when given): the value for one column, a
    tuple for a compound key."""
    picked = [table.column(c) if rows is None else table.column(c).take(pa.array(rows, pa.int64())) for c in columns]
    values = [col.to_pylist() for col in picked]
    return values[0] if len(columns) == 1 else list(zip(*values, strict=True))


def _first_rows(rows: Sequence[int], keys: Sequence[Any]) -> dict[Any, int]:
    """The first of ``rows`` each (non-null) key appears at."""
    first: dict[Any, int] = {}
    for i, k in zip(rows, keys, strict=True):
        if k is not None and (k not in first or i < first[k]):
            first[k] = i
    return first


def issues_from_results(results: Iterable[Any], table: pa.Table, offset: int = 0) -> list[Issue]:
    """Issues at the table's row indices; ``offset`` (the batch's first record in the file) only
    enters the messages that name another row (a duplicate's first occurrence).

    A duplicate's first occurrence is found among the failing rows alone: GX's uniqueness
    expectations fail every row of a repeated key (pandas' ``duplicated(keep=False)``), so the
    first row of the batch with that key is the first failing one, and its key is kept."""
    issues: list[Issue] = []
    for res in results:
        if res.exception_info and res.exception_info.get("raised_exception"):
            raise RuntimeError(f"expectation {res.expectation_config.type} failed to run: {res.exception_info}")
        if res.success:
            continue
        meta = res.expectation_config.meta or {}
        rule, column = meta["rule"], meta["column"]
        soft = meta.get("strength") == "soft"
        idx = _indices(res.result)
        at = pa.array(idx, pa.int64())
        values = table.column(column).take(at).to_pylist() if idx else []
        keys = row_keys(table, meta.get("key", [column]), idx) if rule == "unique" else []
        first = _first_rows(idx, keys) if rule == "unique" else {}
        ids = table.column(meta["id_column"]).take(at).to_pylist() if "id_column" in meta and idx else []
        for n, (i, v) in enumerate(zip(idx, values, strict=True)):
            kept = None
            if rule == "unique":
                if first.get(keys[n]) == i:
                    continue
                kept = first[keys[n]] + offset + HEADER_ROWS + 1
            text = _as_text(v)
            message = _message(rule, meta, text, kept, ids[n] if ids else None)
            issues.append(Issue(i, column, rule, text, message, warning=soft))
    return issues


def validate(
    table: pa.Table, contract: Contract, today: dt.date | None = None, references: Sequence[ReferenceSet] = ()
) -> list[Issue]:
    """Row-level issues of the table against the contract (empty when everything passes)."""
    return validate_with_result(table, contract, today, references)[0]


def validate_with_result(
    table: pa.Table,
    contract: Contract,
    today: dt.date | None = None,
    references: Sequence[ReferenceSet] = (),
    offset: int = 0,
) -> tuple[list[Issue], Any]:
    """The row-level issues and GX's own ``ExpectationSuiteValidationResult`` they came from
    (kept as the validation's record and rendered as Data Docs: :mod:`quality`). ``references``
    pin the fields' cross-dataset references to versions (:func:`ingest.references.resolve`);
    issues of soft references are warnings. ``offset`` is the batch's first record in the file."""
    suite = compile_suite(contract, today, references)
    # One chunk per column: GX filters the whole frame by a mask a few times per expectation, and
    # Arrow's take on a chunked column concatenates its chunks each time (half of GX's time on a
    # batch of 200,000 read in 8 MB blocks).
    frame = table.combine_chunks().to_pandas(date_as_object=False, coerce_temporal_nanoseconds=True)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    with warnings.catch_warnings():
        # pandas warns that contract patterns like ^(存续|注销)$ have groups; GX only tests for a match
        warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")
        result = batch.validate(suite, result_format=RESULT_FORMAT)
    return issues_from_results(result.results, table, offset), result
