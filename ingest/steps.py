"""The pipeline's steps, one function per DAG task: discover → check → publish → register.

Each step is idempotent and keyed by the source file's SHA-256, so a rerun after a crash at
any point finishes the work without publishing twice. Steps exchange :class:`FileOutcome` (as
JSON, it travels as Airflow XComs and waits next to the staged rows); data travels as files under
HUB_HOME.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from catalog import db, service
from contracts import model
from contracts.model import Contract
from exchange import subscriptions
from hub.errors import InputError
from hub.settings import Settings, get_settings
from ingest import quarantine, references
from ingest.batches import check_file, give_back_memory, read_staged, rejected_spill
from ingest.issues import Issue
from ingest.outcome import Change, FileOutcome, FileStatus
from ingest.progress import FileProgress
from quality import history
from quality import keep as keep_validation
from warehouse import serving, tables

log = logging.getLogger(__name__)
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload")
PUBLISH_BATCH_ROWS = 131_072
"""Rows per record batch streamed from the staged Parquet into the Iceberg commit."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def inbox_folder(settings: Settings, contract: Contract) -> Path:
    return settings.inbox_dir / contract.department.code / contract.id


def staged_path(settings: Settings, dataset: str, key: str) -> Path:
    """Where a checked file's (or a derived build's) accepted rows wait for publish, as Parquet;
    its outcome waits next to it as ``.json``."""
    return settings.staging_dir / dataset / f"{key}.parquet"


def stage_outcome(settings: Settings, outcome: FileOutcome) -> None:
    staged_path(settings, outcome.dataset, outcome.sha256).with_suffix(".json").write_text(
        outcome.model_dump_json(exclude_none=True), encoding="utf-8"
    )


def staged_outcome(settings: Settings, dataset: str, key: str) -> FileOutcome:
    sidecar = staged_path(settings, dataset, key).with_suffix(".json")
    return FileOutcome.model_validate_json(sidecar.read_text(encoding="utf-8"))


def _contract(dataset: str, settings: Settings) -> Contract:
    return model.find(settings.active_contracts_dir, dataset)


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
    settings: Settings, contract: Contract, path: Path, archived: Path, sha: str, error: InputError
) -> FileOutcome:
    issue = Issue(max((error.row or 1) - 2, -1), error.column or "", f"file:{error.rule}", None, str(error))
    folder = quarantine.report_folder(settings.quarantine_dir, contract.id, path.name, sha)
    outcome = FileOutcome(
        dataset=contract.id,
        file=path.name,
        sha256=sha,
        status=FileStatus.rejected,
        reason=str(error),
        checked_at=dt.datetime.now(dt.UTC),
        report_dir=str(folder),
    )
    quarantine.write(folder, original=archived, issues=[issue], rejected_rows=None, summary=outcome)
    return outcome


def record(settings: Settings, outcome: FileOutcome, **values: Any) -> None:
    """Write the outcome into the file ledger (with ``values`` such as the version it became)."""
    with db.session(settings.db_url) as s:
        service.record_file(
            s,
            outcome.dataset,
            outcome.sha256,
            filename=outcome.file,
            status=outcome.status.value,
            rows_read=outcome.rows_read,
            rows_accepted=outcome.rows_accepted,
            rows_rejected=outcome.rows_rejected,
            report_dir=outcome.report_dir,
            message=outcome.reason,
            **values,
        )


def _finish(settings: Settings, path: Path, outcome: FileOutcome) -> FileOutcome:
    record(settings, outcome)
    path.unlink(missing_ok=True)
    return outcome


def check(dataset: str, file: str, settings: Settings | None = None, today: dt.date | None = None) -> FileOutcome:
    """Read, standardize and validate one file; stage accepted rows, quarantine the rest."""
    settings = settings or get_settings()
    contract = _contract(dataset, settings)
    path = Path(file)
    pinned = references.resolve(contract, settings.serving_dir)
    sha = sha256_of(path)
    archived = _archive(settings, dataset, path, sha)
    with db.session(settings.db_url) as s:
        seen = service.file_seen(s, dataset, sha)
        if seen is not None and seen.status in (FileStatus.validated, FileStatus.published, FileStatus.rejected):
            log.info("%s was already processed (%s); skipping", path.name, seen.status)
            path.unlink(missing_ok=True)
            return FileOutcome(dataset=dataset, file=path.name, sha256=sha, status=FileStatus.duplicate)
    staged = staged_path(settings, dataset, sha)
    try:
        with FileProgress(f"{dataset} {path.name}") as progress:
            checked = check_file(
                path,
                contract,
                staged,
                today=today,
                batch_rows=settings.batch_rows,
                progress=progress.update,
                references=pinned.sets,
            )
    except InputError as exc:
        staged.unlink(missing_ok=True)
        rejected_spill(staged).unlink(missing_ok=True)
        return _finish(settings, path, _reject_file(settings, contract, path, archived, sha, exc))
    issues, bad, total = checked.issues, sorted(checked.bad), checked.rows
    outcome = FileOutcome(
        dataset=dataset,
        file=path.name,
        sha256=sha,
        status=FileStatus.validated,
        encoding=checked.encoding,
        format=checked.format,
        rows_read=total,
        rows_accepted=checked.accepted,
        rows_rejected=len(bad),
        issues_by_rule=dict(Counter(i.rule for i in issues)),
        warnings_by_rule=dict(Counter(i.rule for i in checked.warnings)),
        warnings=pinned.warnings,
        references=pinned.versions(),
        issues_by_column=dict(Counter(i.column for i in issues)),
        changes=[Change(column=c, rule=r, count=n) for (c, r), n in checked.changes.items()],
        ignored_columns=checked.ignored_columns,
        checked_at=dt.datetime.now(dt.UTC),
        seconds={stage: round(t, 3) for stage, t in checked.seconds.items()},
    )
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
        outcome = outcome.model_copy(
            update={"status": FileStatus.rejected, "reason": why, "rows_accepted": 0, "rows_rejected": total}
        )
    if checked.results:
        started = time.perf_counter()
        kept = keep_validation(settings, contract, outcome, checked.results)
        outcome = outcome.model_copy(update={"validation": kept}).timed("data_docs", time.perf_counter() - started)
    if bad or checked.warnings or outcome.status is FileStatus.rejected:
        started = time.perf_counter()
        folder = quarantine.report_folder(settings.quarantine_dir, dataset, path.name, sha)
        outcome = outcome.model_copy(update={"report_dir": str(folder)})
        quarantine.write(
            folder,
            original=archived,
            issues=issues,
            rejected_rows=checked.rejected_rows(),
            summary=outcome,
            warnings=checked.warnings,
        )
        outcome = outcome.timed("quarantine", time.perf_counter() - started)
    if outcome.status is FileStatus.validated:
        stage_outcome(settings, outcome)
    else:
        staged.unlink(missing_ok=True)
    del checked, issues, bad
    give_back_memory()  # the file's issues: publish and register run next in the same process
    return _finish(settings, path, outcome)


