"""The district's platform ratios, per department and overall, for one month (target ≥ 80 %).

* **Base datasets** of a department: its active catalogue datasets that are not derived (not in
  the ``derived`` domain, built from no input).
* **Collection ratio**: the share of them *on schedule* at the end of the month — the one
  definition of :func:`quality.history.assess` (the standing period's version arrived on time);
  a dataset without a schedule (``irregular``) counts when it has a version by then.
* **Sharing ratio**: the share of them shared with at least one other department during the
  month: sharing type 无条件共享, or a grant live at some time in the month to a client that
  names a department other than the provider.

The monthly report is ``ratios-YYYY-MM.csv`` and ``ratios-YYYY-MM.png`` (:func:`write_report`).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from access.grants import Grant
from catalog import permissions, profile
from catalog.models import ApiClient, Dataset, aware, utcnow
from contracts.model import Contract, SharingType
from hub.errors import BadParameter
from quality import history

TARGET = 0.8
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
CJK_FAMILIES = ("Noto Sans CJK", "Noto Serif CJK", "Source Han", "WenQuanYi", "SimHei", "Droid Sans Fallback", "AR PL")
"""Font families that draw Chinese; without one installed the chart uses the English names."""


class DatasetStanding(BaseModel):
    dataset: str
    title: str
    collected: bool
    """On schedule at the end of the month."""
    standing: str | None
    """The period the collection was judged on (e.g. ``2026-10``), or None without a schedule."""
    shared: bool
    shared_with: list[str]
    """``无条件共享``, or the departments of the clients holding a live grant."""


class DepartmentRatios(BaseModel):
    code: str
    """The department's code; ``all`` for the district."""
    name: str
    name_en: str | None
    base_datasets: int
    collected: int
    shared: int
    collection_ratio: float
    sharing_ratio: float
    collection_meets_target: bool
    sharing_meets_target: bool
    datasets: list[DatasetStanding]


class Ratios(BaseModel):
    month: str
    target: float = TARGET
    at: dt.datetime
    """The time the month was judged at: its end, or now while it runs."""
    departments: list[DepartmentRatios]
    overall: DepartmentRatios


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """Start and end (exclusive) of ``YYYY-MM`` in Beijing time."""
    found = MONTH.match(month)
    if not found or not 1 <= int(found[2]) <= 12:
        raise BadParameter(f"month {month!r} is not a month: write YYYY-MM, e.g. 2026-11")
    start = dt.datetime(int(found[1]), int(found[2]), 1, tzinfo=history.LOCAL)
    nxt = start.month % 12 + 1
    return start, start.replace(year=start.year + (start.month == 12), month=nxt)


def current_month(now: dt.datetime | None = None) -> str:
    return (now or utcnow()).astimezone(history.LOCAL).strftime("%Y-%m")


def is_base(ds: Dataset) -> bool:
    derived = ds.domain == profile.DERIVED_DOMAIN or bool(ds.meta.get("input_codes"))
    return not derived and not any("inputs" in (v.lineage or {}) for v in ds.versions)


def _department(client: ApiClient) -> str | None:
    return client.organization or None


def _shared_with(s: Session, ds: Dataset, start: dt.datetime, at: dt.datetime) -> list[str]:
    if ds.sharing_type == SharingType.unconditional.value:
        return [SharingType.unconditional.value]
    rows = s.execute(
        select(Grant, ApiClient).join(ApiClient, ApiClient.id == Grant.client_id).where(Grant.dataset == ds.key)
    )
    found = set()
    for grant, client in rows:
        live = (
            aware(grant.created) < at
            and aware(grant.expires) > start
            and (grant.revoked is None or aware(grant.revoked) > start)
        )
        other = _department(client) is not None and not permissions.member_of(client, ds.organization)
        if live and other:
            found.add(str(client.organization))
    return sorted(found)


def _summed(code: str, name: str, name_en: str | None, standings: list[DatasetStanding]) -> DepartmentRatios:
    n = len(standings)
    collected = sum(d.collected for d in standings)
    shared = sum(d.shared for d in standings)
    collection = collected / n if n else 0.0
    sharing = shared / n if n else 0.0
    return DepartmentRatios(
        code=code,
        name=name,
        name_en=name_en,
        base_datasets=n,
        collected=collected,
        shared=shared,
        collection_ratio=round(collection, 4),
        sharing_ratio=round(sharing, 4),
        collection_meets_target=collection >= TARGET,
        sharing_meets_target=sharing >= TARGET,
        datasets=standings,
    )


