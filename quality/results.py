"""GX's validation result of each checked file, kept at ``HUB_HOME/quality/<dataset>/<sha256>/validation.json``.

The file is GX's own ``ExpectationSuiteValidationResult.to_json_dict()`` of the validation that
decided the file's fate (no second pass). Three changes, each for a reason:

* a file checked in several batches gets one result: per expectation, counts are summed, the
  percentages recomputed and the samples (``partial_unexpected_*``, at most 20) gathered in order;
* the complete lists GX returns for the hub's row-level report (``unexpected_list``,
  ``unexpected_index_list``, ``unexpected_index_query``) are dropped: they grow with the file, and
  the quarantine already keeps every rejected row;
* sample values of fields the contract masks by default (sensitive, restricted) are replaced by
  ``[masked]``: the result is read through the API by stewards and the department, who see those
  fields masked elsewhere too.

``meta.hub`` says which file, dataset and check the result belongs to.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from contracts.model import Contract
from hub import paths
from hub.settings import Settings

FILE = "validation.json"
TRIMMED = ("unexpected_list", "unexpected_index_list", "unexpected_index_query")
SAMPLES = 20
"""GX's own size of ``partial_unexpected_list``."""
MASKED = "[masked]"
SUMMED = ("element_count", "missing_count", "unexpected_count")


def folder(settings: Settings, dataset: str, sha256: str) -> Path:
    return paths.inside(settings.quality_dir, dataset, sha256, what="validation result")


def result_path(settings: Settings, dataset: str, sha256: str) -> Path:
    return folder(settings, dataset, sha256) / FILE


def all_results(settings: Settings, dataset: str) -> list[Path]:
    """Every kept result of a dataset (one per checked file)."""
    root = paths.inside(settings.quality_dir, dataset, what="dataset")
    return sorted(root.glob(f"*/{FILE}")) if root.is_dir() else []


def _percentages(res: dict[str, Any], keys: set[str]) -> None:
    element, missing, unexpected = (res.get(k, 0) or 0 for k in SUMMED)
    nonmissing = element - missing
    values = {
        "missing_percent": 100.0 * missing / element if element else None,
        "unexpected_percent_total": 100.0 * unexpected / element if element else None,
        "unexpected_percent_nonmissing": 100.0 * unexpected / nonmissing if nonmissing else None,
        "unexpected_percent": 100.0 * unexpected / nonmissing if nonmissing else None,
    }
    res.update({k: v for k, v in values.items() if k in keys})