def pending(dataset: str, settings: Settings) -> list[FileOutcome]:
    """Validated files (or derived builds) not yet published, in the order they were received."""
    with db.session(settings.db_url) as s:
        keys = [f.sha256 for f in service.files(s, dataset) if f.status == FileStatus.validated]
    return [staged_outcome(settings, dataset, key) for key in keys]


def publish(dataset: str, settings: Settings | None = None) -> list[FileOutcome]:
    """Commit each pending file's accepted rows as one atomic Iceberg snapshot (one version)."""
    settings = settings or get_settings()
    contract = _contract(dataset, settings)
    cat = tables.catalog(settings.warehouse_dir)
    published = []
    give_back_memory()
    for item in pending(dataset, settings):
        started = time.perf_counter()
        staged = staged_path(settings, dataset, item.sha256)
        rows_staged, stream = read_staged(staged, PUBLISH_BATCH_ROWS)
        snap, _ = tables.publish(cat, contract, stream, sha256=item.sha256, source_file=item.file)
        rows = rows_staged if contract.publish_mode == "snapshot" else snap.row_count
        done = item.model_copy(
            update={"snapshot_id": snap.snapshot_id, "committed_at": snap.committed_at, "row_count": rows}
        )
        published.append(done.timed("publish", time.perf_counter() - started))
        log.info("published %s as snapshot %s (%s rows)", item.file, snap.snapshot_id, rows)
    return published


def register(
    dataset: str, published: Sequence[FileOutcome | dict[str, Any]], settings: Settings | None = None
) -> list[FileOutcome]:
    """Write each published snapshot's serving copy, then record it as a catalogue version.

    In that order: the API reads the copy of the catalogue's newest version, so a request between
    the two steps is answered from the previous version, never from a version without its copy.
    """
    settings = settings or get_settings()
    contract = _contract(dataset, settings)
    cat = tables.catalog(settings.warehouse_dir)
    versions = []
    give_back_memory()  # what the publish freed, before DuckDB takes its share to build the copy
    for given in published:
        item = given if isinstance(given, FileOutcome) else FileOutcome.model_validate(given)
        if item.snapshot_id is None or item.row_count is None:
            raise ValueError(f"{item.file} was not published: it has no snapshot to register")
        started = time.perf_counter()
        staged = staged_path(settings, dataset, item.sha256)
        with db.session(settings.db_url) as s:
            number = service.version_number(s, contract, item.snapshot_id)
        copy = serving.build(
            settings.serving_dir,
            contract,
            tables.duckdb_source(cat, contract, item.snapshot_id),
            snapshot_id=item.snapshot_id,
            version=number,
            keep=settings.serving_versions_kept,
        )
        measured = history.copy_completeness(copy.path)
        quality = item.quality() | {"completeness": measured}
        quality |= {"unmatched": item.unmatched} if item.unmatched is not None else {}
        with db.session(settings.db_url) as s:
            version = service.record_version(
                s,
                contract,
                snapshot_id=item.snapshot_id,
                row_count=item.row_count,
                rows_rejected=item.rows_rejected,
                source_file=item.file,
                source_sha256=item.sha256,
                quality=quality,
                published_at=item.committed_at,
                lineage=item.lineage,
            )
            number = version.number
            service.record_file(s, dataset, item.sha256, status=FileStatus.published.value, version_id=version.id)
            subscriptions.enqueue(s, dataset, number, item.snapshot_id)  # outbox only: nothing is sent here
        staged.unlink(missing_ok=True)
        staged.with_suffix(".json").unlink(missing_ok=True)
        done = item.model_copy(update={"status": FileStatus.published, "version": number})
        versions.append(done.timed("register", time.perf_counter() - started))
    with db.session(settings.db_url) as s:
        service.register_dataset(s, contract)
    return versions
