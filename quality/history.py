"""Quality history of a dataset: what each version received, accepted and rejected, how complete
its fields are, whether it arrived on time against the contract's update frequency, and a score.

Functions over the catalogue's ORM objects (no web framework); ``now`` is a parameter wherever
time matters, so tests freeze it. The definitions are written out in ``docs/stewardship.md``.

* **Periods.** ``updateFrequency`` daily / weekly / monthly / quarterly / yearly cuts time into
  calendar periods in Beijing time (UTC+8, no daylight saving): a day, an ISO week (from Monday),
  a month, a quarter, a year. Each period expects a version; it is **due** :data:`DUE` after the
  period starts (a month's export by the 10th, …).
* **Status of a period**, from the versions published inside it: ``on_time`` (one by the due
  time), ``late`` (only after it), ``missing`` (none, and the due time has passed) or ``pending``
  (none yet, not due yet). Other frequencies (``irregular``, ``on input change``) have no periods.
* **On schedule / late.** The *standing* period is the newest one that is not pending. A dataset
  is on schedule when it is on time; it is **late** when it is late or missing. A scheduled
  dataset never published stands on the period of its registration.
* **Score** (0–100): :func:`score`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel
from sqlalchemy.orm import object_session

from catalog.models import Dataset, Version, aware, utcnow
from hub.settings import Settings

LOCAL = dt.timezone(dt.timedelta(hours=8), "CST")
"""Beijing time: the district's periods are its calendar's."""

DUE: dict[str, dt.timedelta] = {
    "daily": dt.timedelta(days=1),
    "weekly": dt.timedelta(days=3),
    "monthly": dt.timedelta(days=10),
    "quarterly": dt.timedelta(days=30),
    "yearly": dt.timedelta(days=90),
}
"""How long after a period starts its version is due (a daily version: within its day)."""

MAX_PERIODS = 36
"""Periods listed by :func:`freshness` (the newest ones)."""
SCORE_PERIODS = 12
"""Settled periods the score's freshness term looks at (the newest ones)."""

WEIGHTS = {"acceptance": 40.0, "completeness": 30.0, "freshness": 30.0}
"""Points of each term of the score; they add up to 100."""
OPEN_DISPUTE_POINTS = 2.0
OVERDUE_DISPUTE_POINTS = 5.0
"""Points off per open dispute, and in addition per open dispute past its answer deadline."""
MAX_DISPUTE_POINTS = 30.0
FORMULA = (
    "score = 40 × acceptance + 30 × completeness + 30 × freshness "
    "− min(30, 2 × open disputes + 5 × overdue disputes), clamped to 0–100"
)


class PeriodStatus(StrEnum):
    on_time = "on_time"
    late = "late"
    missing = "missing"
    pending = "pending"


class Period(BaseModel):
    label: str
    start: dt.datetime
    due: dt.datetime
    end: dt.datetime
    status: PeriodStatus
    versions: list[int]
    """Versions published inside the period."""


class Freshness(BaseModel):
    frequency: str
    scheduled: bool
    """The update frequency names a period (daily … yearly)."""
    now: dt.datetime
    last_published: dt.datetime | None
    standing: str | None
    """Label of the newest period that is not pending."""
    on_schedule: bool
    late: bool
    next_due: dt.datetime | None
    counts: dict[str, int]
    """Periods listed, by status."""
    periods: list[Period]