def _merge_result(parts: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """One expectation's ``result`` over every batch (``parts``: batch offset, batch result)."""
    first = parts[0][1]
    out: dict[str, Any] = {k: sum(p.get(k) or 0 for _, p in parts) for k in SUMMED if k in first}
    _percentages(out, set(first))
    if "partial_unexpected_list" in first:
        out["partial_unexpected_list"] = [v for _, p in parts for v in p["partial_unexpected_list"]][:SAMPLES]
    if "partial_unexpected_index_list" in first:
        out["partial_unexpected_index_list"] = [
            i + offset if isinstance(i, int) else i for offset, p in parts for i in p["partial_unexpected_index_list"]
        ][:SAMPLES]
    if "partial_unexpected_counts" in first:
        counts: Counter[str] = Counter()
        values: dict[str, Any] = {}
        for _, p in parts:
            for item in p["partial_unexpected_counts"]:
                key = json.dumps(item["value"], sort_keys=True, default=str)
                counts[key] += item["count"]
                values.setdefault(key, item["value"])
        out["partial_unexpected_counts"] = [{"value": values[k], "count": n} for k, n in counts.most_common(SAMPLES)]
    for key, value in first.items():
        out.setdefault(key, value)  # anything else (observed_value, details): the first batch's
    return out


def merge(batches: list[dict[str, Any]], offsets: list[int]) -> dict[str, Any]:
    """One suite result of a file checked in several batches (each the same suite, so results align)."""
    first = batches[0]
    if len(batches) == 1:
        return first
    results = []
    for n, r0 in enumerate(first["results"]):
        each = [b["results"][n] for b in batches]
        raised = [r["exception_info"] for r in each if (r.get("exception_info") or {}).get("raised_exception")]
        results.append(
            r0
            | {
                "success": all(r["success"] for r in each),
                "result": _merge_result([(o, r["result"]) for o, r in zip(offsets, each, strict=True)]),
                "exception_info": raised[0] if raised else r0.get("exception_info"),
            }
        )
    good = sum(1 for r in results if r["success"])
    statistics = {
        "evaluated_expectations": len(results),
        "successful_expectations": good,
        "unsuccessful_expectations": len(results) - good,
        "success_percent": 100.0 * good / len(results) if results else None,
    }
    return first | {"success": all(b["success"] for b in batches), "results": results, "statistics": statistics}


def _columns(config: dict[str, Any]) -> list[str]:
    kwargs = config.get("kwargs") or {}
    names = [kwargs.get(k) for k in ("column", "column_A", "column_B")] + list(kwargs.get("column_list") or [])
    return [n for n in names if isinstance(n, str)]


def _masked(contract: Contract) -> set[str]:
    return {f.name for f in contract.fields if f.classification.masked_by_default}


def _tidy(result: dict[str, Any], masked: set[str]) -> None:
    res = result.get("result") or {}
    for key in TRIMMED:
        res.pop(key, None)
    if masked & set(_columns(result.get("expectation_config") or {})):
        if "partial_unexpected_list" in res:
            res["partial_unexpected_list"] = [MASKED for _ in res["partial_unexpected_list"]]
        if "partial_unexpected_counts" in res:
            total = sum(item["count"] for item in res["partial_unexpected_counts"])
            res["partial_unexpected_counts"] = [{"value": MASKED, "count": total}] if total else []


def compact(result: Any) -> dict[str, Any]:
    """GX's result of one batch as JSON without the complete lists (:data:`TRIMMED`), taken as soon
    as the batch's issues are read from it: a file of 10M rows with many rejected rows would
    otherwise hold every batch's lists of failing values and indices until the file is done."""
    doc: dict[str, Any] = result if isinstance(result, dict) else result.to_json_dict()
    for item in doc.get("results") or []:
        res = item.get("result") or {}
        for key in TRIMMED:
            res.pop(key, None)
    return doc


def record(
    batches: list[tuple[int, Any]], contract: Contract, *, file: str, sha256: str, checked_at: str, status: str
) -> dict[str, Any]:
    """The JSON of GX's result for one file, from the result of each of its batches (GX's result
    objects, or their :func:`compact` JSON)."""
    offsets = [offset for offset, _ in batches]
    result = merge([compact(r) for _, r in batches], offsets)
    masked = _masked(contract)
    for item in result["results"]:
        _tidy(item, masked)
    meta = result.setdefault("meta", {})
    for part in ("active_batch_definition", "batch_spec"):  # the asset Data Docs name: the dataset
        if isinstance(meta.get(part), dict):
            meta[part]["data_asset_name"] = contract.id
    meta["run_id"] = {"run_name": sha256[:16], "run_time": checked_at}
    meta["hub"] = {
        "dataset": contract.id,
        "contract_version": contract.version,
        "file": file,
        "sha256": sha256,
        "checked_at": checked_at,
        "status": status,
        "batches": len(batches),
    }
    return result


def write(settings: Settings, dataset: str, sha256: str, result: dict[str, Any]) -> Path:
    """Write the result owner-only (0600 in 0700 folders), atomically."""
    target = result_path(settings, dataset, sha256)
    for part in (settings.quality_dir, target.parent.parent, target.parent):
        part.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
        json.dump(result, fh, ensure_ascii=False, indent=1, default=str)
    tmp.chmod(0o600)
    tmp.replace(target)
    return target


def summary(result: dict[str, Any], page: str | None) -> dict[str, Any]:
    """What the catalogue keeps of a result (in the version's quality): outcome, counts, Data Docs page."""
    stats = result.get("statistics") or {}
    return {
        "suite": result.get("suite_name"),
        "success": bool(result.get("success")),
        "evaluated_expectations": stats.get("evaluated_expectations"),
        "unsuccessful_expectations": stats.get("unsuccessful_expectations"),
        "data_docs_page": page,
    }
