"""The pipeline's steps, one function per DAG task: discover → check → publish → register.

Each step is idempotent and keyed by the source file's SHA-256, so a rerun after a crash at
any point finishes the work without publishing twice. Steps exchange small JSON dicts (they
travel as Airflow XComs); data travels as files under HUB_HOME.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from catalog import db, service
from contracts import model
from contracts.model import Contract
from exchange import subscriptions
from hub.errors import InputError
from hub.settings import Settings, get_settings
from ingest import quarantine
from ingest.batches import check_file
from ingest.issues import Issue
from quality import keep as keep_validation
from warehouse import serving, tables

log = logging.getLogger(__name__)
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def inbox_folder(settings: Settings, contract: Contract) -> Path:
    return settings.inbox_dir / contract.department.code / contract.id


def _contract(dataset: str, settings: Settings) -> Contract:
    return model.find(settings.contracts_dir, dataset)


def discover(dataset: str, settings: Settings | None = None) -> list[str]:
    """Files waiting in the dataset's inbox folder, oldest first."""
    settings = settings or get_settings()
    folder = inbox_folder(settings, _contract(dataset, settings))
    folder.mkdir(parents=True, exist_ok=True)
    found = [
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(IGNORED_SUFFIXES)
    ]
    return [str(p) for p in sorted(found, key=lambda p: (p.stat().st_mtime, p.name))]


def _archive(settings: Settings, dataset: str, path: Path, sha: str) -> Path:
    target = settings.archive_dir / dataset / sha[:16] / path.name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        target.chmod(0o600)  # the department's file may be world-readable; its copy is not
    if sha256_of(target) != sha:
        raise RuntimeError(f"archive copy of {path.name} does not match the original")
    return target


def _reject_file(
    settings: Settings, contract: Contract, path: Path, sha: str, error: InputError, rows: int
) -> dict[str, Any]:
    issue = Issue(max((error.row or 1) - 2, -1), error.column or "", f"file:{error.rule}", None, str(error))
    summary = {
        "dataset": contract.id,
        "file": path.name,
        "sha256": sha,
        "status": "rejected",
        "reason": str(error),
        "rows_read": rows,
        "rows_accepted": 0,
        "rows_rejected": rows,
    }
    folder = quarantine.report_folder(settings.quarantine_dir, contract.id, path.name, sha)
    quarantine.write(folder, original=path, issues=[issue], rejected_rows=None, summary=summary)
    return summary | {"report_dir": str(folder)}


def _finish(settings: Settings, contract: Contract, path: Path, outcome: dict[str, Any]) -> dict[str, Any]:
    with db.session(settings.db_url) as s:
        service.record_file(
            s,
            contract.id,
            outcome["sha256"],
            filename=path.name,
            status=outcome["status"],
            rows_read=outcome["rows_read"],
            rows_accepted=outcome["rows_accepted"],
            rows_rejected=outcome["rows_rejected"],
            report_dir=outcome.get("report_dir"),
            message=outcome.get("reason"),
        )
    path.unlink(missing_ok=True)
    return outcome


