"""The hub's contract registry: every version of every contract, its status, and every step taken.

The database is the source of truth. Each dataset's current version (the active one; a
deprecated one when the dataset has no active version left) is projected to
``HUB_HOME/contracts/active/<dataset>.yaml``, the folder the rest of the hub reads
(:attr:`hub.settings.Settings.active_contracts_dir`): DAGs, validation and policy follow the
registry on their next read, without a restart. A retired dataset leaves the folder.

A fresh registry is seeded from the seed folder (``contracts/datasets/`` of the repository): each
file there whose dataset the registry does not know yet becomes that dataset's version, active.
Seeding runs on every use of the registry and costs one query when nothing is new.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Date, DateTime, Integer, String, Text, UniqueConstraint, select
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, Session, mapped_column

from catalog.models import ApiClient, Base, utcnow
from contracts import disclosure, model
from contracts.model import Contract
from hub.errors import ContractError, NotFound
from hub.settings import Settings
from stewardship import diff, lifecycle, notices
from stewardship.lifecycle import ContractStatus, InvalidProposal
from stewardship.lifecycle import ContractStatus as S

HUB = "hub"
"""The name credited with steps the hub takes itself (seeding, deprecating a replaced version)."""
SEED = "seed"


class ContractVersion(Base):
    """One version of one dataset's contract, with the text as proposed."""

    __tablename__ = "contract_versions"
    __table_args__ = (UniqueConstraint("dataset", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))
    department: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    proposed_by: Mapped[str] = mapped_column(String(100))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    migration_date: Mapped[dt.date | None] = mapped_column(Date)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def semver(self) -> tuple[int, int, int]:
        return lifecycle.semver(self.version)

    def doc(self) -> dict[str, Any]:
        return dict(yaml.safe_load(self.text))


class ContractStep(Base):
    """One step of a version's life: who moved it from which status to which, when, and why."""

    __tablename__ = "contract_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(20))
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class Summary:
    """A dataset in the registry: its current version and the changes waiting for a decision."""

    dataset: str
    active: str | None
    current: str | None
    current_status: str | None
    pending: list[str]


def _step(s: Session, v: ContractVersion, action: str, source: str | None, by: str, note: str | None = None) -> None:
    s.add(
        ContractStep(
            dataset=v.dataset,
            version=v.version,
            action=action,
            source=source,
            target=v.status,
            by=by,
            at=utcnow(),
            note=note,
        )
    )


def _department(doc: dict[str, Any]) -> tuple[str, ...]:
    for prop in doc.get("customProperties") or []:
        if prop.get("property") == "department" and isinstance(prop.get("value"), dict):
            dept = prop["value"]
            return tuple(str(v) for v in (dept.get("code"), dept.get("name"), dept.get("nameEn")) if v)
    return ("?",)


def versions(s: Session, dataset: str) -> list[ContractVersion]:
    """Every version of a dataset, oldest (lowest) first."""
    rows = list(s.scalars(select(ContractVersion).where(ContractVersion.dataset == dataset)))
    return sorted(rows, key=lambda v: v.semver)


def version(s: Session, dataset: str, number: str) -> ContractVersion:
    found = s.scalar(
        select(ContractVersion).where(ContractVersion.dataset == dataset, ContractVersion.version == number)
    )
    if found is None:
        known = ", ".join(v.version for v in versions(s, dataset))
        if not known:
            raise NotFound(f"no contract for dataset {dataset!r}; known: {', '.join(datasets(s))}")
        raise NotFound(f"dataset {dataset} has no contract version {number}; versions: {known}")
    return found


def datasets(s: Session) -> list[str]:
    return sorted(set(s.scalars(select(ContractVersion.dataset))))


def active(s: Session, dataset: str) -> ContractVersion | None:
    return next((v for v in versions(s, dataset) if v.status == ContractStatus.active), None)


def current(s: Session, dataset: str) -> ContractVersion | None:
    """The version the hub runs on: the active one; else the latest that ran (deprecated), or
    none when that one is retired."""
    ran = [v for v in versions(s, dataset) if v.status in (S.active, S.deprecated, S.retired)]
    live = [v for v in ran if v.status == S.active] or ran
    return live[-1] if live and live[-1].status != S.retired else None


