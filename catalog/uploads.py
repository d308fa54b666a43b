"""Files uploaded through resource_create / resource_update / resource_patch.

An upload to a contract-backed dataset is a department submitting data: the file goes into the
dataset's inbox folder (written under a temporary name, then renamed, so the pipeline never sees
half a file) and is queued in the file ledger; the contract pipeline decides its fate. Nothing is
written to the warehouse here. An upload to a catalogue-only dataset is kept in the file store
and served from the resource's download URL, as CKAN does.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from catalog import service
from catalog.errors import invalid
from contracts.model import Contract
from hub.settings import Settings

SAFE = re.compile(r"[^\w.\-\u3400-\u9fff]+")


@dataclass(frozen=True)
class Upload:
    filename: str
    stream: BinaryIO


@dataclass(frozen=True)
class Submission:
    """What became of an uploaded export: queued, or already known from an earlier file."""

    file: str
    sha256: str
    size: int
    status: str
    note: str


def safe_name(filename: str) -> str:
    name = SAFE.sub("_", Path(filename or "upload").name).lstrip("._") or "upload"
    return name[:200]


def _write(folder: Path, name: str, stream: BinaryIO) -> tuple[Path, str, int]:
    """Copy to ``.name.part`` in ``folder`` while hashing, then rename into place atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.part"
    digest, size = hashlib.sha256(), 0
    with tmp.open("wb") as out:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if size == 0:
        tmp.unlink(missing_ok=True)
        raise invalid("upload", "the uploaded file is empty")
    target = folder / name
    if target.exists():
        target = folder / f"{digest.hexdigest()[:12]}_{name}"
    os.replace(tmp, target)
    return target, digest.hexdigest(), size


def submit(s: Session, settings: Settings, contract: Contract, upload: Upload) -> Submission:
    """Queue a department's export for the contract pipeline (inbox folder + file ledger)."""
    from ingest.steps import inbox_folder

    path, sha, size = _write(inbox_folder(settings, contract), safe_name(upload.filename), upload.stream)
    seen = service.file_seen(s, contract.id, sha)
    if seen is not None and seen.status in ("validated", "published", "rejected"):
        note = (
            f"identical to {seen.filename}, already {seen.status}: the pipeline will skip it "
            f"(see the file ledger for its report)"
        )
        return Submission(path.name, sha, size, "duplicate", note)
    service.record_file(s, contract.id, sha, filename=path.name, status="queued")
    note = (
        f"queued for the contract pipeline of {contract.id}: it is read, standardized and validated "
        "against the contract before anything is published; rejected rows go to quarantine with a report"
    )
    return Submission(path.name, sha, size, "queued", note)


def store(settings: Settings, resource_id: str, upload: Upload) -> tuple[str, int, str]:
    """Keep a catalogue-only resource's file; returns (file name, size, mimetype)."""
    name = safe_name(upload.filename)
    folder = filestore(settings) / resource_id
    path, _, size = _write(folder, name, upload.stream)
    for old in folder.iterdir():
        if old != path:
            old.unlink()
    return path.name, size, mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def filestore(settings: Settings) -> Path:
    return settings.path("filestore")
