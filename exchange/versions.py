"""Which version of a dataset answers a read: ``as_of``, ``since`` and ``until`` resolved against
the catalogue's versions, and the serving copy that reads it.

A reference is one of:

- nothing, ``latest`` or ``current``: the newest version;
- a version number (``3`` or ``v3``), as the catalogue and every answer number them;
- an Iceberg snapshot id (the ``snapshot_id`` every answer reports, 15–19 digits);
- an ISO 8601 date or time: the version that was current then. A date means the end of that day
  and a time without an offset is China Standard Time (UTC+8), the district's clock.

Older versions whose serving copy was pruned are rebuilt from the Iceberg snapshot (time travel)
into a separate folder on first use; see :func:`warehouse.serving.restore`.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from typing import Any

import duckdb

from catalog.models import Dataset, Version, aware
from contracts.model import Contract
from hub.errors import InputError, NotFound
from hub.settings import Settings
from warehouse import serving, tables
from warehouse.serving import ServingVersion, Store

CST = dt.timezone(dt.timedelta(hours=8), "CST")
_NUMBER = re.compile(r"^[vV]?([0-9]{1,19})$")
MAX_REF_CHARS = 40


@dataclass(frozen=True)
class At:
    """One published version of a dataset."""

    dataset: str
    version: int
    snapshot_id: int
    published_at: dt.datetime
    row_count: int

    def describe(self) -> dict[str, Any]:
        """What an answer says about the version that answered it."""
        return {
            "version": self.version,
            "snapshot_id": str(self.snapshot_id),
            "published_at": aware(self.published_at).isoformat(),
            "row_count": self.row_count,
        }


def _at(ds: Dataset, v: Version) -> At:
    return At(ds.key, v.number, v.snapshot_id, aware(v.published_at), v.row_count)


def _time(text: str, name: str) -> dt.datetime | None:
    """The instant an ISO date or time names (end of day for a date; CST when no offset)."""
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time.max, CST)
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=CST)


def resolve(ds: Dataset, ref: str | None, *, name: str = "as_of") -> At:
    """The version ``ref`` names (see the module's doc); 404 when none matches, 400 when ``ref``
    is neither a number nor a date."""
    versions = sorted(ds.versions, key=lambda v: v.number)
    if not versions:
        raise NotFound(f"dataset {ds.name} has no published version yet")
    text = (ref or "").strip()
    if text.lower() in ("", "latest", "current"):
        return _at(ds, versions[-1])
    if len(text) > MAX_REF_CHARS:
        raise InputError(f"{name} is too long", column=name, rule="version")
    available = f"versions {versions[0].number}–{versions[-1].number}" if len(versions) > 1 else "version 1"
    if match := _NUMBER.match(text):
        number = int(match.group(1))
        for v in versions:
            if v.number == number or v.snapshot_id == number:
                return _at(ds, v)
        raise NotFound(f"dataset {ds.name} has no version or snapshot {text} ({name}); it has {available}")
    when = _time(text, name)
    if when is None:
        raise InputError(
            f"{name} must be a version number, a snapshot id or an ISO 8601 date or time, not {text!r}",
            column=name,
            rule="version",
        )
    earlier = [v for v in versions if aware(v.published_at) <= when]
    if not earlier:
        first = aware(versions[0].published_at).astimezone(CST).isoformat(timespec="seconds")
        raise NotFound(f"dataset {ds.name} had no version yet at {text} ({name}); the first was published {first}")
    return _at(ds, earlier[-1])


def between(ds: Dataset, since: str, until: str | None) -> tuple[At, At]:
    """The two versions of a change feed; ``since`` must not be later than ``until``."""
    old, new = resolve(ds, since, name="since"), resolve(ds, until, name="until")
    if old.version > new.version:
        raise InputError(
            f"since (version {old.version}) is later than until (version {new.version})", column="since", rule="order"
        )
    return old, new


_restoring = threading.Lock()


def open_copy(
    store: Store, settings: Settings, contract: Contract, at: At
) -> tuple[ServingVersion, duckdb.DuckDBPyConnection]:
    """A cursor on the serving copy of version ``at``, rebuilt from Iceberg if it was pruned."""
    if serving.copy_path(settings.serving_dir, contract.id, at.snapshot_id) is None:
        with _restoring:
            if serving.copy_path(settings.serving_dir, contract.id, at.snapshot_id) is None:
                cat = tables.catalog(settings.warehouse_dir)
                source, params = tables.duckdb_source(cat, contract, at.snapshot_id)
                serving.restore(settings.serving_dir, contract, source, params, snapshot_id=at.snapshot_id)
    head, cur = store.cursor(contract.id, at.snapshot_id)
    return ServingVersion(contract.id, at.snapshot_id, at.version, head.path, at.row_count), cur
