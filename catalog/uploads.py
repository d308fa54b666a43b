"""Files uploaded through resource_create / resource_update / resource_patch: one way in.

Every upload goes through :func:`receive`, which checks the caller may send this many bytes
(per-role size limit, 24-hour quota), writes the stream under a temporary name inside the right
folder (:func:`hub.paths.inside`), stops reading past the limit, renames the file into place and
records the upload against the client that sent it (``uploads`` table). Nothing here takes a
path, a folder or a file name from the caller as it is: ids are the hub's, file names are made
safe and checked to stay inside their root.

An upload to a contract-backed dataset is a department submitting data: it goes into the
dataset's inbox folder and is queued in the file ledger, credited to the uploading client,
which the published version's lineage and activity then name. An upload to a catalogue-only
dataset is kept in the file store, one folder per resource (named by the resource's UUID), and
served from the resource's download URL, as CKAN does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog import service
from catalog.errors import invalid
from catalog.models import ApiClient, Dataset, Upload, utcnow
from contracts.model import Contract
from hub import paths
from hub.errors import Forbidden, TooLarge
from hub.settings import Settings

CHUNK = 1 << 20


@dataclass(frozen=True)
class Incoming:
    """A file as a caller sends it: the name it gave (never used as a path) and the bytes."""

    filename: str
    stream: BinaryIO


@dataclass(frozen=True)
class Received:
    """A file written into place: its name in its folder, hash and size."""

    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class Submission:
    """What became of an uploaded export: queued, or already known from an earlier file."""

    file: str
    sha256: str
    size: int
    status: str
    note: str
    submitted_by: str


def safe_name(filename: str | None) -> str:
    return paths.safe_name(filename)


def limit_for(settings: Settings, caller: ApiClient) -> int:
    """The largest single upload ``caller``'s role may send (0: uploads are not for this role)."""
    return {"steward": settings.upload_max_bytes_steward, "publisher": settings.upload_max_bytes_publisher}.get(
        caller.role, 0
    )


def used_today(s: Session, caller: ApiClient) -> int:
    since = utcnow() - dt.timedelta(days=1)
    total = s.scalar(
        select(func.coalesce(func.sum(Upload.size), 0)).where(
            Upload.client_id == caller.id, Upload.received_at >= since
        )
    )
    return int(total or 0)


def _allowance(s: Session, settings: Settings, caller: ApiClient) -> int:
    limit = limit_for(settings, caller)
    if limit == 0:
        raise Forbidden(f"a {caller.role} key cannot upload files; departments upload with a publisher key")
    left = settings.upload_quota_bytes - used_today(s, caller)
    if left <= 0:
        raise TooLarge(
            f"upload quota used up: {caller.name} sent {settings.upload_quota_bytes:,} bytes in the last 24 hours "
            "(HUB_UPLOAD_QUOTA_BYTES); try again later or ask a steward"
        )
    return min(limit, left)


def _write(folder: Path, name: str, stream: BinaryIO, allowance: int) -> Received:
    """Copy to ``.name.part`` inside ``folder`` while hashing, then rename into place atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = paths.inside(folder, f".upload-{uuid.uuid4().hex}.part")
    digest, size = hashlib.sha256(), 0
    try:
        with tmp.open("xb") as out:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                size += len(chunk)
                if size > allowance:
                    raise TooLarge(
                        f"upload {name} is larger than the {allowance:,} bytes this key may send now "
                        "(per-upload limit of the role, or what is left of the 24-hour quota)"
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise invalid("upload", "the uploaded file is empty")
        target = paths.inside(folder, name)
        if target.exists():
            target = paths.inside(folder, f"{digest.hexdigest()[:12]}_{name}"[: paths.MAX_PART])
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return Received(target, digest.hexdigest(), size)


def _record(s: Session, caller: ApiClient, ds: Dataset, resource_id: str | None, got: Received) -> None:
    s.add(
        Upload(
            id=str(uuid.uuid4()),
            client_id=caller.id,
            dataset_id=ds.id,
            resource_id=resource_id,
            file=got.path.name,
            sha256=got.sha256,
            size=got.size,
            received_at=utcnow(),
        )
    )
    s.flush()


def submit(
    s: Session, settings: Settings, contract: Contract, ds: Dataset, upload: Incoming, caller: ApiClient
) -> Submission:
    """Queue a department's export for the contract pipeline (inbox folder + file ledger)."""
    from ingest.steps import inbox_folder

    got = _write(
        inbox_folder(settings, contract), safe_name(upload.filename), upload.stream, _allowance(s, settings, caller)
    )
    _record(s, caller, ds, None, got)
    seen = service.file_seen(s, contract.id, got.sha256)
    if seen is not None and seen.status in ("validated", "published", "rejected"):
        note = (
            f"identical to {seen.filename}, already {seen.status}: the pipeline will skip it "
            f"(see the file ledger for its report)"
        )
        return Submission(got.path.name, got.sha256, got.size, "duplicate", note, caller.name)
    service.record_file(s, contract.id, got.sha256, filename=got.path.name, status="queued", submitted_by=caller.name)
    note = (
        f"queued for the contract pipeline of {contract.id}: it is read, standardized and validated "
        "against the contract before anything is published; rejected rows go to quarantine with a report"
    )
    return Submission(got.path.name, got.sha256, got.size, "queued", note, caller.name)


def store(
    s: Session,
    settings: Settings,
    ds: Dataset,
    resource_id: str,
    upload: Incoming,
    caller: ApiClient,
    replaces: str | None,
) -> tuple[str, int, str]:
    """Keep a catalogue-only resource's file; returns (file name, size, mimetype).

    ``replaces`` is the resource's previous file name, removed once the new one is in place;
    no other file is ever deleted.
    """
    folder = paths.inside(filestore(settings), paths.canonical_id(resource_id, what="resource id"), what="resource id")
    got = _write(folder, safe_name(upload.filename), upload.stream, _allowance(s, settings, caller))
    _record(s, caller, ds, resource_id, got)
    if replaces and replaces != got.path.name:
        try:
            paths.inside(folder, replaces).unlink(missing_ok=True)
        except paths.UnsafePath:
            pass  # a name recorded before names were checked: leave it alone
    return got.path.name, got.size, mimetypes.guess_type(got.path.name)[0] or "application/octet-stream"


def stored_file(settings: Settings, resource_id: str, filename: str) -> Path:
    """The path of a catalogue-only resource's file, for downloads (checked like every path)."""
    return paths.inside(filestore(settings), paths.canonical_id(resource_id, what="resource id"), filename)


def filestore(settings: Settings) -> Path:
    return settings.path("filestore")