def check(dataset: str, file: str, settings: Settings | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """Read, standardize and validate one file; stage accepted rows, quarantine the rest."""
    settings = settings or get_settings()
    contract = _contract(dataset, settings)
    path = Path(file)
    sha = sha256_of(path)
    _archive(settings, dataset, path, sha)
    with db.session(settings.db_url) as s:
        seen = service.file_seen(s, dataset, sha)
        if seen is not None and seen.status in ("validated", "published", "rejected"):
            log.info("%s was already processed (%s); skipping", path.name, seen.status)
            path.unlink(missing_ok=True)
            return {
                "dataset": dataset,
                "file": path.name,
                "sha256": sha,
                "status": "duplicate",
                "rows_read": 0,
                "rows_accepted": 0,
                "rows_rejected": 0,
            }
    staged = settings.staging_dir / dataset / f"{sha}.parquet"
    try:
        checked = check_file(path, contract, staged, today=today, batch_rows=settings.batch_rows)
    except InputError as exc:
        staged.unlink(missing_ok=True)
        return _finish(settings, contract, path, _reject_file(settings, contract, path, sha, exc, 0))
    issues, bad, total = checked.issues, sorted(checked.bad), checked.rows
    summary: dict[str, Any] = {
        "dataset": dataset,
        "file": path.name,
        "sha256": sha,
        "encoding": checked.encoding,
        "format": checked.format,
        "rows_read": total,
        "rows_accepted": checked.accepted,
        "rows_rejected": len(bad),
        "issues_by_rule": dict(Counter(i.rule for i in issues)),
        "changes": [{"column": c, "rule": r, "count": n} for (c, r), n in checked.changes.items()],
        "ignored_columns": checked.ignored_columns,
        "checked_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    ratio = len(bad) / total if total else 1.0
    if total == 0 or ratio > contract.max_reject_ratio:
        why = (
            "file has no records"
            if total == 0
            else (
                f"{len(bad)} of {total} rows ({ratio:.0%}) fail the contract, above the limit of "
                f"{contract.max_reject_ratio:.0%}: the whole file is rejected"
            )
        )
        summary |= {"status": "rejected", "reason": why, "rows_accepted": 0, "rows_rejected": total}
    else:
        summary["status"] = "validated"
    if checked.results:
        summary["validation"] = keep_validation(settings, contract, summary, checked.results)
    if bad or summary["status"] == "rejected":
        folder = quarantine.report_folder(settings.quarantine_dir, dataset, path.name, sha)
        quarantine.write(
            folder,
            original=path,
            issues=issues,
            rejected_rows=checked.rejected_rows(),
            summary=summary,
        )
        summary["report_dir"] = str(folder)
    if summary["status"] == "validated":
        staged.with_suffix(".json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    else:
        staged.unlink(missing_ok=True)
    return _finish(settings, contract, path, summary)


def pending(dataset: str, settings: Settings) -> list[dict[str, Any]]:
    """Validated files not yet published, in the order they were received."""
    with db.session(settings.db_url) as s:
        rows = [f for f in service.files(s, dataset) if f.status == "validated"]
        return [{"sha256": f.sha256, "file": f.filename} for f in rows]


def publish(dataset: str, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Commit each pending file's accepted rows as one atomic Iceberg snapshot (one version)."""
    settings = settings or get_settings()
    contract = _contract(dataset, settings)
    cat = tables.catalog(settings.warehouse_dir)
    published = []
    for item in pending(dataset, settings):
        staged = settings.staging_dir / dataset / f"{item['sha256']}.parquet"
        data = pq.read_table(staged)
        snap, created = tables.publish(cat, contract, data, sha256=item["sha256"], source_file=item["file"])
        full = data if contract.publish_mode == "snapshot" else tables.read(cat, contract, snap.snapshot_id)
        published.append(
            item
            | {
                "snapshot_id": snap.snapshot_id,
                "committed_at": snap.committed_at.isoformat(),
                "row_count": full.num_rows,
                "created": created,
            }
        )
        log.info("published %s as snapshot %s (%s rows)", item["file"], snap.snapshot_id, full.num_rows)
    return published


def register(dataset: str, published: list[dict[str, Any]], settings: Settings | None = None) -> list[dict[str, Any]]:
    """Write each published snapshot's serving copy, then record it as a catalogue version.

    In that order: the API reads the copy of the catalogue's newest version, so a request between
    the two steps is answered from the previous version, never from a version without its copy.
    """
    settings = settings or get_settings()
    contract = _contract(dataset, settings)
    cat = tables.catalog(settings.warehouse_dir)
    versions = []
    for item in published:
        staged = settings.staging_dir / dataset / f"{item['sha256']}.parquet"
        summary = json.loads(staged.with_suffix(".json").read_text(encoding="utf-8"))
        with db.session(settings.db_url) as s:
            number = service.version_number(s, contract, item["snapshot_id"])
        data = tables.read(cat, contract, item["snapshot_id"])
        serving.build(
            settings.serving_dir,
            contract,
            data,
            snapshot_id=item["snapshot_id"],
            version=number,
            keep=settings.serving_versions_kept,
        )
        del data
        with db.session(settings.db_url) as s:
            version = service.record_version(
                s,
                contract,
                snapshot_id=item["snapshot_id"],
                row_count=item["row_count"],
                rows_rejected=summary["rows_rejected"],
                source_file=item["file"],
                source_sha256=item["sha256"],
                quality={
                    k: summary[k]
                    for k in ("rows_read", "rows_accepted", "rows_rejected", "issues_by_rule", "changes", "validation")
                    if k in summary
                },
                published_at=dt.datetime.fromisoformat(item["committed_at"]),
            )
            if "lineage" in summary:
                version.lineage = summary["lineage"]
            if "unmatched" in summary:
                version.quality = {**version.quality, "unmatched": summary["unmatched"]}
            number = version.number
            service.record_file(s, dataset, item["sha256"], status="published", version_id=version.id)
            subscriptions.enqueue(s, dataset, number, item["snapshot_id"])  # outbox only: nothing is sent here
        staged.unlink(missing_ok=True)
        staged.with_suffix(".json").unlink(missing_ok=True)
        versions.append(
            {
                "dataset": dataset,
                "version": number,
                "snapshot_id": item["snapshot_id"],
                "rows": item["row_count"],
                "file": item["file"],
            }
        )
    with db.session(settings.db_url) as s:
        service.register_dataset(s, contract)
    return versions