def summaries(s: Session) -> list[Summary]:
    out = []
    waiting = (ContractStatus.draft, ContractStatus.proposed, ContractStatus.approved)
    for dataset in datasets(s):
        now, live = current(s, dataset), active(s, dataset)
        pending = [f"{v.version} {v.status}" for v in versions(s, dataset) if v.status in waiting]
        out.append(
            Summary(
                dataset,
                live.version if live else None,
                now.version if now else None,
                now.status if now else None,
                pending,
            )
        )
    return out


# --- seeding and the projection ---------------------------------------------------------------


REGISTRY_LOCK = 0x4855_4243  # PostgreSQL advisory lock id held while the registry changes ("HUBC")


def lock(s: Session) -> None:
    """Take the registry's write lock for the rest of the transaction, so two processes never
    decide on the same stale read (two seeds, two activations): SQLite's write lock (the first
    writing statement opens ``BEGIN IMMEDIATE``, see :mod:`catalog.db`), PostgreSQL's advisory lock."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(sql(f"SELECT pg_advisory_xact_lock({REGISTRY_LOCK})"))
    else:
        s.execute(sql("DELETE FROM contract_versions WHERE 1 = 0"))


def _unknown(s: Session, settings: Settings) -> list[Path]:
    known = set(s.scalars(select(ContractVersion.dataset).distinct()))
    return [p for p in sorted(settings.contracts_dir.glob("*.yaml")) if p.stem not in known]


def seed(s: Session, settings: Settings) -> list[str]:
    """Add each seed file whose dataset the registry does not know, as its active version; the
    datasets added. Idempotent; projects the registry when the folder is missing or something was added."""
    missing = _unknown(s, settings)
    if missing:
        lock(s)
        missing = _unknown(s, settings)  # again under the lock: another process may have seeded meanwhile
    added = []
    for path in missing:
        text = path.read_text(encoding="utf-8")
        doc = yaml.safe_load(text) or {}
        status = doc.get("status") if doc.get("status") in set(ContractStatus) else ContractStatus.active
        row = ContractVersion(
            id=str(uuid.uuid4()),
            dataset=path.stem,
            version=str(doc.get("version", "1.0.0")),
            status=str(status),
            department=_department(doc)[0],
            text=text,
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            proposed_by=SEED,
            decided_by=SEED,
        )
        s.add(row)
        _step(s, row, "seed", None, HUB, f"seeded from {path.name}")
        added.append(path.stem)
    if added:
        s.flush()
    if added or not settings.projected_contracts_dir.is_dir():
        project(s, settings)
    return added


STATUS_LINE = re.compile(r"^status:.*$", re.MULTILINE)


def projected_text(v: ContractVersion) -> str:
    """The version's text with its ``status`` set to the registry's (the DAG factory reads it)."""
    line = f"status: {v.status}"
    if STATUS_LINE.search(v.text):
        return STATUS_LINE.sub(line, v.text, count=1)
    return v.text.rstrip("\n") + f"\n{line}\n"


def project(s: Session, settings: Settings) -> None:
    """Write each dataset's current version to the active folder (atomically per file) and remove
    the files of datasets without one."""
    folder = settings.projected_contracts_dir
    folder.mkdir(parents=True, exist_ok=True)
    wanted: set[str] = set()
    for dataset in datasets(s):
        v = current(s, dataset)
        if v is None:
            continue
        wanted.add(f"{dataset}.yaml")
        target = folder / f"{dataset}.yaml"
        text = projected_text(v)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        part = folder / f".{dataset}.yaml.part"
        part.write_text(text, encoding="utf-8")
        os.replace(part, target)
    for stale in folder.glob("*.yaml"):
        if stale.name not in wanted:
            stale.unlink()


# --- proposals and decisions ------------------------------------------------------------------


def check(text: str, where: str, settings: Settings, s: Session) -> Contract:
    """The checks the loader applies (ODCS schemas, the hub's model, standards, masks across the
    active contracts); a failure is :class:`InvalidProposal` naming ``where``."""
    try:
        contract = model.parse(text, where)
        running = [current(s, d) for d in datasets(s) if d != contract.id]
        others = [model.parse(projected_text(v), f"{v.dataset}.yaml") for v in running if v is not None]
        disclosure.check_across([*others, contract])
    except ContractError as exc:
        raise InvalidProposal(str(exc)) from None
    return contract


def propose(
    s: Session, settings: Settings, caller: ApiClient, text: str, *, where: str = "<proposal>", draft: bool = False
) -> ContractVersion:
    """Store a contract (or a change to one) as proposed (``draft``: as a draft)."""
    if caller.role not in ("steward", "publisher"):
        lifecycle.may_propose(caller, ("-",), None)  # refused by role before the contract is read
    lock(s)
    seed(s, settings)
    contract = check(text, where, settings, s)
    doc = yaml.safe_load(text)
    department = _department(doc)
    now = current(s, contract.id)
    lifecycle.may_propose(caller, department, _department(now.doc()) if now else None)
    running = active(s, contract.id)
    lifecycle.check_raises(
        contract.version, running.version if running else None, [v.version for v in versions(s, contract.id)]
    )
    row = ContractVersion(
        id=str(uuid.uuid4()),
        dataset=contract.id,
        version=contract.version,
        status=ContractStatus.draft,
        department=department[0],
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        proposed_by=caller.name,
    )
    s.add(row)
    _step(s, row, "draft", None, caller.name, f"from {where}")
    if not draft:
        row.status = ContractStatus.proposed
        _step(s, row, "submit", ContractStatus.draft, caller.name)
    s.flush()
    return row


def act(
    s: Session,
    settings: Settings,
    caller: ApiClient,
    dataset: str,
    number: str,
    action: str,
    *,
    reason: str | None = None,
    migration_date: dt.date | None = None,
    today: dt.date | None = None,
) -> ContractVersion:
    """Apply ``action`` (see :data:`stewardship.lifecycle.TRANSITIONS`) to one version, as ``caller``.

    ``approve`` activates the version at once unless ``migration_date`` is after ``today``; the
    version it replaces becomes deprecated. ``reject`` needs a reason."""
    lock(s)
    seed(s, settings)
    v = version(s, dataset, number)
    t = lifecycle.transition(action, ContractStatus(v.status))
    lifecycle.may(caller, t, _department(v.doc()), v.proposed_by)
    if action == "reject" and not (reason or "").strip():
        raise lifecycle.BadParameter("a rejection needs a reason (told to the department)", column="reason")
    told: diff.Verdict | None = None
    if action in ("approve", "activate"):
        old = active(s, dataset)
        lifecycle.gate(old.doc() if old else None, v.doc())
        if action == "approve" and old is not None:  # the change classes: docs/stewardship.md
            before, after = diff.read(old.text, f"{dataset} {old.version}"), diff.read(v.text, f"{dataset} {v.version}")
            told = diff.gate(
                before.contract,
                after.contract,
                approved_migration_date=migration_date,
                today=today,
                old_doc=before.doc,
                new_doc=after.doc,
            )
    source = v.status
    v.status = t.target
    v.updated = utcnow()
    if t.party is lifecycle.Party.steward:
        v.decided_by, v.reason = caller.name, reason or v.reason
    if action == "approve":
        v.migration_date = migration_date
    _step(s, v, action, source, caller.name, reason)
    today = today or dt.date.today()
    if action == "approve" and (migration_date is None or migration_date <= today):
        _activate(s, v, caller.name)
    elif action == "activate":
        _retire_previous(s, v, caller.name)
    if told is not None and told.to_tell:  # consumers reading what changed hear of it at approval
        notices.notify(s, dataset, told, notices.affected_consumers(s, dataset, told.to_tell))
    s.flush()
    project(s, settings)
    return v


def _activate(s: Session, v: ContractVersion, by: str) -> None:
    v.status = ContractStatus.active
    _step(s, v, "activate", ContractStatus.approved, by, "on approval")
    _retire_previous(s, v, by)


def _retire_previous(s: Session, v: ContractVersion, by: str) -> None:
    """The active version ``v`` replaces becomes deprecated (by the hub, as part of the activation)."""
    for other in versions(s, v.dataset):
        if other.id != v.id and other.status == ContractStatus.active:
            other.status = ContractStatus.deprecated
            other.updated = utcnow()
            _step(s, other, "deprecate", ContractStatus.active, HUB, f"replaced by {v.version} (activated by {by})")


def steps(s: Session, dataset: str, number: str | None = None) -> list[ContractStep]:
    stmt = select(ContractStep).where(ContractStep.dataset == dataset)
    if number is not None:
        stmt = stmt.where(ContractStep.version == number)
    return list(s.scalars(stmt.order_by(ContractStep.at, ContractStep.id)))


def open_registry(s: Session, settings: Settings) -> None:
    """Make sure the registry is seeded (and projected) before reading it."""
    seed(s, settings)