def ratios(
    s: Session, month: str | None = None, now: dt.datetime | None = None, contracts: Sequence[Contract] = ()
) -> Ratios:
    """The ratios of ``month`` (default: the current one), judged at its end or at ``now``.

    ``contracts``: the hub's active contracts; a base dataset contracted but not yet in the catalogue
    (never published) counts as neither collected nor shared.
    """
    now = aware(now or utcnow())
    month = month or current_month(now)
    start, end = month_bounds(month)
    if start > now:
        raise BadParameter(f"month {month} has not begun")
    at = min(end - dt.timedelta(microseconds=1), now)
    by_department: dict[str, list[DatasetStanding]] = {}
    names: dict[str, tuple[str, str | None]] = {}
    datasets = s.scalars(select(Dataset).where(Dataset.state == "active").order_by(Dataset.key))
    for ds in datasets:
        if not is_base(ds) or aware(ds.created) >= end:
            continue
        fresh = history.freshness(ds, at)
        shared_with = _shared_with(s, ds, start, at)
        org = ds.organization
        names[org.code] = (org.title, org.title_en)
        by_department.setdefault(org.code, []).append(
            DatasetStanding(
                dataset=ds.key,
                title=ds.title,
                collected=fresh.on_schedule,
                standing=fresh.standing,
                shared=bool(shared_with),
                shared_with=shared_with,
            )
        )
    seen = {d.dataset for standings in by_department.values() for d in standings}
    for contract in contracts:
        if contract.derived or contract.domain == profile.DERIVED_DOMAIN or not contract.active or contract.id in seen:
            continue
        dept = contract.department
        names.setdefault(dept.code, (dept.name, dept.name_en))
        by_department.setdefault(dept.code, []).append(
            DatasetStanding(
                dataset=contract.id, title=contract.title, collected=False, standing=None, shared=False, shared_with=[]
            )
        )
    departments = [_summed(code, *names[code], by_department[code]) for code in sorted(by_department)]
    every = [d for code in sorted(by_department) for d in by_department[code]]
    return Ratios(month=month, at=at, departments=departments, overall=_summed("all", "全区", "District", every))


CSV_COLUMNS = (
    "month department_code department department_en base_datasets collected collection_ratio "
    "shared sharing_ratio target collection_meets_target sharing_meets_target"
).split()


def csv_rows(report: Ratios) -> list[dict[str, object]]:
    return [
        {
            "month": report.month,
            "department_code": d.code,
            "department": d.name,
            "department_en": d.name_en or "",
            "base_datasets": d.base_datasets,
            "collected": d.collected,
            "collection_ratio": f"{d.collection_ratio:.4f}",
            "shared": d.shared,
            "sharing_ratio": f"{d.sharing_ratio:.4f}",
            "target": f"{report.target:.2f}",
            "collection_meets_target": d.collection_meets_target,
            "sharing_meets_target": d.sharing_meets_target,
        }
        for d in [*report.departments, report.overall]
    ]


def cjk_font() -> str | None:
    """An installed font family that draws Chinese, if any."""
    from matplotlib import font_manager

    for font in font_manager.fontManager.ttflist:
        if any(font.name.startswith(family) for family in CJK_FAMILIES):
            return str(font.name)
    return None


def _label(d: DepartmentRatios, chinese: bool) -> str:
    return d.name if chinese else (d.name_en or d.code)


def write_chart(report: Ratios, path: Path) -> Path:
    """Bars of both ratios per department and the district, with the target line (Agg, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    family = cjk_font()
    rows = [*report.departments, report.overall]
    fig = Figure(figsize=(max(6.0, 1.4 * len(rows) + 2), 4.8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    xs = range(len(rows))
    width = 0.38
    ax.bar([x - width / 2 for x in xs], [100 * d.collection_ratio for d in rows], width, label="collection")
    ax.bar([x + width / 2 for x in xs], [100 * d.sharing_ratio for d in rows], width, label="sharing")
    ax.axhline(100 * report.target, color="red", linestyle="--", linewidth=1, label=f"target {report.target:.0%}")
    ax.set_xticks(list(xs))
    labels = [_label(d, family is not None) for d in rows]
    for tick in ax.set_xticklabels(labels, rotation=20, ha="right", fontsize=8):
        if family:
            tick.set_fontfamily(family)
    ax.set_ylim(0, 122)  # room above 100 % for the legend
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("% of base datasets")
    ax.set_title(f"Collection and sharing ratios, {report.month}")
    ax.legend(loc="upper right", ncol=3, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def write_report(report: Ratios, folder: Path) -> tuple[Path, Path]:
    """``ratios-YYYY-MM.csv`` and ``ratios-YYYY-MM.png`` in ``folder`` (made if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / f"ratios-{report.month}.csv"
    with table.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(csv_rows(report))
    return table, write_chart(report, folder / f"ratios-{report.month}.png")
