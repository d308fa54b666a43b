"""Files uploaded through resource_create / resource_update / resource_patch: one way in.

:func:`submit` and :func:`store` both write through ``_write``: it checks the caller may send
this many bytes (per-role size limit, 24-hour quota), writes the stream under a temporary name
inside the right folder (:func:`hub.paths.inside`), stops reading past the limit, links the file
into place without ever replacing a file already there, and records the upload against the
client that sent it (``uploads`` table). Nothing here takes a path, a folder or a file name from
the caller as it is: ids are the hub's, file names are made safe and checked to stay inside
their root. The ``uploads`` table is also what downloads and replacements trust: a file is
served, or removed when its resource gets a new one, only if the hub stored it for that resource.

An upload to a contract-backed dataset is a department submitting data: it goes into the
dataset's inbox folder and is queued in the file ledger, credited to the uploading client,
which the published version's lineage and activity then name. An upload to a catalogue-only
dataset is kept in the file store, one folder per resource (named by the resource's UUID), and
served from the resource's download URL, as CKAN does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import mimetypes
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from catalog import service
from catalog.errors import invalid
from catalog.models import ApiClient, Dataset, Resource, Upload, utcnow
from contracts.model import Contract
from hub import paths
from hub.errors import Forbidden, NotFound, TooLarge
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


def receivable(s: Session, settings: Settings, caller: ApiClient) -> int:
    """Bytes ``caller`` may upload now: the role's limit, or what is left of its 24-hour quota."""
    return max(0, min(limit_for(settings, caller), settings.upload_quota_bytes - used_today(s, caller)))


def _allowance(s: Session, settings: Settings, caller: ApiClient) -> int:
    if limit_for(settings, caller) == 0:
        raise Forbidden(f"a {caller.role} key cannot upload files; departments upload with a publisher key")
    left = receivable(s, settings, caller)
    if left == 0:
        raise TooLarge(
            f"upload quota used up: {caller.name} sent {settings.upload_quota_bytes:,} bytes in the last 24 hours "
            "(HUB_UPLOAD_QUOTA_BYTES); try again later or ask a steward"
        )
    return left


def _copy(stream: BinaryIO, tmp: Path, name: str, allowance: int) -> tuple[str, int]:
    """Copy ``stream`` to ``tmp`` (created, never opened if it exists) while hashing; stop past ``allowance``."""
    digest, size = hashlib.sha256(), 0
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
    return digest.hexdigest(), size


def _candidates(name: str, sha: str) -> tuple[str, ...]:
    """The name, then variants for when it is taken: ``<sha256 prefix>_name``, ``<random>_name``."""
    return tuple(paths.safe_name(n) for n in (name, f"{sha[:12]}_{name}", f"{uuid.uuid4().hex[:12]}_{name}"))


def _place(tmp: Path, folder: Path, names: tuple[str, ...]) -> Path:
    """Give the written file the first free name of ``names``: a file already there is never replaced."""
    for candidate in names:
        target = paths.inside(folder, candidate)
        try:
            os.link(tmp, target)  # atomic, and fails instead of replacing
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links
            if target.exists():
                continue
            os.replace(tmp, target)
        tmp.unlink(missing_ok=True)
        return target
    raise invalid("upload", f"no free name for {names[0]} in its folder; send it under another name")


@dataclass(frozen=True)
class _Written:
    """An upload written to its ``.part`` inside ``folder``, not yet under its own name."""

    folder: Path
    part: Path
    names: tuple[str, ...]
    sha256: str
    size: int
    made_folder: bool

    def free_name(self) -> str:
        """The name :meth:`place` will give, unless another file takes it first."""
        return next((n for n in self.names if not paths.inside(self.folder, n).exists()), self.names[-1])

    def place(self) -> Received:
        return Received(_place(self.part, self.folder, self.names), self.sha256, self.size)

    def discard(self, placed: Path | None = None) -> None:
        """Remove the ``.part`` (or the placed file) and a folder made for it, if left empty."""
        (placed or self.part).unlink(missing_ok=True)
        if self.made_folder:
            with contextlib.suppress(OSError):  # not empty: other files are in it
                self.folder.rmdir()


def _write(folder: Path, name: str, stream: BinaryIO, allowance: int) -> _Written:
    """Write to a new ``.upload-<random>.part`` inside ``folder`` (removed again if this fails)."""
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = paths.inside(folder, f".upload-{uuid.uuid4().hex}.part")
    written = _Written(folder, tmp, (name,), "", 0, made)
    try:
        sha, size = _copy(stream, tmp, name, allowance)
    except BaseException:
        written.discard()
        raise
    return replace(written, names=_candidates(name, sha), sha256=sha, size=size)


def _when_settled(s: Session, committed: Callable[[], object], rolled_back: Callable[[], object]) -> None:
    """Run ``committed`` once ``s``'s transaction commits, or ``rolled_back`` if it rolls back instead."""
    pending = [True]

    def once(action: Callable[[], object]) -> Callable[[Session], None]:
        def listener(_: Session) -> None:
            if pending:
                pending.clear()
                action()

        return listener

    event.listen(s, "after_commit", once(committed), once=True)
    event.listen(s, "after_rollback", once(rolled_back), once=True)