def _start(frequency: str, when: dt.datetime) -> dt.datetime:
    local = when.astimezone(LOCAL)
    day = dt.datetime(local.year, local.month, local.day, tzinfo=LOCAL)
    if frequency == "daily":
        return day
    if frequency == "weekly":
        return day - dt.timedelta(days=local.weekday())
    if frequency == "monthly":
        return day.replace(day=1)
    if frequency == "quarterly":
        return day.replace(month=(local.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def _next(frequency: str, start: dt.datetime) -> dt.datetime:
    if frequency == "daily":
        return start + dt.timedelta(days=1)
    if frequency == "weekly":
        return start + dt.timedelta(days=7)
    months = {"monthly": 1, "quarterly": 3, "yearly": 12}[frequency]
    total = start.year * 12 + start.month - 1 + months
    return start.replace(year=total // 12, month=total % 12 + 1)


def _label(frequency: str, start: dt.datetime) -> str:
    if frequency == "daily":
        return start.strftime("%Y-%m-%d")
    if frequency == "weekly":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if frequency == "monthly":
        return start.strftime("%Y-%m")
    if frequency == "quarterly":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def assess(
    frequency: str,
    published: Sequence[tuple[int, dt.datetime]],
    now: dt.datetime,
    since: dt.datetime | None = None,
) -> Freshness:
    """Freshness of versions ``(number, published_at)`` at ``now``; versions after ``now`` are not seen.

    Periods run from the one holding the first version (or ``since`` when nothing was published)
    to the one holding ``now``.
    """
    now = aware(now)
    seen = sorted((aware(t), n) for n, t in published if aware(t) <= now)
    last = seen[-1][0] if seen else None
    if frequency not in DUE:
        return Freshness(
            frequency=frequency,
            scheduled=False,
            now=now,
            last_published=last,
            standing=None,
            on_schedule=bool(seen),
            late=False,
            next_due=None,
            counts={},
            periods=[],
        )
    first = seen[0][0] if seen else (aware(since) if since else now)
    start = _start(frequency, min(first, now))
    periods: list[Period] = []
    while start <= now:
        end = _next(frequency, start)
        due = min(start + DUE[frequency], end)
        inside = [(t, n) for t, n in seen if start <= t < end]
        if any(t <= due for t, _ in inside):
            status = PeriodStatus.on_time
        elif inside:
            status = PeriodStatus.late
        elif now >= due:
            status = PeriodStatus.missing
        else:
            status = PeriodStatus.pending
        periods.append(
            Period(
                label=_label(frequency, start),
                start=start,
                due=due,
                end=end,
                status=status,
                versions=[n for _, n in inside],
            )
        )
        start = end
    periods = periods[-MAX_PERIODS:]
    settled = [p for p in periods if p.status is not PeriodStatus.pending]
    standing = settled[-1] if settled else None
    current = periods[-1]
    following = _next(frequency, current.start)
    next_due = (
        current.due
        if current.status is PeriodStatus.pending
        else min(following + DUE[frequency], _next(frequency, following))
    )
    return Freshness(
        frequency=frequency,
        scheduled=True,
        now=now,
        last_published=last,
        standing=standing.label if standing else None,
        on_schedule=standing is not None and standing.status is PeriodStatus.on_time,
        late=standing is not None and standing.status in (PeriodStatus.late, PeriodStatus.missing),
        next_due=next_due,
        counts={s.value: sum(p.status is s for p in periods) for s in PeriodStatus},
        periods=periods,
    )


def freshness(ds: Dataset, now: dt.datetime | None = None) -> Freshness:
    """Freshness of a catalogue dataset at ``now`` (default: the current time)."""
    published = [(v.number, v.published_at) for v in ds.versions]
    return assess(ds.update_frequency, published, now or utcnow(), since=aware(ds.created))


def completeness(table: pa.Table) -> dict[str, float]:
    """Share of non-null values of each column (1.0 for an empty table); Arrow keeps null counts,
    so this reads no data."""
    rows = table.num_rows
    return {name: round(1.0 - table.column(name).null_count / rows, 6) if rows else 1.0 for name in table.column_names}


def copy_completeness(copy: Path) -> dict[str, float]:
    """:func:`completeness` of a version measured on its serving copy (one DuckDB scan, in bounded
    memory, instead of reading the whole Iceberg snapshot into Arrow); the same numbers."""
    from warehouse import duck, serving

    con = duck.connect(copy, read_only=True, extensions=())
    try:
        names = [r[0] for r in con.execute(f"DESCRIBE {serving.TABLE}").fetchall() if r[0] != serving.ROW]
        counts = ", ".join(f"count({duck.quote(n)})" for n in names)
        row = con.execute(f"SELECT count(*), {counts} FROM {serving.TABLE}").fetchone()
    finally:
        con.close()
    assert row is not None
    rows = int(row[0])
    return {n: round(1.0 - (rows - int(c)) / rows, 6) if rows else 1.0 for n, c in zip(names, row[1:], strict=True)}


def fill_completeness(settings: Settings, ds: Dataset) -> int:
    """Measure and keep the completeness of versions registered before it was measured at register
    time (read back from their Iceberg snapshot, once); returns how many were filled. A version whose
    snapshot or contract is gone stays unmeasured."""
    from contracts import model
    from hub.errors import HubError
    from warehouse import tables

    missing = [v for v in ds.versions if "completeness" not in (v.quality or {})]
    if not missing:
        return 0
    try:
        contract = model.find(settings.active_contracts_dir, ds.key)
        cat = tables.catalog(settings.warehouse_dir)
    except HubError:
        return 0
    filled = 0
    for version in missing:
        try:
            measured = completeness(tables.read(cat, contract, version.snapshot_id))
        except HubError:
            continue
        version.quality = {**(version.quality or {}), "completeness": measured}
        filled += 1
    return filled


class VersionQuality(BaseModel):
    version: int
    published_at: dt.datetime
    source_file: str
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    acceptance: float | None
    """rows_accepted / rows_read (None when nothing was read)."""
    row_count: int
    issues_by_rule: dict[str, int]
    issues_by_column: dict[str, int]
    """Row-level issues (a row can fail several rules, in several columns)."""
    completeness: dict[str, float] | None
    """Share of non-null values per field in the version (None: not measured when it was registered)."""


def version_quality(version: Version) -> VersionQuality:
    q: dict[str, Any] = version.quality or {}
    read = int(q.get("rows_read", version.row_count + version.rows_rejected))
    accepted = int(q.get("rows_accepted", read - version.rows_rejected))
    return VersionQuality(
        version=version.number,
        published_at=aware(version.published_at),
        source_file=version.source_file,
        rows_read=read,
        rows_accepted=accepted,
        rows_rejected=int(q.get("rows_rejected", version.rows_rejected)),
        acceptance=round(accepted / read, 6) if read else None,
        row_count=version.row_count,
        issues_by_rule=dict(q.get("issues_by_rule") or {}),
        issues_by_column=dict(q.get("issues_by_column") or {}),
        completeness=q.get("completeness"),
    )


class Score(BaseModel):
    value: float
    acceptance: float
    completeness: float
    freshness: float
    open_disputes: int
    overdue_disputes: int
    formula: str = FORMULA


def freshness_term(fresh: Freshness) -> float:
    """1 per on-time period, ½ per late one, 0 per missing one, averaged over the newest
    :data:`SCORE_PERIODS` settled periods (1.0 when none is settled or there is no schedule)."""
    settled = [p for p in fresh.periods if p.status is not PeriodStatus.pending][-SCORE_PERIODS:]
    if not settled:
        return 1.0
    points = {PeriodStatus.on_time: 1.0, PeriodStatus.late: 0.5, PeriodStatus.missing: 0.0}
    return sum(points[p.status] for p in settled) / len(settled)


def score(
    acceptance: float,
    completeness: float,
    freshness: float,
    open_disputes: int = 0,
    overdue_disputes: int = 0,
) -> Score:
    """The quality score: :data:`FORMULA`. Each term is a share in 0–1."""
    points = (
        WEIGHTS["acceptance"] * acceptance
        + WEIGHTS["completeness"] * completeness
        + WEIGHTS["freshness"] * freshness
        - min(MAX_DISPUTE_POINTS, OPEN_DISPUTE_POINTS * open_disputes + OVERDUE_DISPUTE_POINTS * overdue_disputes)
    )
    return Score(
        value=round(max(0.0, min(100.0, points)), 1),
        acceptance=round(acceptance, 4),
        completeness=round(completeness, 4),
        freshness=round(freshness, 4),
        open_disputes=open_disputes,
        overdue_disputes=overdue_disputes,
    )


class DatasetQuality(BaseModel):
    dataset: str
    """The contract id."""
    name: str
    title: str
    organization: str
    frequency: str
    late: bool
    score: Score | None
    """None until the dataset has a version."""
    freshness: Freshness
    versions: list[VersionQuality]
    """Newest first."""


def dataset_quality(
    ds: Dataset, now: dt.datetime | None = None, *, disputes: tuple[int, int] | None = None
) -> DatasetQuality:
    """History, freshness and score of ``ds``; the score's acceptance and completeness are its
    newest version's (completeness: the mean over the version's fields); its open and overdue 校核
    disputes at ``now`` (``disputes``: counted in the dataset's session when not given)."""
    fresh = freshness(ds, now)
    if disputes is None:
        from stewardship.disputes import open_and_overdue

        session = object_session(ds)
        disputes = open_and_overdue(session, ds.key, fresh.now) if session is not None else (0, 0)
    open_disputes, overdue_disputes = disputes
    history = [version_quality(v) for v in ds.versions if aware(v.published_at) <= fresh.now]
    newest = history[-1] if history else None
    result = None
    if newest is not None:
        filled = newest.completeness or {}
        result = score(
            newest.acceptance if newest.acceptance is not None else 1.0,
            sum(filled.values()) / len(filled) if filled else 1.0,
            freshness_term(fresh),
            open_disputes,
            overdue_disputes,
        )
    return DatasetQuality(
        dataset=ds.key,
        name=ds.name,
        title=ds.title,
        organization=ds.organization.title,
        frequency=ds.update_frequency,
        late=fresh.late,
        score=result,
        freshness=fresh,
        versions=history[::-1],
    )