def _record(s: Session, caller: ApiClient, ds: Dataset, resource_id: str | None, file: str, w: _Written) -> None:
    s.add(
        Upload(
            id=str(uuid.uuid4()),
            client_id=caller.id,
            dataset_id=ds.id,
            resource_id=resource_id,
            file=file,
            sha256=w.sha256,
            size=w.size,
            received_at=utcnow(),
        )
    )
    s.flush()


def submit(
    s: Session, settings: Settings, contract: Contract, ds: Dataset, upload: Incoming, caller: ApiClient
) -> Submission:
    """Queue a department's export for the contract pipeline (inbox folder + file ledger).

    The file takes its name in the inbox only once the ledger entry crediting ``caller`` is
    committed, so the pipeline never sees it unattributed; a failed request leaves no file."""
    from ingest.steps import inbox_folder

    folder = inbox_folder(settings, contract)  # checked: a department's folder may not lead out of the inbox
    folder = paths.inside(settings.inbox_dir, *folder.relative_to(settings.inbox_dir).parts, what="inbox folder")
    w = _write(folder, safe_name(upload.filename), upload.stream, _allowance(s, settings, caller))
    name = w.free_name()
    _record(s, caller, ds, None, name, w)
    _when_settled(s, w.place, w.discard)
    seen = service.file_seen(s, contract.id, w.sha256)
    if seen is not None and seen.status in ("validated", "published", "rejected"):
        note = (
            f"identical to {seen.filename}, already {seen.status}: the pipeline will skip it "
            f"(see the file ledger for its report)"
        )
        return Submission(name, w.sha256, w.size, "duplicate", note, caller.name)
    service.record_file(s, contract.id, w.sha256, filename=name, status="queued", submitted_by=caller.name)
    note = (
        f"queued for the contract pipeline of {contract.id}: it is read, standardized and validated "
        "against the contract before anything is published; rejected rows go to quarantine with a report"
    )
    return Submission(name, w.sha256, w.size, "queued", note, caller.name)


def new_resource_id(s: Session, wanted: str | None) -> str:
    """``wanted`` (a canonical UUID, see ``catalog.inputs``) if no resource has it and no upload was
    ever stored under it, else a new UUID: a new resource never inherits an earlier one's files."""
    if wanted and s.get(Resource, wanted) is None and not _ledger(s, wanted):
        return wanted
    return str(uuid.uuid4())


def _ledger(s: Session, resource_id: str) -> list[Upload]:
    """The files the hub stored for a resource, oldest first."""
    q = select(Upload).where(Upload.resource_id == resource_id).order_by(Upload.received_at)
    return list(s.scalars(q))


def store(
    s: Session, settings: Settings, ds: Dataset, resource_id: str, upload: Incoming, caller: ApiClient
) -> tuple[str, int, str]:
    """Keep a catalogue-only resource's file; returns (file name, size, mimetype).

    The files this resource had before, as the uploads ledger records them, are removed once the
    change is committed (a failed request keeps the old file); no other file is ever deleted,
    whatever the resource's ``url`` says.
    """
    rid = paths.canonical_id(resource_id, what="resource id")
    earlier = {u.file for u in _ledger(s, rid)}
    folder = paths.inside(filestore(settings), rid, what="resource id")
    w = _write(folder, safe_name(upload.filename), upload.stream, _allowance(s, settings, caller))
    try:
        got = w.place()
    except BaseException:
        w.discard()
        raise
    _record(s, caller, ds, rid, got.path.name, w)
    stale = sorted(earlier - {got.path.name})
    _when_settled(s, lambda: _remove(folder, stale), lambda: w.discard(got.path))
    return got.path.name, got.size, mimetypes.guess_type(got.path.name)[0] or "application/octet-stream"


def _remove(folder: Path, names: list[str]) -> None:
    for name in names:
        try:
            paths.inside(folder, name).unlink(missing_ok=True)
        except paths.UnsafePath:
            pass  # now a symlink leading out of the store: leave it alone


def stored_file(s: Session, settings: Settings, res: Resource, filename: str) -> Path:
    """The file ``filename`` of a catalogue-only resource, for downloads: checked like every path,
    and only if the uploads ledger records the hub storing it for this resource."""
    path = paths.inside(filestore(settings), paths.canonical_id(res.id, what="resource id"), filename)
    stored = s.scalar(
        select(Upload.id)
        .where(Upload.resource_id == res.id, Upload.dataset_id == res.dataset_id, Upload.file == filename)
        .limit(1)
    )
    if stored is None or not path.is_file():
        raise NotFound(f"file {filename} not found for resource {res.id}")
    return path


def filestore(settings: Settings) -> Path:
    return settings.path("filestore")
